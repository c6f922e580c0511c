"""The content digest of a base64 bundle, memoised: one bundle recurs across many requests.

The cache is keyed by a sha256 of the base64 text, not the text: ``functools.lru_cache``
would keep up to 256 bundle strings (each up to ~70 MB) alive as keys, a 32-byte hash
keeps only the answers.
"""

from __future__ import annotations

import hashlib

from harness.bundles.decode import DEFAULT_LIMITS, BundleLimits, decode_base64, read_zip_entries
from harness.bundles.file_digest import canonical_digest
from harness.caches import LockedLRU

_CACHE_SIZE = 256

_cache: LockedLRU[tuple[bytes, BundleLimits], str] = LockedLRU(_CACHE_SIZE)


def digest_b64(data: str, *, limits: BundleLimits = DEFAULT_LIMITS) -> str:
    """:func:`canonical_digest` of a base64 zip.

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
