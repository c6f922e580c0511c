"""Building blocks shared by the models: the two kinds of object and the JSON-typed scalars.

The models give typed access to bodies that `openapi/vlmrun-agent.yaml` defines; the
description stays the single source of truth and `harness.contract` stays the judge. The
models are kept equal to it (tests/models proves this by generating instances from the
description), which takes three deliberate departures from pydantic's defaults:

- `strict=True`, because the description is JSON-typed: `"stream": 0` or `"1"` for an
  integer is a 422 from the API, so lax coercion would accept what the API refuses;
- integral floats still pass as integers, because JSON Schema's `integer` is "a number
  with a zero fractional part" (`2.0` is valid) while strict pydantic refuses floats
  (they dump as `2`: the same JSON number); `number` keeps ints as ints;
- "absent" and "null" are different: a key the description types without `null` may be
  left out but not sent as null (`Omittable`), and dumps use `exclude_unset` so what was
  validated dumps back to the same JSON (`to_wire`).

Format checks (`uri`) reuse jsonschema-rs, the validator `harness.contract`
uses, so the models and the description agree on them exactly. `format: byte` is
OpenAPI's own format, checked as strict base64 here and in `harness.contract`; what the
decoded bundle must contain is checked in `harness.bundles`.

A body the description in use has accepted (`from_accepted`) is read, not judged again:
its formats are not rechecked, and a `Judged` value the models would refuse (an enum value,
a pattern, a numeric bound) is kept as sent, because the description in use may be a team's,
wider than the packaged one these models mirror (an overlay that adds a toolset). Types and
shapes are still the models': the server acts on them.
"""

from __future__ import annotations

import base64
import binascii
from typing import Annotated, Any, Self, TypeVar

import jsonschema_rs
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    PlainSerializer,
    ValidationError,
    ValidationInfo,
    ValidatorFunctionWrapHandler,
    WrapValidator,
)

T = TypeVar("T")


class WireModel(BaseModel):
    """What every model here is: `to_wire()` gives back the JSON it was validated from."""

    @classmethod
    def from_accepted(cls, body: Any) -> Self:
        """`body`, which the description in use has accepted, as this model: its values are not judged again."""
        return cls.model_validate(body, context={FORMATS_CHECKED: True})

    def to_wire(self) -> dict[str, Any]:
        """The JSON object this model was validated from: only the keys given, by wire name."""
        return self.model_dump(mode="json", exclude_unset=True, by_alias=True)


class OpenModel(WireModel):
    """An object the description leaves open: unknown keys are kept so that dumps round-trip."""

    model_config = ConfigDict(extra="allow", strict=True)


class ClosedModel(WireModel):
    """An object with `additionalProperties: false`: a misspelt key is an error, not ignored."""

    model_config = ConfigDict(extra="forbid", strict=True)


def _integral_float(value: object) -> object:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


JsonInt = Annotated[int, BeforeValidator(_integral_float)]
"""JSON Schema `integer`: an int, or a float with a zero fraction (`2.0`); never a bool or `"2"`."""


JsonNumber = int | float
"""JSON Schema `number`, kept as sent: `1` stays an int, so it dumps as `1`, not `1.0`."""


def _refuse_null(value: object) -> object:
    if value is None:
        raise ValueError("null is not allowed here: leave the key out instead")
    return value


Omittable = Annotated[T | None, BeforeValidator(_refuse_null)]
"""A key that may be left out (then it reads as None) but whose type has no `null`."""


FORMATS_CHECKED = "harness.formats_checked"
"""Validation context key: the description in use accepted this very body, format checks included.

The reference server validates each body against the description first; checking a 70 MB
bundle's base64 a second time would double the cost of every inline request for nothing, and
refusing a value that description allows would refuse what the API accepts.
"""


def _formats_checked(info: ValidationInfo) -> bool:
    return isinstance(info.context, dict) and info.context.get(FORMATS_CHECKED) is True


VALUE_ERRORS = frozenset(
    {
        "literal_error",
        "enum",
        "greater_than",
        "greater_than_equal",
        "less_than",
        "less_than_equal",
        "multiple_of",
        "too_short",
        "too_long",
        "string_too_short",
        "string_too_long",
        "string_pattern_mismatch",
        "value_error",
    }
)
"""pydantic error types about a value, not its type or shape: the description in use judges those."""


def _keep_judged(value: Any, handler: ValidatorFunctionWrapHandler, info: ValidationInfo) -> Any:
    try:
        return handler(value)
    except ValidationError as exc:
        if _formats_checked(info) and _only_values(value, exc):
            return value
        raise


def _only_values(value: Any, exc: ValidationError) -> bool:
    """Only value errors, on a scalar or a list of scalars: an object is always read through its model."""
    items = value if isinstance(value, list) else [value]
    return not any(isinstance(v, dict | list) for v in items) and all(e["type"] in VALUE_ERRORS for e in exc.errors())


def _as_held(value: Any) -> Any:
    return value


Judged = Annotated[T, WrapValidator(_keep_judged), PlainSerializer(_as_held)]
"""A value the description constrains (an enum, a pattern, a bound): refused as the packaged
description would, except in a body the description in use has accepted (`from_accepted`), which
keeps it (and dumps it as held: it is JSON the description accepted)."""


def _check_base64(value: str, info: ValidationInfo) -> str:
    if _formats_checked(info):
        return value
    try:
        base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError(f"Not standard padded base64 without line breaks ({exc})") from None
    return value


Base64Str = Annotated[str, AfterValidator(_check_base64)]
"""OpenAPI `format: byte`: standard base64 (RFC 4648 §4), padded, no whitespace."""

_URI = jsonschema_rs.Draft202012Validator({"format": "uri"}, validate_formats=True)


def _check_uri(value: str, info: ValidationInfo) -> str:
    if not _formats_checked(info) and not _URI.is_valid(value):
        raise ValueError("Not an absolute URI (RFC 3986): it needs a scheme such as https: or data:")
    return value


UriStr = Annotated[str, AfterValidator(_check_uri)]
"""`format: uri`, with jsonschema-rs' semantics (an absolute URI: http(s), data:, …)."""
