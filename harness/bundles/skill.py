"""Parse and validate the three files a skill bundle may describe itself with.

The SDK reads SKILL.md frontmatter with a line regex (a folded ``description: >`` comes
out as ``">"``); here a real YAML parser is used so the harness judges what the YAML
actually says.
"""

from __future__ import annotations

import json
import reprlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, NoReturn

import jsonschema_rs
import yaml

from harness.errors import BundleError
from harness.yaml_load import load_yaml

# Passing a registry disables remote retrieval, so an unknown "$schema" URL fails fast
# instead of making the harness fetch it over the network (the default would).
_NO_FETCH = jsonschema_rs.Registry([])

_EXAMPLE = "---\nname: my-skill\ndescription: What the skill does\n---"

# Values quoted in messages are cut short: a YAML alias bomb (`name: *lol`) in full is gigabytes.
_SHORT = reprlib.Repr()
_SHORT.maxlevel, _SHORT.maxlist, _SHORT.maxdict, _SHORT.maxstring, _SHORT.maxother = 2, 4, 4, 60, 60


@dataclass(frozen=True)
class SkillMd:
    """A bundle's SKILL.md split into the two required fields, the whole frontmatter and the body.

    Not the API's skill object (`harness.models.SkillInfo`): this is what the file says.
    """

    name: str
    description: str
    frontmatter: dict[str, Any]
    body: str


def _text(data: str | bytes, entry: str) -> str:
    if isinstance(data, str):
        return data
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BundleError(
            f"{entry} is not UTF-8 (byte {exc.start}): save it as UTF-8",
            code="not_utf8",
            entry=entry,
        ) from None


def _yaml_error(label: str, entry: str, exc: yaml.YAMLError, text: str, line_offset: int) -> NoReturn:
    lines = text.split("\n")

    def at(mark: Any) -> str:
        source = lines[mark.line].strip() if mark.line < len(lines) else ""
        shown = f" ({source!r})" if source else ""
        return f" at line {mark.line + 1 + line_offset}, column {mark.column + 1}{shown}"

    problem = getattr(exc, "problem", None) or str(exc)
    mark = getattr(exc, "problem_mark", None)
    where = at(mark) if mark is not None else ""
    context, context_mark = getattr(exc, "context", None), getattr(exc, "context_mark", None)
    if context and context_mark is not None and mark is not None and context_mark.line != mark.line:
        problem += f" ({context}{at(context_mark)})"
    raise BundleError(
        f"{label} is not valid YAML{where}: {problem}; quote values that contain ': ' or "
        "start with a special character",
        code="invalid_yaml",
        entry=entry,
    ) from None


def missing_skill_md_error(paths: Iterable[str]) -> BundleError:
    """Explain where SKILL.md went: zipping the folder instead of its contents is the usual slip."""
    files = list(paths)
    nested = [p for p in files if p.rsplit("/", 1)[-1] == "SKILL.md"]
    if nested:
        return BundleError(
            f"SKILL.md must be at the zip root, found {nested[0]!r}: zip the contents of "
            "the skill folder, not the folder itself",
            code="missing_skill_md",
            entry=nested[0],
        )
    other_case = [p for p in files if p.lower() == "skill.md"]
    hint = f" (found {other_case[0]!r}; the name is case-sensitive)" if other_case else ""
    return BundleError(f"bundle has no SKILL.md at the zip root{hint}", code="missing_skill_md")


def split_frontmatter(text: str) -> tuple[str, str]:
    """Return (frontmatter YAML, body); the opening ``---`` must be the very first line."""
    if text.startswith("\ufeff"):
        raise BundleError(
            "SKILL.md starts with a byte-order mark: save it as UTF-8 without BOM so '---' is at byte 0",
            code="no_frontmatter",
            entry="SKILL.md",
        )
    lines = text.split("\n")
    if lines[0].rstrip() != "---":
        raise BundleError(
            f"SKILL.md must start with YAML frontmatter at byte 0, e.g.\n{_EXAMPLE}",
            code="no_frontmatter",
            entry="SKILL.md",
        )
    for i in range(1, len(lines)):
        if lines[i].rstrip() == "---":
            return "\n".join(lines[1:i]), "\n".join(lines[i + 1 :])
    raise BundleError(
        "SKILL.md frontmatter is never closed: add a '---' line after the name/description block",
        code="no_frontmatter",
        entry="SKILL.md",
    )


def parse_skill_md(text: str | bytes) -> SkillMd:
    """Parse SKILL.md; ``name`` and ``description`` must be non-empty strings."""
    yaml_text, body = split_frontmatter(_text(text, "SKILL.md"))
    try:
        meta = load_yaml(yaml_text)
    except yaml.YAMLError as exc:
        _yaml_error("SKILL.md frontmatter", "SKILL.md", exc, yaml_text, line_offset=1)
    if meta is None:
        meta = {}
    if not isinstance(meta, dict):
        raise BundleError(
            f"SKILL.md frontmatter is a {type(meta).__name__}, not a mapping: write "
            f"`key: value` lines, e.g.\n{_EXAMPLE}",
            code="frontmatter_not_mapping",
            entry="SKILL.md",
        )
    name = _required(meta, "name", "my-skill", code="missing_name")
    description = _required(meta, "description", "...", code="missing_description")
    return SkillMd(name=name, description=description, frontmatter=meta, body=body)


def _required(meta: dict[str, Any], key: str, example: str, *, code: str) -> str:
    value = meta.get(key)
    if isinstance(value, str) and value.strip():
        return value.strip()
    shown = _SHORT.repr(value)
    problem = f"has no {key!r}" if value is None else f"has a {key!r} that is not a non-empty string ({shown})"
    raise BundleError(
        f"SKILL.md frontmatter {problem}: add `{key}: {example}` between the --- lines",
        code=code,
        entry="SKILL.md",
    )


def _reject_constant(token: str) -> NoReturn:
    raise ValueError(f"{token} is not valid JSON")


def parse_schema_json(data: str | bytes) -> dict[str, Any]:
    """Parse schema.json and check it against its meta-schema (docs use draft-07).

    Remote ``$schema`` URLs are never fetched: unknown ones are rejected.
    """
    entry = "schema.json"
    try:
        schema = json.loads(_text(data, entry), parse_constant=_reject_constant)
    except ValueError as exc:
        raise BundleError(f"schema.json is not valid JSON: {exc}", code="invalid_json", entry=entry) from None
    if not isinstance(schema, dict):
        raise BundleError(
            f"schema.json must hold a JSON object, not {type(schema).__name__}",
            code="invalid_schema",
            entry=entry,
        )
    try:
        jsonschema_rs.meta.validate(schema, registry=_NO_FETCH)
    except jsonschema_rs.ValidationError as exc:
        path = "/".join(str(p) for p in exc.instance_path) or "(root)"
        raise BundleError(
            f"schema.json is not a valid JSON Schema at {path}: {exc.message}",
            code="invalid_schema",
            entry=entry,
        ) from None
    except jsonschema_rs.ReferencingError:
        raise BundleError(
            f"schema.json has an unknown $schema {schema.get('$schema')!r}: use "
            "'http://json-schema.org/draft-07/schema#' or drop the key",
            code="invalid_schema",
            entry=entry,
        ) from None
    except ValueError as exc:
        raise BundleError(
            f"schema.json cannot be checked as a JSON Schema: {exc}",
            code="invalid_schema",
            entry=entry,
        ) from None
    return schema


def parse_vlmrun_yaml(data: str | bytes) -> dict[str, Any]:
    """Parse vlmrun.yaml as a mapping without enforcing its keys.

    The docs list ``apiVersion`` (``vlm.run/v1alpha``), ``model``, ``toolsets`` and
    ``graph`` (Mermaid ``stateDiagram-v2``) as required and ``metadata`` and ``plan`` as
    optional, but the server's enforcement is unknown, so only the shape is checked.
    """
    entry = "vlmrun.yaml"
    text = _text(data, entry)
    try:
        config = load_yaml(text)
    except yaml.YAMLError as exc:
        _yaml_error(entry, entry, exc, text, line_offset=0)
    if not isinstance(config, dict):
        kind = "empty" if config is None else f"a {type(config).__name__}"
        raise BundleError(
            f"vlmrun.yaml is {kind}, not a mapping: write `apiVersion: vlm.run/v1alpha`, "
            "`model: ...` and so on as top-level keys",
            code="config_not_mapping",
            entry=entry,
        )
    return config
