"""`harness` command line: thin wiring over the plain modules.

Exit codes: 0 the contract holds; 1 contract failures (the API or server drifted; for
`matrix`, a cell expected to work fails); 2 usage or set-up errors (the harness could not do
its job, e.g. uv missing or a client stack that cannot be built).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console
from rich.markup import escape

from harness.errors import HarnessError
from harness.gate.model import SKIPPABLE

ALL_PHASES = ("examples", "coverage", "fuzzing", "stateful")

EXIT_OK, EXIT_FAILED, EXIT_ERROR = 0, 1, 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="harness", description="Contract harness for VLM Run chat completions with skills."
    )
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="Run the embedded reference server.")
    serve.add_argument("--host", default="127.0.0.1", help="Interface to bind (default: 127.0.0.1).")
    serve.add_argument("--port", type=int, default=8765, help="Port (default: 8765; 0 picks a free one).")
    serve.add_argument(
        "--api-key", default=None, help="Accepted bearer key (default: $VLMRUN_API_KEY or a local default)."
    )
    serve.add_argument("--skills", action="append", default=[], metavar="DIR", help="Extra skills folder (repeatable).")

    check = sub.add_parser(
        "check",
        help="The CI gate: description, property tests, cassettes, snapshots, the installed client stack, "
        "and optionally a diff against an older description.",
    )
    check.add_argument("--description", type=Path, default=None, help="API description (default: the packaged one).")
    check.add_argument(
        "--base-url", default=None, help="Server to test (default: start the embedded reference server)."
    )
    check.add_argument("--api-key", default=None, help="Bearer key for --base-url (default: $VLMRUN_API_KEY).")
    check.add_argument(
        "--max-examples", type=int, default=25, help="Property-test examples per operation (default: 25)."
    )
    check.add_argument("--seed", type=int, default=None, help="Random seed for a reproducible run.")
    check.add_argument("--workers", type=int, default=1, help="Concurrent schemathesis workers (default: 1).")
    check.add_argument(
        "--phases",
        default=",".join(ALL_PHASES),
        help=f"Comma-separated schemathesis phases (default: {','.join(ALL_PHASES)}).",
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
        default=Path("harness-report"),
        help="Where junit.xml, summary.md, summary.json and schemathesis.xml go (default: harness-report).",
    )
    check.add_argument(
        "--against", default=None, metavar="OLD", help="Also diff the description against OLD (file, REV:path, URL)."
    )
    check.add_argument("--waivers", type=Path, default=None, help="Accepted breaks for --against (YAML).")
    check.add_argument(
        "--fail-on",
        choices=("ERR", "WARN"),
        default="ERR",
        help="Lowest --against change level that fails the gate (default: ERR).",
    )
    check.add_argument(
        "--skip",
        action="append",
        default=[],
        choices=SKIPPABLE,
        help="Skip a step (repeatable), e.g. `--skip properties` for a replay-only job.",
    )

    verify = sub.add_parser("verify", help="Check recorded cassettes against the description; report drift both ways.")
    verify.add_argument(
        "paths", nargs="*", type=Path, metavar="CASSETTE_DIR", help="Default: `cassettes` folders here."
    )
    verify.add_argument("--description", type=Path, default=None, help="API description (default: the packaged one).")

    cassettes = sub.add_parser("cassettes", help="Work on recorded cassettes.")
    cassettes_sub = cassettes.add_subparsers(dest="cassettes_command", metavar="ACTION", required=True)
    migrate = cassettes_sub.add_parser(
        "migrate",
        help="Rewrite harness format 1 cassettes as format 2 (plain vcrpy cassettes); others are left alone.",
    )
    migrate.add_argument(
        "paths", nargs="*", type=Path, metavar="CASSETTE_DIR", help="Default: `cassettes` folders here."
    )

    from harness.compat.command import add_parser as add_diff

    add_diff(sub)

    from harness.matrix.stacks import STACKS

    matrix = sub.add_parser(
        "matrix", help="Send the seed examples through each real client stack; write what each sends and how it fares."
    )
    matrix.add_argument("--stacks", default=None, help=f"Comma-separated stacks (default: all: {','.join(STACKS)}).")
    matrix.add_argument(
        "--out",
        type=Path,
        default=Path("compat-matrix"),
        help="Folder for matrix.md and matrix.json (default: compat-matrix).",
    )
    matrix.add_argument(
        "--refresh", action="store_true", help="Rebuild the stacks' environments instead of reusing them."
    )
    matrix.add_argument(
        "--cache-dir",
        type=Path,
        default=Path(".harness-stacks"),
        help="Where environments are kept (default: .harness-stacks).",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    console = Console(stderr=True)
    args = _parser().parse_args(argv)
    try:
        if args.command == "serve":
            return _serve(args, console)
        if args.command == "verify":
            return _verify(args, console)
        if args.command == "matrix":
            return _matrix(args, console)
        if args.command == "cassettes":
            return _migrate(args)
        if args.command == "diff":
            return _diff(args)
        return _check(args, console)
    except HarnessError as exc:
        console.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
        return EXIT_ERROR
    except KeyboardInterrupt:
        return EXIT_ERROR


def _serve(args: argparse.Namespace, console: Console) -> int:
    from harness.reference.app import DEFAULT_API_KEY, ServerConfig, create_app
    from harness.reference.registry import Registry
    from harness.reference.server import Running, serve_forever

    api_key = args.api_key or os.environ.get("VLMRUN_API_KEY") or DEFAULT_API_KEY
    app = create_app(config=ServerConfig(api_key=api_key), registry=Registry.seeded(*args.skills))

    def ready(running: Running) -> None:
        print(f"harness reference server on {running.url}/v1 (Ctrl-C to stop)", flush=True)

    serve_forever(app, host=args.host, port=args.port, on_ready=ready)
    return EXIT_OK


def _verify_paths(paths: list[Path] | None) -> list[Path]:
    from harness.recording.verify import discover_cassette_dirs

    if paths:
        missing = [p for p in paths if not p.exists()]
        if missing:
            raise _usage(f"No such cassette folder or file: {', '.join(map(str, missing))}")
        return paths
    return discover_cassette_dirs(Path.cwd())


def _run_verify(paths: list[Path], description: Path | None, console: Console) -> int:
    from harness.contract import default_description_path, load_contract
    from harness.recording.verify import format_result, verify

    contract = load_contract(str(description or default_description_path()))
    if not paths:
        console.print("no cassette folders found: nothing to verify")
        return EXIT_OK
    result = verify(paths, contract)
    console.print(format_result(result), highlight=False, markup=False, soft_wrap=True)
    if result.errors:
        return EXIT_ERROR
    return EXIT_FAILED if result.failed else EXIT_OK


def _verify(args: argparse.Namespace, console: Console) -> int:
    return _run_verify(_verify_paths(args.paths), args.description, console)


def _migrate(args: argparse.Namespace) -> int:
    from harness.recording.migrate import migrate

    result = migrate(_verify_paths(args.paths))
    Console().print(result.format(), highlight=False, markup=False, soft_wrap=True)
    return EXIT_ERROR if result.errors else EXIT_OK


def _matrix(args: argparse.Namespace, console: Console) -> int:
    from harness.matrix.report import summary_line, write_reports
    from harness.matrix.run import run_matrix

    names = None if args.stacks is None else [n.strip() for n in args.stacks.split(",") if n.strip()]
    if names == []:
        raise _usage("--stacks names no stack")
    result = run_matrix(
        names, cache=args.cache_dir, refresh=args.refresh, progress=lambda m: console.print(m, highlight=False)
    )
    json_path, md_path = write_reports(result, args.out)
    for stack in result.stacks:
        console.print(summary_line(result, stack), markup=False, highlight=False, soft_wrap=True)
    console.print(f"wrote {md_path} and {json_path}", highlight=False)
    return EXIT_FAILED if result.failed else EXIT_OK


def _diff(args: argparse.Namespace) -> int:
    from harness.compat.command import run as run_diff
    from harness.gate.compat_steps import traffic_documents
    from harness.recording.verify import discover_cassette_dirs

    root = Path.cwd()
    return run_diff(args, traffic=lambda: traffic_documents(discover_cassette_dirs(root), root))


def _check(args: argparse.Namespace, console: Console) -> int:
    from harness.extras import require_extra

    require_extra("gate", "harness check")
    from harness.contract import default_description_path
    from harness.gate.run import GateOptions, run_gate

    if args.max_examples < 1:
        raise _usage("--max-examples must be at least 1")
    phases = tuple(p.strip() for p in args.phases.split(",") if p.strip())
    unknown = sorted(set(phases) - set(ALL_PHASES))
    if unknown or not phases:
        raise _usage(
            f"--phases: unknown phase(s) {', '.join(unknown) or '(none given)'}; choose from {', '.join(ALL_PHASES)}"
        )
    key = None
    if args.base_url:
        key = args.api_key or os.environ.get("VLMRUN_API_KEY")
        if not key:
            raise _usage("--base-url needs a key: pass --api-key or set VLMRUN_API_KEY")
    if args.waivers and not args.against:
        raise _usage("--waivers applies to --against: name the older description to diff against")
    opts = GateOptions(
        description=Path(args.description or default_description_path()),
        base_url=args.base_url,
        api_key=key,
        max_examples=args.max_examples,
        phases=phases,
        seed=args.seed,
        workers=args.workers,
        cassettes=_verify_paths(args.cassettes) if args.cassettes else None,
        report_dir=args.report_dir,
        skip=frozenset(args.skip),
        against=args.against,
        waivers=args.waivers,
        fail_on=args.fail_on,
    )
    return run_gate(opts, console).exit_code


def _usage(message: str) -> HarnessError:
    from harness.errors import UsageError

    return UsageError(message)


if __name__ == "__main__":
    sys.exit(main())
