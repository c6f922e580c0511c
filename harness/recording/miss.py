"""Turning vcrpy's "can't overwrite cassette" into a `CassetteMiss` a person can act on.

The message names the cassette, the request, the closest recorded interaction and the
canonical paths that differ (which skill, which field; for a bundle, which files inside it),
then the one thing to do next for the record mode in use. A long request's poll (a GET
naming its job in `POLL_PARAM`) that differs from a recorded poll only in the job id says
so: nothing in the test's call differs, the recording followed another job, so only
recording again helps.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from harness.errors import BundleError, CassetteMiss
from harness.files import display_path
from harness.recording.matcher import canonical_body, differences
from harness.recording.scope import Scope
from harness.settings import POLL_PARAM
from harness.wire import effective_bundle


def find_vcr_miss(exc: BaseException | None) -> Any:
    """The vcrpy miss in an exception chain (openai 1.x wraps it in APIConnectionError)."""
    from vcr.errors import CannotOverwriteExistingCassetteException

    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, CannotOverwriteExistingCassetteException):
            return exc
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return None


def _label(request: Any) -> str:
    parts = urlsplit(str(request.uri))
    return f"{request.method} {parts.path}{'?' + parts.query if parts.query else ''}"


def _mode(cassette: Any) -> str:
    mode = cassette.record_mode
    return str(getattr(mode, "value", mode))


def _next_step(mode: str, exists: bool, test: str | None) -> str:
    where = f" ({test})" if test else ""
    if not exists:
        return f"The cassette does not exist yet: record it with --record-mode=once{where}."
    if mode == "once":
        return (
            f"To record it: --record-mode=new_episodes adds it to the cassette, --record-mode=rewrite records "
            f"the test afresh{where}; or fix the call."
        )
    return f"If the call changed on purpose, re-record with --record-mode=rewrite{where}; otherwise fix the call."


def _files(data: Any) -> dict[str, bytes] | None:
    from harness.bundles import read_zip_entries
    from harness.bundles.decode import decode_base64

    if not isinstance(data, str):
        return None
    try:
        return read_zip_entries(decode_base64(data))
    except BundleError:
        return None


def _skills(request: Any) -> list[Any]:
    try:
        body = json.loads(request.body or b"")
    except (TypeError, ValueError):
        return []
    skills = body.get("skills") if isinstance(body, dict) else None
    return skills if isinstance(skills, list) else []


def bundle_changes(live: Any, recorded: Any) -> list[str]:
    """For each skill whose bundle differs, the files added, removed or changed inside it."""
    out = []
    sent, kept = _skills(live), _skills(recorded)
    for index, (new_skill, old_skill) in enumerate(zip(sent, kept, strict=False)):
        if not (isinstance(new_skill, dict) and isinstance(old_skill, dict)):
            continue
        new, old = _files(effective_bundle(new_skill)), _files(effective_bundle(old_skill))
        if new is None or old is None or new == old:
            continue
        changes = [f"{p} added" for p in sorted(set(new) - set(old))]
        changes += [f"{p} removed" for p in sorted(set(old) - set(new))]
        changes += [
            f"{p} changed ({len(old[p]):,} → {len(new[p]):,} bytes)"
            for p in sorted(set(new) & set(old))
            if new[p] != old[p]
        ]
        out.append(f"skills[{index}] bundle: {'; '.join(changes)}")
    return out


def _query(request: Any) -> list[tuple[str, str]]:
    return sorted(parse_qsl(urlsplit(str(request.uri)).query, keep_blank_values=True))


def _job(query: list[tuple[str, str]]) -> str | None:
    return next((value for name, value in query if name == POLL_PARAM), None)


def poll_of_another_job(live: Any, candidates: list[tuple[int, Any]]) -> tuple[int, str] | None:
    """The first recorded poll that differs from a live poll only in its job id: (its index, that id)."""
    sent = _query(live)
    job = _job(sent)
    if str(live.method).upper() != "GET" or job is None:
        return None
    rest = [pair for pair in sent if pair[0] != POLL_PARAM]
    for index, recorded in candidates:
        kept = _query(recorded)
        other = _job(kept)
        same_rest = [pair for pair in kept if pair[0] != POLL_PARAM] == rest
        if other not in (None, job) and same_rest and canonical_body(live).key == canonical_body(recorded).key:
            return index, other
    return None


def miss_from_vcr(miss: Any, scope: Scope | None = None, *, test: str | None = None) -> CassetteMiss:
    """The miss explained against the cassette's VLM Run requests (all of them without a scope)."""
    cassette = miss.cassette
    live = cassette.filter_request(miss.failed_request) or miss.failed_request
    path = str(getattr(cassette, "_path", "<cassette>"))
    mode = _mode(cassette)
    exists = Path(path).is_file()
    lines = [f"No recorded interaction matches {_label(live)} in cassette {display_path(path)} (record mode {mode})."]
    mine = [(i, r) for i, r in enumerate(cassette.requests) if scope is None or scope.owns(r)]
    same_path = urlsplit(str(live.uri)).path
    candidates = [(i, r) for i, r in mine if r.method == live.method and urlsplit(str(r.uri)).path == same_path]
    if not candidates and mine:
        recorded = ", ".join(sorted({_label(r) for _, r in mine}))
        lines.append(f"The cassette holds no {live.method} to that path; it has: {recorded}.")
    elif (poll := poll_of_another_job(live, candidates)) is not None:
        index, job = poll
        lines.append(
            f"The job id differs: this poll asks for job {_job(_query(live))!r}, the recording polled job {job!r} "
            f"(interaction {index}); only the {POLL_PARAM} query parameter differs."
        )
        where = f" ({test})" if test else ""
        lines.append(f"Re-record with --record-mode=rewrite{where}: a replay polls only the job its recording started.")
        return CassetteMiss("\n".join(lines))
    elif candidates:
        best_index, best = min(candidates, key=lambda c: len(differences(live, c[1], limit=1000)))
        diffs = differences(live, best)
        if diffs:
            lines.append(f"Closest recorded: interaction {best_index}; what differs in the canonical request:")
            lines += [f"  {d}" for d in diffs]
            lines += [f"  {change}" for change in bundle_changes(live, best)]
        elif _query(live) != _query(best):
            lines.append(
                f"Closest recorded: interaction {best_index}, the same body with another query: "
                f"recorded {_label(best)}, sent {_label(live)}."
            )
        elif canonical_body(live).key == canonical_body(best).key:
            lines.append(f"Interaction {best_index} matches but was already played; a test replays each once.")
    lines.append(_next_step(mode, exists, test))
    return CassetteMiss("\n".join(lines))
