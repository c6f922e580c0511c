"""`harness cassettes migrate|prune`: work on recorded cassettes."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from rich.console import Console

from harness import settings
from harness.cli.common import cassette_paths


def add(sub: Any) -> None:
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


def run(args: argparse.Namespace) -> int:
    if args.cassettes_command == "prune":
        from harness.recording.prune import prune

        pruned = prune(cassette_paths(args.paths), dry_run=args.dry_run)
        Console().print(pruned.format(), highlight=False, markup=False, soft_wrap=True)
        return settings.EXIT_OK
    from harness.recording.migrate import migrate

    migrated = migrate(cassette_paths(args.paths))
    Console().print(migrated.format(), highlight=False, markup=False, soft_wrap=True)
    return settings.EXIT_ERROR if migrated.errors else settings.EXIT_OK
