"""`harness verify`: recorded cassettes against the description in use, drift both ways.

With `--propose-overlay FILE`, what the traffic shows and the description lacks is written as
an OpenAPI Overlay 1.0 document for the user to review and then list in `overlays`.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape

from harness import settings
from harness.cli.common import add_description_flags, cassette_paths, description_choice, use_choice
from harness.errors import UsageError


def add(sub: Any) -> None:
    verify = sub.add_parser("verify", help="Check recorded cassettes against the description; report drift both ways.")
    verify.add_argument(
        "paths", nargs="*", type=Path, metavar="CASSETTE_DIR", help="Default: `cassettes` folders here."
    )
    add_description_flags(verify)
    verify.add_argument("--coverage", action="store_true", help="Also list described response fields never recorded.")
    verify.add_argument(
        "--propose-overlay",
        type=Path,
        default=None,
        metavar="FILE",
        help="Write what the traffic shows and the description lacks as an OpenAPI Overlay 1.0 file to review.",
    )


def run(args: argparse.Namespace, console: Console) -> int:
    """The report on stdout (`harness verify > report.txt`), unreadable cassettes and what was written on stderr."""
    paths = cassette_paths(args.paths)
    choice = description_choice(args)
    if args.propose_overlay is not None:
        from harness.recording.overlay_proposal import check_writable

        _check_folder(args.propose_overlay)
        check_writable(args.propose_overlay, in_use=choice.overlays)  # before a cassette is read
    contract = use_choice(choice)
    from harness.recording.verify import format_result, verify

    if not paths:
        print("no cassette folders found: nothing to verify", flush=True)
        return settings.EXIT_OK
    result = verify(paths, contract)
    for error in result.errors:
        console.print(f"[bold red]error:[/] {escape(error)}", highlight=False, soft_wrap=True)
    print(format_result(result, coverage=args.coverage, unseen_limit=None, errors=False), flush=True)
    if args.propose_overlay is not None:
        from harness.recording.overlay_proposal import propose_overlay, write_overlay

        overlay = propose_overlay(result, contract)
        if overlay is None:
            console.print("nothing to propose", highlight=False)
        else:
            write_overlay(args.propose_overlay, overlay, in_use=choice.overlays)
            count = len(overlay["actions"])
            said = f"wrote {args.propose_overlay} ({count} action{'' if count == 1 else 's'})"
            console.print(said, markup=False, highlight=False, soft_wrap=True)
    if result.errors:
        return settings.EXIT_ERROR
    return settings.EXIT_FAILED if result.failed else settings.EXIT_OK


def _check_folder(path: Path) -> None:
    """A folder to write into, and not a folder itself."""
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise UsageError(f"--propose-overlay: folder {folder} does not exist")
    if path.is_dir():
        raise UsageError(f"--propose-overlay {path} is a folder: name the file to write the overlay to")
