"""How a value breaks a schema, shaped like a FastAPI error item, and kept short.

The reference server answers 422 with these, and recorded-traffic checks report them, so
the wording is written once here. Messages are cut: jsonschema-rs quotes the offending
instance, and a 70 MB bundle must not come back in a 422 or a report.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

Loc = tuple[str | int, ...]

MAX_MESSAGE = 300
_SURROGATE = re.compile("[\ud800-\udfff]")
_UNICODE_MESSAGE = "String holds a lone UTF-16 surrogate (a \\ud800-\\udfff escape): send valid Unicode text"


@dataclass(frozen=True)
class Violation:
    """One way a body breaks the description.

    For an `enum` violation, `input` is the value and `allowed` every allowed value, whole
    (the message may be cut); neither takes part in equality or in the 422 detail."""

    loc: Loc
    msg: str
    type: str
    input: Any = field(default=None, compare=False, repr=False)
    allowed: tuple[Any, ...] | None = field(default=None, compare=False, repr=False)

    @property
    def path(self) -> str:
        """`skills[1].source.data`: the form used in messages."""
        return loc_path(self.loc)

    def as_detail(self, prefix: Loc = ("body",)) -> dict[str, Any]:
        return {"loc": [*prefix, *self.loc], "msg": self.msg, "type": self.type}


def loc_path(loc: Loc) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out or "<root>"


def short(message: str) -> str:
    """At most `MAX_MESSAGE` characters: the start and the end, joined by an ellipsis."""
    if len(message) <= MAX_MESSAGE:
        return message
    half = MAX_MESSAGE // 2
    return f"{message[:half]} … {message[-half:]}"


def shown(value: Any) -> str:
    return short(json.dumps(value, ensure_ascii=False, default=str))


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
