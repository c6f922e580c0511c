"""What a skill means on the wire, written once: kinds, defaults, alias folds, where bundles sit.

A skill is `{"type": "skill_reference", "skill_id" | "skill_name", "skill_version"}` or
`{"type": "inline", "name", "description", "source": {"type", "media_type", "data"}}`. A
missing (or null) `type` means a reference; `skill_version` defaults to `latest`; the
deprecated `version` and `bundle` still arrive, and lose to `skill_version` and
`source.data` (the SDKs' rule: vlmrun `AgentSkill`'s before-validator, Node `toJSON`).
Bundles also travel in a skill's create and update bodies, as their top-level `source`
(`POST /v1/skills/create`, `POST /v1/skills/{skill_id}/update`): which slots a body has
depends on the operation, so it is named by the request's path.
Every other module asks here, so a change of the API's rules is one edit.

Standard library only, and no harness imports: the compatibility matrix loads this file by
path inside client environments that do not have the harness installed
(`harness.matrix.probe`), and `harness.skill_dicts` re-exports its public helper.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping, MutableMapping
from types import MappingProxyType
from typing import Any, NamedTuple
from urllib.parse import urlsplit

__all__ = [
    "INLINE",
    "LATEST",
    "REFERENCE",
    "SOURCE_DEFAULTS",
    "BundleSlot",
    "effective_bundle",
    "effective_bundle_path",
    "effective_version",
    "is_inline",
    "is_reference",
    "iter_bundle_slots",
    "map_bundles",
    "skill_kind",
    "to_wire_dict",
    "to_wire_dicts",
]

REFERENCE = "skill_reference"
INLINE = "inline"
LATEST = "latest"
SOURCE_DEFAULTS: Mapping[str, str] = MappingProxyType({"type": "base64", "media_type": "application/zip"})
SOURCE_DATA = ("source", "data")
LEGACY_BUNDLE = ("bundle",)
_ORDER = ("type", "skill_id", "skill_name", "skill_version", "name", "description", "source")
_FOLDED = frozenset({"type", "skill_version", "version", "source", "bundle"})
# The operations whose body holds its bundle at the top (`source.data`), by the end of their
# path (a base URL may add a prefix); every other body holds bundles in its skills.
_SKILL_WRITE = re.compile(r"/skills/(?:create|[^/]+/update)/?$")
_SKILLS_SLOTS, _SOURCE_SLOT = "skills", "source"


# -- one skill ------------------------------------------------------------------------------------


def skill_kind(skill: Mapping[str, Any]) -> Any:
    """The skill's `type`; absent or null means `skill_reference`. Any other value is kept as sent."""
    kind = skill.get("type")
    return REFERENCE if kind is None else kind


def is_inline(skill: Mapping[str, Any]) -> bool:
    return bool(skill_kind(skill) == INLINE)


def is_reference(skill: Mapping[str, Any]) -> bool:
    return bool(skill_kind(skill) == REFERENCE)


def effective_version(skill: Mapping[str, Any]) -> Any:
    """`skill_version`, else the deprecated `version`, else `latest`; a null or empty one is not given."""
    return skill.get("skill_version") or skill.get("version") or LATEST


def effective_bundle_path(skill: Mapping[str, Any]) -> tuple[str, ...]:
    """Where the bundle the server decodes sits: `source.data` when given, else the deprecated `bundle`."""
    source = skill.get("source")
    if isinstance(source, Mapping) and source.get("data") is not None:
        return SOURCE_DATA
    return LEGACY_BUNDLE


def effective_bundle(skill: Mapping[str, Any]) -> Any:
    """The base64 the server decodes (see `effective_bundle_path`), or None when there is none."""
    if effective_bundle_path(skill) == SOURCE_DATA:
        return skill["source"]["data"]
    return skill.get("bundle")


# -- bundles inside a request body ----------------------------------------------------------------


class BundleSlot(NamedTuple):
    """One place a request body holds a bundle's base64: a chat completion's `skills[i].source.data`
    or `skills[i].bundle`, a skill create or update's `source.data`."""

    loc: tuple[str | int, ...]
    data: str
    holder: MutableMapping[str, Any]
    key: str

    def replace(self, value: Any) -> None:
        """Put `value` where the base64 was (the body is changed in place)."""
        self.holder[self.key] = value


def _slots_of(path: str | None) -> str:
    """Which slots a body sent to `path` (a path or URL) has: a skill create or update's `source`,
    else a chat completion's skills (also without a path, and for a body with no skills: none)."""
    if path is not None and _SKILL_WRITE.search(urlsplit(path).path):
        return _SOURCE_SLOT
    return _SKILLS_SLOTS


def iter_bundle_slots(body: Any, path: str | None = None) -> Iterator[BundleSlot]:
    """Every string in a bundle slot of a request body sent to `path`, in order, whatever the skill's type.

    `path` (the request's path or URL) names the operation, which decides the slots: the
    top-level `source` of a skill's create or update; for any other operation (and without a
    path) a chat completion's skills, which bodies without `skills` lack. Both slots of a
    skill are given (the deprecated one too), because storing, showing or eliding a bundle
    must cover whatever was sent, not only what the server would decode.
    """
    slots = _slots_of(path)
    if not isinstance(body, Mapping):
        return
    if slots == _SOURCE_SLOT:
        source = body.get("source")
        if isinstance(source, MutableMapping) and isinstance(source.get("data"), str):
            yield BundleSlot(SOURCE_DATA, source["data"], source, "data")
        return
    skills = body.get("skills")
    for i, skill in enumerate(skills if isinstance(skills, list) else ()):
        if not isinstance(skill, MutableMapping):
            continue
        source = skill.get("source")
        if isinstance(source, MutableMapping) and isinstance(source.get("data"), str):
            yield BundleSlot(("skills", i, *SOURCE_DATA), source["data"], source, "data")
        if isinstance(skill.get("bundle"), str):
            yield BundleSlot(("skills", i, *LEGACY_BUNDLE), skill["bundle"], skill, "bundle")


def map_bundles(body: Any, replace: Callable[[str], Any], path: str | None = None) -> Any:
    """A copy of `body` (sent to `path`, see `iter_bundle_slots`) with each bundle slot's base64
    replaced by `replace(data)`; `body` is left as it was."""
    slots = _slots_of(path)
    if not isinstance(body, Mapping):
        return body
    if slots == _SKILLS_SLOTS and isinstance(body.get("skills"), list):
        out = {**body, "skills": [_copy_skill(s) for s in body["skills"]]}
    elif slots == _SOURCE_SLOT and isinstance(body.get("source"), Mapping):
        out = {**body, "source": dict(body["source"])}
    else:
        return body
    for slot in iter_bundle_slots(out, path):
        slot.replace(replace(slot.data))
    return out


def _copy_skill(skill: Any) -> Any:
    if not isinstance(skill, Mapping):
        return skill
    out = dict(skill)
    if isinstance(out.get("source"), Mapping):
        out["source"] = dict(out["source"])
    return out


# -- the vlmrun dict form -------------------------------------------------------------------------


def to_wire_dicts(skills: Iterable[Any]) -> list[dict[str, Any]]:
    """Each skill (a dict or an `AgentSkill`-like pydantic object, any vlmrun version) as a wire dict."""
    return [to_wire_dict(skill) for skill in skills]


def to_wire_dict(skill: Any) -> dict[str, Any]:
    """One skill in the vlmrun dict form: defaults explicit, deprecated keys folded, nulls dropped.

    Keys this function does not know are kept, so the API (not this helper) decides about them.
    """
    fields = _plain(skill)
    if not isinstance(fields, dict):
        raise TypeError(f"a skill must be a mapping or a pydantic model, got {type(skill).__name__}")
    out: dict[str, Any] = {"type": skill_kind(fields), "skill_version": effective_version(fields)}
    source, bundle = fields.get("source"), effective_bundle(fields)
    if isinstance(source, Mapping) or bundle is not None:
        given = dict(source) if isinstance(source, Mapping) else {}
        if bundle is not None:
            given["data"] = bundle
        out["source"] = {**SOURCE_DEFAULTS, **given}
    elif source is not None:
        out["source"] = source
    out.update((key, value) for key, value in fields.items() if key not in _FOLDED)
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
