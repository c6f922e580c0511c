"""`harness verify`: recorded cassettes against the description, drift both ways."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape

from harness import settings
from harness.cli.common import cassette_paths


def add(sub: Any) -> None:
    verify = sub.add_parser("verify", help="Check recorded cassettes against the description; report drift both ways.")
    verify.add_argument(
        "paths", nargs="*", type=Path, metavar="CASSETTE_DIR", help="Default: `cassettes` folders here."
    )
    verify.add_argument("--description", type=Path, default=None, help="API description (default: the packaged one).")
    verify.add_argument("--coverage", action="store_true", help="Also list described response fields never recorded.")


def run(args: argparse.Namespace, console: Console) -> int:
    """The report on stdout (`harness verify > report.txt`), unreadable cassettes on stderr."""
    paths = cassette_paths(args.paths)
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
