"""Server-sent events as a recorded `text/event-stream` body holds them (WHATWG HTML §9.2.6).

Lines end in CRLF, LF or CR; a leading BOM is dropped; `:` starts a comment; `data` lines
join with "\\n"; `event` and `id` (an id holding NUL is ignored) belong to the event they
appear in; `retry` is not kept; a blank line dispatches. An event without data is dropped,
as browsers drop it. A body that ends inside an event (no blank line after its last field)
is reported as truncated rather than dispatched, since a stream cut short is what a
recording must not hide. `[DONE]` is an event like any other: the description says what
its data may be.
"""

from __future__ import annotations

import re
from typing import NamedTuple

_LINE_BREAK = re.compile(r"\r\n|\r|\n")


class EventStream(NamedTuple):
    events: list[dict[str, str]]
    """Each event's fields: `data` always, `event` and `id` when given."""
    truncated: bool
    """The body ends inside an event."""


def parse_sse(body: bytes | str) -> EventStream:
    text = body.decode("utf-8", errors="replace") if isinstance(body, bytes) else body
    *lines, rest = _LINE_BREAK.split(text.removeprefix("\ufeff"))  # `rest`: after the last line break
    events: list[dict[str, str]] = []
    data: list[str] = []
    fields: dict[str, str] = {}
    for line in lines:
        if not line:
            if data:
                events.append({"data": "\n".join(data), **fields})
            data, fields = [], {}
            continue
        if line.startswith(":"):
            continue
        name, colon, value = line.partition(":")
        value = value.removeprefix(" ") if colon else ""
        if name == "data":
            data.append(value)
        elif name == "event" or (name == "id" and "\0" not in value):
            fields[name] = value
    return EventStream(events, bool(data) or rest.startswith("data"))
