"""A verified cache of loaded cassettes: each cassette goes through PyYAML once, not once per run.

PyYAML builds every node in Python, even with libyaml underneath: 0.3-0.4 s for a cassette
of 1,000 calls, then each body is parsed and compacted back to the bytes the client sent.
`json.loads` of the result takes a few milliseconds. So what loading a VLM Run cassette
yields — its vcrpy pairs with their exact bytes, its metadata, and the request keys replay
would otherwise compute at the first lookup of every run — is kept as JSON in pytest's
cache folder (`.pytest_cache/d/vlmrun-harness/`), each inline bundle's base64 once beside it.

An entry is used only when it is provably the file's: its header names the sha256 of the
cassette's bytes (read anyway to load it), a fingerprint of the harness's code and PyYAML's
version (what the load and the keys depend on) and its own length; the keys carry the hash
of the description in use; each blob the cassette references must still be the file that
was verified when the entry was written (same size and modification time, or same sha256).
Anything else — a changed cassette, a deleted blob, a damaged entry, another harness — is a
miss, and the cassette is loaded as if there were no cache. One entry per cassette path, so
the cache grows with the suite, not its history; entries are written through a temp file and
a rename, so xdist workers can only race to write the same bytes. `pytest --cache-clear`
empties it and `-p no:cacheprovider` turns it off, as for any plugin's cache; a CI job may
keep the folder between runs (the workflow `harness init` writes does).

Replay conformance keeps its clean verdicts here too (`replay_check`), one beside each entry:
valid for the bytes this process loaded, under the same description, harness code and
schema validator, while the test recorded nothing into the cassette.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import importlib.metadata
import json
import mmap
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from vcr.request import Request

from harness.files import write_atomic
from harness.recording.blobs import BLOB_PREFIX, BlobStore, blob_filename, referenced_digests
from harness.recording.cassette_parse import Loaded
from harness.recording.matcher import RequestKey, remember_key, request_key
from harness.recording.scope import mark
from harness.settings import harness_version

__all__ = ["LoadCache", "Verdict", "code_fingerprint"]

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


def _file_sha256(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


def _blob_identity(path: Path) -> list[int] | None:
    try:
        found = path.stat()
    except OSError:
        return None
    return [found.st_size, found.st_mtime_ns]


class LoadCache:
    """Entries under the folder `locate()` gives, asked for once, at the first VLM Run cassette's load
    (the plugin's is pytest's `cache.mkdir`, which creates it then); this class creates what it writes.

    Inline bundles stay out of the entries: a body keeps its blob's placeholder, and the
    blob's verified base64 is kept once beside them (`b64/`), valid while the blob file keeps
    the size and modification time it had when it was verified, or else the same sha256 (a
    fresh checkout renews every time). So the first cassette of a process that uses a bundle
    reads its base64 instead of checking the zip and encoding it.
    """

    def __init__(self, locate: Callable[[], Path]) -> None:
        self._locate = locate
        self._folder: Path | None = None
        self._loads: dict[str, tuple[str, str, int]] = {}
        """Per cassette path: the sha256, description hash and pair count of this process's last load."""

    def _path(self, *parts: str) -> Path:
        if self._folder is None:
            self._folder = self._locate()
        return self._folder.joinpath(*parts)

    def _entry(self, cassette: Path) -> Path:
        return self._path(hashlib.sha256(os.fsencode(os.path.abspath(cassette))).hexdigest()[:32] + ".json")

    def read(self, cassette: Path, content: str, contract: str) -> Loaded | None:
        """The cassette as `load_file` gives it, keys set, when an entry for exactly these bytes is sound."""
        try:
            head, payload = self._entry(cassette).read_bytes().split(b"\n", 1)
            if json.loads(head) != self._header(content, len(payload)):
                return None
            entry = json.loads(payload)
            if entry["contract"] != contract:
                return None
            with contextlib.ExitStack() as stack:
                bundles = self._bundles(cassette, entry["blobs"], stack)
                return None if bundles is None else self._loaded(cassette, entry, bundles)
        except (OSError, ValueError, TypeError, KeyError, AttributeError):
            return None  # no entry, another harness's, or damaged: load the cassette

    def write(self, cassette: Path, content: str, data: bytes, loaded: Loaded, contract: str) -> None:
        """Store a fresh load with the keys of its VLM Run requests; a cache that cannot be written is none."""
        store = BlobStore(cassette)
        bundles = {d: store.b64(d, index=0) for d in sorted(referenced_digests(data))}  # verified by the load
        blobs = [[d, _blob_identity(store.path_for(d)), _file_sha256(store.path_for(d))] for d in bundles]
        pairs = []
        for rq, rs, own in zip(loaded.requests, loaded.responses, loaded.owned, strict=True):
            body = _unspliced(rq.body, bundles)
            if body is _AMBIGUOUS or _spliced(body, bundles) != rq.body:
                return  # a body the placeholders cannot give back exactly: this cassette is never cached
            pairs.append([rq.method, rq.uri, dict(rq.headers.items()), _text(body), own, _stored_response(rs)])
        entry = {
            "contract": contract,
            "metadata": loaded.metadata,
            "harness": loaded.harness,
            "blobs": blobs,
            "pairs": pairs,
            "keys": [request_key(rq) if own else None for rq, own in zip(loaded.requests, loaded.owned, strict=True)],
        }
        try:
            payload = json.dumps(entry, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()
        except (TypeError, ValueError):
            return  # metadata JSON cannot hold (a date, say): this cassette is always loaded afresh
        header = json.dumps(self._header(content, len(payload))).encode()
        with contextlib.suppress(OSError):
            for digest, b64 in bundles.items():
                kept = self._path(_B64, _b64_name(digest))
                if not kept.is_file() or kept.stat().st_size != len(b64):  # absent, or damaged: the miss came here
                    write_atomic(kept, b64, durable=False)  # a lost copy is only a slower load
            write_atomic(self._entry(cassette), header + b"\n" + payload, durable=False)

    def note_load(self, cassette: Path, content: str, contract: str, count: int) -> None:
        """Note a load of these bytes (a clean conformance verdict on them may then be kept and reused)."""
        self._loads[os.path.abspath(cassette)] = (content, contract, count)

    def forget(self, cassette: Path) -> None:
        """A load of `cassette` begins: what an earlier one noted no longer says what the cassette holds."""
        self._loads.pop(os.path.abspath(cassette), None)

    def verdict(self, cassette: Path, count: int) -> Verdict | None:
        """The clean verdict kept for the bytes this process loaded at `cassette`, if it still holds `count` pairs."""
        expected = self._verdict_fields(cassette, count)
        if expected is None:
            return None
        try:
            kept = json.loads(self._verdict_path(cassette).read_bytes())
            drift = kept.pop("drift")
        except (OSError, ValueError, TypeError, KeyError, AttributeError):
            return None
        return Verdict(drift) if kept == expected and (drift is None or isinstance(drift, str)) else None

    def keep_verdict(self, cassette: Path, count: int, drift: str | None) -> None:
        """Keep a clean verdict on the bytes loaded at `cassette`: the next run skips judging them again."""
        fields = self._verdict_fields(cassette, count)
        if fields is not None:
            with contextlib.suppress(OSError):
                text = json.dumps({**fields, "drift": drift})
                write_atomic(self._verdict_path(cassette), text.encode(), durable=False)

    def _verdict_fields(self, cassette: Path, count: int) -> dict[str, Any] | None:
        found = self._loads.get(os.path.abspath(cassette))
        if found is None or found[2] != count:
            return None  # not loaded here, or the test recorded into it
        content, contract, _ = found
        return {"format": FORMAT, "cassette": content, "contract": contract, "code": code_fingerprint(), **_CHECKER}

    def _verdict_path(self, cassette: Path) -> Path:
        return self._entry(cassette).with_suffix(".verdict")

    @staticmethod
    def _header(content: str, length: int) -> dict[str, Any]:
        return {"format": FORMAT, "cassette": content, "code": code_fingerprint(), "length": length}

    def _bundles(self, cassette: Path, blobs: Sequence[Any], stack: contextlib.ExitStack) -> dict[str, Any] | None:
        """Each referenced blob's verified base64 (mapped, not read: it is copied once, into the body),
        or None when a blob changed since it was verified (verify it again)."""
        store = BlobStore(cassette)
        found = {}
        for digest, identity, content in blobs:
            path = store.path_for(digest)
            if identity is None or (_blob_identity(path) != identity and _file_sha256(path) != content):
                return None  # changed since it was verified (a checkout that only renews times is not)
            with self._path(_B64, _b64_name(digest)).open("rb") as file:
                b64 = stack.enter_context(mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ))
            if len(b64) != 4 * ((identity[0] + 2) // 3):
                return None
            found[digest] = b64
        return found

    @staticmethod
    def _loaded(cassette: Path, entry: dict[str, Any], bundles: Mapping[str, Any]) -> Loaded:
        loaded = Loaded(cassette, metadata=entry["metadata"], harness=bool(entry["harness"]))
        for (method, uri, headers, body, owned, response), key in zip(entry["pairs"], entry["keys"], strict=True):
            request = mark(Request(method, uri, _spliced(_bytes(body), bundles), headers), bool(owned))
            if (found := _key(key)) is not None:
                remember_key(request, found)
            response["body"]["string"] = _bytes(response["body"]["string"])
            loaded.requests.append(request)
            loaded.responses.append(response)
            loaded.owned.append(bool(owned))
        return loaded


@dataclass(frozen=True)
class Verdict:
    """A kept verdict: the cassette was clean; `drift` is what `cassette_check` said of its stamp."""

    drift: str | None


_CHECKER = {"jsonschema-rs": importlib.metadata.version("jsonschema-rs")}
"""Besides the harness's code and the description, what judges a cassette: the schema validator."""
_B64 = "b64"
_AMBIGUOUS = b"\0ambiguous"


def _b64_name(digest: str) -> str:
    return str(Path(blob_filename(digest)).with_suffix(".b64"))


def _placeholder(digest: str) -> bytes:
    return (BLOB_PREFIX + digest).encode()


def _unspliced(body: Any, bundles: dict[str, bytes]) -> Any:
    """The body with each bundle's base64 back to its placeholder (what the cassette holds there)."""
    if not isinstance(body, bytes) or not bundles:
        return body
    if any(_placeholder(d) in body for d in bundles):
        return _AMBIGUOUS
    for digest, b64 in bundles.items():
        body = body.replace(b64, _placeholder(digest))
    return body


def _spliced(body: bytes | None, bundles: Mapping[str, Any]) -> bytes | None:
    """The body as sent: one copy of each bundle's base64 into it, nothing more (a bundle is megabytes)."""
    if body is None:
        return None
    for digest, b64 in bundles.items():
        body = body.replace(_placeholder(digest), b64)
    return body


def _stored_response(response: dict[str, Any]) -> dict[str, Any]:
    body = response.get("body")
    string = body.get("string") if isinstance(body, dict) else None
    return {**response, "body": {**(body if isinstance(body, dict) else {}), "string": _text(string)}}
