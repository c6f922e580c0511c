"""`harness diff OLD [NEW]`: breaking changes between two API descriptions.

The command line itself is `harness.cli`'s (building it imports nothing of this package);
`run` takes its parsed arguments. Exit codes as the rest of the CLI: 0 nothing at or above
`--fail-on` (waived changes do not count), 1 breaking changes, 2 usage or load errors
(raised as HarnessError; the CLI prints them and exits 2). Mistakes in `--out` and
`--waivers` are found before either description is read.

For `--format githubactions` each annotation carries the line of the changed schema in the
NEW description, when that is a local file: the YAML (or JSON) is composed into nodes, whose
marks say where each key is, and the change is followed there from its operation and path.
"""

from __future__ import annotations

import argparse
import dataclasses
import re
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import yaml

from harness.errors import HarnessError, UsageError
from harness.files import path_below, write_atomic
from harness.openapi.pointer import tokens
from harness.settings import EXIT_FAILED, EXIT_OK
from harness.specdiff.exposure import Document, exercised_by, parse_path
from harness.specdiff.formats import DiffReport, render
from harness.specdiff.load import load_description
from harness.specdiff.operations import diff
from harness.specdiff.rules import Change, Level
from harness.specdiff.waivers import Waiver, apply_waivers, load_waivers
from harness.yaml_load import SafeLoader


def build_report(args: argparse.Namespace, cwd: Path | None = None) -> DiffReport:
    from harness.contract import default_description_path

    where = cwd or Path.cwd()
    revision = args.revision or path_below(default_description_path(), where)  # annotations want it relative
    report = compare(args.base, revision, waivers=args.waivers, fail_on=args.fail_on, cwd=cwd)
    if args.format == "githubactions" and _local_file(revision, where):
        text = (where / revision).read_text(encoding="utf-8")
        report = dataclasses.replace(report, lines=change_lines(text, report.changes))
    return report


def compare(
    base_spec: str, revision_spec: str, *, waivers: Path | None = None, fail_on: str = "ERR", cwd: Path | None = None
) -> DiffReport:
    """Load both descriptions, diff them, apply the waivers: the report `harness diff` and the gate render."""
    base = load_description(base_spec, cwd=cwd)
    revision = load_description(revision_spec, cwd=cwd)
    changes = diff(base, revision)
    unused: list[Waiver] = []
    if waivers is not None:
        changes, unused = apply_waivers(changes, load_waivers(waivers))
    return DiffReport(
        base=base.label,
        revision=revision.label,
        changes=changes,
        fail_on=Level[fail_on.upper()],
        revision_file=revision.file,
        waivers_file=str(waivers) if waivers is not None else None,
        unused_waivers=unused,
    )


def _local_file(spec: str, cwd: Path) -> bool:
    """A file on disk, as `load_description` reads it (not a URL, not REV:path)."""
    return not spec.startswith(("http://", "https://")) and (cwd / spec).is_file()


def run(
    args: argparse.Namespace,
    traffic: Callable[[], Iterable[Document | tuple[str, str, Any]]] | None = None,
    *,
    revision_label: str | None = None,
) -> int:
    """Diff, render, write; 1 when the gate fails. Raises HarnessError on bad input.

    `traffic` yields the recorded bodies (cassettes, snapshots) to check failing changes
    against; reading cassettes is a higher layer's job, so the caller supplies them.
    `revision_label` names NEW in the report when its file is a temporary copy.
    """
    if args.out is not None:
        _check_out(args.out)
    if args.waivers is not None:
        load_waivers(args.waivers)  # a typo in a waiver is reported before any description is read
    report = build_report(args)
    if revision_label is not None:  # NEW is a temporary copy (overlays applied): name what it holds
        report = dataclasses.replace(report, revision=revision_label, revision_file=None)
    if traffic is not None and report.failing:
        report = dataclasses.replace(report, exercised=exercised_by(report.failing, traffic()))
    output = render(report, args.format)
    if args.out is None:
        sys.stdout.write(output)
        sys.stdout.flush()
    else:
        write_atomic(args.out, output)
        print(f"{report.summary()}; report written to {args.out}", file=sys.stderr)
    return EXIT_FAILED if report.failing else EXIT_OK


def preflight(against: str, waivers: Path | None) -> None:
    """For `harness check --against`: the older description and the waivers load now, not
    after every other step has run. A URL is left to the diff (two reads, two answers)."""
    flag = "--against"
    try:
        if not against.startswith(("http://", "https://")):
            load_description(against)
        flag = "--waivers"
        if waivers is not None:
            load_waivers(waivers)
    except HarnessError as exc:
        raise type(exc)(f"{flag}: {exc}") from None


def _check_out(path: Path) -> None:
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise UsageError(f"--out: folder {folder} does not exist")
    if path.is_dir():
        raise UsageError(f"--out {path} is a folder: name the file to write the report to")


# -- where a change is in the new description ---------------------------------------------------

_MAX_HOPS = 64
_BRANCHES = re.compile(r" \(in ((?:oneOf|anyOf) .*)\)$")
_BODY_RULES = ("request-body-became-", "request-body-added-", "request-body-removed")  # about requestBody itself
_Found = tuple[yaml.Node, int]  # a node and the (1-based) line of the key or item that holds it


def change_lines(text: str, changes: Iterable[Change]) -> dict[Change, int]:
    """The line of each change's schema (or parameter, body, response, operation) in `text`,
    for changes whose place exists there; the deepest existing place for what was removed."""
    try:
        root = yaml.compose(text, Loader=SafeLoader)
    except yaml.YAMLError:
        return {}
    if not isinstance(root, yaml.MappingNode):
        return {}
    finder = _Locator(root)
    found = {change: finder.line(change) for change in changes}
    return {change: line for change, line in found.items() if line is not None}


def _child(node: yaml.Node | None, key: str) -> _Found | None:
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            if isinstance(k, yaml.ScalarNode) and k.value == key:
                return v, k.start_mark.line + 1
    return None


def _value(node: yaml.Node | None, key: str) -> yaml.Node | None:
    found = _child(node, key)
    return found[0] if found else None


def _items(node: yaml.Node | None) -> list[_Found]:
    if not isinstance(node, yaml.SequenceNode):
        return []
    return [(item, item.start_mark.line + 1) for item in node.value]


def _scalar(node: yaml.Node | None, key: str) -> str | None:
    found = _child(node, key)
    return found[0].value if found and isinstance(found[0], yaml.ScalarNode) else None


class _Locator:
    def __init__(self, root: yaml.MappingNode) -> None:
        self.root = root

    def deref(self, found: _Found) -> _Found:
        """Follow local `$ref`s; the line becomes the referenced component's."""
        node, line = found
        for _ in range(_MAX_HOPS):
            ref = _scalar(node, "$ref")
            if ref is None or not ref.startswith("#/"):
                return node, line
            target: _Found | None = (self.root, 1)
            for part in tokens(ref[1:]):
                target = _child(target[0], part) if target else None
            if target is None:
                return node, line
            node, line = target
        return node, line

    def line(self, change: Change) -> int | None:
        method, _, template = change.operation.partition(" ")
        item = _child(_value(self.root, "paths"), template)
        if item is None:
            return None
        operation = _child(self.deref(item)[0], method.lower())
        if operation is None:
            return item[1]
        if change.path == "endpoint":
            return operation[1]
        op = self.deref(operation)
        prefix = change.path.partition(": ")[0]
        if prefix.startswith("request body"):
            body = _child(op[0], "requestBody")
            if body is None or change.id.startswith(_BODY_RULES):
                return body[1] if body else op[1]
            return self._in_body(self.deref(body), prefix.removeprefix("request body").strip(), change)
        if prefix.startswith("response "):
            status, _, media = prefix.removeprefix("response ").partition(" ")
            response = _child(_value(op[0], "responses"), status)
            if response is None or "-status-" in change.id:
                return response[1] if response else op[1]
            return self._in_body(self.deref(response), media, change)
        return self._parameter(item, op, change.path)

    def _parameter(self, item: _Found, op: _Found, path: str) -> int:
        where, _, name = path.partition(": ")
        for holder in (op, self.deref(item)):
            for param in _items(_value(holder[0], "parameters")):
                node, _ = self.deref(param)
                if _scalar(node, "in") == where and _scalar(node, "name") == name.partition(": ")[0]:
                    return param[1]
        return op[1]

    def _in_body(self, holder: _Found, media: str, change: Change) -> int:
        content = _child(holder[0], "content")
        if content is None or not isinstance(content[0], yaml.MappingNode):
            return holder[1]
        keys = [k.value for k, _ in content[0].value if isinstance(k, yaml.ScalarNode)]
        chosen = next((k for k in keys if k.lower() == media.lower()), None) if media else None
        chosen = chosen or next(
            (k for k in keys if k.lower() == "application/json" or k.lower().endswith("+json")), None
        )
        picked = _child(content[0], chosen or (keys[0] if keys else ""))
        if picked is None:
            return content[1]
        schema = _child(picked[0], "schema")
        if schema is None or change.json_path is None or "-media-type-" in change.id:
            return picked[1]
        match = _BRANCHES.search(change.text)
        labels = match.group(1).split(" > ") if match else []
        found = schema
        for segment in parse_path(change.json_path):
            step = self._step(found, segment, labels, 0)
            if step is None:
                break  # removed here: the deepest schema that still exists
            found = step
        return found[1]

    def _step(self, found: _Found, segment: str, labels: list[str], depth: int) -> _Found | None:
        """The schema for one instance step below `found`, looking through allOf, contentSchema
        and oneOf/anyOf branches (the branch the change names first)."""
        if depth > 16:
            return None
        node, _ = self.deref(found)
        if segment == "[*]":
            direct = _child(node, "items")
        elif segment == "*":
            direct = _child(node, "additionalProperties")
        else:
            direct = _child(_value(node, "properties"), segment)
        if direct is not None:
            return direct
        candidates = [*_items(_value(node, "allOf"))]
        if (inner := _child(node, "contentSchema")) is not None:
            candidates.append(inner)
        for kind in ("oneOf", "anyOf"):
            branches = [b for b in _items(_value(node, kind)) if not self._null(b)]
            if len(branches) > 1 and labels and labels[0].startswith(f"{kind} "):
                label = labels.pop(0).removeprefix(f"{kind} ")
                named = [b for i, b in enumerate(branches) if self._named(b, i, label)]
                branches = named + [b for b in branches if b not in named]
            candidates += branches
        for candidate in candidates:
            step = self._step(candidate, segment, labels, depth + 1)
            if step is not None:
                return step
        return None

    def _null(self, found: _Found) -> bool:
        node, _ = self.deref(found)
        return _scalar(node, "type") == "null"

    def _named(self, found: _Found, position: int, label: str) -> bool:
        """Whether a branch is the one a change's `(in oneOf LABEL)` names (see `schemas.branch_label`)."""
        ref = _scalar(found[0], "$ref")
        if label == f"#{position}" or (ref is not None and ref.rsplit("/", 1)[-1] == label):
            return True
        node, _ = self.deref(found)
        props = _value(node, "properties")
        consts = []
        for key, value in props.value if isinstance(props, yaml.MappingNode) else []:
            const = _scalar(value, "const")
            if const is not None:
                consts.append(f"{key.value}={const}")
        return ",".join(sorted(consts)) == label or f"const={_scalar(node, 'const')}" == label
