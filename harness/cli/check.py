"""`harness check`: the CI gate. Every flag is checked before the gate starts.

The project's `[tool.vlmrun-harness]` gives the defaults: the description and overlays (the
description in use for every step), the skills the embedded server serves, whether the
property tests run against that server, and the description last accepted.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console

from harness import settings
from harness.cli.common import add_description_flags, cassette_paths, existing_folders, level, use_description_of
from harness.errors import UsageError
from harness.gate.model import SKIPPABLE
from harness.project_config import GATE_PROPERTIES, ProjectConfig, load_project_config

if TYPE_CHECKING:
    from harness.gate.run import GateOptions


def add(sub: Any) -> None:
    check = sub.add_parser(
        "check",
        help="The CI gate: description, property tests, cassettes, snapshots, the installed client stack, "
        "and diffs against the description last accepted or an older one.",
    )
    add_description_flags(check)
    check.add_argument(
        "--base-url",
        default=None,
        help="Your server to property-test (default: none; see --properties for the embedded reference server).",
    )
    check.add_argument(
        "--properties",
        choices=GATE_PROPERTIES,
        default=None,
        help="Without --base-url: property-test the embedded reference server (embedded) or not (off) "
        "(default: `properties` in [tool.vlmrun-harness.gate], else off).",
    )
    check.add_argument("--api-key", default=None, help=f"Bearer key for --base-url (default: ${settings.API_KEY_ENV}).")
    examples, workers = settings.MAX_EXAMPLES, settings.WORKERS
    check.add_argument(
        "--max-examples",
        type=int,
        default=examples,
        help=f"Property-test examples per operation (default: {examples}).",
    )
    check.add_argument("--seed", type=int, default=None, help="Random seed for a reproducible run.")
    check.add_argument(
        "--workers",
        type=int,
        default=workers,
        help=f"Concurrent schemathesis workers; the coverage phase always runs with one (default: {workers}).",
    )
    check.add_argument(
        "--phases",
        default=",".join(settings.PHASES),
        help=f"Comma-separated schemathesis phases (default: {','.join(settings.PHASES)}).",
    )
    check.add_argument(
        "--cassettes",
        action="append",
        type=Path,
        default=None,
        metavar="DIR",
        help="Cassette folders to verify (repeatable; default: every `cassettes` folder below the current one).",
    )
    check.add_argument(
        "--report-dir",
        type=Path,
        default=settings.REPORT_DIR,
        help=f"Where {settings.JUNIT_REPORT}, {settings.MARKDOWN_REPORT}, {settings.JSON_REPORT} and "
        f"{settings.SCHEMATHESIS_REPORT} go (default: {settings.REPORT_DIR}).",
    )
    check.add_argument(
        "--against", default=None, metavar="OLD", help="Also diff the description against OLD (file, REV:path, URL)."
    )
    check.add_argument(
        "--waivers", type=Path, default=None, help="Accepted breaks for --against and the accepted description (YAML)."
    )
    check.add_argument(
        "--fail-on",
        type=level("ERR", "WARN"),
        default="ERR",
        metavar="{ERR,WARN}",
        help="Lowest change level (--against, the accepted description) that fails the gate, in any case "
        "(default: ERR).",
    )
    check.add_argument(
        "--skip",
        action="append",
        default=[],
        choices=SKIPPABLE,
        help="Skip a step (repeatable), e.g. `--skip properties` for a replay-only job.",
    )
    check.add_argument(
        "--accept",
        action="store_true",
        help="Accept the description in use: write it to the file `accepted` in [tool.vlmrun-harness.gate] "
        "names, which later runs diff against; run no step.",
    )


def run(args: argparse.Namespace, console: Console) -> int:
    from harness.extras import require_extra

    require_extra("gate", "harness check")
    project = load_project_config()
    if args.accept:
        return _accept(args, project, console)
    opts = _gate_options(args, project)
    from harness.gate.run import run_gate

    return run_gate(opts, console).exit_code


def _accept(args: argparse.Namespace, project: ProjectConfig, console: Console) -> int:
    from harness.gate.accepted import accept

    contract = use_description_of(args, project)
    line = accept(project.gate.accepted, contract, Path.cwd())
    console.print(line, markup=False, highlight=False, soft_wrap=True)
    return settings.EXIT_OK


def _gate_options(args: argparse.Namespace, project: ProjectConfig) -> GateOptions:
    """Every flag checked before the gate starts: a mistake is one line and exit 2, not a failed step."""
    from harness.gate.run import GateOptions

    for flag, value in (("--max-examples", args.max_examples), ("--workers", args.workers)):
        if value < 1:
            raise UsageError(f"{flag} must be at least 1")
    phases = tuple(p.strip() for p in args.phases.split(",") if p.strip())
    unknown = sorted(set(phases) - set(settings.PHASES))
    if unknown or not phases:
        choices = ", ".join(settings.PHASES)
        raise UsageError(f"--phases: unknown phase(s) {', '.join(unknown) or '(none given)'}; choose from {choices}")
    key, base_url = None, None
    if args.base_url:
        from harness.gate.target import normalize_base_url

        base_url = normalize_base_url(args.base_url)  # with or without /v1; a bad one is a UsageError
        key = settings.resolve_api_key(args.api_key)
        if key is None:
            raise UsageError(f"--base-url needs a key: pass --api-key or set {settings.API_KEY_ENV}")
    if args.waivers and not (args.against or project.gate.accepted):
        raise UsageError("--waivers applies to --against: name the older description to diff against")
    use_description_of(args, project)  # the description in use for every step, overlays applied
    skills = existing_folders("--skills", [], project.origin("skills"), project.skills)
    _check_report_dir(args.report_dir)
    cassettes = cassette_paths(args.cassettes) if args.cassettes else None
    if args.against:
        from harness.specdiff.command import preflight

        preflight(args.against, args.waivers)
    return GateOptions(
        description=None,
        base_url=base_url,
        api_key=key,
        max_examples=args.max_examples,
        phases=phases,
        seed=args.seed,
        workers=args.workers,
        cassettes=cassettes,
        report_dir=args.report_dir,
        skip=frozenset(args.skip),
        against=args.against,
        waivers=args.waivers,
        fail_on=args.fail_on,
        properties=args.properties or project.gate.properties,
        accepted=project.gate.accepted,
        skills=tuple(skills),
        snapshot_args=_snapshot_args(args),
    )


def _snapshot_args(args: argparse.Namespace) -> tuple[str, ...]:
    """The flags' description for the snapshot tests' pytest (it reads [tool.vlmrun-harness] itself)."""
    named = [("--vlmrun-description", args.description)] if args.description else []
    named += [("--vlmrun-overlay", overlay) for overlay in args.overlay or []]
    return tuple(part for flag, path in named for part in (flag, str(path.resolve())))


def _check_report_dir(report_dir: Path) -> None:
    """The folder, or the nearest part of its path that exists, must be a folder."""
    folder = next(f for f in (report_dir, *report_dir.parents) if f.exists())  # "." and "/" exist
    if not folder.is_dir():
        where = "is a file" if folder == report_dir else f"is inside {folder}, which is a file"
        raise UsageError(f"--report-dir {report_dir} {where}: name a folder (it is created if missing)")
