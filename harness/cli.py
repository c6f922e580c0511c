"""`harness` command line: thin wiring over the plain modules.

Exit codes: 0 the contract holds; 1 contract failures (the API or server drifted; for
`matrix`, a cell expected to work fails); 2 usage or set-up errors (the harness could not do
its job, e.g. uv missing or a client stack that cannot be built). Usage errors are one line
on stderr, found before any work starts. Building the parser imports no server, diff engine
or matrix, so `harness --help` and a usage error are fast and print only their own text.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from rich.console import Console
from rich.markup import escape

from harness import settings
from harness.errors import HarnessError, UsageError
from harness.gate.model import SKIPPABLE

if TYPE_CHECKING:
    from harness.gate.run import GateOptions

DIFF_FORMATS = ("text", "json", "markdown", "junit", "githubactions")  # harness.specdiff.formats.FORMATS
LEVELS = ("ERR", "WARN", "INFO")
STACK_NAMES = ("vlmrun-pinned", "vlmrun-openai3", "openai-only", "vlmrun-0.5.8")  # harness.matrix.stacks.STACKS


class _Parser(argparse.ArgumentParser):
    """argparse, with a usage error on one line (what is wrong, where the flags are listed)."""

    def error(self, message: str) -> NoReturn:
        self.exit(settings.EXIT_ERROR, f"error: {message}; see `{self.prog} --help`\n")


def _port(text: str) -> int:
    if text.isascii() and text.isdigit() and int(text) <= 65535:
        return int(text)
    raise argparse.ArgumentTypeError(f"{text} is not a port number: use 0 to 65535 (0 picks a free port)")


def _level(*allowed: str) -> Callable[[str], str]:
    """A change level, in any case (`warn`, `WARN`), as its upper-case name."""

    def level(text: str) -> str:
        if text.upper() not in allowed:
            choices = f"{', '.join(allowed[:-1])} or {allowed[-1]}"
            raise argparse.ArgumentTypeError(f"invalid level {text!r}: choose {choices} (in any case)")
        return text.upper()

    return level


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="harness", description="Contract harness for VLM Run chat completions with skills.")
    # `harness` is this module's package, loaded before it: its version is read, not imported.
    parser.add_argument("--version", action="version", version=f"harness {sys.modules['harness'].__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="Run the embedded reference server.")
    host, port = settings.SERVE_HOST, settings.SERVE_PORT
    serve.add_argument("--host", default=host, help=f"Address to bind, IPv4 or IPv6 (default: {host}).")
    serve.add_argument(
        "--port", type=_port, default=port, help=f"Port, 0 to 65535 (default: {port}; 0 picks a free one)."
    )
    serve.add_argument(
        "--api-key", default=None, help=f"Accepted bearer key (default: ${settings.API_KEY_ENV} or a local default)."
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
    check.add_argument("--waivers", type=Path, default=None, help="Accepted breaks for --against (YAML).")
    check.add_argument(
        "--fail-on",
        type=_level("ERR", "WARN"),
        default="ERR",
        metavar="{ERR,WARN}",
        help="Lowest --against change level that fails the gate, in any case (default: ERR).",
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
    verify.add_argument("--coverage", action="store_true", help="Also list described response fields never recorded.")

    cassettes = sub.add_parser("cassettes", help="Work on recorded cassettes.")
    cassettes_sub = cassettes.add_subparsers(dest="cassettes_command", metavar="ACTION", required=True)
    migrate = cassettes_sub.add_parser(
        "migrate",
        help="Rewrite harness format 1 cassettes as format 2 (plain vcrpy cassettes); others are left alone.",
    )
    migrate.add_argument(
        "paths", nargs="*", type=Path, metavar="CASSETTE_DIR", help="Default: `cassettes` folders here."
    )
    prune = cassettes_sub.add_parser(
        "prune", help="Delete bundle blobs in _blobs/ that no cassette under the same folder refers to."
    )
    prune.add_argument("paths", nargs="*", type=Path, metavar="CASSETTE_DIR", help="Default: `cassettes` folders here.")
    prune.add_argument("--dry-run", action="store_true", help="List what would be removed; remove nothing.")

    diff = sub.add_parser(
        "diff",
        help="Breaking changes between two API descriptions (oasdiff rule ids and levels).",
        description="Compare two OpenAPI descriptions and report breaking changes under oasdiff's rule ids.",
    )
    diff.add_argument(
        "base", metavar="OLD", help="Old description: a file, REV:path (e.g. HEAD~1:openapi/vlmrun-agent.yaml), a URL."
    )
    diff.add_argument(
        "revision", metavar="NEW", nargs="?", help="New description, same forms (default: the packaged one)."
    )
    diff.add_argument("--format", choices=DIFF_FORMATS, default="text", help="Output format (default: text).")
    diff.add_argument(
        "--fail-on",
        type=_level(*LEVELS),
        default="ERR",
        metavar="{ERR,WARN,INFO}",
        help="Exit 1 when an unwaived change is at or above this level, in any case (default: ERR).",
    )
    diff.add_argument("--waivers", type=Path, default=None, metavar="FILE", help="YAML file of accepted breaks.")
    diff.add_argument("--out", type=Path, default=None, metavar="FILE", help="Write the report here (atomic).")

    matrix = sub.add_parser(
        "matrix", help="Send the seed examples through each real client stack; write what each sends and how it fares."
    )
    matrix.add_argument(
        "--stacks", default=None, help=f"Comma-separated stacks (default: all: {','.join(STACK_NAMES)})."
    )
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
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = _parser()
    if not argv:  # no command: what there is to run, and a non-zero exit (nothing was done)
        parser.print_help(sys.stdout)
        return settings.EXIT_ERROR
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help and --version (0), or a usage error (2, already printed)
        return exc.code if isinstance(exc.code, int) else settings.EXIT_ERROR
    console = Console(stderr=True)
    try:
        if args.command == "serve":
            return _serve(args)
        if args.command == "verify":
            return _verify(args, console)
        if args.command == "matrix":
            return _matrix(args, console)
        if args.command == "cassettes":
            return _prune(args) if args.cassettes_command == "prune" else _migrate(args)
        if args.command == "diff":
            return _diff(args)
        return _check(args, console)
    except HarnessError as exc:
        console.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
        return settings.EXIT_ERROR
    except KeyboardInterrupt:
        return settings.EXIT_ERROR


def _serve(args: argparse.Namespace) -> int:
    from harness.reference.server import bind, serve_forever

    listener = bind(args.host, args.port)  # a bad --host or a busy port, before anything is built
    try:
        from harness.reference.app import ServerConfig, create_app
        from harness.reference.registry import Registry

        key = settings.resolve_api_key(args.api_key, local=settings.LOCAL_API_KEY)
        app = create_app(config=ServerConfig(api_key=key.value), registry=Registry.seeded(*args.skills))
    except BaseException:
        listener.close()
        raise

    def ready(url: str) -> None:
        print(f"harness reference server on {url}/v1 (Ctrl-C to stop)", flush=True)

    with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C is how a foreground server stops: a normal end
        serve_forever(app, listener, on_ready=ready, log=sys.stderr)
    return settings.EXIT_OK


def _verify_paths(paths: list[Path] | None) -> list[Path]:
    from harness.recording.verify import discover_cassette_dirs

    if paths:
        missing = [p for p in paths if not p.exists()]
        if missing:
            raise UsageError(f"No such cassette folder or file: {', '.join(map(str, missing))}")
        return paths
    return discover_cassette_dirs(Path.cwd())


def _verify(args: argparse.Namespace, console: Console) -> int:
    """The report on stdout (`harness verify > report.txt`), unreadable cassettes on stderr."""
    paths = _verify_paths(args.paths)
    from harness.contract import default_description_path, load_contract
    from harness.recording.verify import format_result, verify

    contract = load_contract(str(args.description or default_description_path()))
    if not paths:
        print("no cassette folders found: nothing to verify", flush=True)
        return settings.EXIT_OK
    result = verify(paths, contract)
    for error in result.errors:
        console.print(f"[bold red]error:[/] {escape(error)}", highlight=False, soft_wrap=True)
    print(format_result(result, coverage=args.coverage, unseen_limit=None, errors=False), flush=True)
    if result.errors:
        return settings.EXIT_ERROR
    return settings.EXIT_FAILED if result.failed else settings.EXIT_OK


def _prune(args: argparse.Namespace) -> int:
    from harness.recording.prune import prune

    result = prune(_verify_paths(args.paths), dry_run=args.dry_run)
    Console().print(result.format(), highlight=False, markup=False, soft_wrap=True)
    return settings.EXIT_OK


def _migrate(args: argparse.Namespace) -> int:
    from harness.recording.migrate import migrate

    result = migrate(_verify_paths(args.paths))
    Console().print(result.format(), highlight=False, markup=False, soft_wrap=True)
    return settings.EXIT_ERROR if result.errors else settings.EXIT_OK


def _matrix(args: argparse.Namespace, console: Console) -> int:
    from harness.matrix.report import summary_line, write_reports
    from harness.matrix.run import run_matrix

    names = None if args.stacks is None else [n.strip() for n in args.stacks.split(",") if n.strip()]
    if names == []:
        raise UsageError("--stacks names no stack")
    result = run_matrix(
        names, cache=args.cache_dir, refresh=args.refresh, progress=lambda m: console.print(m, highlight=False)
    )
    json_path, md_path = write_reports(result, args.out)
    for stack in result.stacks:
        console.print(summary_line(result, stack), markup=False, highlight=False, soft_wrap=True)
    console.print(f"wrote {md_path} and {json_path}", highlight=False)
    return settings.EXIT_FAILED if result.failed else settings.EXIT_OK


def _diff(args: argparse.Namespace) -> int:
    from harness.gate.description_diff import traffic_documents
    from harness.recording.verify import discover_cassette_dirs
    from harness.specdiff.command import run as run_diff

    root = Path.cwd()
    return run_diff(args, traffic=lambda: traffic_documents(discover_cassette_dirs(root), root))


def _check(args: argparse.Namespace, console: Console) -> int:
    from harness.extras import require_extra

    require_extra("gate", "harness check")
    opts = _gate_options(args)
    from harness.gate.run import run_gate

    return run_gate(opts, console).exit_code


def _gate_options(args: argparse.Namespace) -> GateOptions:
    """Every flag checked before the gate starts: a mistake is one line and exit 2, not a failed step."""
    from harness.contract import default_description_path
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
    if args.waivers and not args.against:
        raise UsageError("--waivers applies to --against: name the older description to diff against")
    if args.description is not None and not args.description.is_file():
        raise UsageError(f"--description {args.description}: no such file (default: the packaged description)")
    _check_report_dir(args.report_dir)
    cassettes = _verify_paths(args.cassettes) if args.cassettes else None
    if args.against:
        from harness.specdiff.command import preflight

        preflight(args.against, args.waivers)
    return GateOptions(
        description=Path(args.description or default_description_path()),
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
    )


def _check_report_dir(report_dir: Path) -> None:
    """The folder, or the nearest part of its path that exists, must be a folder."""
    folder = next(f for f in (report_dir, *report_dir.parents) if f.exists())  # "." and "/" exist
    if not folder.is_dir():
        where = "is a file" if folder == report_dir else f"is inside {folder}, which is a file"
        raise UsageError(f"--report-dir {report_dir} {where}: name a folder (it is created if missing)")


if __name__ == "__main__":
    sys.exit(main())
