"""The vcrpy persister seam: the user's persister, with VLM Run cassettes handled by the harness.

`ScopedPersister` wraps whatever persister the test's VCR would use (pytest-recording's
`CombinedPersister` by default). A cassette with no VLM Run traffic is loaded and saved by
that persister, untouched: same bytes, same exceptions. A cassette with VLM Run traffic is
read in any format the harness knows (bodies restored byte for byte, bundles from the blob
store, duplicate keys and aliases refused) and written as format 2, atomically. Under the
safe rewrite (`rewrite.RewriteGuard`) the old cassette is neither loaded nor replaced until
its test has passed.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vcr.persisters.filesystem import CassetteNotFoundError

from harness.errors import CassetteError
from harness.files import write_atomic
from harness.recording.cassette_io import is_harness_document, load_file, write_pairs
from harness.recording.load_cache import LoadCache
from harness.recording.rewrite import RewriteGuard
from harness.recording.scope import Scope
from harness.recording.vcr_format import KEY

__all__ = ["CassetteNotFoundError", "ScopedPersister"]


def _read(path: str) -> bytes | None:
    try:
        return Path(path).read_bytes()
    except OSError:
        return None  # as pytest-recording: a missing extra cassette is skipped


def _reason(exc: Exception) -> str:
    mark = getattr(exc, "problem_mark", None)
    where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
    return f"{getattr(exc, 'problem', None) or exc}{where}: restore it from version control or re-record it"


def _without_stamp(cassette_dict: dict[str, Any]) -> dict[str, Any]:
    """vcrpy's dict minus the harness's stamp (kept in memory with the metadata while loaded)."""
    metadata = {k: v for k, v in (cassette_dict.get("metadata") or {}).items() if k != KEY}
    out = {k: v for k, v in cassette_dict.items() if k != "metadata"}
    return {**out, "metadata": metadata} if metadata else out


def _is_json(serializer: Any) -> bool:
    return str(getattr(serializer, "__name__", "")).endswith("jsonserializer")


@dataclass
class ScopedPersister:
    """Register as a VCR's persister; `inner` is the persister it stands in front of."""

    inner: Any
    scope: Scope
    guard: RewriteGuard | None = None
    vlmrun_test: bool = False
    """The test is VLM Run's: a cassette that cannot be read is a `CassetteError` naming it."""
    cache: LoadCache | None = None
    """Where VLM Run cassettes' loads are kept between runs (`load_cache`); None: load each afresh."""

    @property
    def extra_paths(self) -> list[str]:
        return list(getattr(self.inner, "extra_paths", None) or [])

    def load_cassette(self, cassette_path: Any, serializer: Any) -> tuple[Any, ...]:
        main = os.fspath(cassette_path)
        if self.cache is not None:
            self.cache.forget(Path(main))
        if self.guard is not None:
            self.guard.path = Path(main)
        paths = list(dict.fromkeys([main, *self.extra_paths]))
        contents = {path: _read(path) for path in paths}
        # An empty file is "not found" to vcrpy (record it afresh); pytest-recording 0.14.1 crashes on one
        # instead. A VLM Run test gets vcrpy's meaning; another API's keeps pytest-recording's own behaviour.
        blank = self.vlmrun_test and any(data is not None and not data.strip() for data in contents.values())
        if (
            self.guard is None
            and not blank
            and not any(data and is_harness_document(data) for data in contents.values())
        ):
            with self._refusing(main):
                return tuple(self.inner.load_cassette(cassette_path, serializer=serializer))
        requests: list[Any] = []
        responses: list[Any] = []
        metadata: dict[str, Any] = {}
        for path in paths:
            data = contents[path]
            if (path == main and self.guard is not None) or not data or not data.strip():
                continue
            if is_harness_document(data):
                try:
                    loaded = load_file(path, data=data, json_file=_is_json(serializer), cache=self.cache)
                except CassetteNotFoundError:
                    continue
                found, meta = (loaded.requests, loaded.responses), loaded.metadata
            else:
                from vcr.serialize import deserialize

                with self._refusing(path):
                    plain = deserialize(data.decode("utf-8"), serializer)
                found, meta = (plain[0], plain[1]), (plain[2] if len(plain) > 2 else {})
            requests += found[0]
            responses += found[1]
            if path == main:
                metadata = meta
        if not requests:
            raise CassetteNotFoundError(f"Cassette {main} does not exist")
        return (requests, responses, metadata) if metadata else (requests, responses)

    @contextlib.contextmanager
    def _refusing(self, path: str) -> Iterator[None]:
        """vcrpy's own errors for another API's cassette; a `CassetteError` naming the file for a VLM Run test.

        (The harness's reader, `cassette_io.load_file`, raises `CassetteError`s naming the spot itself.)"""
        try:
            yield
        except (CassetteNotFoundError, CassetteError):
            raise
        except Exception as exc:
            if not self.vlmrun_test:
                raise  # another API's cassette: vcrpy's own error, untouched
            raise CassetteError(f"Cassette {path} cannot be read: {_reason(exc)}") from exc

    def save_cassette(self, cassette_path: Any, cassette_dict: dict[str, Any], serializer: Any) -> None:
        requests, responses = cassette_dict.get("requests", []), cassette_dict.get("responses", [])
        owned = [self.scope.owns(request) for request in requests]
        if self.guard is not None and not self.guard.may_replace():
            self.guard.kept = True
            return
        if self.guard is None and not any(owned):
            self.inner.save_cassette(cassette_path, _without_stamp(cassette_dict), serializer=serializer)
            return
        path = Path(cassette_path)
        if any(owned):
            pairs = list(zip(requests, responses, strict=True))
            write_pairs(
                path,
                pairs,
                owned,
                metadata=cassette_dict.get("metadata"),
                serializer=serializer,
                embedded=self.scope.embedded,
            )
        else:  # another API's cassette under the safe rewrite: vcrpy's own bytes, written atomically
            from vcr.serialize import serialize

            try:
                write_atomic(path, serialize(_without_stamp(cassette_dict), serializer))
            except OSError as exc:
                raise CassetteError(f"Cannot write cassette {path}: {exc.strerror or exc}") from exc
        if self.guard is not None:
            self.guard.saved = True
