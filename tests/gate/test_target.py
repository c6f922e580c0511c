"""The gate's target: one form of base URL, and a preflight that refuses to test what cannot be tested."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from harness.errors import TargetError, UsageError
from harness.gate.target import normalize_base_url, preflight
from harness.reference.app import ServerConfig, create_app
from harness.reference.server import serve_in_thread
from harness.settings import ApiKey

KEY = ApiKey("sk-target-test-key", "option")


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    with serve_in_thread(create_app(config=ServerConfig(api_key=KEY.value))) as running:
        yield running.url


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize(
    ("given", "root"),
    [
        ("http://127.0.0.1:8765", "http://127.0.0.1:8765"),
        ("http://127.0.0.1:8765/", "http://127.0.0.1:8765"),
        ("http://127.0.0.1:8765/v1", "http://127.0.0.1:8765"),  # what `harness serve` prints
        ("http://127.0.0.1:8765/v1/", "http://127.0.0.1:8765"),
        ("https://api.vlm.run/v1", "https://api.vlm.run"),  # the vlmrun SDK's base_url
        ("https://gateway.example/vlmrun/v1", "https://gateway.example/vlmrun"),
        ("https://gateway.example/vlmrun", "https://gateway.example/vlmrun"),
        ("  https://api.vlm.run  ", "https://api.vlm.run"),
        ("https://api.vlm.run/v10", "https://api.vlm.run/v10"),  # only the /v1 segment goes
    ],
)
def test_a_base_url_with_or_without_v1_is_the_api_root(given: str, root: str) -> None:
    assert normalize_base_url(given) == root
    assert normalize_base_url(root) == root


@pytest.mark.parametrize(
    ("given", "message"),
    [
        (
            "127.0.0.1:8765",
            "--base-url '127.0.0.1:8765' is not an http(s) URL: pass the API's root, "
            "e.g. https://api.vlm.run or http://127.0.0.1:8765",
        ),
        (
            "ftp://host/v1",
            "--base-url 'ftp://host/v1' is not an http(s) URL: pass the API's root, "
            "e.g. https://api.vlm.run or http://127.0.0.1:8765",
        ),
        (
            "http://host/v1?x=1",
            "--base-url 'http://host/v1?x=1' has a query or fragment: pass the API's root, "
            "e.g. https://api.vlm.run or http://127.0.0.1:8765",
        ),
    ],
)
def test_a_base_url_that_is_no_http_url_is_a_usage_error(given: str, message: str) -> None:
    with pytest.raises(UsageError) as caught:
        normalize_base_url(given)
    assert str(caught.value) == message


def test_the_right_key_passes(server: str) -> None:
    preflight(server, KEY)


def test_a_wrong_key_names_the_cause_and_the_fix(server: str) -> None:
    with pytest.raises(TargetError) as caught:
        preflight(server, ApiKey("WRONG", "option"))
    assert str(caught.value) == f"the server at {server} answered 401 to the key given with --api-key: pass a valid key"


def test_a_wrong_key_from_the_environment_says_where_to_fix_it(server: str) -> None:
    with pytest.raises(TargetError) as caught:
        preflight(server, ApiKey("WRONG", "environment"))
    assert str(caught.value) == (
        f"the server at {server} answered 401 to the key in $VLMRUN_API_KEY: "
        "set VLMRUN_API_KEY to a valid key, or pass one with --api-key"
    )


async def _forbidden(request: Request) -> JSONResponse:
    return JSONResponse({"detail": "forbidden"}, status_code=403)


def test_a_key_without_access_is_refused_too() -> None:
    app = Starlette(routes=[Route("/{path:path}", _forbidden, methods=["GET"])])
    with serve_in_thread(app) as running, pytest.raises(TargetError) as caught:
        preflight(running.url, KEY)
    assert str(caught.value) == (
        f"the server at {running.url} answered 403 to the key given with --api-key: "
        "the key has no access to this API; pass one that does"
    )


def test_an_unreachable_server_is_a_set_up_error() -> None:
    url = f"http://127.0.0.1:{closed_port()}"
    with pytest.raises(TargetError) as caught:
        preflight(url, KEY)
    assert str(caught.value) == (
        f"cannot reach {url} (connection refused): start the server, or pass the URL it listens on with --base-url"
    )


def test_a_wrong_base_path_is_a_set_up_error(server: str) -> None:
    with pytest.raises(TargetError) as caught:
        preflight(server + "/api", KEY)
    assert str(caught.value) == (
        f"the server at {server}/api answered 404 to GET /v1/health: --base-url is not the API's root; "
        "pass the URL before /v1, e.g. https://api.vlm.run or http://127.0.0.1:8765"
    )


def test_target_errors_are_usage_errors_so_the_cli_exits_2() -> None:
    assert issubclass(TargetError, UsageError)
