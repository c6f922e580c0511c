"""Which requests are VLM Run's: hosts, registered origins, configured hosts, and the mark."""

from __future__ import annotations

import copy

import pytest
from vcr.request import Request

from harness.recording.scope import Scope, mark, origin_of


def _request(uri: str) -> Request:
    return Request("POST", uri, b"{}", {})


@pytest.mark.parametrize(
    ("uri", "owned"),
    [
        ("https://api.vlm.run/v1/openai/chat/completions", True),
        ("https://API.VLM.RUN:8443/v1/skills", True),
        ("https://agent.vlm.run/v1/openai/chat/completions", True),
        ("https://api.openai.com/v1/chat/completions", False),
        ("http://127.0.0.1:8765/v1/openai/chat/completions", True),  # the registered base URL's origin
        ("http://127.0.0.1:8766/v1/openai/chat/completions", False),  # same host, another port: another API
        ("https://proxy.acme.test/vlm/v1/openai/chat/completions", True),  # a configured host
        ("not a url", False),
    ],
)
def test_ownership_by_origin(uri: str, owned: bool) -> None:
    scope = Scope.build(["proxy.acme.test"], ["http://127.0.0.1:8765/v1", None])
    assert scope.owns(_request(uri)) is owned


def test_the_mark_decides_for_recorded_requests_and_survives_deep_copies() -> None:
    scope = Scope.build()
    recorded = mark(_request("http://127.0.0.1:43193/v1/openai/chat/completions"), True)  # an old embedded port
    assert scope.owns(copy.deepcopy(recorded))
    other = mark(_request("https://api.vlm.run/v1/openai/chat/completions"), False)
    assert not scope.owns(other)


def test_default_ports_are_filled_in() -> None:
    assert origin_of("https://api.vlm.run/v1") == ("api.vlm.run", 443)
    assert origin_of("http://LOCALHOST/v1") == ("localhost", 80)
    scope = Scope.build(base_urls=["https://staging.acme.test/v1"])
    assert scope.owns(_request("https://staging.acme.test:443/v1/openai/chat/completions"))
