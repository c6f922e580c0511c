"""Content digest of a bundle: equal for the same files however the zip was made.

Zip bytes depend on timestamps, modes, order and the zlib build, so two clients sending
the same skill rarely send the same base64. Matching recorded requests therefore goes by
this digest, never by the base64 text.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Mapping

from harness.bundles.decode import DEFAULT_LIMITS, BundleLimits, decode_base64, read_zip_entries
from harness.errors import BundleError

_CACHE_SIZE = 256


def canonical_digest(files: Mapping[str, bytes]) -> str:
    """``sha256:`` over ``sha256sum``-style lines, paths sorted by their UTF-8 bytes.

    Each line is ``"{sha256(content)}  {path}\\n"``; paths cannot hold a line break, so
    the encoding is unambiguous. Empty folders do not exist in it.
    """
    lines: list[tuple[bytes, str]] = []
    for path, content in files.items():
        if "\n" in path or "\r" in path:
            raise BundleError(f"path {path!r} contains a line break", code="unsafe_path", entry=path)
        lines.append((path.encode("utf-8", "surrogatepass"), hashlib.sha256(content).hexdigest()))
    outer = hashlib.sha256()
    for path_bytes, content_hex in sorted(lines):
        outer.update(content_hex.encode("ascii") + b"  " + path_bytes + b"\n")
    return "sha256:" + outer.hexdigest()


class _LRU:
    """Thread-safe LRU keyed by a hash of the base64 text.

    ``functools.lru_cache`` would keep up to 256 bundle strings (each up to ~70 MB)
    alive as keys; a 32-byte hash key keeps only the answers.
    """

    def __init__(self, maxsize: int) -> None:
        self.maxsize = maxsize
        self._data: OrderedDict[tuple[bytes, BundleLimits], str] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: tuple[bytes, BundleLimits]) -> str | None:
        with self._lock:
            value = self._data.get(key)
            if value is None:
                self.misses += 1
            else:
                self.hits += 1
                self._data.move_to_end(key)
            return value

    def put(self, key: tuple[bytes, BundleLimits], value: str) -> None:
        with self._lock:
            self._data[key] = value
            self._data.move_to_end(key)
            while len(self._data) > self.maxsize:
                self._data.popitem(last=False)

    def __len__(self) -> int:
        return len(self._data)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()
            self.hits = self.misses = 0


_cache = _LRU(_CACHE_SIZE)


def digest_b64(data: str, *, limits: BundleLimits = DEFAULT_LIMITS) -> str:
    """Digest of a base64 zip, memoised: one bundle recurs across many requests.

    Same safety checks as :func:`decode_bundle`, but SKILL.md is not required: matching
    must work for any safe zip, including ones a server would reject.
    """
    if not isinstance(data, str) or len(data) > limits.max_encoded_chars:
        decode_base64(data, limits=limits)  # raises before anything is hashed
    key = (hashlib.sha256(data.encode("utf-8", "surrogatepass")).digest(), limits)
    cached = _cache.get(key)
    if cached is not None:
        return cached
    digest = canonical_digest(read_zip_entries(decode_base64(data, limits=limits), limits))
    _cache.put(key, digest)
    return digest


def clear_digest_cache() -> None:
    _cache.clear()


def digest_cache_info() -> tuple[int, int, int]:
    """(hits, misses, current size), for tests and diagnostics."""
    return _cache.hits, _cache.misses, len(_cache)
