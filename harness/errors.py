"""One exception root, two families.

Errors mean the harness cannot do its job (bad input, bad set-up); failures mean the
system under test drifted from the contract. Tests and the CLI treat them differently:
an error exits 2, a failure exits 1.

    HarnessError
     ├── UsageError            bad flags, missing files, unreachable server
     │    └── TargetError      the server under test is unreachable, refuses the key, or is not at that URL
     ├── DescriptionError      the API description itself is invalid
     ├── BundleError           an inline skill bundle cannot be decoded or is unsafe
     └── CassetteError         a cassette or its blob store cannot be read or written
    ContractFailure (AssertionError)
     ├── ConformanceFailure    a request or response does not match the description
     └── CassetteMiss          a request has no recorded counterpart in replay
    ConformanceWarning (UserWarning)  a ConformanceFailure under --vlmrun-conformance=warn
"""

from __future__ import annotations


class HarnessError(Exception):
    """The harness cannot work: fix the input or the set-up, then retry."""


class UsageError(HarnessError):
    """A command-line or configuration mistake."""


class TargetError(UsageError):
    """The server under test cannot be tested: unreachable, the key refused, or not at the given URL.

    The message is one line: the cause, then the fix.
    """


class DescriptionError(HarnessError):
    """The API description does not load or does not validate."""


class BundleError(HarnessError):
    """An inline skill bundle is malformed or unsafe.

    `entry` names the zip entry at fault (None when the problem is the archive itself);
    `code` is a stable machine-readable reason used in 422 bodies and tests.
    """

    def __init__(self, message: str, *, code: str, entry: str | None = None) -> None:
        self.code = code
        self.entry = entry
        self.message = message
        where = f" (entry {entry!r})" if entry is not None else ""
        super().__init__(f"{message}{where}")


class CassetteError(HarnessError):
    """A cassette is malformed or cannot be written; the message names the file and interaction."""


class ContractFailure(AssertionError):
    """The system under test does not honour the contract."""


class ConformanceFailure(ContractFailure):
    """A request or response body does not validate against the description.

    `location` is the JSON path of the offending value, e.g. ``skills[1].source.data``.
    """

    def __init__(self, message: str, *, location: str = "") -> None:
        self.location = location  # the message names it already, with the file and interaction
        super().__init__(message)


class ConformanceWarning(UserWarning):
    """A recorded interaction no longer matches the description (`--vlmrun-conformance=warn`)."""


class CassetteMiss(ContractFailure):
    """Replay found no recorded interaction for a request: the call changed, or was never recorded."""
