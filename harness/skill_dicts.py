"""Skills as plain JSON dicts that every client stack can send.

Why: the vlmrun docs pass `AgentSkill` objects (`skills=[AgentSkill(...)]`). openai-python
before 2.17 (including 1.109.1, which `pip install vlmrun` gives) serializes the body with
`json.dumps` and fails with `TypeError: Object of type AgentSkill is not JSON serializable`;
2.17 and later send only the fields the caller set. Plain dicts in the vlmrun dict form
(every default explicit) work on every openai and vlmrun version, so send those:

    from harness.skill_dicts import to_wire_dicts
    client.agent.completions.create(model=..., messages=..., skills=to_wire_dicts(skills))
    # vlmrun < 0.5.12 has no `skills=` keyword: use `extra_body={"skills": to_wire_dicts(skills)}`

Standard library only, and no harness imports: the compatibility matrix loads this file by
path inside client environments that do not have the harness installed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["to_wire_dict", "to_wire_dicts"]

REFERENCE = "skill_reference"
INLINE = "inline"
LATEST = "latest"
SOURCE_DEFAULTS = {"type": "base64", "media_type": "application/zip"}
_ORDER = ("type", "skill_id", "skill_name", "skill_version", "name", "description", "source")


def to_wire_dicts(skills: Iterable[Any]) -> list[dict[str, Any]]:
    """Each skill (a dict or an `AgentSkill`-like pydantic object, any vlmrun version) as a wire dict."""
    return [to_wire_dict(skill) for skill in skills]


def to_wire_dict(skill: Any) -> dict[str, Any]:
    """One skill in the vlmrun dict form: defaults explicit, deprecated keys folded, nulls dropped.

    `version` is folded into `skill_version` (`skill_version` wins when both are set) and
    `bundle` into `source.data` (`source.data` wins), as the API resolves them. Keys this
    function does not know are kept, so the API (not this helper) decides about them.
    """
    raw = _plain(skill)
    if not isinstance(raw, dict):
        raise TypeError(f"a skill must be a mapping or a pydantic model, got {type(skill).__name__}")
    fields = {k: v for k, v in raw.items() if v is not None}
    version = fields.pop("version", None)
    bundle = fields.pop("bundle", None)
    out: dict[str, Any] = {"type": fields.pop("type", REFERENCE)}
    out["skill_version"] = fields.pop("skill_version", None) or version or LATEST
    source = fields.pop("source", None)
    if isinstance(source, Mapping) or bundle is not None:
        given = dict(source) if isinstance(source, Mapping) else {}
        if given.get("data") is None and bundle is not None:
            given["data"] = bundle
        out["source"] = {**SOURCE_DEFAULTS, **given}
    elif source is not None:
        out["source"] = source
    out.update(fields)
    return {key: out[key] for key in sorted(out, key=_rank)}


def _rank(key: str) -> tuple[int, str]:
    return (_ORDER.index(key), "") if key in _ORDER else (len(_ORDER), key)


def _plain(value: Any) -> Any:
    """JSON-ready data from dicts, lists and pydantic models (duck-typed, nulls dropped)."""
    dump = getattr(value, "model_dump", None)
    if callable(dump) and not isinstance(value, type):
        return _plain(dump(exclude_none=True, mode="json"))
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items() if v is not None}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value
