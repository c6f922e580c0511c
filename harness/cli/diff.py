"""`harness diff OLD [NEW]`: breaking changes between two descriptions.

NEW defaults to the description in use (`--description`, `--overlay`, else `[tool.vlmrun-harness]`),
so `harness diff openapi.yaml` shows what a project's overlays change; OLD may be anything.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from harness.cli.common import add_description_flags, level, use_description_of
from harness.files import path_below

FORMATS = ("text", "json", "markdown", "junit", "githubactions")  # harness.specdiff.formats.FORMATS
LEVELS = ("ERR", "WARN", "INFO")


def add(sub: Any) -> None:
    diff = sub.add_parser(
        "diff",
        help="Breaking changes between two API descriptions (oasdiff rule ids and levels).",
        description="Compare two OpenAPI descriptions and report breaking changes under oasdiff's rule ids.",
    )
    diff.add_argument(
        "base", metavar="OLD", help="Old description: a file, REV:path (e.g. HEAD~1:openapi/vlmrun-agent.yaml), a URL."
    )
    diff.add_argument(
        "revision",
        metavar="NEW",
        nargs="?",
        help="New description, same forms (default: the description in use, overlays applied).",
    )
    add_description_flags(diff)
    diff.add_argument("--format", choices=FORMATS, default="text", help="Output format (default: text).")
    diff.add_argument(
        "--fail-on",
        type=level(*LEVELS),
        default="ERR",
        metavar="{ERR,WARN,INFO}",
        help="Exit 1 when an unwaived change is at or above this level, in any case (default: ERR).",
    )
    diff.add_argument("--waivers", type=Path, default=None, metavar="FILE", help="YAML file of accepted breaks.")
    diff.add_argument("--out", type=Path, default=None, metavar="FILE", help="Write the report here (atomic).")


def run(args: argparse.Namespace) -> int:
    from harness.gate.description_diff import traffic_documents
    from harness.recording.verify import discover_cassette_dirs
    from harness.specdiff.command import run as run_diff

    root = Path.cwd()
    if args.revision is not None:
        return run_diff(args, traffic=lambda: traffic_documents(discover_cassette_dirs(root), root))
    from harness.gate.description_file import description_file, own_file

    contract = use_description_of(args)  # NEW: the description in use, its own file or a copy with overlays
    label = None if own_file(contract) is not None else contract.source
    with description_file(contract) as path:
        args.revision = path_below(path, root)  # as the report names it (and annotations want)
        return run_diff(
            args, traffic=lambda: traffic_documents(discover_cassette_dirs(root), root), revision_label=label
        )
