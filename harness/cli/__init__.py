"""`harness` command line: thin wiring over the plain modules, one module per subcommand.

Exit codes: 0 the contract holds; 1 contract failures (the API or server drifted; for
`matrix`, a cell expected to work fails); 2 usage or set-up errors (the harness could not do
its job, e.g. uv missing or a client stack that cannot be built). Usage errors are one line
on stderr, found before any work starts. Building the parser imports no server, diff engine
or matrix, so `harness --help` and a usage error are fast and print only their own text.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from rich.console import Console
from rich.markup import escape

from harness import settings
from harness.cli import cassettes, check, diff, init, matrix, serve, verify
from harness.cli.common import Parser, description_restored
from harness.cli.diff import FORMATS as DIFF_FORMATS
from harness.cli.diff import LEVELS
from harness.cli.matrix import STACK_NAMES
from harness.errors import HarnessError

__all__ = ["DIFF_FORMATS", "LEVELS", "STACK_NAMES", "main"]


def _parser() -> argparse.ArgumentParser:
    parser = Parser(prog="harness", description="Contract harness for VLM Run chat completions with skills.")
    # `harness` is this module's package, loaded before it: its version is read, not imported.
    parser.add_argument("--version", action="version", version=f"harness {sys.modules['harness'].__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    for command in (init, serve, check, verify, cassettes, diff, matrix):
        command.add(sub)
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
        with description_restored():
            return _run(args, console)
    except HarnessError as exc:
        console.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
        return settings.EXIT_ERROR
    except KeyboardInterrupt:
        return settings.EXIT_ERROR


def _run(args: argparse.Namespace, console: Console) -> int:
    if args.command == "serve":
        return serve.run(args)
    if args.command == "verify":
        return verify.run(args, console)
    if args.command == "matrix":
        return matrix.run(args, console)
    if args.command == "cassettes":
        return cassettes.run(args)
    if args.command == "diff":
        return diff.run(args)
    if args.command == "init":
        return init.run(args)
    return check.run(args, console)


if __name__ == "__main__":
    sys.exit(main())
