"""`harness diff OLD [NEW]`: breaking changes between two API descriptions.

Exit codes as the rest of the CLI: 0 nothing at or above `--fail-on` (waived changes do
not count), 1 breaking changes, 2 usage or load errors (raised as HarnessError; the CLI
prints them and exits 2).
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from harness.compat.exposure import Document, exercised_by
from harness.compat.formats import FORMATS, Report, render
from harness.compat.load import load_description
from harness.compat.operations import diff
from harness.compat.rules import Level
from harness.compat.waivers import Waiver, apply_waivers, load_waivers
from harness.errors import HarnessError, UsageError
from harness.files import write_atomic

EXIT_OK, EXIT_FAILED, EXIT_ERROR = 0, 1, 2


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    """Register `diff` on the CLI's subparsers."""
    parser = subparsers.add_parser(
        "diff",
        help="Breaking changes between two API descriptions (oasdiff rule ids and levels).",
        description="Compare two OpenAPI descriptions and report breaking changes under oasdiff's rule ids.",
    )
    parser.add_argument(
        "base", metavar="OLD", help="Old description: a file, REV:path (e.g. HEAD~1:openapi/vlmrun-agent.yaml), a URL."
    )
    parser.add_argument(
        "revision",
        metavar="NEW",
        nargs="?",
        default=None,
        help="New description, same forms (default: the packaged description).",
    )
    parser.add_argument("--format", choices=FORMATS, default="text", help="Output format (default: text).")
    parser.add_argument(
        "--fail-on",
        choices=[level.name for level in (Level.ERR, Level.WARN, Level.INFO)],
        default="ERR",
        help="Exit 1 when an unwaived change is at or above this level (default: ERR).",
    )
    parser.add_argument("--waivers", type=Path, default=None, metavar="FILE", help="YAML file of accepted breaks.")
    parser.add_argument("--out", type=Path, default=None, metavar="FILE", help="Write the report here (atomic).")
    return parser


def build_report(args: argparse.Namespace, cwd: Path | None = None) -> Report:
    from harness.contract import default_description_path

    revision = args.revision or _packaged(default_description_path(), cwd or Path.cwd())
    return compare(args.base, revision, waivers=args.waivers, fail_on=args.fail_on, cwd=cwd)


def compare(
    base_spec: str, revision_spec: str, *, waivers: Path | None = None, fail_on: str = "ERR", cwd: Path | None = None
) -> Report:
    """Load both descriptions, diff them, apply the waivers: the report `harness diff` and the gate render."""
    base = load_description(base_spec, cwd=cwd)
    revision = load_description(revision_spec, cwd=cwd)
    changes = diff(base, revision)
    unused: list[Waiver] = []
    if waivers is not None:
        changes, unused = apply_waivers(changes, load_waivers(waivers))
    return Report(
        base=base.label,
        revision=revision.label,
        changes=changes,
        fail_on=Level[fail_on],
        revision_file=revision.file,
        waivers_file=str(waivers) if waivers is not None else None,
        unused_waivers=unused,
    )


def _packaged(path: Path, cwd: Path) -> str:
    """The packaged description, relative to `cwd` when below it (annotations want that)."""
    try:
        return str(path.resolve().relative_to(cwd.resolve()))
    except ValueError:
        return str(path)


def run(args: argparse.Namespace, traffic: Callable[[], Iterable[Document]] | None = None) -> int:
    """Diff, render, write; 1 when the gate fails. Raises HarnessError on bad input.

    `traffic` yields the recorded bodies (cassettes, snapshots) to check failing changes
    against; reading cassettes is a higher layer's job, so the caller supplies them.
    """
    report = build_report(args)
    if traffic is not None and report.failing:
        report = dataclasses.replace(report, exercised=exercised_by(report.failing, traffic()))
    output = render(report, args.format)
    if args.out is None:
        sys.stdout.write(output)
        sys.stdout.flush()
    else:
        _write_out(args.out, output)
        print(f"{report.summary()}; report written to {args.out}", file=sys.stderr)
    return EXIT_FAILED if report.failing else EXIT_OK


def _write_out(path: Path, text: str) -> None:
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise UsageError(f"--out: folder {folder} does not exist")
    write_atomic(path, text)


def main(argv: Sequence[str] | None = None) -> int:
    """`harness diff` on its own (tests, `python -m harness.compat.command`)."""
    parser = argparse.ArgumentParser(prog="harness")
    add_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["diff", *(sys.argv[1:] if argv is None else argv)])
    try:
        return run(args)
    except HarnessError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())
