"""Known failures are rules on what a stack has, not on its name."""

from __future__ import annotations

from typing import Any

import pytest

from harness.matrix.expect import Facts, KnownFailure, expectation, parse_version

MODERN = {"skills_kwarg": True, "dump_has_version": False}
OLD_SDK = {"skills_kwarg": False, "dump_has_version": True}
REF = ({"skill_name": "x"},)
INLINE = ({"type": "inline", "name": "n", "source": {"data": "x"}},)


def _facts(path: str, openai: str = "3.57.0", features: Any = MODERN, skills: Any = REF) -> Facts:
    return Facts(versions={"openai": openai, "vlmrun": "0.9.2"}, features=features, path=path, skills=skills)


@pytest.mark.parametrize(
    ("facts", "rule"),
    [
        (_facts("vlmrun-objects", "1.109.1"), "objects-need-openai-2.17"),
        (_facts("vlmrun-objects", "2.16.0"), "objects-need-openai-2.17"),
        (_facts("vlmrun-objects", "2.17.0"), None),
        (_facts("vlmrun-objects-helper", "1.109.1"), None),
        (_facts("vlmrun-dict", features=OLD_SDK), "no-skills-kwarg"),
        (_facts("vlmrun-objects", "1.109.1", features=OLD_SDK), "no-skills-kwarg"),
        (_facts("vlmrun-helper-extra-body", features=OLD_SDK, skills=INLINE), None),
        (_facts("vlmrun-dict-extra-body", features=OLD_SDK, skills=INLINE), None),
        (_facts("vlmrun-dict-extra-body", features=OLD_SDK, skills=REF), None),
        (_facts("openai-dict", "1.0.0", features={}), None),
    ],
)
def test_rules(facts: Facts, rule: str | None) -> None:
    got = expectation(facts)
    assert (got.rule.name if got.rule else None) == rule
    assert got.works is (rule is None)
    assert bool(got.reason) is (rule is not None)


def test_a_known_failure_must_fail_its_own_way() -> None:
    rule = expectation(_facts("vlmrun-objects", "1.109.1")).rule
    assert rule is not None
    assert rule.matches("TypeError: Object of type AgentSkill is not JSON serializable", None)
    assert not rule.matches("APIConnectionError: Connection error.", None)
    assert not rule.matches(None, 200)
    rejected = KnownFailure("rejected", lambda f: True, lambda f: "", status=422)
    assert rejected.matches(None, 422)
    assert not rejected.matches(None, 200)


def test_parse_version() -> None:
    assert parse_version("2.17.0rc1") == (2, 17, 0)
    assert parse_version("1.109.1") < (2, 17)
    assert parse_version(None) == ()
