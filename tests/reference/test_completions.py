"""`plan_completion` without HTTP: the description judges, the typed request is what gets resolved."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from harness.bundles import DEFAULT_LIMITS
from harness.contract import Contract, load_contract
from harness.docs_examples import PINNED_VERSION, inline_bundle
from harness.reference.completions import Plan, Rejected, plan_completion
from harness.reference.registry import Registry

REGISTRY = Registry.seeded()
MESSAGES = [{"role": "user", "content": "Extract."}]


def _plan(body: dict[str, Any], contract: Contract | None = None) -> Plan:
    return plan_completion(body, contract or load_contract(), REGISTRY, DEFAULT_LIMITS)


def _changed(edit: Any, schema: str = "ChatCompletionRequest") -> Contract:
    document = copy.deepcopy(load_contract().document)
    edit(document["components"]["schemas"][schema]["properties"])
    return Contract(document, source="yours.yaml", sha256="yours")


def test_skills_resolve_from_the_typed_request_with_every_alias_folded() -> None:
    plan = _plan(
        {
            "messages": MESSAGES,
            "stream": True,
            "skills": [
                {"skill_name": "patient-referral", "version": PINNED_VERSION},
                {"type": "inline", "source": None, "bundle": inline_bundle()},
            ],
        }
    )
    assert [label.split(":")[0] for label in plan.labels] == [
        f"patient-referral@{PINNED_VERSION}",
        "invoice-extraction@inline",
    ]
    assert (plan.model, plan.stream) == ("vlmrun-orion-1:auto", True)


def test_a_bad_legacy_bundle_is_named_where_it_was_sent() -> None:
    with pytest.raises(Rejected) as caught:
        _plan({"messages": MESSAGES, "skills": [{"type": "inline", "bundle": "UEsFBgAAAAAAAAAAAAAAAAAAAAAAAA=="}]})
    assert caught.value.status == 422
    assert [d["loc"] for d in caught.value.detail] == [["body", "skills", 0, "bundle"]]


def test_a_value_a_wider_description_allows_is_answered() -> None:
    """The description in use judges values; the typed request holds what it accepted."""
    wider = _changed(lambda props: props["model"].update(pattern="^[a-z0-9.-]+$"))  # a proxy's own model ids
    assert _plan({"model": "gpt-4o", "messages": MESSAGES}, wider).model == "gpt-4o"
    with pytest.raises(Rejected) as caught:
        _plan({"model": "gpt-4o", "messages": MESSAGES})
    assert caught.value.status == 422
    assert [d["loc"] for d in caught.value.detail] == [["body", "model"]]


def test_a_shape_the_models_cannot_hold_is_still_a_422_in_fastapis_shape() -> None:
    """The server cannot act on a skill it cannot read, whatever the description in use allows."""
    wider = _changed(lambda props: props.update(priority={"type": "integer"}), "SkillReference")
    with pytest.raises(Rejected) as caught:
        _plan({"messages": MESSAGES, "skills": [{"skill_name": "x", "priority": 1}]}, wider)
    assert caught.value.status == 422
    assert caught.value.detail == [
        {"loc": ["body", "skills", 0, "skill_reference", "priority"], "msg": "Extra inputs are not permitted",
         "type": "extra_forbidden"}
    ]  # fmt: skip


def test_an_absent_model_is_the_default_of_the_description_in_use() -> None:
    yours = _changed(lambda props: props["model"].update(default="vlmrun-orion-1:fast"))
    assert _plan({"messages": MESSAGES}, yours).model == "vlmrun-orion-1:fast"
    assert _plan({"messages": MESSAGES}).model == "vlmrun-orion-1:auto"


def test_the_answer_key_follows_the_defaults_of_the_description_in_use() -> None:
    """A body and its explicit-defaults twin get the same answer under the description served."""
    yours = _changed(lambda props: props["max_tokens"].update(default=1024))
    implicit = _plan({"messages": MESSAGES}, yours)
    assert implicit.key == _plan({"messages": MESSAGES, "max_tokens": 1024}, yours).key
    assert implicit.key != _plan({"messages": MESSAGES}).key
