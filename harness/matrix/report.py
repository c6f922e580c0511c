"""The matrix as JSON (every body byte for byte) and as Markdown (for people), written atomically.

The Markdown shows each body with `messages` (the same in every row of an example) and
bundle base64 elided, keeping key order and every skill key as sent; `matrix.json` holds
the exact text the capture server received.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

from harness.files import write_atomic
from harness.matrix.evaluate import (
    ENDPOINT,
    FAIL,
    KNOWN,
    NA,
    OK,
    UNEXPECTED_PASS,
    Cell,
    LongRequestCell,
    MatrixResult,
    StackRun,
)
from harness.wire import iter_bundle_slots

FORMAT = 2  # 2: `long_requests`
VERSION_COLUMNS = ("python", "vlmrun", "openai", "httpx", "httpx2", "pydantic")
MARKS = {OK: "✅ ok", KNOWN: "⚠️ known failure", FAIL: "❌ FAIL", UNEXPECTED_PASS: "❔ unexpected pass", NA: "n/a"}

LEGEND = """\
Each row is one call: a seed example (`harness.docs_examples`) sent through one client path of one
stack, to a capture server, then judged here.

- **paths**: `vlmrun-dict` `skills=[AgentSkill(...).model_dump(exclude_none=True)]`;
  `vlmrun-objects` `skills=[AgentSkill(...)]` (the docs); `vlmrun-objects-helper`
  `skills=to_wire_dicts([AgentSkill(...)])`; `vlmrun-dict-extra-body` dicts in
  `extra_body={"skills": ...}` (what the `vlmrun chat` CLI does); `vlmrun-helper-extra-body`
  `extra_body={"skills": to_wire_dicts([...])}`; `openai-dict` plain `openai.OpenAI` with dicts in
  `extra_body`. All with `model` and `messages`, retries off.
- **sent body**: what the server received (`messages` and bundle data elided here; exact in
  `matrix.json`). **contract**: the description's `ChatCompletionRequest` accepts it.
  **reference**: the embedded reference server's status and the skills it resolved.
  **canonical**: the canonical form equals that of the vlmrun dict form of the same call.
- **verdict**: a cell *works* when it sends one request to `/v1/openai/chat/completions` without
  a client error, the description accepts it, the reference server answers 200 resolving the
  same revisions as for the vlmrun dict form, and it canonicalizes equal. Every cell is expected to work except *known
  failures*, rules on what the stack has (reason given), which must fail the way the rule says.
  `harness matrix` exits 1 when a cell expected to work does not (❌), or a known failure fails
  differently; an unexpected pass (❔) is shown but does not fail the run. `n/a`: the stack lacks
  that client.
- **long requests**: one more call per stack, the `single` example through the stack's normal
  path (`vlmrun-dict` where vlmrun has `skills=`, else `vlmrun-dict-extra-body`, else
  `openai-dict`) to the reference server with long requests on (`harness serve --long-requests 2`):
  it answers `303 See Other`, then `202` twice on `Location`, then the completion. **server
  answered**: what it answered on the completions path, in order. The call *works* when the client
  polls until the `200` and returns that completion; no released stack does, so each is a known
  failure today (rule `no-long-request-polling`), and one that starts polling shows as ❔."""


def to_json(result: MatrixResult) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "generated": result.generated,
        "python": result.python,
        "harness_version": result.harness_version,
        "description_sha256": result.description_sha256,
        "paths": list(result.paths),
        "ok": not result.failed,
        "stacks": [
            {**asdict(s), "versions": dict(s.versions), "features": dict(s.features), "counts": result.counts(s.name)}
            for s in result.stacks
        ],
        "cells": [asdict(c) for c in result.cells],
        "long_requests": [asdict(c) for c in result.long_requests],
    }


def elide(body: str | None) -> str:
    """The body for a table: `messages` and base64 bundles shortened, everything else as sent."""
    if body is None:
        return ""
    try:
        value = json.loads(body)
    except ValueError:
        return body if len(body) <= 300 else body[:300] + "…"
    if not isinstance(value, dict):
        return body
    if "messages" in value:
        value["messages"] = "…"
    for slot in iter_bundle_slots(value, ENDPOINT):
        if len(slot.data) > 24:
            slot.replace(f"{slot.data[:8]}…({len(slot.data)} chars)")
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _code(text: str) -> str:
    if not text:
        return ""
    fence = "``" if "`" in text else "`"
    pad = " " if fence == "``" else ""
    return f"{fence}{pad}{_md(text)}{pad}{fence}"


def _contract(cell: Cell) -> str:
    if cell.valid is None:
        return ""
    return "valid" if cell.valid else "invalid: " + "; ".join(cell.violations[:3])


def _reference(cell: Cell) -> str:
    if cell.status is None:
        return ""
    return f"{cell.status} {', '.join(cell.resolved)}".strip()


def _canonical(cell: Cell) -> str:
    if cell.canonical_equal is None:
        return ""
    return "equal" if cell.canonical_equal else "differs: " + "; ".join(cell.canonical_diff[:3])


def _note(cell: Cell) -> str:
    parts = []
    if cell.error:
        parts.append(_code(cell.error))
    if cell.verdict == FAIL:
        parts.append("; ".join(p for p in cell.problems if not p.startswith("client error")))
    if cell.rule:
        parts.append(f"(rule `{cell.rule}`)")
    return _md(" ".join(p for p in parts if p))


def summary_line(result: MatrixResult, stack: StackRun) -> str:
    counts = result.counts(stack.name)
    text = f"**{stack.name}**: {counts[OK]} ok, {counts[KNOWN]} known failures, {counts[FAIL]} failing"
    if counts[UNEXPECTED_PASS]:
        text += f", {counts[UNEXPECTED_PASS]} unexpected passes"
    if counts[NA]:
        text += f", {counts[NA]} n/a"
    reasons: dict[str, list[str]] = {}
    for cell in result.cells:
        if cell.stack == stack.name and cell.verdict in (KNOWN, FAIL, UNEXPECTED_PASS):
            why = f"{cell.reason} (rule `{cell.rule}`)" if cell.rule else "; ".join(cell.problems)
            paths = reasons.setdefault(f"{cell.verdict}: {why}", [])
            if cell.path not in paths:
                paths.append(cell.path)
    for why, paths in reasons.items():
        text += f"\n  - {', '.join(f'`{p}`' for p in paths)}: {why}"
    long_request = result.long_request(stack.name)
    if long_request is not None and long_request.verdict != NA:
        text += f"\n  - long request (303), `{long_request.path}`: {long_request.verdict}: {long_request.detail}"
        if long_request.verdict == KNOWN:
            text += f" (rule `{long_request.rule}`)"
    return text


def _long_request_row(cell: LongRequestCell) -> str:
    why = _md(f"{cell.reason} (rule `{cell.rule}`)") if cell.rule else ""
    cols = [
        _md(cell.stack),
        f"`{cell.path}`" if cell.path else "",
        MARKS[cell.verdict],
        ", ".join(cell.exchanges),
        str(cell.gets) if cell.path else "",
        _md(cell.detail),
        " ".join(n for n in (_code(cell.error or ""), why) if n),
    ]
    return "| " + " | ".join(cols) + " |"


def render_markdown(result: MatrixResult) -> str:
    lines = [
        "# Compatibility matrix: what each client stack sends",
        "",
        f"Generated {result.generated} by `harness matrix` (harness {result.harness_version}, "
        f"Python {result.python}, description sha256 `{result.description_sha256[:12]}`). "
        f"Overall: {'every cell expected to work works' if not result.failed else '**cells expected to work fail**'}.",
        "",
        "## Stacks",
        "",
        "| stack | what | requirements | " + " | ".join(VERSION_COLUMNS) + " |",
        "|---|---|---|" + "---|" * len(VERSION_COLUMNS),
    ]
    for s in result.stacks:
        reqs = ", ".join([*s.requirements, *(f"override {o}" for o in s.overrides)])
        versions = " | ".join(s.versions.get(k) or "—" for k in VERSION_COLUMNS)
        lines.append(f"| {s.name} | {_md(s.summary)} | {_code(reqs)} | {versions} |")
    lines += ["", "## Summary", ""]
    lines += [f"- {summary_line(result, s)}" for s in result.stacks]
    if result.long_requests:
        lines += [
            "",
            "## Long requests (303 See Other)",
            "",
            "| stack | path | verdict | server answered | GETs | what the client did | error / reason |",
            "|---|---|---|---|---|---|---|",
        ]
        lines += [_long_request_row(c) for c in result.long_requests]
    lines += ["", "## How to read it", "", LEGEND]
    for s in result.stacks:
        lines += [
            "",
            f"## {s.name}",
            "",
            "| example | path | verdict | sent body | contract | reference | canonical | error / reason |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for c in (c for c in result.cells if c.stack == s.name):
            cols = [
                c.example,
                f"`{c.path}`",
                MARKS[c.verdict],
                _code(elide(c.body)),
                _md(_contract(c)),
                _md(_reference(c)),
                _md(_canonical(c)),
                _note(c),
            ]
            lines.append("| " + " | ".join(cols) + " |")
    return "\n".join(lines) + "\n"


def write_reports(result: MatrixResult, out: Path) -> tuple[Path, Path]:
    """`out/matrix.json` and `out/matrix.md`."""
    json_path, md_path = out / "matrix.json", out / "matrix.md"
    write_atomic(json_path, json.dumps(to_json(result), indent=2, ensure_ascii=False) + "\n")
    write_atomic(md_path, render_markdown(result))
    return json_path, md_path
