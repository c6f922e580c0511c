"""The description's schemas as validators, each built once, and their errors as `Violation`s.

jsonschema-rs validates; what it reports is turned into what a person acts on: a failed
`oneOf` narrowed to the branch the value's `type` names, `anyOf: [{required: [a]},
{required: [b]}]` as "provide at least one of", an enum with every allowed value. One
cache serves component schemas and inline ones (parameters, events, event data).
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any
from urllib.parse import unquote

import jsonschema_rs

from harness.caches import LockedLRU
from harness.errors import DescriptionError
from harness.openapi.pointer import RefError, deref, escape, resolve_ref, unescape
from harness.openapi.violations import Loc, Violation, short, shown, unicode_violations

COMPONENT_SCHEMAS = "#/components/schemas/"
_CACHE_SIZE = 1024  # distinct schemas of one description: far fewer in practice


def _is_base64(value: str) -> bool:
    """OpenAPI's `format: byte`: standard, padded base64 with no whitespace (RFC 4648 §4)."""
    if len(value) % 4:
        return False
    try:
        base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return False
    return True


# jsonschema-rs knows the JSON Schema formats; `byte` is OpenAPI's own and must be added.
OPENAPI_FORMATS = {"byte": _is_base64}
_FORMAT_MESSAGES = {
    "byte": "Not valid base64: send standard padded base64 (A-Z a-z 0-9 + /, '=' padding) with no whitespace",
    "uri": "Not a valid URI: include a scheme, e.g. https://… or data:…",
}
_KIND_TYPES = {
    "Required": "missing",
    "Type": "type_error",
    "AdditionalProperties": "extra_forbidden",
    "Constant": "literal_error",
    "Enum": "enum",
    "MinLength": "string_too_short",
    "MaxLength": "string_too_long",
    "Pattern": "string_pattern_mismatch",
    "MinItems": "too_short",
    "MaxItems": "too_long",
    "Minimum": "greater_than_equal",
    "Maximum": "less_than_equal",
    "Format": "format_error",
}


@functools.lru_cache(maxsize=256)
def _pattern_validator(pattern: str) -> jsonschema_rs.Validator | None:
    try:
        return jsonschema_rs.Draft202012Validator({"pattern": pattern})
    except (jsonschema_rs.ValidationError, ValueError):
        return None


def pattern_matcher(pattern: Any) -> Callable[[Any], bool] | None:
    """Whether a value passes `pattern` as requests are judged (jsonschema-rs: ECMA-262 regex,
    unanchored search, non-strings pass); None when `pattern` is no regex it can run."""
    found = _pattern_validator(pattern) if isinstance(pattern, str) else None
    return None if found is None else found.is_valid


def component_ref(name: str) -> dict[str, str]:
    return {"$ref": COMPONENT_SCHEMAS + escape(name)}


def component_name(schema: Any) -> str | None:
    """`X` for a schema that is only `{$ref: "#/components/schemas/X"}`."""
    ref = schema.get("$ref") if isinstance(schema, Mapping) and len(schema) == 1 else None
    if not (isinstance(ref, str) and ref.startswith(COMPONENT_SCHEMAS)):
        return None
    name = ref.removeprefix(COMPONENT_SCHEMAS)
    return None if "/" in name else unescape(unquote(name))


class Schemas:
    """A description's document, its references followed, its schemas validated."""

    def __init__(self, document: dict[str, Any], *, source: str) -> None:
        self.document = document
        self.source = source
        self._validators: LockedLRU[str, jsonschema_rs.Validator] = LockedLRU(_CACHE_SIZE)

    # -- references ------------------------------------------------------------

    def resolve(self, ref: str) -> Any:
        """The node a local `$ref` names; a `DescriptionError` naming this description if none."""
        try:
            return resolve_ref(self.document, ref)
        except RefError as exc:
            raise RefError(f"API description {self.source}: {exc}") from None

    def deref(self, node: Any) -> Any:
        """`node` with its `$ref` chain followed (responses, parameters, request bodies, schemas)."""
        try:
            return deref(self.document, node)
        except RefError as exc:
            raise RefError(f"API description {self.source}: {exc}") from None

    # -- schemas ---------------------------------------------------------------

    def schema(self, name: str) -> dict[str, Any]:
        try:
            schema: dict[str, Any] = self.document["components"]["schemas"][name]
        except KeyError as exc:
            raise DescriptionError(f"API description {self.source} has no schema {name!r}") from exc
        return schema

    def validator(self, name: str) -> jsonschema_rs.Validator:
        """The validator of component schema `name`."""
        self.schema(name)
        return self.validator_for(component_ref(name))

    def validator_for(self, schema: Mapping[str, Any]) -> jsonschema_rs.Validator:
        """A validator for any schema of the description (its components in reach of `$ref`)."""
        key = json.dumps(schema, sort_keys=True, default=str)
        found = self._validators.get(key)
        if found is None:
            found = jsonschema_rs.Draft202012Validator(
                self._root(schema), validate_formats=True, formats=OPENAPI_FORMATS
            )
            self._validators.put(key, found)
        return found

    def _root(self, schema: Mapping[str, Any]) -> dict[str, Any]:
        return {**schema, "components": self.document.get("components", {})}

    def is_valid(self, name: str, instance: Any) -> bool:
        return bool(self.validator(name).is_valid(instance))

    def violations(self, name: str, instance: Any) -> list[Violation]:
        """Every violation of component schema `name`, with `oneOf` failures narrowed to the branch meant."""
        self.schema(name)
        return self.schema_violations(component_ref(name), instance)

    def schema_violations(self, schema: Mapping[str, Any], instance: Any) -> list[Violation]:
        """Every violation of any schema, worded like `violations`."""
        try:
            return list(self._iter_violations(schema, instance, ()))
        except UnicodeEncodeError:  # only when a string must be read: nothing is paid on valid text
            return unicode_violations(instance)

    def _iter_violations(self, schema: Mapping[str, Any], instance: Any, prefix: Loc) -> Iterator[Violation]:
        for err in self.validator_for(schema).iter_errors(instance):
            loc: Loc = (*prefix, *err.instance_path)
            kind = type(err.kind).__name__
            if kind == "OneOfNotValid":
                branch = self._branch_for(schema, err.schema_path, err.instance)
                if branch is not None:
                    yield from self._iter_violations(component_ref(branch), err.instance, loc)
                    continue
                yield self._no_branch(schema, err.schema_path, err.instance, loc)
                continue
            if kind == "Required":
                missing = getattr(err.kind, "property", None)
                if isinstance(missing, str):
                    yield Violation((*loc, missing), f"Field required: add {missing!r}", "missing")
                    continue
            if kind == "AnyOf":
                needed = self._required_alternatives(schema, err.schema_path)
                if needed:
                    names = " or ".join(repr(n) for n in needed)
                    yield Violation(loc, f"Provide at least one of {names}", "missing")
                    continue
            if kind == "AdditionalProperties":
                for extra in getattr(err.kind, "unexpected", []) or []:
                    yield Violation((*loc, extra), f"Unknown field {extra!r} is not allowed here", "extra_forbidden")
                continue
            if kind == "Enum" and isinstance(options := getattr(err.kind, "options", None), list):
                # jsonschema-rs names two values and "N other candidates"; a person needs them all.
                allowed = ", ".join(json.dumps(o, ensure_ascii=False) for o in options)
                message = short(f"{shown(err.instance)} is not one of {allowed}")
                yield Violation(loc, message, "enum", input=err.instance, allowed=tuple(options))
                continue
            if kind == "Format":
                fmt = getattr(err.kind, "format", "?")
                yield Violation(loc, _FORMAT_MESSAGES.get(fmt, f"Value is not a valid {fmt!r}"), "format_error")
                continue
            yield Violation(loc, short(err.message), _KIND_TYPES.get(kind, kind.lower()))

    def _schema_at(self, schema: Mapping[str, Any], schema_path: Sequence[str | int]) -> Any:
        node: Any = self._root(schema)
        for part in schema_path:
            if part == "$ref" and isinstance(node, dict) and "$ref" in node:
                node = self.resolve(node["$ref"])
                continue
            node = node[part]
        return node

    def _required_alternatives(self, schema: Mapping[str, Any], schema_path: Sequence[str | int]) -> list[str]:
        """For `anyOf: [{required: [a]}, {required: [b]}]`, the names a and b."""
        try:
            node = self._schema_at(schema, schema_path)
        except (KeyError, IndexError, TypeError, RefError):
            return []
        names: list[str] = []
        for branch in node if isinstance(node, list) else []:
            required = branch.get("required") if isinstance(branch, dict) else None
            if not (isinstance(required, list) and len(required) == 1):
                return []
            names.append(required[0])
        return names

    def _one_of_components(self, schema: Mapping[str, Any], schema_path: Sequence[str | int]) -> list[str]:
        try:
            node = self._schema_at(schema, schema_path)
        except (KeyError, IndexError, TypeError, RefError):
            return []
        names = [component_name(branch) for branch in (node if isinstance(node, list) else [])]
        known = self.document.get("components", {}).get("schemas", {})
        return [n for n in names if n is not None and n in known]

    def _type_const(self, name: str) -> tuple[Any, Any]:
        """The branch's `type` property: its const and its default."""
        type_schema = self.deref(self.schema(name).get("properties", {}).get("type", {}))
        return (type_schema.get("const"), type_schema.get("default")) if isinstance(type_schema, dict) else (None, None)

    def _branch_for(self, schema: Mapping[str, Any], schema_path: Sequence[str | int], instance: Any) -> str | None:
        """The `oneOf` branch whose `type` const the instance names (or defaults to)."""
        if not isinstance(instance, dict):
            return None
        given = instance.get("type")
        for name in self._one_of_components(schema, schema_path):
            const, default = self._type_const(name)
            if const is not None and (given == const or (given is None and default == const)):
                return name
        return None

    def _no_branch(
        self, schema: Mapping[str, Any], schema_path: Sequence[str | int], instance: Any, loc: Loc
    ) -> Violation:
        names = self._one_of_components(schema, schema_path)
        consts = [c for n in names if (c := self._type_const(n)[0])]
        if isinstance(instance, dict) and consts:
            allowed = " or ".join(repr(c) for c in consts)
            return Violation(
                (*loc, "type"), f"Unknown type {instance.get('type')!r}: expected {allowed}", "union_tag_invalid"
            )
        return Violation(loc, "Value matches none of the allowed shapes", "union_error")
