"""Type-only schemas inferred from recorded JSON values, merged across every value seen.

An overlay that `harness verify` proposes must describe what traffic showed and claim
nothing more: types, and null where null was seen; never `required`, formats, bounds or
enums, which one recording cannot tell. Integers seen beside non-integral numbers make a
`number`. Schemas use OpenAPI 3.1's type lists (`type: [string, "null"]`), the JSON Schema
the harness validates with.
"""

from __future__ import annotations

from typing import Any

from harness.openapi.json_types import json_type

_MAX_DEPTH = 32  # deeper values count by their type only
_ORDER = ("object", "array", "string", "number", "integer", "boolean", "null")


class Shape:
    """The types seen at one place of recorded JSON, and the shapes of what they hold."""

    def __init__(self) -> None:
        self.types: set[str] = set()
        self.properties: dict[str, Shape] = {}
        self.items: Shape | None = None

    def observe(self, value: Any, depth: int = 0) -> Shape:
        kind = json_type(value)
        self.types.add(kind)
        if depth >= _MAX_DEPTH:
            return self
        if kind == "object":
            for name, sub in value.items():
                self.properties.setdefault(str(name), Shape()).observe(sub, depth + 1)
        elif kind == "array":
            for sub in value:
                self.item_shape().observe(sub, depth + 1)
        return self

    def item_shape(self) -> Shape:
        if self.items is None:
            self.items = Shape()
        return self.items

    def merge(self, other: Shape) -> Shape:
        self.types |= other.types
        for name, sub in other.properties.items():
            self.properties.setdefault(name, Shape()).merge(sub)
        if other.items is not None:
            self.item_shape().merge(other.items)
        return self

    def schema(self) -> dict[str, Any]:
        """`{type: …, properties: …, items: …}`, properties sorted by name; `{}` when nothing was seen."""
        types = set(self.types)
        if {"integer", "number"} <= types:
            types.discard("integer")
        ordered = [t for t in _ORDER if t in types]
        out: dict[str, Any] = {}
        if ordered:
            out["type"] = ordered[0] if len(ordered) == 1 else ordered
        if self.properties:
            out["properties"] = {name: self.properties[name].schema() for name in sorted(self.properties)}
        if self.items is not None and self.items.types:
            out["items"] = self.items.schema()
        return out


def infer_schema(*values: Any) -> dict[str, Any]:
    """The type-only schema of every value given."""
    shape = Shape()
    for value in values:
        shape.observe(value)
    return shape.schema()
