"""The seed examples from the VLM Run skills docs, as plain data.

Each example is the keyword arguments a user passes to `AgentSkill(...)` (vlmrun SDK), so
tests and the compatibility matrix can send the same call through every client path.
Source: docs.vlm.run/skills/usage/chat.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from harness.bundles import build_bundle, encode_bundle
from harness.wire import INLINE, effective_version, to_wire_dict

MODEL = "vlmrun-orion-1:auto"
PINNED_VERSION = "20260219-abc123"

INVOICE_SKILL_MD = """\
---
name: invoice-extraction
description: Extract structured data from invoices
---
# Invoice Extraction

Extract invoice_id, date, and total_amount from the provided document.
"""
INVOICE_SCHEMA = (
    '{"type":"object","properties":{"invoice_id":{"type":"string"},"date":{"type":"string"},'
    '"total_amount":{"type":"number"}},"required":["invoice_id","date","total_amount"]}'
)


@functools.cache
def inline_bundle() -> str:
    """The docs' inline bundle (SKILL.md + schema.json), built deterministically."""
    return encode_bundle(build_bundle({"SKILL.md": INVOICE_SKILL_MD, "schema.json": INVOICE_SCHEMA}))


def _messages(text: str) -> list[dict[str, Any]]:
    return [
        {
            "role": "user",
            "content": [
                {"type": "text", "text": text},
                {"type": "file_url", "file_url": {"url": "https://example.com/invoice.pdf"}},
            ],
        }
    ]


@dataclass(frozen=True)
class SeedExample:
    name: str
    skills: tuple[dict[str, Any], ...]
    """`AgentSkill(**kwargs)` for each skill; inline sources as `{"data": ...}`."""
    expected: tuple[str, ...]
    """What the reference server resolves each skill to: `name@version`, or `name@inline`."""
    text: str = "Extract data from this document."

    @property
    def messages(self) -> list[dict[str, Any]]:
        return _messages(self.text)


def seed_examples() -> list[SeedExample]:
    inline = {
        "type": "inline",
        "name": "invoice-extraction",
        "description": "Extract structured data from invoices",
        "source": {"data": inline_bundle()},
    }
    return [
        SeedExample("single", ({"skill_name": "invoice-extraction"},), ("invoice-extraction@latest",)),
        SeedExample(
            "multiple",
            ({"skill_name": "invoice-extraction"}, {"skill_name": "line-item-validation"}),
            ("invoice-extraction@latest", "line-item-validation@latest"),
        ),
        SeedExample("inline", (inline,), ("invoice-extraction@inline",), text="Extract data from this invoice."),
        SeedExample(
            "mixed",
            (inline, {"skill_name": "line-item-validation"}),
            ("invoice-extraction@inline", "line-item-validation@latest"),
        ),
        SeedExample(
            "pinned",
            ({"skill_name": "patient-referral", "version": PINNED_VERSION},),
            (f"patient-referral@{PINNED_VERSION}",),
        ),
    ]


def dict_form(skill: dict[str, Any]) -> dict[str, Any]:
    """What vlmrun's `AgentSkill(**skill).model_dump(exclude_none=True)` sends, without the SDK.

    Every default present, `version` folded into `skill_version` (the SDK never sends
    `version`): the vlmrun dict form, which `harness.wire.to_wire_dict` builds.
    """
    return to_wire_dict(skill)


def object_form(skill: dict[str, Any]) -> dict[str, Any]:
    """What openai-python >= 2.17 sends for an `AgentSkill(**skill)` object: only fields set.

    `version=` is folded into `skill_version` by the SDK's before-validator, so it counts as
    set; inline sources keep only `data` (no `source.type` or `media_type`).
    """
    out = {k: v for k, v in skill.items() if k != "version"}
    if "skill_version" in skill or "version" in skill:
        out["skill_version"] = effective_version(skill)
    return out


def null_form(skill: dict[str, Any]) -> dict[str, Any]:
    """`AgentSkill(**skill).model_dump()`: every field, unset ones as explicit nulls."""
    out: dict[str, Any] = {key: None for key in ("skill_id", "skill_name", "name", "description", "source", "bundle")}
    out.update(dict_form(skill))
    return out


def node_form(skill: dict[str, Any]) -> dict[str, Any]:
    """The Node SDK's `AgentSkill.toJSON()` (snake_case, defaults filled): no `skill_version` inline."""
    out = dict_form(skill)
    if out["type"] == INLINE:
        out.pop("skill_version")
    return out


def legacy_form(skill: dict[str, Any]) -> dict[str, Any]:
    """Deprecated keys: `version` for `skill_version`, `bundle` for `source.data`."""
    out = object_form(skill)
    if "skill_version" in out:
        out["version"] = out.pop("skill_version")
    if "source" in out:
        out["bundle"] = out.pop("source")["data"]
    return out


WIRE_FORMS = {
    "vlmrun-dict": dict_form,
    "openai-object": object_form,
    "explicit-nulls": null_form,
    "node": node_form,
    "legacy-aliases": legacy_form,
}
