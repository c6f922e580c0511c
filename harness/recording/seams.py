"""The typed seams where a user's code, or another storage, meets the recording pipeline.

`Matcher` and `RequestFilter` are vcrpy's own shapes: what a user puts in `vcr_config`
(`match_on`, `before_record_request`) arrives here, and the harness composes its rules over
it (`configure`) without changing what it is. `BlobStorage` is what the cassette reader and
writer need from wherever bundle bytes live; `blobs.BlobStore` (a `_blobs/` folder beside
the cassettes) is the implementation the harness uses.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol, runtime_checkable

__all__ = ["BlobStorage", "Matcher", "RequestFilter"]


class Matcher(Protocol):
    """vcrpy's matcher: returns when two requests match, raises `AssertionError` saying why not."""

    def __call__(self, live: Any, recorded: Any, /) -> object: ...


class RequestFilter(Protocol):
    """vcrpy's `before_record_request`: the request to keep (possibly changed), or None to drop it."""

    def __call__(self, request: Any, /) -> Any: ...


@runtime_checkable
class BlobStorage(Protocol):
    """Bundle zips by content digest: written once however many workers race, verified on read."""

    def put(self, digest: str, zip_bytes: bytes) -> Path: ...

    def get(self, digest: str, *, index: int) -> bytes: ...

    def b64(self, digest: str, *, index: int) -> bytes:
        """The zip as the base64 a client sends (`index` names the interaction in errors)."""
        ...
