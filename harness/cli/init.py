"""`harness init`: set up the current project (configuration, an example skill, tests, CI)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from harness import settings
from harness.files import path_below


def add(sub: Any) -> None:
    sub.add_parser(
        "init",
        help="Set up this project: configuration, an example skill, an example recorded test, a CI workflow "
        "(overwrites nothing).",
        description="Write [tool.vlmrun-harness] into pyproject.toml, an example skill, an example recorded "
        "test and a CI workflow. An existing file stops it before anything is written.",
    )


def run(args: argparse.Namespace) -> int:
    """One line per file written, relative to the project (the current folder)."""
    from harness.project_init import init_project

    root = Path.cwd()
    for path in init_project(root):
        print(f"wrote {path_below(path, root)}", flush=True)
    return settings.EXIT_OK
