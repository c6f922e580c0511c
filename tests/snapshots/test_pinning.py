"""Version pins through every path, the deprecated `version=` alias, and what they resolve to."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import TestClient

from harness.canonical import canonicalize
from harness.docs_examples import MODEL, PINNED_VERSION, SeedExample
from harness.snapshots import canonical_view
from tests.snapshots.support import EXAMPLES, PATHS, reference, resolved, send

__all__ = ["reference"]  # the module-scoped reference-server fixture

LATER = "20260408-9c3a43f5"  # patient-referral's newest revision in the reference registry


def one_skill(spec: dict[str, Any]) -> SeedExample:
    return SeedExample("adhoc", (spec,), ())


def wire_skill(path: str, spec: dict[str, Any]) -> dict[str, Any]:
    skill: dict[str, Any] = send(path, one_skill(spec)).json()["skills"][0]
    return skill


@pytest.mark.parametrize("path", PATHS)
def test_a_pin_survives_every_path(path: str) -> None:
    body = send(path, "pinned").json()
    key = "version" if path == "legacy-aliases" else "skill_version"
    assert body["skills"] == [{**body["skills"][0], key: PINNED_VERSION}]
    assert {"skill_version", "version"} & set(body["skills"][0]) == {key}
    assert canonicalize(body).skills[0]["skill_version"] == PINNED_VERSION


@pytest.mark.parametrize("path", ["vlmrun-dict", "vlmrun-objects"])
def test_deprecated_version_is_folded_into_skill_version_and_never_sent(path: str) -> None:
    skill = wire_skill(path, {"skill_name": "patient-referral", "version": PINNED_VERSION})
    assert skill["skill_version"] == PINNED_VERSION
    assert "version" not in skill


@pytest.mark.parametrize("path", ["vlmrun-dict", "vlmrun-objects"])
def test_skill_version_wins_when_both_are_given(path: str, reference: TestClient) -> None:
    spec = {"skill_name": "patient-referral", "skill_version": LATER, "version": PINNED_VERSION}
    request = send(path, one_skill(spec))
    assert request.json()["skills"][0]["skill_version"] == LATER
    assert resolved(reference, request.body) == [f"patient-referral@{LATER}"]


def test_the_canonical_form_lets_skill_version_win_over_a_raw_version() -> None:
    raw = {"model": MODEL, "messages": [], "skills": [{"skill_name": "x", "skill_version": LATER, "version": "old"}]}
    assert canonical_view(raw)["skills"][0]["skill_version"] == LATER


def test_the_default_version_as_each_path_sends_it(vlmrun_snapshot: Any) -> None:
    """`latest` is explicit in the dict forms and absent from openai>=2.17's object form."""
    sent = {path: wire_skill(path, {"skill_name": "invoice-extraction"}) for path in PATHS}
    assert sent == vlmrun_snapshot
    assert {
        path: canonicalize({"skills": [s]}).skills[0]["skill_version"] for path, s in sent.items()
    } == dict.fromkeys(PATHS, "latest")


def test_what_the_reference_server_resolves_each_example_to(reference: TestClient, vlmrun_snapshot: Any) -> None:
    resolutions = {name: {path: resolved(reference, send(path, name).body) for path in PATHS} for name in EXAMPLES}
    for name, by_path in resolutions.items():
        assert len({tuple(r) for r in by_path.values()}) == 1, f"{name}: paths resolve differently: {by_path}"
    assert resolutions["pinned"]["vlmrun-dict"] == [f"patient-referral@{PINNED_VERSION}"]
    assert {name: by_path["vlmrun-dict"] for name, by_path in resolutions.items()} == vlmrun_snapshot
