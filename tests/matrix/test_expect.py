"""Known failures are rules on what a stack has, not on its name."""

from __future__ import annotations

from typing import Any

import pytest

from harness.matrix.expect import (
    EMPTY,
    LONG_REQUEST_RULES,
    RAISED,
    Facts,
    KnownFailure,
    expectation,
    parse_version,
)

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


@pytest.mark.parametrize(
    ("path", "vlmrun", "known"),
    [
        ("vlmrun-dict", "0.9.2", True),
        ("vlmrun-dict-extra-body", "0.5.8", True),
        ("openai-dict", None, True),
        ("openai-dict", "0.9.3", True),  # plain openai never polls, whatever vlmrun is beside it
        ("vlmrun-dict", "0.9.3", False),  # the first vlmrun after 0.9.2 is expected to poll
    ],
)
def test_long_request_rule(path: str, vlmrun: str | None, known: bool) -> None:
    facts = Facts(versions={"openai": "3.57.0", "vlmrun": vlmrun}, features=MODERN, path=path, skills=REF)
    got = expectation(facts, LONG_REQUEST_RULES)
    assert (got.rule.name if got.rule else None) == ("no-long-request-polling" if known else None)
    if got.rule is not None:
        assert got.rule.matches(None, None, EMPTY)
        assert not got.rule.matches("APIStatusError: 303", None, RAISED)


def test_the_long_request_reason_names_what_follows_the_303() -> None:
    facts = Facts(versions={"openai": "1.109.1"}, features={}, path="openai-dict", skills=REF)
    assert expectation(facts, LONG_REQUEST_RULES).reason == (
        "openai 1.109.1 follows the 303 with a GET (httpx follows redirects) and returns the first 202's "
        "empty body as the result, without an error; poll `Location` until a 200 yourself"
    )
