"""A verified cache of loaded cassettes: each cassette goes through PyYAML once, not once per run.

PyYAML builds every node in Python, even with libyaml underneath: 0.3-0.4 s for a cassette
of 1,000 calls, then each body is parsed and compacted back to the bytes the client sent.
`json.loads` of the result takes a few milliseconds. So what loading a VLM Run cassette
yields — its vcrpy pairs with their exact bytes, its metadata, and the request keys replay
would otherwise compute at the first lookup of every run — is kept as JSON beside pytest's
own cache (`.pytest_cache/d/vlmrun-harness/`).

An entry is used only when it is provably the file's: its header names the sha256 of the
cassette's bytes (read anyway to load it), a fingerprint of the harness's code and PyYAML's
version (what the load and the keys depend on) and its own length; the keys carry the hash
of the description in use; each blob the cassette references must still be the file that
was verified when the entry was written (same size and modification time). Anything else —
a changed cassette, a deleted blob, a damaged entry, another harness — is a miss, and the
cassette is loaded as if there were no cache. One entry per cassette path, so the cache
grows with the suite, not its history; entries are written through a temp file and a
rename, so xdist workers can only race to write the same bytes. `pytest --cache-clear`
empties it and `-p no:cacheprovider` turns it off, as for any plugin's cache.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import yaml
from vcr.request import Request

from harness.recording.blobs import BlobStore, referenced_digests
from harness.recording.cassette_parse import Loaded
from harness.recording.matcher import RequestKey, remember_key, request_key
from harness.recording.scope import mark
from harness.settings import harness_version

__all__ = ["LoadCache", "code_fingerprint"]

FORMAT = 1
_PACKAGE = Path(__file__).resolve().parent.parent
_BODY = "latin-1"  # every byte string round-trips through JSON exactly this way


@functools.cache
def code_fingerprint() -> str:
    """What a cached load and its keys depend on: this harness's code and PyYAML's version.

    The source files, not the version string: a harness installed from a branch keeps its
    version while its canonical form changes."""
    digest = hashlib.sha256(f"{harness_version()}|{yaml.__version__}".encode())
    for source in sorted(_PACKAGE.rglob("*.py")):
        digest.update(source.relative_to(_PACKAGE).as_posix().encode() + b"\0")
        with contextlib.suppress(OSError):
            digest.update(source.read_bytes())
    return digest.hexdigest()


def _text(body: Any) -> str | None:
    if body is None:
        return None
    return (body.encode("utf-8") if isinstance(body, str) else bytes(body)).decode(_BODY)


def _bytes(text: str | None) -> bytes | None:
    return None if text is None else text.encode(_BODY)


def _key(value: Any) -> RequestKey | None:
    if value is None:
        return None
    method, path, query, body = value
    return str(method), str(path), tuple((str(k), str(v)) for k, v in query), str(body)


def _blob_identity(path: Path) -> list[int] | None:
    try:
        found = path.stat()
    except OSError:
        return None
    return [found.st_size, found.st_mtime_ns]


class LoadCache:
    """Entries under the folder `locate()` gives, created on the first write, never before."""

    def __init__(self, locate: Callable[[], Path]) -> None:
        self._locate = locate
        self._folder: Path | None = None

    def _entry(self, cassette: Path) -> Path:
        if self._folder is None:
            self._folder = self._locate()
        name = hashlib.sha256(os.fsencode(os.path.abspath(cassette))).hexdigest()[:32]
        return self._folder / f"{name}.json"

    def read(self, cassette: Path, content: str, contract: str) -> Loaded | None:
        """The cassette as `load_file` gives it, keys set, when an entry for exactly these bytes is sound."""
        try:
            head, payload = self._entry(cassette).read_bytes().split(b"\n", 1)
            if json.loads(head) != self._header(content, len(payload)):
                return None
            entry = json.loads(payload)
            if entry["contract"] != contract or not self._blobs_unchanged(cassette, entry["blobs"]):
                return None
            return self._loaded(cassette, entry)
        except (OSError, ValueError, TypeError, KeyError, AttributeError):
            return None  # no entry, another harness's, or damaged: load the cassette

    def write(self, cassette: Path, content: str, data: bytes, loaded: Loaded, contract: str) -> None:
        """Store a fresh load with the keys of its VLM Run requests; a cache that cannot be written is none."""
        keys = [request_key(rq) if own else None for rq, own in zip(loaded.requests, loaded.owned, strict=True)]
        store = BlobStore(cassette)
        blobs = [[d, _blob_identity(store.path_for(d))] for d in sorted(referenced_digests(data))]
        entry = {
            "contract": contract,
            "metadata": loaded.metadata,
            "harness": loaded.harness,
            "blobs": blobs,
            "pairs": [
                [rq.method, rq.uri, dict(rq.headers.items()), _text(rq.body), own, _stored_response(rs)]
                for rq, rs, own in zip(loaded.requests, loaded.responses, loaded.owned, strict=True)
            ],
            "keys": keys,
        }
        try:
            payload = json.dumps(entry, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()
        except (TypeError, ValueError):
            return  # metadata JSON cannot hold (a date, say): this cassette is always loaded afresh
        header = json.dumps(self._header(content, len(payload))).encode()
        with contextlib.suppress(OSError):
            entry_path = self._entry(cassette)
            entry_path.parent.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=entry_path.parent, prefix=".", suffix=".tmp", delete=False) as tmp:
                tmp.write(header + b"\n" + payload)
            try:
                os.replace(tmp.name, entry_path)  # no fsync: a lost entry is only a slower load
            except OSError:
                os.unlink(tmp.name)
                raise

    @staticmethod
    def _header(content: str, length: int) -> dict[str, Any]:
        return {"format": FORMAT, "cassette": content, "code": code_fingerprint(), "length": length}

    @staticmethod
    def _blobs_unchanged(cassette: Path, blobs: Sequence[Any]) -> bool:
        store = BlobStore(cassette)
        return all(identity is not None and _blob_identity(store.path_for(d)) == identity for d, identity in blobs)

    @staticmethod
    def _loaded(cassette: Path, entry: dict[str, Any]) -> Loaded:
        loaded = Loaded(cassette, metadata=entry["metadata"], harness=bool(entry["harness"]))
        for (method, uri, headers, body, owned, response), key in zip(entry["pairs"], entry["keys"], strict=True):
            request = mark(Request(method, uri, _bytes(body), headers), bool(owned))
            if (found := _key(key)) is not None:
                remember_key(request, found)
            response["body"]["string"] = _bytes(response["body"]["string"])
            loaded.requests.append(request)
            loaded.responses.append(response)
            loaded.owned.append(bool(owned))
        return loaded


def _stored_response(response: dict[str, Any]) -> dict[str, Any]:
    body = response.get("body")
    string = body.get("string") if isinstance(body, dict) else None
    return {**response, "body": {**(body if isinstance(body, dict) else {}), "string": _text(string)}}
