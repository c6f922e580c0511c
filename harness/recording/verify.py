"""`harness verify`: every cassette against today's description (`conformance.check_recorded`), and drift both ways.

Conformance findings and fields, statuses or enum values seen in traffic but not described
are failures (the API and the description disagree); described response fields that no
cassette ever shows are reported on request (`--coverage`: what the recordings leave untested).

Conformance messages are kept short (a value may be a 70 MB bundle); an enum finding is
shown whole instead, from the validator's own data: the value sent and every allowed value.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.contract import Contract, Loc, Violation
from harness.errors import CassetteError
from harness.recording.cassette_io import read_cassette
from harness.recording.conformance import (
    Finding,
    Report,
    check_recorded,
    content_schema,
    deref,
    description_drift,
    is_json_media,
    match_operation,
    parse_sse,
    pick_media,
    schema_validator,
)
from harness.recording.drift import FieldUse, record_response
from harness.recording.interaction import EVENT_STREAM, Interaction
from harness.recording.scope import Scope

CASSETTE_SUFFIXES = (".yaml", ".yml", ".json")
_VLMRUN = Scope.build()  # VLM Run's own hosts, for plain vcrpy cassettes recorded without the harness
_SKIP_DIRS = {"_blobs", ".venv", "node_modules", ".git", "__pycache__"}


def find_cassettes(roots: Iterable[Path]) -> list[Path]:
    found: set[Path] = set()
    for root in roots:
        if root.is_file():
            found.add(root)
            continue
        for path in root.rglob("*"):
            if path.suffix in CASSETTE_SUFFIXES and path.is_file() and not _SKIP_DIRS & set(path.parts):
                found.add(path)
    return sorted(found)


def discover_cassette_dirs(root: Path) -> list[Path]:
    """Folders named `cassettes` below `root` (pytest-recording's default layout), pruning
    virtualenvs, VCS and hidden folders so a large checkout is not walked in full."""
    found = []
    for folder, dirs, _files in os.walk(root):
        dirs[:] = [d for d in dirs if d not in _SKIP_DIRS and not d.startswith(".")]
        if Path(folder).name == "cassettes":
            found.append(Path(folder))
            dirs[:] = []
    return sorted(found)


def recorded_bodies(paths: Sequence[Path], root: Path) -> Iterator[tuple[str, str, Any]]:
    """(label, "request" | "response", JSON body) of every recorded interaction, for `harness
    diff` to say which recordings a breaking change touches. Unreadable cassettes and bodies
    that are not JSON (streams) are skipped: `harness verify` reports those."""
    for path in find_cassettes(paths):
        try:
            cassette = read_cassette(path)
        except CassetteError:
            continue
        try:
            shown = str(path.resolve().relative_to(root.resolve()))
        except ValueError:
            shown = str(path)
        for interaction in cassette.interactions:
            label = f"{shown}#{interaction.index}"
            try:
                yield f"{label} (request)", "request", interaction.request.json()
                if not interaction.response.is_event_stream:
                    yield f"{label} (response)", "response", interaction.response.json()
            except ValueError:
                continue


@dataclass
class VerifyResult:
    files: int = 0
    interactions: int = 0
    reports: list[Report] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    drift: list[str] = field(default_factory=list)
    uses: dict[str, FieldUse] = field(default_factory=dict)
    enums: dict[str, str] = field(default_factory=dict)
    """Enum values seen but not described: the whole message, and the first interaction showing it."""

    @property
    def findings(self) -> list[Finding]:
        return [f for r in self.reports for f in r.findings]

    @property
    def undescribed(self) -> list[str]:
        return [
            f"{kind}: {path} (e.g. {where})"
            for kind, use in sorted(self.uses.items())
            for path, where in use.undeclared.items()
        ]

    @property
    def unseen(self) -> list[str]:
        return [
            f"{kind}: {path}"
            for kind, use in sorted(self.uses.items())
            for path in sorted(use.declared - set(use.seen))
        ]

    @property
    def failed(self) -> bool:
        return bool(self.findings or self.undescribed)


def verify(paths: Sequence[Path], contract: Contract) -> VerifyResult:
    result = VerifyResult()
    for path in find_cassettes(paths):
        try:
            cassette = read_cassette(path)
        except CassetteError as exc:
            result.errors.append(str(exc))
            continue
        mine = [i for i in cassette.interactions if i.vlmrun or _VLMRUN.owns_url(i.request.uri)]
        if not mine:
            continue  # another API's cassette: not ours to judge
        result.files += 1
        drift = description_drift(cassette.metadata.get("description_sha256"), contract)
        if drift:
            result.drift.append(f"{path}: {drift}")
        findings: list[Finding] = []
        labels = {}
        for interaction in mine:
            result.interactions += 1
            labels[interaction.index] = interaction.label
            found = check_recorded(interaction, contract)
            findings += found
            record_response(contract, interaction, f"{path.name}#{interaction.index}", result.uses)
            if any(f.kind == "schema" for f in found):
                for line in enum_lines(interaction, contract, found):
                    result.enums.setdefault(line, f"{path.name}#{interaction.index}")
        if findings:
            result.reports.append(Report(source=str(path), findings=tuple(findings), labels=labels))
    return result


def format_result(
    result: VerifyResult, *, unseen_limit: int | None = 40, coverage: bool = False, errors: bool = True
) -> str:
    """The report: counts, unreadable cassettes (unless `errors=False`: the caller shows them),
    findings by cassette, drift sections, and with `coverage` the described fields never seen."""
    lines = [f"{result.files} cassette(s), {result.interactions} interaction(s) checked against the description"]
    if errors:
        lines += [f"error: {error}" for error in result.errors]
    for report in result.reports:
        lines.append(report.format())
    if result.undescribed:
        lines.append("Seen in traffic but not described:")
        lines += [f"  {line}" for line in result.undescribed]
    statuses = sorted(
        {
            f"{r.labels.get(f.interaction, '?')}"
            for r in result.reports
            for f in r.findings
            if f.kind == "undocumented_status"
        }
    )
    if statuses:
        lines.append("Status codes seen but not described: " + "; ".join(statuses))
    if result.enums:
        lines.append("Enum values seen but not described:")
        lines += [f"  {line} (e.g. {where})" for line, where in sorted(result.enums.items())]
    unseen = result.unseen if coverage else []
    if coverage and not unseen:
        lines.append("Described but never seen in any cassette: none")
    if unseen:
        shown = unseen if unseen_limit is None else unseen[:unseen_limit]
        lines.append(f"Described but never seen in any cassette ({len(unseen)}):")
        lines += [f"  {line}" for line in shown]
        if len(unseen) > len(shown):
            lines.append(f"  … and {len(unseen) - len(shown)} more")
    for line in result.drift:
        lines.append(f"note: {line}")
    return "\n".join(lines)


# -- enum findings, whole -----------------------------------------------------------------------

_ENUM_MESSAGE = " is not one of "  # jsonschema-rs's wording, for findings the validator data cannot explain


def enum_lines(interaction: Interaction, contract: Contract, findings: Sequence[Finding]) -> list[str]:
    """`side location: value is not one of [allowed…]` for each enum finding of an interaction,
    rebuilt from the validator's error (the finding's message is cut to 300 characters, and
    jsonschema-rs itself names only the first allowed values)."""
    known = {
        (side, Violation(loc, "", "").path): (value, options)
        for side, loc, value, options in _enum_errors(interaction, contract)
    }
    lines = []
    for f in findings:
        if f.kind != "schema":
            continue
        whole = known.get((f.side, f.location))
        if whole is not None:
            value, options = whole
            lines.append(f"{f.side} {f.location}: {_json(value)} is not one of {_json(options)}")
        elif _ENUM_MESSAGE in f.message:
            lines.append(f"{f.side} {f.location}: {f.message}")
    return lines


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _enum_errors(interaction: Interaction, contract: Contract) -> Iterator[tuple[str, Loc, Any, list[Any]]]:
    """(side, location, value, allowed values) of every enum error in the interaction's JSON."""
    for side, prefix, schema, instance in _validated(interaction, contract):
        pending = list(schema_validator(contract, schema).iter_errors(instance))
        while pending:
            err = pending.pop()
            if type(err.kind).__name__ == "Enum":
                yield side, (*prefix, *err.instance_path), err.instance, list(getattr(err.kind, "options", []))
            for branch in getattr(err.kind, "context", None) or []:  # oneOf/anyOf: each branch's errors
                pending.extend(branch)


def _validated(interaction: Interaction, contract: Contract) -> Iterator[tuple[str, Loc, Mapping[str, Any], Any]]:
    """What `conformance` validates, as (side, location prefix, schema, JSON instance): the
    request body, and the response body or each server-sent event and the JSON it carries."""
    method, request, response = interaction.request.method.upper(), interaction.request, interaction.response
    matched = match_operation(contract, method, request.path)
    op = contract.document["paths"][matched[0]].get(method.lower()) if matched else None
    if not isinstance(op, Mapping):
        return
    body = deref(contract, op.get("requestBody"))
    if isinstance(body, Mapping) and request.body and not 400 <= response.status < 500:
        content = body.get("content", {})
        yield from _json_body("request", content, request.content_type, request.body)
    responses = {str(k): v for k, v in op.get("responses", {}).items()}
    status = str(response.status)
    key = next((k for k in (status, f"{status[0]}XX", "default") if k in responses), None)
    if key is None:
        return
    content = deref(contract, responses[key]).get("content") or {}
    picked = pick_media(content, response.content_type)
    schema = content[picked].get("schema") if picked else None
    if picked is not None and picked.lower() == EVENT_STREAM and isinstance(schema, Mapping):
        events, _ = parse_sse(response.body)
        for i, event in enumerate(events):
            yield "response", ("events", i), schema, event
            inner = content_schema(contract, schema, event["data"])
            if isinstance(inner, Mapping) and (data := _loads(event["data"])) is not _NOT_JSON:
                yield "response", ("events", i, "data"), inner, data
    elif picked is not None:
        yield from _json_body("response", content, response.content_type, response.body)


def _json_body(
    side: str, content: Mapping[str, Any], content_type: str | None, raw: bytes
) -> Iterator[tuple[str, Loc, Mapping[str, Any], Any]]:
    key = pick_media(content, content_type) if content_type else next((k for k in content if is_json_media(k)), None)
    schema = content[key].get("schema") if key is not None and is_json_media(key) else None
    if isinstance(schema, Mapping) and (value := _loads(raw)) is not _NOT_JSON:
        yield side, (), schema, value


_NOT_JSON = object()


def _loads(raw: bytes | str) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return _NOT_JSON  # conformance reports it; there is no enum to explain
