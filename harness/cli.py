"""`harness` command line: thin wiring over the plain modules.

Exit codes: 0 the contract holds; 1 contract failures (the API or server drifted);
2 usage or set-up errors (the harness could not do its job).
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console
from rich.table import Table

from harness.errors import HarnessError

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

    check = sub.add_parser("check", help="Validate the description and property-test a server against it.")
    check.add_argument("--description", type=Path, default=None, help="API description (default: the packaged one).")
    check.add_argument(
        "--base-url", default=None, help="Server to test (default: start the embedded reference server)."
    )
    check.add_argument("--api-key", default=None, help="Bearer key for --base-url (default: $VLMRUN_API_KEY).")
    check.add_argument("--max-examples", type=int, default=300, help="Examples per operation (default: 300).")
    check.add_argument("--junit-xml", type=Path, default=Path("harness-report/junit.xml"), help="JUnit report path.")
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
        help="Cassette folders to verify too (repeatable; default: every `cassettes` folder below the current one).",
    )

    verify = sub.add_parser("verify", help="Check recorded cassettes against the description; report drift both ways.")
    verify.add_argument(
        "paths", nargs="*", type=Path, metavar="CASSETTE_DIR", help="Default: `cassettes` folders here."
    )
    verify.add_argument("--description", type=Path, default=None, help="API description (default: the packaged one).")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    console = Console(stderr=True)
    args = _parser().parse_args(argv)
    try:
        if args.command == "serve":
            return _serve(args, console)
        if args.command == "verify":
            return _verify(args, console)
        return _check(args, console)
    except HarnessError as exc:
        console.print(f"[bold red]error:[/] {exc}", highlight=False)
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


def _check(args: argparse.Namespace, console: Console) -> int:
    from harness.contract import default_description_path, load_contract
    from harness.properties.runner import RunOptions, run

    description = args.description or default_description_path()
    contract = load_contract(str(description))
    contract.check()
    console.print(f"[green]✓[/] description {description} is valid OpenAPI {contract.document['openapi']}")
    if args.max_examples < 1:
        raise _usage("--max-examples must be at least 1")
    phases = tuple(p.strip() for p in args.phases.split(",") if p.strip())
    unknown = sorted(set(phases) - set(ALL_PHASES))
    if unknown or not phases:
        raise _usage(
            f"--phases: unknown phase(s) {', '.join(unknown) or '(none given)'}; choose from {', '.join(ALL_PHASES)}"
        )

    def execute(base_url: str, api_key: str) -> int:
        opts = RunOptions(
            description=Path(description),
            base_url=base_url,
            api_key=api_key,
            max_examples=args.max_examples,
            junit_path=args.junit_xml,
            seed=args.seed,
            workers=args.workers,
            phases=phases,
        )
        console.print(f"running schemathesis against {base_url} ({args.max_examples} examples per operation)…")
        result = run(opts)
        _summary(console, result)
        console.print(f"JUnit report: {args.junit_xml}")
        cassettes = _run_verify(_verify_paths(args.cassettes), args.description, console)
        return max(EXIT_FAILED if result.failed else EXIT_OK, cassettes)

    if args.base_url:
        key = args.api_key or os.environ.get("VLMRUN_API_KEY")
        if not key:
            raise _usage("--base-url needs a key: pass --api-key or set VLMRUN_API_KEY")
        return execute(args.base_url.rstrip("/"), key)

    from harness.reference.app import ServerConfig, create_app
    from harness.reference.server import serve_in_thread

    key = secrets.token_urlsafe(24)
    with serve_in_thread(create_app(config=ServerConfig(api_key=key), contract=contract)) as running:
        console.print(f"embedded reference server on {running.url}")
        return execute(running.url, key)


def _summary(console: Console, result: object) -> None:
    from harness.properties.runner import RunResult

    assert isinstance(result, RunResult)
    table = Table(title="Contract check")
    table.add_column("operation")
    table.add_column("result")
    for op in result.operations:
        status = "[green]passed[/]" if op.ok else f"[red]{len(op.failures)} failure(s), {len(op.errors)} error(s)[/]"
        table.add_row(op.name, status)
    console.print(table)
    console.print(f"test cases: {result.totals}")
    for op in result.operations:
        for message in [*op.failures, *op.errors][:5]:
            console.print(f"[red]{op.name}[/]: {message[:2000]}", highlight=False)
    if result.failed:
        console.print(result.output[-6000:], highlight=False, markup=False)


def _usage(message: str) -> HarnessError:
    from harness.errors import UsageError

    return UsageError(message)


if __name__ == "__main__":
    sys.exit(main())
