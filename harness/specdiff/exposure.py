"""Which recorded traffic exercises a change: cassette bodies and syrupy JSON snapshots.

A change at `skills[*].skill_version` is exercised by every recorded request body that has
that path. Where absence is the point (a field became required, a default changed), the
documents that reach the parent object count too: those that omit the field are the ones
affected. Changes outside bodies (parameters, endpoints) have no `json_path` and match no
document; callers with per-operation traffic can match those on `Change.operation`.

A removed enum value is exercised only by the documents where that field holds that value:
a client that never sends (or a server that never sent) it is not affected.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, NamedTuple

from harness.errors import UsageError
from harness.specdiff.rules import RULES, Change, show

_ABSENCE_MATTERS = ("became-required", "new-required-request-property", "default-value")
_REQUEST_KEYS = {"body", "json", "wire"}


class Document(NamedTuple):
    """One recorded JSON body. `direction` is "request", "response" or "any"; `anywhere`
    looks for the path below any key too (snapshots wrap bodies in their own structure)."""

    label: str
    direction: str
    body: Any
    anywhere: bool = False


def parse_path(json_path: str) -> list[str]:
    """`skills[*].skill_version` -> ["skills", "[*]", "skill_version"]."""
    tokens: list[str] = []
    for part in json_path.split("."):
        while part:
            head, bracket, rest = part.partition("[*]")
            if head:
                tokens.append(head)
            if bracket:
                tokens.append("[*]")
            part = rest
    return tokens


Leaf = Callable[[Any], bool]


def contains(value: Any, tokens: list[str], leaf: Leaf | None = None) -> bool:
    """Whether `value` has the path `tokens` (and, with `leaf`, a value there that `leaf` accepts)."""
    if not tokens:
        return leaf is None or leaf(value)
    head, rest = tokens[0], tokens[1:]
    if head == "[*]":
        return isinstance(value, list) and any(contains(item, rest, leaf) for item in value)
    if head == "*":
        return isinstance(value, dict) and any(contains(item, rest, leaf) for item in value.values())
    return isinstance(value, dict) and head in value and contains(value[head], rest, leaf)


def contains_anywhere(value: Any, tokens: list[str], leaf: Leaf | None = None) -> bool:
    stack = [value]
    while stack:
        item = stack.pop()
        if contains(item, tokens, leaf):
            return True
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def exercised_by(
    changes: Iterable[Change], documents: Iterable[Document | tuple[str, str, Any]]
) -> dict[Change, list[str]]:
    """For each change, the labels of the documents whose body has its `json_path`."""
    docs = [d if isinstance(d, Document) else Document(*d) for d in documents]
    out: dict[Change, list[str]] = {}
    for change in changes:
        if change.json_path is None:
            out[change] = []
            continue
        tokens = parse_path(change.json_path)
        if tokens and any(marker in change.id for marker in _ABSENCE_MATTERS):
            tokens = tokens[:-1]
        removed = removed_enum_value(change)
        leaf = None if removed is None else (lambda value, shown=removed: show(value) == shown)
        labels = []
        for doc in docs:
            if doc.direction not in (change.direction, "any"):
                continue
            found = contains_anywhere(doc.body, tokens, leaf) if doc.anywhere else contains(doc.body, tokens, leaf)
            if found:
                labels.append(doc.label)
        out[change] = labels
    return out


_REMOVED_VALUE = "{value}"


def removed_enum_value(change: Change) -> str | None:
    """The enum value an `…-enum-value-removed` change names, as its message quotes it
    (`'latest'`, `'1'`), or None for any other change or a message not in the rule's form."""
    rule = RULES.get(change.id)
    if rule is None or not change.id.endswith("enum-value-removed") or change.json_path is None:
        return None
    before = rule.template.split(_REMOVED_VALUE, 1)[0]  # "removed the enum value "
    inner = f" {show(change.json_path)}" if change.json_path else ""
    subject = f" from the {change.direction} {'property' if inner else 'body'}{inner}"
    end = change.text.rfind(subject)
    if not change.text.startswith(before) or end < len(before):
        return None
    return change.text[len(before) : end]


def snapshot_documents(root: Path) -> Iterator[Document]:
    """Documents from syrupy JSON snapshots (`**/__snapshots__/**/*.json`) below `root`.

    A snapshot that holds a request body (a `body`, `json` or `wire` key) and no `response`
    key counts as a request; any other is matched against both directions.
    """
    for path in sorted(root.rglob("*.json")):
        if "__snapshots__" not in path.relative_to(root).parts or not path.is_file():
            continue
        try:
            body = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise UsageError(f"{path}: not a JSON snapshot: {exc}") from None
        keys = _keys(body)
        direction = "request" if keys & _REQUEST_KEYS and "response" not in keys else "any"
        yield Document(str(path.relative_to(root)), direction, body, anywhere=True)


def _keys(value: Any) -> set[str]:
    found: set[str] = set()
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            found.update(str(k) for k in item)
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return found
