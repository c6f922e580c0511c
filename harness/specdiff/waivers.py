"""Accepted breaks: a versioned YAML list, matched by rule id, operation and path.

    version: 1
    waivers:
      - id: response-property-became-optional
        operation: POST /v1/openai/chat/completions
        path: "response 200 application/json: usage"
        reason: usage may be null since 2026-12; our client checks (PR #123)

`id` matches exactly (a typo is an error, not a silent no-op, and names the closest ids). `operation` and `path` match
exactly, or as a glob when they contain `*` outside the literal `[*]` of an array step:
`response 200 application/json: choices[*].*` waives everything below `choices[*]`.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import yaml

from harness.errors import UsageError
from harness.specdiff.rules import RULES, Change
from harness.yaml_load import load_yaml

_KEYS = {"id", "operation", "path", "reason"}
_ARRAY_STEP = "[*]"


@dataclass(frozen=True)
class Waiver:
    id: str
    operation: str
    path: str
    reason: str
    index: int  # position in the file, for messages

    def matches(self, change: Change) -> bool:
        return (
            change.id == self.id
            and _glob(_normalise_operation(self.operation)).fullmatch(_normalise_operation(change.operation))
            is not None
            and _glob(self.path).fullmatch(change.path) is not None
        )


def _normalise_operation(operation: str) -> str:
    method, _, path = operation.strip().partition(" ")
    return f"{method.upper()} {path.strip()}"


def _glob(pattern: str) -> re.Pattern[str]:
    """`*` is any run of characters, except in `[*]`, which is literal (an array step)."""
    pieces = [re.escape(piece).replace(r"\*", ".*") for piece in pattern.split(_ARRAY_STEP)]
    return re.compile(re.escape(_ARRAY_STEP).join(pieces), re.DOTALL)


def load_waivers(path: Path) -> list[Waiver]:
    """Read and check a waiver file; every mistake names the file and the entry."""
    try:
        data = load_yaml(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(f"{path}: waiver file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path}: cannot read the waiver file: {exc}") from None
    except yaml.YAMLError as exc:
        raise UsageError(f"{path}: the waiver file is not valid YAML: {exc}") from None
    if not isinstance(data, dict) or set(data) - {"version", "waivers"}:
        raise UsageError(f"{path}: a waiver file is a mapping with `version: 1` and a `waivers` list")
    if data.get("version") != 1:
        raise UsageError(f"{path}: unsupported waiver file version {data.get('version')!r} (expected 1)")
    entries = data.get("waivers") or []
    if not isinstance(entries, list):
        raise UsageError(f"{path}: `waivers` must be a list")
    return [_entry(path, index, entry) for index, entry in enumerate(entries)]


def _entry(path: Path, index: int, entry: Any) -> Waiver:
    where = f"{path}: waivers[{index}]"
    if not isinstance(entry, dict):
        raise UsageError(f"{where}: each waiver is a mapping with id, operation, path and reason")
    if unknown := sorted(set(map(str, entry)) - _KEYS):
        raise UsageError(f"{where}: unknown key(s) {', '.join(unknown)} (expected id, operation, path, reason)")
    for key in sorted(_KEYS):
        value = entry.get(key)
        if not isinstance(value, str) or not value.strip():
            what = "a reason: say why this break is accepted" if key == "reason" else f"a non-empty `{key}`"
            raise UsageError(f"{where}: needs {what}")
    if entry["id"] not in RULES:
        raise UsageError(f"{where}: unknown rule id {entry['id']!r}; {_suggest(entry['id'])}")
    return Waiver(entry["id"], entry["operation"], entry["path"], entry["reason"].strip(), index)


def _suggest(rule_id: str) -> str:
    """What to write instead: the closest known rule ids (within a little of the closest), else
    where ids are found."""
    scored = [(difflib.SequenceMatcher(None, rule_id, c).ratio(), c) for c in RULES]
    best = max(score for score, _ in scored)
    close = [repr(c) for score, c in sorted(scored, reverse=True)[:3] if score >= max(0.6, best - 0.08)]
    if not close:
        return "use the id `harness diff` reports for the change (e.g. in `--format json`)"
    return f"did you mean {close[0]}?" if len(close) == 1 else f"did you mean {', '.join(close[:-1])} or {close[-1]}?"


def apply_waivers(changes: Iterable[Change], waivers: Sequence[Waiver]) -> tuple[list[Change], list[Waiver]]:
    """Mark waived changes with the reason; return them and the waivers nothing matched."""
    used: set[int] = set()
    out: list[Change] = []
    for change in changes:
        waiver = next((w for w in waivers if w.matches(change)), None)
        if waiver is None:
            out.append(change)
        else:
            used.add(waiver.index)
            out.append(replace(change, waived=waiver.reason))
    return out, [w for w in waivers if w.index not in used]
