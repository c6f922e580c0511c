"""Semantic request matching for vcrpy: method, path, query and the canonical body.

vcrpy's default `match_on` ignores bodies, and its `body` matcher re-parses JSON for every
candidate on every lookup. Here a request's key — method, path, sorted query and canonical
body — is computed once: recorded requests keep theirs on the object, live ones are cached
by body bytes (vcrpy deep-copies the live request for each lookup, but bytes are immutable
and shared by the copies). vcrpy evaluates every matcher against every candidate, so the
default is one matcher comparing whole keys, and a mismatch raises a constant message:
the readable diff is built once, for the closest candidate only, when a miss is reported
(`miss.py`). Measured at 1,000 interactions: benchmarks/RESULTS.md.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from harness.caches import LockedLRU
from harness.canonical import canonical_diff, canonical_json, canonicalize
from harness.recording.interaction import request_bytes

MATCHER_NAME = "vlmrun_body"
REQUEST_MATCHER_NAME = "vlmrun_request"
COMPLETIONS_SUFFIX = "/chat/completions"
_ATTR = "_harness_canonical"
_KEY_ATTR = "_harness_request_key"
_CACHE_SIZE = 512


@dataclass(frozen=True)
class CanonicalBody:
    key: str
    form: Any


_cache: LockedLRU[tuple[str, bytes], CanonicalBody] = LockedLRU(_CACHE_SIZE)


_EMPTY = CanonicalBody("empty", None)


def _compute(path: str, raw: bytes) -> CanonicalBody:
    if not raw:
        return _EMPTY
    try:
        parsed = json.loads(raw)
    except (ValueError, RecursionError):
        return CanonicalBody("raw:" + hashlib.sha256(raw).hexdigest(), "<non-JSON body>")
    if path.endswith(COMPLETIONS_SUFFIX):
        canonical = canonicalize(parsed)
        return CanonicalBody(canonical.key, canonical.body)
    return CanonicalBody(hashlib.sha256(canonical_json(parsed).encode("utf-8", "surrogatepass")).hexdigest(), parsed)


def canonical_body(request: Any) -> CanonicalBody:
    """The canonical body of a vcrpy request, computed once per recorded request or body."""
    found = getattr(request, _ATTR, None)
    if isinstance(found, CanonicalBody):
        return found
    path = urlsplit(str(request.uri)).path
    raw = request_bytes(request)
    key = (path, raw)
    cached = _cache.get(key)
    if cached is None:
        cached = _compute(path, raw)
        _cache.put(key, cached)
    with contextlib.suppress(AttributeError):  # vcrpy's Request accepts attributes today
        setattr(request, _ATTR, cached)
    return cached


def differences(live: Any, recorded: Any, *, limit: int = 6) -> list[str]:
    """Human-readable canonical differences, e.g. `skills[0].skill_version: recorded '…', sent '…'`."""
    out = []
    for path, old, new in canonical_diff(canonical_body(recorded).form, canonical_body(live).form):
        out.append(f"{path}: recorded {_short(old)}, sent {_short(new)}")
        if len(out) == limit:
            out.append("…")
            break
    return out


def _short(value: Any) -> str:
    text = value if value == "<absent>" else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 160 else text[:157] + "…"


def vlmrun_body(live: Any, recorded: Any) -> None:
    """vcrpy matcher on canonical bodies alone, for users composing their own `match_on`."""
    if canonical_body(live).key != canonical_body(recorded).key:
        raise AssertionError("canonical bodies differ")


RequestKey = tuple[str, str, tuple[tuple[str, str], ...], str]


def request_key(request: Any) -> RequestKey:
    """(method, path, sorted query, canonical body key), kept on the request after the first call."""
    found = getattr(request, _KEY_ATTR, None)
    if isinstance(found, tuple):
        return found
    parts = urlsplit(str(request.uri))
    key = (str(request.method).upper(), parts.path, tuple(sorted(parse_qsl(parts.query))), canonical_body(request).key)
    with contextlib.suppress(AttributeError):
        setattr(request, _KEY_ATTR, key)
    return key


def remember_key(request: Any, key: RequestKey) -> None:
    """Give a recorded request the key `request_key` would compute (from a verified cache)."""
    with contextlib.suppress(AttributeError):
        setattr(request, _KEY_ATTR, key)


def get_key(uri: str) -> RequestKey:
    """The key of a body-less GET of `uri`: what a client sends to follow a `303 See Other` there."""
    parts = urlsplit(uri)
    return ("GET", parts.path, tuple(sorted(parse_qsl(parts.query))), _EMPTY.key)


def vlmrun_request(live: Any, recorded: Any) -> None:
    """vcrpy matcher on whole keys; the message is constant so 1,000 misses stay cheap."""
    if request_key(live) != request_key(recorded):
        raise AssertionError("method, path, query or canonical body differ")
