"""`harness verify --propose-overlay`: drift turned into an OpenAPI Overlay 1.0 a person reviews.

What the recordings show and the description in use lacks (response fields, response
headers, enum values, statuses) becomes one action per node of the description and kind of
addition, merged across cassettes. Each target is the RFC 9535 JSONPath of the node that owns
the addition (a `$ref` followed to its component, so `components.schemas.Choice` grows rather
than an inline copy); each description names the interaction that first showed it. Schemas are
type-only (`shapes`): a proposal claims what traffic showed and nothing more. Applied, the
overlay makes that drift go away; `harness diff` shows what it changes.

A proposal is written for review, so the file says so, and the harness replaces it only while
it is still exactly what the harness wrote: an edited proposal, an overlay in use or any other
file is someone's work and is never overwritten.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Collection, Mapping
from pathlib import Path
from typing import Any

import yaml

from harness.contract import Contract
from harness.errors import UsageError
from harness.files import write_atomic
from harness.recording.gaps import Gaps
from harness.recording.schema_nodes import jsonpath
from harness.recording.verify import VerifyResult

__all__ = ["HEADER", "check_writable", "propose_overlay", "render", "write_overlay"]

TITLE = "Corrections proposed by harness verify from recorded traffic"
HEADER = (
    "# Proposed by `harness verify --propose-overlay`: what recorded traffic shows and the API description lacks.\n"
    "# Review every action before using this file as an overlay (`overlays` in [tool.vlmrun-harness], or\n"
    "# --vlmrun-overlay); list it after the overlays in use when it was proposed, since its targets point\n"
    "# into the description with them applied. Types come from the recorded values; nothing is required.\n"
    "# While this file is unchanged, the next proposal may replace it; once edited, it is never overwritten.\n"
)
_DIGEST = "# proposal-sha256: "
_HEADER_SIZE = HEADER.count("\n") + 1
_ORIGIN = "Proposed by `harness verify` from recorded traffic"


def propose_overlay(result: VerifyResult, contract: Contract) -> dict[str, Any] | None:
    """The overlay that adds to `contract` what `result`'s recordings show and it lacks; None when nothing does."""
    gaps = result.gaps
    if not gaps:
        return None
    actions: list[tuple[str, int, dict[str, Any]]] = []
    for rank, (grouped, describe, update) in enumerate(_KINDS):
        for pointer, entries in _by_node(grouped(gaps)).items():
            target = jsonpath(contract.document, pointer)
            shown = ", ".join(f"{label} ({where})" for label, where, _ in entries)
            action = {"target": target, "description": f"{describe}: {shown}", "update": update(entries)}
            actions.append((target, rank, action))
    return {
        "overlay": "1.0.0",
        "info": {"title": TITLE, "version": "1.0.0"},
        "actions": [action for _, _, action in sorted(actions, key=lambda a: (a[0], a[1]))],
    }


Entry = tuple[str, str, Any]
"""(label shown in the description, first interaction, what the update needs) for one addition."""


def _by_node(entries: list[tuple[str, Entry]]) -> dict[str, list[Entry]]:
    out: dict[str, list[Entry]] = {}
    for pointer, entry in entries:
        out.setdefault(pointer, []).append(entry)
    return {pointer: sorted(found, key=lambda e: e[0]) for pointer, found in out.items()}


def _properties(gaps: Gaps) -> list[tuple[str, Entry]]:
    return [(node, (name, seen.where, seen.shape.schema())) for (node, name), seen in gaps.properties.items()]


def _headers(gaps: Gaps) -> list[tuple[str, Entry]]:
    return [(node, (name, where, None)) for (node, name), where in gaps.headers.items()]


def _enums(gaps: Gaps) -> list[tuple[str, Entry]]:
    return [(node, (shown, where, value)) for (node, shown), (value, where) in gaps.enums.items()]


def _statuses(gaps: Gaps) -> list[tuple[str, Entry]]:
    return [(node, (status, seen.where, seen)) for (node, status), seen in gaps.statuses.items()]


def _header() -> dict[str, Any]:
    """A header as recorded: text (a value that looks like a number is still sent as text)."""
    return {"schema": {"type": "string"}}


def _status_response(entry: Entry) -> dict[str, Any]:
    _, where, seen = entry
    response: dict[str, Any] = {"description": f"{_ORIGIN} ({where})."}
    if seen.headers:
        response["headers"] = {name: _header() for name in sorted(seen.headers)}
    if seen.media:
        response["content"] = {
            media: {"schema": {} if shape is None else shape.schema()} for media, shape in sorted(seen.media.items())
        }
    return response


_KINDS: list[tuple[Callable[[Gaps], list[tuple[str, Entry]]], str, Callable[[list[Entry]], dict[str, Any]]]] = [
    (
        _properties,
        "Response fields seen in recorded traffic",
        lambda entries: {"properties": {name: schema for name, _, schema in entries}},
    ),
    (
        _headers,
        "Response headers seen in recorded traffic",
        lambda entries: {"headers": {name: _header() for name, _, _ in entries}},
    ),
    (
        _enums,
        "Enum values seen in recorded traffic",
        lambda entries: {"enum": [value for _, _, value in entries]},
    ),
    (
        _statuses,
        "Statuses seen in recorded traffic",
        lambda entries: {"responses": {entry[0]: _status_response(entry) for entry in entries}},
    ),
]


# -- the file ------------------------------------------------------------------------------------


def render(overlay: Mapping[str, Any]) -> str:
    """The file's text: the header, the digest of what follows it, then the overlay as YAML."""
    plain = json.loads(json.dumps(overlay))  # fresh objects: YAML anchors would repeat nothing here
    body = yaml.safe_dump(plain, sort_keys=False, allow_unicode=True, width=120)
    return f"{HEADER}{_DIGEST}{_digest(body)}\n{body}"


def write_overlay(path: Path, overlay: Mapping[str, Any], *, in_use: Collection[Path] = ()) -> None:
    """Write a proposal for review, atomically; `UsageError` when `path` holds anything but an
    unchanged earlier proposal, or is one of the overlays in use (`in_use`)."""
    check_writable(path, in_use=in_use)
    write_atomic(path, render(overlay))


def _digest(body: str) -> str:
    return hashlib.sha256(body.encode()).hexdigest()


def check_writable(path: Path, *, in_use: Collection[Path] = ()) -> None:
    """`UsageError` unless a proposal may be written at `path`: a new file, or an unchanged earlier
    proposal that is not an overlay in use. The CLI may call it before reading any cassette."""
    if not path.exists():
        return
    if path.resolve() in {p.resolve() for p in in_use}:
        raise UsageError(
            f"Overlay proposal not written: {path} is an overlay in use, and the proposal was computed with it "
            "applied, so replacing it would drop its corrections; choose another file"
        )
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"Overlay proposal not written: {path} exists and cannot be read ({exc})") from exc
    lines = text.split("\n", _HEADER_SIZE)
    if len(lines) <= _HEADER_SIZE or "\n".join(lines[: _HEADER_SIZE - 1]) + "\n" != HEADER:
        raise UsageError(
            f"Overlay proposal not written: {path} exists and was not proposed by harness verify; "
            "choose another file, or delete it first"
        )
    recorded, body = lines[_HEADER_SIZE - 1].removeprefix(_DIGEST), lines[_HEADER_SIZE]
    if recorded != _digest(body):
        raise UsageError(
            f"Overlay proposal not written: {path} is an earlier proposal edited since, and edits are kept; "
            "choose another file, or delete it first"
        )
