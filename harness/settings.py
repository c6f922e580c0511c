"""The values several parts of the harness must agree on, written once.

Exit codes, where an API key comes from, and the defaults the gate, the property-test runner,
the CLI and the pytest plugin share. A default written in two places drifts: the runner once
ran 300 examples into the gate's own junit.xml while the gate ran 25. Only the standard
library is imported here, so the CLI can build its parser from these without loading anything.
"""

from __future__ import annotations

import functools
import importlib.metadata
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, overload

# -- the distribution ---------------------------------------------------------------------------

DISTRIBUTION = "vlmrun-skills-harness"


@functools.cache
def harness_version() -> str | None:
    """The installed distribution's version (pyproject.toml is its one source); None when not installed."""
    try:
        return importlib.metadata.version(DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError:
        return None


# -- exit codes: the same for every command ----------------------------------------------------

EXIT_OK = 0
"""The contract holds."""
EXIT_FAILED = 1
"""A contract failure: the API, a server or a client drifted."""
EXIT_ERROR = 2
"""A usage or set-up error: the harness could not do its job."""

# -- the API key -------------------------------------------------------------------------------

API_KEY_ENV = "VLMRUN_API_KEY"
BASE_URL_ENV = "VLMRUN_BASE_URL"
LOCAL_API_KEY = "harness-local-key"
"""The key a reference server started by the harness accepts unless told otherwise (`harness serve`, the plugin)."""

KeySource = Literal["option", "environment", "local"]
"""Where a key came from: a command-line option, $VLMRUN_API_KEY, or a server the harness runs itself."""


@dataclass(frozen=True)
class ApiKey:
    """A key and where it came from, so a message about a refused key names the place to fix it."""

    value: str = field(repr=False)
    source: KeySource


@overload
def resolve_api_key(option: str | None, *, local: str) -> ApiKey: ...
@overload
def resolve_api_key(option: str | None, *, local: None = None) -> ApiKey | None: ...
def resolve_api_key(option: str | None, *, local: str | None = None) -> ApiKey | None:
    """The option, else $VLMRUN_API_KEY, else `local` (the key of a server the harness runs);
    None when there is none. An empty option or variable counts as not given."""
    if option:
        return ApiKey(option, "option")
    if env := os.environ.get(API_KEY_ENV):
        return ApiKey(env, "environment")
    return ApiKey(local, "local") if local else None


# -- where servers listen ------------------------------------------------------------------------

API_PREFIX = "/v1"
"""Where the API's paths start below its root (`https://api.vlm.run` + `/v1/openai/chat/completions`)."""
SERVE_HOST = "127.0.0.1"
SERVE_PORT = 8765
"""`harness serve`'s address: the gate's reproduction hints send their curl commands there."""
POLL_PARAM = "__modal_function_call_id"
"""The query parameter naming a long request's job in its poll URL (`reference.long_requests`):
the server answering the poll and a replay miss explaining one agree on it."""

# -- the gate and its property tests -------------------------------------------------------------

PHASES = ("examples", "coverage", "fuzzing", "stateful")
"""schemathesis' phases, all run by default."""
COVERAGE_PHASE = "coverage"
"""The phase schemathesis' own `--workers` cannot run (4.32.5): always one worker, in a process of its own."""
MAX_EXAMPLES = 25
"""Property-test examples per operation, for the gate and for the runner called on its own."""
WORKERS = 1

REPORT_DIR = Path("harness-report")
JUNIT_REPORT = "junit.xml"
MARKDOWN_REPORT = "summary.md"
JSON_REPORT = "summary.json"
SCHEMATHESIS_REPORT = "schemathesis.xml"
"""schemathesis' own JUnit report, beside the gate's three (never in place of its junit.xml)."""
