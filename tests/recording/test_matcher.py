from __future__ import annotations

import contextlib
import json
from typing import Any

import pytest
from vcr.request import Request

from harness.docs_examples import WIRE_FORMS, seed_examples
from harness.recording import matcher
from harness.recording.matcher import canonical_body, differences, request_key, vlmrun_body, vlmrun_request

URL = "http://127.0.0.1:1234/v1/openai/chat/completions"


def req(body: Any, uri: str = URL) -> Request:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return Request("POST", uri, raw, {"content-type": "application/json"})


def completion(skills: list[Any]) -> dict[str, Any]:
    return {"model": "vlmrun-orion-1:auto", "messages": [{"role": "user", "content": "hi"}], "skills": skills}


@pytest.mark.parametrize("example", seed_examples(), ids=lambda e: e.name)
def test_every_wire_form_matches_the_recorded_dict_form(example: Any) -> None:
    recorded = req(completion([WIRE_FORMS["vlmrun-dict"](s) for s in example.skills]))
    for build in WIRE_FORMS.values():
        vlmrun_body(req(completion([build(s) for s in example.skills])), recorded)  # no AssertionError


def test_a_changed_version_differs_and_the_diff_names_the_path() -> None:
    recorded = req(completion([{"skill_name": "patient-referral", "skill_version": "20260219-abc123"}]))
    live = req(completion([{"skill_name": "patient-referral"}]))
    with pytest.raises(AssertionError, match="canonical bodies differ"):
        vlmrun_body(live, recorded)
    with pytest.raises(AssertionError):
        vlmrun_request(live, recorded)
    assert differences(live, recorded) == ['skills[0].skill_version: recorded "20260219-abc123", sent "latest"']


def test_non_completion_bodies_match_on_sorted_json_only() -> None:
    lookup = "http://x/v1/skills/lookup"
    vlmrun_body(req({"name": "a", "skill_version": "v"}, lookup), req({"skill_version": "v", "name": "a"}, lookup))
    with pytest.raises(AssertionError):
        vlmrun_body(req({"name": "a"}, lookup), req({"name": "b"}, lookup))


def test_empty_and_non_json_bodies() -> None:
    vlmrun_body(Request("GET", "http://x/v1/health", None, {}), Request("GET", "http://x/v1/health", b"", {}))
    with pytest.raises(AssertionError):
        vlmrun_body(req(b"not json"), req(b"other text"))


def test_recorded_keys_are_computed_once(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []
    real = matcher._compute

    def counting(path: str, raw: bytes) -> matcher.CanonicalBody:
        calls.append(path)
        return real(path, raw)

    monkeypatch.setattr(matcher, "_compute", counting)
    matcher._cache.clear()
    recorded = [req(completion([{"skill_name": f"s{i}"}])) for i in range(50)]
    live = req(completion([{"skill_name": "s99"}]))
    for _ in range(3):
        for r in recorded:
            with contextlib.suppress(AssertionError):
                vlmrun_body(live, r)
    assert len(calls) == 51  # each recorded request once, the live body once


def test_differences_are_bounded_and_short() -> None:
    a = req(completion([{"skill_name": f"s{i}"} for i in range(20)]))
    b = req(completion([{"skill_name": f"t{i}"} for i in range(20)]))
    diffs = differences(a, b, limit=3)
    assert len(diffs) == 4
    assert diffs[-1] == "…"
    assert canonical_body(a).key != canonical_body(b).key


def test_request_keys_ignore_host_port_and_query_order() -> None:
    body = completion([{"skill_name": "x"}])
    a = req(body, "http://127.0.0.1:1111/v1/openai/chat/completions?b=2&a=1")
    b = req(body, "https://api.vlm.run/v1/openai/chat/completions?a=1&b=2")
    vlmrun_request(a, b)
    assert request_key(a) == request_key(b)
    with pytest.raises(AssertionError):
        vlmrun_request(a, req(body, "http://x/v1/openai/chat/completions?a=1&b=3"))
    with pytest.raises(AssertionError):
        vlmrun_request(a, Request("PUT", b.uri, b.body, {}))
