"""The API description, loaded once, and validation against its own schemas.

Everything that judges a body (the reference server, replay-time conformance, drift
reports) goes through this module, so the description in `openapi/` stays the single
source of truth. Validation uses jsonschema-rs on the description's component schemas.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import json
import os
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema_rs
import yaml

from harness.errors import DescriptionError
from harness.extras import missing_extra

_YamlLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

DESCRIPTION_FILENAME = "vlmrun-agent.yaml"
COMPLETIONS_PATH = "/v1/openai/chat/completions"

Loc = tuple[str | int, ...]


def default_description_path() -> Path:
    """The packaged description (wheel) or the repository's `openapi/` (source checkout)."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "openapi" / DESCRIPTION_FILENAME, here.parent / "openapi" / DESCRIPTION_FILENAME):
        if candidate.is_file():
            return candidate
    raise DescriptionError(f"API description {DESCRIPTION_FILENAME} not found next to the package ({here})")


@dataclass(frozen=True)
class Violation:
    """One way a body breaks the description, shaped like a FastAPI error item."""

    loc: Loc
    msg: str
    type: str

    @property
    def path(self) -> str:
        """`skills[1].source.data`: the form used in messages."""
        out = ""
        for part in self.loc:
            out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
        return out or "<root>"

    def as_detail(self, prefix: Loc = ("body",)) -> dict[str, Any]:
        return {"loc": [*prefix, *self.loc], "msg": self.msg, "type": self.type}


_KIND_TYPES = {
    "Required": "missing",
    "Type": "type_error",
    "AdditionalProperties": "extra_forbidden",
    "Constant": "literal_error",
    "Enum": "enum",
    "MinLength": "string_too_short",
    "MaxLength": "string_too_long",
    "MinItems": "too_short",
    "MaxItems": "too_long",
    "Minimum": "greater_than_equal",
    "Maximum": "less_than_equal",
    "Format": "format_error",
}


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
_MAX_MESSAGE = 300
_SURROGATE = re.compile("[\ud800-\udfff]")
_UNICODE_MESSAGE = "String holds a lone UTF-16 surrogate (a \\ud800-\\udfff escape): send valid Unicode text"


def _shown(value: Any) -> str:
    return _short(json.dumps(value, ensure_ascii=False, default=str))


def _short(message: str) -> str:
    """jsonschema-rs quotes the offending instance; a 70 MB bundle must not come back in a 422."""
    if len(message) <= _MAX_MESSAGE:
        return message
    half = _MAX_MESSAGE // 2
    return f"{message[:half]} … {message[-half:]}"


def unicode_violations(instance: Any, prefix: Loc = ()) -> list[Violation]:
    """Strings (and keys) holding lone surrogates, which JSON's `\\ud800` escapes produce.

    jsonschema-rs validates Rust strings and raises on them; a server must answer 422
    naming the field (pydantic's `string_unicode`), not crash. Locs are escaped, so the
    error body itself stays encodable.
    """
    out: list[Violation] = []
    stack: list[tuple[Any, Loc]] = [(instance, prefix)]
    while stack:
        node, loc = stack.pop()
        if isinstance(node, str):
            if _SURROGATE.search(node):
                out.append(Violation(loc, _UNICODE_MESSAGE, "string_unicode"))
        elif isinstance(node, dict):
            children: list[tuple[Any, Loc]] = []
            for key, value in node.items():
                if isinstance(key, str) and _SURROGATE.search(key):
                    escaped = key.encode("utf-8", "backslashreplace").decode("utf-8")
                    out.append(Violation((*loc, escaped), _UNICODE_MESSAGE, "string_unicode"))
                else:
                    children.append((value, (*loc, key)))
            stack.extend(reversed(children))  # popped in document order
        elif isinstance(node, list):
            stack.extend((node[i], (*loc, i)) for i in reversed(range(len(node))))
    return out


class Contract:
    """A loaded description: its bytes' hash, its document, and cached validators."""

    def __init__(self, document: dict[str, Any], *, source: str, sha256: str) -> None:
        self.document = document
        self.source = source
        self.sha256 = sha256
        self._validators: dict[str, jsonschema_rs.Validator] = {}

    @classmethod
    def from_path(cls, path: str | os.PathLike[str]) -> Contract:
        p = Path(path)
        try:
            raw = p.read_bytes()
        except OSError as exc:
            raise DescriptionError(f"Cannot read API description {p}: {exc.strerror}") from exc
        return cls.from_bytes(raw, source=str(p))

    @classmethod
    def from_bytes(cls, raw: bytes, *, source: str) -> Contract:
        try:
            document = yaml.load(raw, Loader=_YamlLoader)
        except yaml.YAMLError as exc:
            raise DescriptionError(f"API description {source} is not valid YAML/JSON: {exc}") from exc
        if not isinstance(document, dict) or "paths" not in document or "components" not in document:
            raise DescriptionError(f"API description {source} has no 'paths'/'components': is it an OpenAPI document?")
        return cls(document, source=source, sha256=hashlib.sha256(raw).hexdigest())

    def check(self) -> None:
        """Validate the document itself with openapi-spec-validator (the `gate` extra)."""
        try:
            from openapi_spec_validator import validate
            from openapi_spec_validator.validation.exceptions import OpenAPIValidationError
        except ImportError as exc:
            raise missing_extra("gate", "validating the API description", modules=["openapi_spec_validator"]) from exc

        try:
            validate(self.document)
        except OpenAPIValidationError as exc:
            where = "/".join(str(p) for p in exc.path) or "<root>"
            raise DescriptionError(f"API description {self.source} is invalid at {where}: {exc.message}") from exc

    # -- schemas ---------------------------------------------------------------

    def schema(self, name: str) -> dict[str, Any]:
        try:
            schema: dict[str, Any] = self.document["components"]["schemas"][name]
        except KeyError as exc:
            raise DescriptionError(f"API description {self.source} has no schema {name!r}") from exc
        return schema

    def validator(self, name: str) -> jsonschema_rs.Validator:
        found = self._validators.get(name)
        if found is None:
            self.schema(name)
            root = {"$ref": f"#/components/schemas/{name}", "components": self.document["components"]}
            found = jsonschema_rs.Draft202012Validator(root, validate_formats=True, formats=OPENAPI_FORMATS)
            self._validators[name] = found
        return found

    def is_valid(self, name: str, instance: Any) -> bool:
        return bool(self.validator(name).is_valid(instance))

    def violations(self, name: str, instance: Any) -> list[Violation]:
        """Every violation of schema `name`, with `oneOf` failures narrowed to the branch meant."""
        try:
            return list(self._iter_violations(name, instance, ()))
        except UnicodeEncodeError:  # only when a string must be read: nothing is paid on valid text
            return unicode_violations(instance)

    def _iter_violations(self, name: str, instance: Any, prefix: Loc) -> Iterator[Violation]:
        for err in self.validator(name).iter_errors(instance):
            loc: Loc = (*prefix, *err.instance_path)
            kind = type(err.kind).__name__
            if kind == "OneOfNotValid":
                branch = self._branch_for(err.schema_path, err.instance)
                if branch is not None:
                    yield from self._iter_violations(branch, err.instance, loc)
                    continue
                yield self._no_branch(err.schema_path, err.instance, loc)
                continue
            if kind == "Required":
                missing = getattr(err.kind, "property", None)
                if isinstance(missing, str):
                    yield Violation((*loc, missing), f"Field required: add {missing!r}", "missing")
                    continue
            if kind == "AnyOf":
                needed = self._required_alternatives(err.schema_path)
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
                yield Violation(loc, _short(f"{_shown(err.instance)} is not one of {allowed}"), "enum")
                continue
            if kind == "Format":
                fmt = getattr(err.kind, "format", "?")
                yield Violation(loc, _FORMAT_MESSAGES.get(fmt, f"Value is not a valid {fmt!r}"), "format_error")
                continue
            yield Violation(loc, _short(err.message), _KIND_TYPES.get(kind, kind.lower()))

    def _schema_at(self, schema_path: Sequence[str | int]) -> Any:
        node: Any = {"components": self.document["components"]}
        for part in schema_path:
            if part == "$ref" and isinstance(node, dict) and "$ref" in node:
                node = self._resolve(node["$ref"])
                continue
            node = node[part]
        return node

    def _required_alternatives(self, schema_path: Sequence[str | int]) -> list[str]:
        """For `anyOf: [{required: [a]}, {required: [b]}]`, the names a and b."""
        try:
            node = self._schema_at(schema_path)
        except (KeyError, IndexError, TypeError):
            return []
        names: list[str] = []
        for branch in node if isinstance(node, list) else []:
            required = branch.get("required") if isinstance(branch, dict) else None
            if not (isinstance(required, list) and len(required) == 1):
                return []
            names.append(required[0])
        return names

    def _one_of_refs(self, schema_path: Sequence[str | int]) -> list[str]:
        node = self._schema_at(schema_path)
        refs: list[str] = []
        for branch in node if isinstance(node, list) else []:
            ref = branch.get("$ref", "") if isinstance(branch, dict) else ""
            if ref.startswith("#/components/schemas/"):
                refs.append(ref.rsplit("/", 1)[1])
        return refs

    def _resolve(self, ref: str) -> Any:
        node: Any = self.document
        for part in ref.removeprefix("#/").split("/"):
            node = node[part]
        return node

    def _branch_for(self, schema_path: Sequence[str | int], instance: Any) -> str | None:
        """The `oneOf` branch whose `type` const the instance names (or defaults to)."""
        if not isinstance(instance, dict):
            return None
        try:
            refs = self._one_of_refs(schema_path)
        except (KeyError, IndexError, TypeError):
            return None
        given = instance.get("type")
        for ref in refs:
            type_schema = self.schema(ref).get("properties", {}).get("type", {})
            const = type_schema.get("const")
            if const is None:
                continue
            if given == const or (given is None and type_schema.get("default") == const):
                return ref
        return None

    def _no_branch(self, schema_path: Sequence[str | int], instance: Any, loc: Loc) -> Violation:
        try:
            refs = self._one_of_refs(schema_path)
        except (KeyError, IndexError, TypeError):
            refs = []
        consts = [c for r in refs if (c := self.schema(r).get("properties", {}).get("type", {}).get("const"))]
        if isinstance(instance, dict) and consts:
            allowed = " or ".join(repr(c) for c in consts)
            return Violation(
                (*loc, "type"), f"Unknown type {instance.get('type')!r}: expected {allowed}", "union_tag_invalid"
            )
        return Violation(loc, "Value matches none of the allowed shapes", "union_error")

    # -- operations ------------------------------------------------------------

    def operation(self, method: str, path: str) -> Mapping[str, Any]:
        try:
            op: Mapping[str, Any] = self.document["paths"][path][method.lower()]
        except KeyError as exc:
            raise DescriptionError(f"API description {self.source} has no operation {method.upper()} {path}") from exc
        return op


@functools.cache
def load_contract(path: str | None = None) -> Contract:
    """The description at `path` (default: the packaged one), parsed once per process."""
    return Contract.from_path(path or default_description_path())
