"""Inline skill bundles stored once, by content, next to the cassettes; and atomic file writes.

A 1 MiB bundle inlined as base64 in every recorded request would bloat each cassette and
every diff of it. Instead the zip is written once to `<cassettes>/_blobs/sha256-<hex>.zip`,
named by its canonical digest (harness.bundles), and a cassette holds a short reference.
Every write goes through a temp file and `os.replace`, so a crash, an exception or a
concurrent pytest-xdist worker never leaves a half-written cassette or blob behind.
"""

from __future__ import annotations

import base64
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from harness.bundles import canonical_digest, digest_b64, read_zip_entries
from harness.bundles.decode import decode_base64
from harness.caches import LockedLRU
from harness.errors import BundleError, CassetteError
from harness.files import atomic_writer
from harness.wire import iter_bundle_slots

BLOB_DIR = "_blobs"
CASSETTES_DIR = "cassettes"
_DIGEST = re.compile(r"sha256:([0-9a-f]{64})")
BLOB_PREFIX = "$blob:"
_PLACEHOLDER = re.compile(r"\$blob:(sha256:[0-9a-f]{64})")
_PLACEHOLDER_BYTES = re.compile(_PLACEHOLDER.pattern.encode())  # the same, over a file's bytes


def blob_dir_for(cassette_path: str | os.PathLike[str]) -> Path:
    """`_blobs` under the nearest `cassettes` ancestor (shared by all cassettes), else beside the cassette."""
    path = Path(os.path.abspath(cassette_path))  # abspath, not resolve: symlinked checkouts keep their layout
    for parent in path.parents:
        if parent.name == CASSETTES_DIR:
            return parent / BLOB_DIR
    return path.parent / BLOB_DIR


def blob_filename(digest: str) -> str:
    """`sha256:<hex>` → `sha256-<hex>.zip` (no colon: Windows and some tools choke on one)."""
    match = _DIGEST.fullmatch(digest)
    if match is None:
        raise ValueError(f"not a sha256 digest: {digest!r}")
    return f"sha256-{match.group(1)}.zip"


def zip_digest(zip_bytes: bytes) -> str | None:
    """Canonical digest of zip bytes, or None when they are not a safe zip."""
    try:
        return canonical_digest(read_zip_entries(zip_bytes))
    except BundleError:
        return None


class BlobStore:
    """The blob folder of one cassette; reads are verified and cached by digest for one load."""

    def __init__(self, cassette_path: str | os.PathLike[str], root: Path | None = None) -> None:
        self.cassette = Path(cassette_path)
        self.root = root if root is not None else blob_dir_for(cassette_path)
        self._cache: dict[str, bytes] = {}
        self._b64: dict[str, bytes] = {}

    def path_for(self, digest: str) -> Path:
        return self.root / blob_filename(digest)

    def put(self, digest: str, zip_bytes: bytes) -> Path:
        """Write the blob unless a sound copy is already there; safe when workers race on it."""
        path = self.path_for(digest)
        try:
            existing = path.read_bytes()
        except FileNotFoundError:
            existing = None
        except OSError as exc:
            raise CassetteError(f"Cannot read blob {path} for cassette {self.cassette}: {exc.strerror}") from exc
        if existing is not None and zip_digest(existing) == digest:
            return path
        try:  # absent or corrupt: both racers write the same content, and os.replace is atomic
            with atomic_writer(path) as fh:
                fh.write(zip_bytes)
        except OSError as exc:
            raise CassetteError(f"Cannot write blob {path} for cassette {self.cassette}: {exc.strerror}") from exc
        return path

    def get(self, digest: str, *, index: int) -> bytes:
        """The zip bytes for `digest`, checked against it once per store."""
        cached = self._cache.get(digest)
        if cached is not None:
            return cached
        path = self.path_for(digest)
        where = f"Cassette {self.cassette}: interaction {index}"
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise CassetteError(
                f"{where}: blob {path} is missing (restore it from version control or re-record)"
            ) from None
        except OSError as exc:
            raise CassetteError(f"{where}: cannot read blob {path}: {exc.strerror}") from exc
        found = zip_digest(data)
        if found != digest:
            what = "not a valid zip" if found is None else f"its content digest is {found}"
            raise CassetteError(f"{where}: blob {path} is corrupt ({what}); delete it and re-record")
        self._cache[digest] = data
        return data

    def b64(self, digest: str, *, index: int) -> bytes:
        """The blob as the base64 a client sends in `source.data` (ASCII bytes), encoded once per store.

        Across stores (every cassette of a session shares blobs) a verified blob's base64 is
        kept per process, keyed by file identity, so the digest check and the encoding are
        paid once per bundle and process, not once per cassette.
        """
        found = self._b64.get(digest)
        if found is not None:
            return found
        identity = _identity(self.path_for(digest))
        found = _PROCESS_B64.get(identity) if identity else None
        if found is None:
            found = base64.b64encode(self.get(digest, index=index))
            if identity:
                _PROCESS_B64.put(identity, found)
        self._b64[digest] = found
        return found


# Verified base64 by file identity, for the whole process: at most this many characters kept.
_PROCESS_B64: LockedLRU[tuple[str, int, int], bytes] = LockedLRU(64 * 1024 * 1024, getsizeof=len)


def _identity(path: Path) -> tuple[str, int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return (str(path), st.st_size, st.st_mtime_ns)


# -- placeholders in request bodies --------------------------------------------------------------


def stash_bundles(body: Any, stash: dict[str, bytes], path: str | None = None) -> None:
    """Replace decodable bundles by placeholders, collecting their zip bytes by digest (in place).

    `path`: the request's path or URL, which decides where bundles sit (`wire.iter_bundle_slots`).
    """
    for slot in iter_bundle_slots(body, path):
        if slot.data.startswith(BLOB_PREFIX):
            continue
        try:
            digest = digest_b64(slot.data)
            if digest not in stash:
                stash[digest] = decode_base64(slot.data)
        except BundleError:
            continue  # not a safe zip: it stays inline, as sent
        slot.replace(BLOB_PREFIX + digest)


def referenced_digests(text: bytes) -> set[str]:
    """Every blob a cassette's text refers to (`$blob:sha256:<hex>`), found without parsing it."""
    return {match.decode() for match in _PLACEHOLDER_BYTES.findall(text)}


def placeholders(body: Any, path: str | None = None) -> list[str]:
    """The digests referenced from a request body's bundle slots (for `path`), in order."""
    found = (_PLACEHOLDER.fullmatch(slot.data) for slot in iter_bundle_slots(body, path))
    return [match.group(1) for match in found if match is not None]


def restore_bundles(body: Any, fetch: Callable[[str], str], path: str | None = None) -> None:
    """Put the base64 of each referenced blob back in place of its placeholder (in place)."""
    for slot in iter_bundle_slots(body, path):
        match = _PLACEHOLDER.fullmatch(slot.data)
        if match is not None:
            slot.replace(fetch(match.group(1)))
