"""What counts as a secret in HTTP traffic, and how it is redacted.

One definition for everything the harness writes: cassettes (recording/scrub.py) and
request snapshots (snapshots/render.py). Plain functions over plain values, no I/O.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

REDACTED = "<redacted>"

SECRET_HEADERS = frozenset(
    {"authorization", "proxy-authorization", "x-api-key", "api-key", "cookie", "set-cookie", "x-auth-token"}
)
SECRET_QUERY = frozenset({"api_key", "apikey", "key", "token", "access_token", "auth", "signature", "sig"})
_SECRET_FIELD = re.compile(r"(^|_)(api_?key|token|secret|password|passwd|authorization|credentials?)$", re.IGNORECASE)
# Values that look like credentials even under an innocent key (`sk-…`, bearer strings).
_SECRET_VALUE = re.compile(r"^(Bearer\s+\S+|sk-[A-Za-z0-9_\-]{16,})$")


# Values known to be secret in this process (the API key the fixtures use), redacted wherever
# they appear: in a prompt's text, an echoed field, a header, a URL. Shorter values would
# redact innocent text.
_KNOWN: set[str] = set()
_MIN_KNOWN = 8


class Secret(str):
    """A key that prints as `<redacted>`: pytest shows a test's arguments in its tracebacks and
    reports (junit too), so the key fixture's value must not show itself there. Everything
    that uses it as a string (an SDK building `Authorization`) gets the real value."""

    __slots__ = ()

    def __repr__(self) -> str:
        return repr(REDACTED)


def remember_secret(value: str | None) -> None:
    """Redact `value` wherever it appears in what the harness writes, from now on in this process."""
    if value and len(value) >= _MIN_KNOWN:
        _KNOWN.add(value)


def _without_known(text: str) -> str:
    for value in _KNOWN:
        if value in text:
            text = text.replace(value, REDACTED)
    return text


@functools.lru_cache(maxsize=4096)
def is_secret_field(name: str) -> bool:
    # Kept per name: a body repeats a few keys (`role`, `content`, `type`) and every replayed call is scrubbed.
    return bool(_SECRET_FIELD.search(name))


def scrub_headers(headers: Mapping[str, Any]) -> dict[str, Any]:
    return {k: (REDACTED if k.lower() in SECRET_HEADERS else _known_in(v)) for k, v in headers.items()}


def _known_in(value: Any) -> Any:
    if not _KNOWN:
        return value
    if isinstance(value, str):
        return _without_known(value)
    if isinstance(value, list | tuple):
        return type(value)(_known_in(v) for v in value)
    return value


def scrub_uri(uri: str) -> str:
    uri = _without_known(uri) if _KNOWN else uri
    parts = urlsplit(uri)
    if not parts.query and "@" not in parts.netloc:
        return uri
    query = [
        (k, REDACTED if k.lower() in SECRET_QUERY else v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
    ]
    netloc = parts.netloc.rsplit("@", 1)[-1]  # user:password@host
    return urlunsplit((parts.scheme, netloc, parts.path, urlencode(query, safe="<>"), parts.fragment))


def scrub_json(value: Any) -> Any:
    """Secret-looking fields anywhere in a JSON document, by name or by value."""
    if isinstance(value, dict):
        return {
            k: (REDACTED if is_secret_field(k) and isinstance(v, _SCALAR) else scrub_json(v)) for k, v in value.items()
        }
    if isinstance(value, list):
        return [scrub_json(v) for v in value]
    if isinstance(value, str):
        if _SECRET_VALUE.match(value):
            return REDACTED
        return _without_known(value) if _KNOWN else value
    return value


_SCALAR = (str, int)


def _known_in_text(body: bytes | str) -> bytes | str:
    """A known secret in a body that is not JSON (a stream, a form, plain text)."""
    if not _KNOWN:
        return body
    if isinstance(body, str):
        return _without_known(body)
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return body
    cleaned = _without_known(text)
    return body if cleaned == text else cleaned.encode("utf-8")


def scrub_body(body: bytes | str | None) -> bytes | str | None:
    """A JSON body with secret fields redacted; other bodies unchanged (bytes stay bytes)."""
    if not body:
        return body
    raw = body.encode() if isinstance(body, str) else body
    try:
        parsed = json.loads(raw)
    except (ValueError, RecursionError):
        return _known_in_text(body)
    cleaned = scrub_json(parsed)
    if cleaned == parsed:
        return body
    out = json.dumps(cleaned, separators=(",", ":"), ensure_ascii=False).encode()
    return out.decode() if isinstance(body, str) else out
