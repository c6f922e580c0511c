"""The harness's rules composed over a user's vcrpy configuration, for VLM Run requests only."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import vcr
from vcr.request import Request

from harness.recording.configure import configure_vcr
from harness.recording.persister import ScopedPersister
from harness.recording.scope import Scope

VLMRUN = "https://api.vlm.run/v1/openai/chat/completions"
BODY = b'{"model":"vlmrun-orion-1:auto","messages":[{"role":"user","content":"hi"}],"skills":[{"skill_name":"a"}]}'
SAME_CALL = b'{"messages":[{"content":"hi","role":"user"}],"skills":[{"type":"skill_reference","skill_name":"a"}]}'


def _merged(tmp_path: Path, **kwargs: Any) -> dict[str, Any]:
    recorder = vcr.VCR()
    configure_vcr(recorder, Scope.build())
    config: dict[str, Any] = recorder.get_merged_config(path=str(tmp_path / "c.yaml"), **kwargs)
    return config


def _safe(matchers: list[Any], a: Request, b: Request) -> list[Any]:
    out = []
    for matcher in matchers:
        try:
            out.append(matcher(a, b))
        except AssertionError:
            out.append(False)
    return out


def _all_match(config: dict[str, Any], a: Request, b: Request) -> bool:
    return all(result is not False for result in _safe(config["match_on"], a, b))


def test_vlmrun_requests_match_on_the_canonical_form_whatever_match_on_says(tmp_path: Path) -> None:
    config = _merged(tmp_path, match_on=["method", "uri", "raw_body"])
    live = Request("POST", VLMRUN, SAME_CALL, {"content-type": "application/json"})
    recorded = Request("POST", "http://127.0.0.1:9/v1/openai/chat/completions", BODY, {})
    recorded._vlmrun_harness_owned = True  # as the loader marks it
    assert _all_match(config, live, recorded)
    changed = Request("POST", VLMRUN, BODY.replace(b'"a"', b'"b"'), {})
    assert not _all_match(config, changed, recorded)


def test_other_apis_keep_the_users_matchers(tmp_path: Path) -> None:
    config = _merged(tmp_path)  # vcrpy's default: method, scheme, host, port, path, query
    us = Request("GET", "https://us.api.acme.test/v1/status", None, {})
    eu = Request("GET", "https://eu.api.acme.test/v1/status", None, {})
    assert not _all_match(config, us, eu)
    stamped = Request("POST", "https://api.github.com/graphql", b'{"sent_at":"2026-01-01"}', {})
    later = Request("POST", "https://api.github.com/graphql", b'{"sent_at":"2026-11-27"}', {})
    assert _all_match(config, stamped, later)  # bodies are not compared by default
    assert [m.__name__ for m in config["match_on"]] == ["method", "scheme", "host", "port", "path", "query"]


def test_a_vlmrun_request_never_matches_another_apis(tmp_path: Path) -> None:
    config = _merged(tmp_path, match_on=["path"])
    other = Request("POST", "https://api.acme.test/v1/openai/chat/completions", BODY, {})
    assert not _all_match(config, Request("POST", VLMRUN, BODY, {}), other)


def test_scrubbing_applies_after_the_users_filters_and_only_to_vlmrun(tmp_path: Path) -> None:
    config = _merged(tmp_path, filter_headers=["x-team"])
    theirs = config["before_record_request"](
        Request("GET", "https://api.github.com/x?token=t1", None, {"authorization": "token t2", "x-team": "t3"})
    )
    assert theirs.uri.endswith("token=t1")
    assert theirs.headers["authorization"] == "token t2"
    assert "x-team" not in theirs.headers
    ours = config["before_record_request"](
        Request("POST", VLMRUN + "?api_key=k1", b'{"api_key":"k2"}', {"Authorization": "Bearer k3"})
    )
    assert "k1" not in ours.uri
    assert b"k2" not in ours.body
    assert ours.headers["Authorization"] == "<redacted>"


def test_the_users_persister_stays_inside_ours(tmp_path: Path) -> None:
    class Mine:
        @staticmethod
        def load_cassette(path: str, serializer: Any) -> Any:
            raise NotImplementedError

        @staticmethod
        def save_cassette(path: str, data: Any, serializer: Any) -> None:
            raise NotImplementedError

    config = _merged(tmp_path, persister=Mine)
    assert isinstance(config["persister"], ScopedPersister)
    assert config["persister"].inner is Mine


@pytest.mark.parametrize("name", ["vlmrun_body", "vlmrun_request"])
def test_the_canonical_matchers_can_be_named_in_match_on(tmp_path: Path, name: str) -> None:
    config = _merged(tmp_path, match_on=["method", name])
    assert len(config["match_on"]) == 2


def test_the_users_filters_run_once_per_vlmrun_request_and_as_vcrpy_runs_them_for_others(tmp_path: Path) -> None:
    """vcrpy hands a filtered copy back to the chain; ours recognises its own output (VLM Run's only)."""
    seen: list[str] = []

    def count(request: Request) -> Request:
        seen.append(request.host)
        return request

    chain = _merged(tmp_path, before_record_request=count)["before_record_request"]
    ours = chain(Request("POST", VLMRUN, BODY, {}))
    assert chain(ours) is ours
    theirs = chain(Request("GET", "https://api.github.com/x", None, {}))
    chain(theirs)
    assert seen == ["api.vlm.run", "api.github.com", "api.github.com"]
