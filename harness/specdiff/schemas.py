"""One view of a schema whatever way it is written, so the checks compare meaning, not syntax.

OpenAPI 3.1 says "nullable" three ways (`type: [X, "null"]`, a `{type: "null"}` branch of a
oneOf/anyOf, 3.0's `nullable: true`) and a plain `$ref` wrapped in `oneOf: [X, null]` is
still X. `view()` folds those together: `allOf` flattened, `$ref` siblings merged, null
branches turned into `nullable`, a single remaining branch unwrapped.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from harness.openapi.json_types import json_type
from harness.openapi.pointer import ref_chain, ref_name

MAX_ALLOF_DEPTH = 16
ANNOTATIONS = ("default", "description", "deprecated", "title", "examples", "example", "readOnly", "writeOnly")
_STRUCTURE = (
    "type",
    "properties",
    "items",
    "enum",
    "const",
    "additionalProperties",
    "pattern",
    "format",
    "maxLength",
    "minLength",
    "maximum",
    "minimum",
    "minItems",
    "maxItems",
)


class Resolver:
    """Follows local `$ref`s in one document (load.py has bundled the external ones)."""

    def __init__(self, document: Mapping[str, Any]) -> None:
        self.document = document

    def deref(self, node: Any) -> tuple[Any, str | None]:
        """The node a `$ref` chain ends at, with the siblings of each `$ref` laid over it
        (3.1 allows `description`/`default` next to `$ref`), and the last `$ref` followed.
        A chain that loops is a `RefError` (a `DescriptionError`)."""
        target, holders = ref_chain(self.document, node)
        if isinstance(target, bool):
            target = {} if target else {"not": {}}
        siblings: dict[str, Any] = {}
        for holder in reversed(holders):  # the outermost `$ref`'s siblings win
            siblings.update((k, v) for k, v in holder.items() if k != "$ref")
        if siblings and isinstance(target, Mapping):
            target = {**target, **siblings}
        return target, (holders[-1]["$ref"] if holders else None)


def canonical(value: Any) -> str:
    """A hashable, order-free spelling of a JSON value (enum members, defaults)."""
    return json.dumps(value, sort_keys=True, default=str)


@dataclass
class View:
    raw: dict[str, Any]
    ref: str | None
    types: frozenset[str] | None  # without "null"; None: any type
    nullable: bool  # null explicitly allowed
    typed: bool  # the schema says something about types (type/enum/const/null branch)
    one_of: list[Any] = field(default_factory=list)  # non-null branches, unresolved
    any_of: list[Any] = field(default_factory=list)

    @property
    def structural(self) -> bool:
        """Has constraints of its own besides oneOf/anyOf (then branches are extra rules)."""
        return any(k in self.raw for k in _STRUCTURE)

    @property
    def alternatives(self) -> bool:
        """A pure union: the branches are the whole story."""
        return bool(self.one_of or self.any_of) and not self.structural

    @property
    def name(self) -> str | None:
        return ref_name(self.ref)


def view(node: Any, resolver: Resolver) -> View:
    raw, ref = resolver.deref(node)
    # The diff is not a validator: a schema that is not a mapping (absent, malformed)
    # constrains nothing, and comparing it as `{}` still reports what changed around it.
    raw = _flatten_all_of(dict(raw) if isinstance(raw, Mapping) else {}, resolver, 0)
    nullable = False
    branches: dict[str, list[Any]] = {}
    for kind in ("oneOf", "anyOf"):
        kept = []
        for branch in raw.get(kind) or []:
            if _is_null_only(resolver.deref(branch)[0]):
                nullable = True
            else:
                kept.append(branch)
        branches[kind] = kept
    has_null_branch = nullable
    type_kw = raw.get("type")
    if isinstance(type_kw, str):
        type_list = [type_kw]
    else:
        type_list = [t for t in type_kw if isinstance(t, str)] if isinstance(type_kw, list) else []
    nullable = nullable or "null" in type_list or raw.get("nullable") is True
    if None in (raw.get("enum") or []) or ("const" in raw and raw["const"] is None):
        nullable = True
    types = frozenset(t for t in type_list if t != "null") if "type" in raw else _value_types(raw)
    one_of, any_of = branches["oneOf"], branches["anyOf"]
    if not any(k in raw for k in _STRUCTURE) and len(one_of) + len(any_of) == 1:
        inner = view((one_of or any_of)[0], resolver)  # `oneOf: [X, null]` is X, nullable
        inner.raw = {**inner.raw, **{k: raw[k] for k in ANNOTATIONS if k in raw}}
        inner.nullable = inner.nullable or nullable
        inner.typed = inner.typed or has_null_branch
        inner.ref = inner.ref or ref
        return inner
    typed = "type" in raw or "enum" in raw or "const" in raw or has_null_branch
    return View(raw, ref, types, nullable, typed, one_of, any_of)


def _value_types(raw: Mapping[str, Any]) -> frozenset[str] | None:
    """Without `type`, a const or enum still fixes the type: `{const: text}` is a string."""
    values = [raw["const"]] if "const" in raw else raw.get("enum")
    if not isinstance(values, list):
        return None
    return frozenset(json_type(v) for v in values if v is not None)


def _is_null_only(node: Any) -> bool:
    if not isinstance(node, Mapping):
        return False
    type_kw = node.get("type")
    if type_kw == "null" or type_kw == ["null"]:
        return True
    if "const" in node and node["const"] is None:
        return True
    return node.get("enum") == [None]


def _flatten_all_of(raw: dict[str, Any], resolver: Resolver, depth: int) -> dict[str, Any]:
    """Merge `allOf` branches into one schema: what they require together (oasdiff's
    `--flatten-allof`), so a property moved between branches is not a removal."""
    parts = raw.pop("allOf", None)
    if not parts or depth > MAX_ALLOF_DEPTH:
        return raw
    merged: dict[str, Any] = {}
    for part in parts:
        branch, _ = resolver.deref(part)
        if not isinstance(branch, Mapping):
            continue
        branch = _flatten_all_of(dict(branch), resolver, depth + 1)
        _merge(merged, branch, override=False)
    _merge(merged, raw, override=True)
    return merged


def enum_values(v: View) -> dict[str, Any] | None:
    """Non-null enum members by canonical spelling, or None without an enum."""
    if "enum" not in v.raw or not isinstance(v.raw["enum"], list):
        return None
    return {canonical(x): x for x in v.raw["enum"] if x is not None}


def type_label(types: frozenset[str] | None, fmt: Any) -> str:
    names = "|".join(sorted(types)) if types is not None else "any"
    return f"{names}/{fmt}" if fmt else names


def widens(old: frozenset[str] | None, new: frozenset[str] | None) -> bool:
    """Every value of an `old` type is still of a `new` type (integer is a number)."""
    if new is None:
        return True
    if old is None:
        return False
    return all(t in new or (t == "integer" and "number" in new) for t in old)


def branch_keys(v: View, discriminator: Mapping[str, Any] | None, mapping_by_ref: Mapping[str, str]) -> list[Any]:
    """Keys that identify a oneOf/anyOf branch across versions, best first: the same schema,
    discriminator value, the values of its `const` properties, its `$ref` name, its own
    const, its types."""
    keys: list[Any] = [("same", canonical(v.raw))]
    props = v.raw.get("properties") or {}
    if discriminator and isinstance(discriminator.get("propertyName"), str):
        mapped = mapping_by_ref.get(v.ref or "") or mapping_by_ref.get(v.name or "")
        prop = props.get(discriminator["propertyName"])
        const = _const_of(prop)
        keys.append(("disc", mapped or const) if (mapped or const) else None)
    else:
        keys.append(None)
    consts = sorted((name, canonical(_const_of(p))) for name, p in props.items() if _const_of(p) is not None)
    keys.append(("consts", tuple(consts)) if consts else None)
    keys.append(("ref", v.name) if v.name else None)
    keys.append(("const", canonical(v.raw["const"])) if "const" in v.raw else None)
    keys.append(("types", type_label(v.types, v.raw.get("format"))) if v.types is not None else None)
    return keys


def _const_of(prop: Any) -> Any:
    if not isinstance(prop, Mapping):
        return None
    if "const" in prop:
        return prop["const"]
    enum = prop.get("enum")
    return enum[0] if isinstance(enum, list) and len(enum) == 1 else None


def branch_label(v: View, position: int) -> str:
    """How a branch is named in messages: `SkillReference`, `type=inline`, `string`, `#2`."""
    if v.name:
        return v.name
    for key in branch_keys(v, None, {})[2:]:
        if key is None:
            continue
        if key[0] == "consts":
            return ",".join(f"{n}={_bare(c)}" for n, c in key[1])
        return f"const={_bare(key[1])}" if key[0] == "const" else str(key[1])
    return f"#{position}"


def _bare(spelled: str) -> str:
    value = json.loads(spelled)
    return value if isinstance(value, str) else spelled


def _merge(merged: dict[str, Any], schema: Mapping[str, Any], *, override: bool) -> None:
    """Fold one `allOf` part in; `properties`/`required` of the wrong shape count as absent."""
    for key, value in schema.items():
        if key == "properties":
            if isinstance(value, Mapping):
                merged["properties"] = {**merged.get("properties", {}), **value}
        elif key == "required":
            if isinstance(value, list):
                names = (v for v in value if isinstance(v, str))
                merged["required"] = sorted({*merged.get("required", []), *names})
        elif override:
            merged[key] = value
        else:
            merged.setdefault(key, value)
