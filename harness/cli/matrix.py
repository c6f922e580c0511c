"""`harness matrix`: the seed examples through each real client stack."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from rich.console import Console

from harness import settings
from harness.errors import UsageError

STACK_NAMES = ("vlmrun-pinned", "vlmrun-openai3", "openai-only", "vlmrun-0.5.8")  # harness.matrix.stacks.STACKS


def add(sub: Any) -> None:
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


def run(args: argparse.Namespace, console: Console) -> int:
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
