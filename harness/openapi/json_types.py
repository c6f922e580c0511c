"""The JSON Schema type of a value parsed from JSON, written once for the diff and the drift proposals."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["json_type"]


def json_type(value: Any) -> str:
    """`null`, `boolean`, `integer`, `number`, `string`, `object` or `array` (bool is not an integer here)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, Mapping):
        return "object"
    if isinstance(value, list | tuple):
        return "array"
    return "string"  # not JSON: shown as text
