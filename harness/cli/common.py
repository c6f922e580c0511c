"""What every subcommand shares: the one-line usage error, argument types, cassette folders."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn

from harness import settings
from harness.errors import UsageError


class Parser(argparse.ArgumentParser):
    """argparse, with a usage error on one line (what is wrong, where the flags are listed)."""

    def error(self, message: str) -> NoReturn:
        self.exit(settings.EXIT_ERROR, f"error: {message}; see `{self.prog} --help`\n")


def port(text: str) -> int:
    if text.isascii() and text.isdigit() and int(text) <= 65535:
        return int(text)
    raise argparse.ArgumentTypeError(f"{text} is not a port number: use 0 to 65535 (0 picks a free port)")


def level(*allowed: str) -> Callable[[str], str]:
    """A change level, in any case (`warn`, `WARN`), as its upper-case name."""

    def parse(text: str) -> str:
        if text.upper() not in allowed:
            choices = f"{', '.join(allowed[:-1])} or {allowed[-1]}"
            raise argparse.ArgumentTypeError(f"invalid level {text!r}: choose {choices} (in any case)")
        return text.upper()

    return parse


def cassette_paths(paths: list[Path] | None) -> list[Path]:
    """The folders named, each checked to exist, or every `cassettes` folder below the current one."""
    from harness.recording.verify import discover_cassette_dirs

    if paths:
        missing = [p for p in paths if not p.exists()]
        if missing:
            raise UsageError(f"No such cassette folder or file: {', '.join(map(str, missing))}")
        return paths
    return discover_cassette_dirs(Path.cwd())
