"""The server the gate tests: its base URL in one form, and a check that it can be tested at all.

The description's paths carry `/v1` (`/v1/openai/chat/completions`), so the base URL is the
API's root (`https://api.vlm.run`). The vlmrun SDK, `harness serve` and `--vlmrun-base-url`
spell it with `/v1`; `normalize_base_url` takes either and gives the root, so every path is
requested once, not under `/v1/v1`.

`preflight` asks the server for `GET /v1/health` with the key before a single case is
generated: a server that cannot be reached, refuses the key or is not at that URL is a set-up
error (exit 2) with one line naming the cause and the fix, never a contract verdict. 401 is a
described response, so without this every case of a run with a wrong key would hold.
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from harness.errors import TargetError, UsageError
from harness.settings import API_KEY_ENV, API_PREFIX, SERVE_HOST, SERVE_PORT, ApiKey, KeySource

HEALTH_PATH = f"{API_PREFIX}/health"
PREFLIGHT_TIMEOUT = 10.0
EXAMPLE = f"e.g. https://api.vlm.run or http://{SERVE_HOST}:{SERVE_PORT}"


def normalize_base_url(url: str, api_prefix: str = API_PREFIX) -> str:
    """The API's root for `url`, with or without a trailing `/v1` (or `/v1/`): `http://h:8765/v1` → `http://h:8765`.

    Raises `UsageError` for anything that is not an http(s) URL with a host.
    """
    text = url.strip()
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"--base-url {url!r} is not an http(s) URL: pass the API's root, {EXAMPLE}")
    if parts.query or parts.fragment:
        raise UsageError(f"--base-url {url!r} has a query or fragment: pass the API's root, {EXAMPLE}")
    path = parts.path.rstrip("/")
    if api_prefix and path.endswith(api_prefix):
        path = path[: -len(api_prefix)]
    return urlunsplit((parts.scheme, parts.netloc, path.rstrip("/"), "", ""))


KEY_PHRASES: dict[KeySource, str] = {
    "option": "the key given with --api-key",
    "environment": f"the key in ${API_KEY_ENV}",
    "local": "the gate's own key",
}
"""How a message names a key, by where it came from (`settings.resolve_api_key`)."""


def key_phrase(source: KeySource) -> str:
    return KEY_PHRASES[source]


def key_fix(source: KeySource) -> str:
    if source == "environment":
        return f"set {API_KEY_ENV} to a valid key, or pass one with --api-key"
    return "pass a valid key"


def refused_message(base_url: str, status: int, source: KeySource) -> str:
    """One line: the server refused the key (401, or 403 for a key without access), and the fix."""
    key = key_phrase(source)
    if status == 403:
        return f"the server at {base_url} answered 403 to {key}: the key has no access to this API; pass one that does"
    return f"the server at {base_url} answered {status} to {key}: {key_fix(source)}"


def unreachable_message(base_url: str, reason: str) -> str:
    return f"cannot reach {base_url} ({reason}): start the server, or pass the URL it listens on with --base-url"


def not_the_api_message(base_url: str, status: int) -> str:
    return (
        f"the server at {base_url} answered {status} to GET {HEALTH_PATH}: --base-url is not the API's root; "
        f"pass the URL before {API_PREFIX}, {EXAMPLE}"
    )


def _reason(exc: BaseException) -> str:
    """What went wrong reaching the server, in a few words."""
    import http.client
    import socket
    import ssl
    import urllib.error

    reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
    if isinstance(reason, ConnectionRefusedError):
        return "connection refused"
    if isinstance(reason, socket.gaierror):
        return "unknown host"
    if isinstance(reason, http.client.HTTPException):
        return f"the answer is not HTTP: {type(reason).__name__}"
    if isinstance(reason, TimeoutError):
        return f"no answer within {PREFLIGHT_TIMEOUT:.0f} s"
    if isinstance(reason, ssl.SSLError):
        return f"TLS error: {getattr(reason, 'reason', None) or reason}"
    if isinstance(reason, OSError) and reason.strerror:
        return reason.strerror.lower()
    return str(reason) or type(reason).__name__


def preflight(base_url: str, key: ApiKey, *, timeout: float = PREFLIGHT_TIMEOUT) -> None:
    """`GET <base>/v1/health` with the key; raise `TargetError` unless the server is there and takes the key.

    `base_url` is normalised already. Any answer other than 401, 403, 404 and 405 lets the
    gate go on: what the server does then is for the property tests to judge.
    """
    import http.client
    import urllib.error
    import urllib.request

    request = urllib.request.Request(
        base_url + HEALTH_PATH, headers={"Authorization": f"Bearer {key.value}", "Accept": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            response.read(65536)
            return
    except urllib.error.HTTPError as exc:
        status = exc.code
        exc.close()
    except (urllib.error.URLError, OSError, ValueError, http.client.HTTPException) as exc:
        raise TargetError(unreachable_message(base_url, _reason(exc))) from None
    if status in (401, 403):
        raise TargetError(refused_message(base_url, status, key.source))
    if status in (404, 405):
        raise TargetError(not_the_api_message(base_url, status))
