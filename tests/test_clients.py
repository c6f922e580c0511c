from __future__ import annotations

import sys

import pytest

from harness.clients import NO_KEY, api_key, external_base_url, make_openai_client, make_vlmrun_client
from harness.errors import UsageError
from harness.settings import LOCAL_API_KEY


def test_base_url_precedence_and_trailing_slash(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("VLMRUN_BASE_URL", raising=False)
    assert external_base_url(None) is None
    monkeypatch.setenv("VLMRUN_BASE_URL", "https://api.vlm.run/v1/")
    assert external_base_url(None) == "https://api.vlm.run/v1"
    assert external_base_url("http://127.0.0.1:1/v1") == "http://127.0.0.1:1/v1"


def test_api_key_precedence(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("VLMRUN_API_KEY", raising=False)
    monkeypatch.delenv("VLMRUN_BASE_URL", raising=False)
    assert api_key(None, None) == LOCAL_API_KEY
    assert api_key(None, "https://api.vlm.run/v1") == NO_KEY == "vlmrun-api-key-not-set"
    assert api_key("opt", None) == "opt"
    monkeypatch.setenv("VLMRUN_API_KEY", "env")
    assert api_key(None, "https://api.vlm.run/v1") == "env"
    assert api_key(None, None) == "env"
    assert api_key("opt", None) == "opt"


def test_clients_never_retry() -> None:
    client = make_openai_client("http://127.0.0.1:9/v1", "k", asynchronous=False)
    assert client.max_retries == 0
    assert str(client.base_url).rstrip("/") == "http://127.0.0.1:9/v1/openai"


def test_missing_vlmrun_sdk_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "vlmrun.client", None)
    with pytest.raises(UsageError, match=r"pip install 'vlmrun-skills-harness\[vlmrun\]'"):
        make_vlmrun_client("http://127.0.0.1:9/v1", "k")
