"""The named edits `rule_ids.yaml` refers to, each the smallest one that makes a rule fire.

A `Placed` edit changes one schema; the table row's path says where it sits (a body, its
property `x`, the parameter `p`), so one edit serves every subject and direction. An `Edited`
one changes the `api()` document around the schemas: endpoints, parameters, bodies, statuses,
properties.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tests.specdiff._pairs import (
    PARAMETER,
    REQUEST_BODY,
    REQUEST_PROPERTY,
    RESPONSE_BODY,
    RESPONSE_PROPERTY,
    At,
    Doc,
    api,
    operation,
)

STRING: Doc = {"type": "string"}
INTEGER: Doc = {"type": "integer"}
NUMBER: Doc = {"type": "number"}
ARRAY: Doc = {"type": "array", "items": STRING}
OBJECT: Doc = {"type": "object"}
BY_KIND: Doc = {"propertyName": "kind"}


def _with(base: Doc, **keywords: Any) -> Doc:
    return {**base, **keywords}


def _union(kind: str, *branches: Doc) -> Doc:
    return {kind: list(branches)}


@dataclass(frozen=True)
class Placed:
    """One schema before and after, to be put where a row says."""

    old: Any
    new: Any


PLACED: dict[str, Placed] = {
    "type string -> integer": Placed(STRING, INTEGER),
    "type integer -> number": Placed(INTEGER, NUMBER),
    "type number -> integer": Placed(NUMBER, INTEGER),
    "null allowed": Placed(STRING, {"type": ["string", "null"]}),
    "null dropped": Placed({"type": ["string", "null"]}, STRING),
    "enum set": Placed(STRING, _with(STRING, enum=["a"])),
    "enum value b removed": Placed(_with(STRING, enum=["a", "b"]), _with(STRING, enum=["a"])),
    "enum value b added": Placed(_with(STRING, enum=["a"]), _with(STRING, enum=["a", "b"])),
    "enum dropped": Placed(_with(STRING, enum=["a"]), STRING),
    "enum a,b -> pattern admitting both": Placed(_with(STRING, enum=["a", "b"]), _with(STRING, pattern="^[ab]$")),
    "enum a,b -> pattern rejecting b": Placed(_with(STRING, enum=["a", "b"]), _with(STRING, pattern="^a$")),
    "const set": Placed(STRING, _with(STRING, const="a")),
    "const a -> b": Placed(_with(STRING, const="a"), _with(STRING, const="b")),
    "const dropped": Placed(_with(STRING, const="a"), STRING),
    "default set": Placed(STRING, _with(STRING, default="a")),
    "default a -> b": Placed(_with(STRING, default="a"), _with(STRING, default="b")),
    "default dropped": Placed(_with(STRING, default="a"), STRING),
    "pattern set": Placed(STRING, _with(STRING, pattern="^a")),
    "pattern ^a -> ^b": Placed(_with(STRING, pattern="^a"), _with(STRING, pattern="^b")),
    "pattern dropped": Placed(_with(STRING, pattern="^a"), STRING),
    "maxLength set": Placed(STRING, _with(STRING, maxLength=5)),
    "maxLength 9 -> 5": Placed(_with(STRING, maxLength=9), _with(STRING, maxLength=5)),
    "maxLength 5 -> 9": Placed(_with(STRING, maxLength=5), _with(STRING, maxLength=9)),
    "maxLength dropped": Placed(_with(STRING, maxLength=5), STRING),
    "minLength 1 -> 2": Placed(_with(STRING, minLength=1), _with(STRING, minLength=2)),
    "minLength 2 -> 1": Placed(_with(STRING, minLength=2), _with(STRING, minLength=1)),
    "maximum set": Placed(INTEGER, _with(INTEGER, maximum=5)),
    "maximum 9 -> 5": Placed(_with(INTEGER, maximum=9), _with(INTEGER, maximum=5)),
    "maximum 5 -> 9": Placed(_with(INTEGER, maximum=5), _with(INTEGER, maximum=9)),
    "minimum set": Placed(INTEGER, _with(INTEGER, minimum=1)),
    "minimum 1 -> 2": Placed(_with(INTEGER, minimum=1), _with(INTEGER, minimum=2)),
    "minimum 2 -> 1": Placed(_with(INTEGER, minimum=2), _with(INTEGER, minimum=1)),
    "minItems set": Placed(ARRAY, _with(ARRAY, minItems=1)),
    "minItems 1 -> 2": Placed(_with(ARRAY, minItems=1), _with(ARRAY, minItems=2)),
    "minItems 2 -> 1": Placed(_with(ARRAY, minItems=2), _with(ARRAY, minItems=1)),
    "minItems dropped": Placed(_with(ARRAY, minItems=1), ARRAY),
    "maxItems set": Placed(ARRAY, _with(ARRAY, maxItems=5)),
    "maxItems 9 -> 5": Placed(_with(ARRAY, maxItems=9), _with(ARRAY, maxItems=5)),
    "maxItems 5 -> 9": Placed(_with(ARRAY, maxItems=5), _with(ARRAY, maxItems=9)),
    "oneOf branch added": Placed(
        _union("oneOf", STRING, INTEGER), _union("oneOf", STRING, INTEGER, {"type": "boolean"})
    ),
    "oneOf branch removed": Placed(
        _union("oneOf", STRING, INTEGER, {"type": "boolean"}), _union("oneOf", STRING, INTEGER)
    ),
    "anyOf branch added": Placed(
        _union("anyOf", STRING, INTEGER), _union("anyOf", STRING, INTEGER, {"type": "boolean"})
    ),
    "anyOf branch removed": Placed(
        _union("anyOf", STRING, INTEGER, {"type": "boolean"}), _union("anyOf", STRING, INTEGER)
    ),
    "discriminator set": Placed(OBJECT, _with(OBJECT, discriminator=BY_KIND)),
    "discriminator dropped": Placed(_with(OBJECT, discriminator=BY_KIND), OBJECT),
    "discriminator kind -> type": Placed(
        _with(OBJECT, discriminator=BY_KIND), _with(OBJECT, discriminator={"propertyName": "type"})
    ),
    "mapping key added": Placed(
        _with(OBJECT, discriminator=BY_KIND), _with(OBJECT, discriminator={**BY_KIND, "mapping": {"a": "A"}})
    ),
    "mapping key removed": Placed(
        _with(OBJECT, discriminator={**BY_KIND, "mapping": {"a": "A"}}), _with(OBJECT, discriminator=BY_KIND)
    ),
    "mapping key retargeted": Placed(
        _with(OBJECT, discriminator={**BY_KIND, "mapping": {"a": "A"}}),
        _with(OBJECT, discriminator={**BY_KIND, "mapping": {"a": "B"}}),
    ),
    "extra properties forbidden": Placed(OBJECT, _with(OBJECT, additionalProperties=False)),
    "extra properties allowed": Placed(_with(OBJECT, additionalProperties=False), OBJECT),
}

# Where a `Placed` edit goes: the row's path names the place.
PLACES: dict[str, At] = {
    at.path: at for at in (REQUEST_BODY, REQUEST_PROPERTY, PARAMETER, RESPONSE_BODY, RESPONSE_PROPERTY)
}

Edit = Callable[[Doc], object]


@dataclass(frozen=True)
class Edited:
    """`new` applied to `api()` after `old` (which sets the scene, e.g. a deprecated operation)."""

    new: Edit
    old: Edit = lambda doc: None

    def docs(self) -> tuple[Doc, Doc]:
        """`api()` with `old` applied, then that with `new` applied too."""
        before = api()
        self.old(before)
        after = copy.deepcopy(before)
        self.new(after)
        return before, after


def _paths(doc: Doc) -> Doc:
    found: Doc = doc["paths"]
    return found


def _get(doc: Doc) -> None:
    _paths(doc)["/t"]["get"] = {"responses": {"200": {"description": "ok"}}}


def _deprecate(doc: Doc) -> None:
    operation(doc)["deprecated"] = True


def _get_and_deprecated_post(doc: Doc) -> None:
    _get(doc)
    _deprecate(doc)


def _query(name: str, **more: Any) -> Edit:
    return lambda doc: operation(doc)["parameters"].append({"name": name, "in": "query", "schema": STRING, **more})


def _param_p(**keywords: Any) -> Edit:
    return lambda doc: operation(doc)["parameters"][0].update(keywords)


def _under_id(doc: Doc) -> None:
    """`POST /t` moved to `/t/{id}` without declaring `id` (as some descriptions forget to)."""
    _paths(doc)["/t/{id}"] = _paths(doc).pop("/t")


def _declare_id(doc: Doc) -> None:
    _paths(doc)["/t/{id}"]["post"]["parameters"].append(
        {"name": "id", "in": "path", "required": True, "schema": STRING}
    )


def _body(**keywords: Any) -> Edit:
    return lambda doc: operation(doc)["requestBody"].update(keywords)


def _new_body(**keywords: Any) -> Edit:
    return lambda doc: operation(doc).update(requestBody={"content": {"application/json": {"schema": {}}}, **keywords})


def _drop_body(doc: Doc) -> None:
    del operation(doc)["requestBody"]


def _body_content(content: Doc) -> Edit:
    return _body(content=content)


def _status(code: str, present: bool) -> Edit:
    def apply(doc: Doc) -> None:
        if present:
            operation(doc)["responses"][code] = {"description": code}
        else:
            del operation(doc)["responses"][code]

    return apply


def _response_content(content: Doc) -> Edit:
    return lambda doc: operation(doc)["responses"]["200"].update(content=content)


def _body_schema(side: str, schema: Doc) -> Edit:
    """The request body's or the 200 response's JSON schema."""

    def apply(doc: Doc) -> None:
        holder = operation(doc)["requestBody"] if side == "request" else operation(doc)["responses"]["200"]
        holder["content"]["application/json"]["schema"] = schema

    return apply


def _x(side: str, required: bool, **keywords: Any) -> Edit:
    """The body of `side` with the string property `x`, required or not."""
    return _body_schema(
        side, {"type": "object", "properties": {"x": _with(STRING, **keywords)}, "required": ["x"] if required else []}
    )


def _no_x(side: str) -> Edit:
    return _body_schema(side, {"type": "object", "properties": {}})


JSON: Doc = {"application/json": {"schema": {}}}
TEXT: Doc = {"text/plain": {"schema": {}}}

EDITED: dict[str, Edited] = {
    "deprecated path removed": Edited(lambda d: _paths(d).clear(), old=_deprecate),
    "path removed": Edited(lambda d: _paths(d).clear()),
    "deprecated operation removed": Edited(lambda d: _paths(d)["/t"].pop("post"), old=_get_and_deprecated_post),
    "operation removed": Edited(lambda d: _paths(d)["/t"].pop("post"), old=_get),
    "operation added": Edited(_get),
    "operation deprecated": Edited(_deprecate),
    "operation no longer deprecated": Edited(lambda d: operation(d).pop("deprecated"), old=_deprecate),
    "optional query parameter added": Edited(_query("q")),
    "required query parameter added": Edited(_query("q", required=True)),
    "path parameter declared": Edited(_declare_id, old=_under_id),
    "query parameter removed": Edited(lambda d: operation(d)["parameters"].clear()),
    "query parameter required": Edited(_param_p(required=True)),
    "query parameter optional": Edited(_param_p(required=False), old=_param_p(required=True)),
    "required body added": Edited(_new_body(required=True), old=_drop_body),
    "optional body added": Edited(_new_body(), old=_drop_body),
    "body removed": Edited(_drop_body),
    "body required": Edited(_body(required=True)),
    "body optional": Edited(_body(required=False), old=_body(required=True)),
    "body media type removed": Edited(_body_content({})),
    "body media type added": Edited(_body_content({**JSON, **TEXT})),
    "body schema added": Edited(_body_content(JSON), old=_body_content({"application/json": {}})),
    "body schema removed": Edited(_body_content({"application/json": {}})),
    "success status removed": Edited(_status("201", present=False), old=_status("201", present=True)),
    "success status added": Edited(_status("201", present=True)),
    "error status removed": Edited(_status("404", present=False), old=_status("404", present=True)),
    "error status added": Edited(_status("404", present=True)),
    "response media type removed": Edited(_response_content({})),
    "response media type added": Edited(_response_content({**JSON, **TEXT})),
    "response schema removed": Edited(_response_content({"application/json": {}})),
    "response schema added": Edited(_response_content(JSON), old=_response_content({"application/json": {}})),
    "request: required x added": Edited(_x("request", required=True), old=_no_x("request")),
    "request: required x with a default added": Edited(_x("request", True, default="a"), old=_no_x("request")),
    "request: optional x added": Edited(_x("request", required=False), old=_no_x("request")),
    "request: x removed": Edited(_no_x("request"), old=_x("request", required=False)),
    "request: x required": Edited(_x("request", required=True), old=_x("request", required=False)),
    "request: x with a default required": Edited(
        _x("request", True, default="a"), old=_x("request", False, default="a")
    ),
    "request: x optional": Edited(_x("request", required=False), old=_x("request", required=True)),
    "response: required x removed": Edited(_no_x("response"), old=_x("response", required=True)),
    "response: optional x removed": Edited(_no_x("response"), old=_x("response", required=False)),
    "response: x optional": Edited(_x("response", required=False), old=_x("response", required=True)),
    "response: x required": Edited(_x("response", required=True), old=_x("response", required=False)),
    "response: required x added": Edited(_x("response", required=True), old=_no_x("response")),
    "response: optional x added": Edited(_x("response", required=False), old=_no_x("response")),
}


def docs(change: str, path: str) -> tuple[Doc, Doc]:
    """The old and new description for a row of the table."""
    if change in PLACED:
        placed, at = PLACED[change], PLACES[path]
        return at.doc(copy.deepcopy(placed.old)), at.doc(copy.deepcopy(placed.new))
    return EDITED[change].docs()
