"""What every subcommand shares: the one-line usage error, argument types, cassette folders,
and the description in use (flags over `[tool.vlmrun-harness]`, key by key)."""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from harness import settings
from harness.errors import DescriptionError, UsageError
from harness.project_config import ProjectConfig, load_project_config, no_such_path

if TYPE_CHECKING:
    from harness.contract import Contract, DescriptionChoice

TABLE_HINT = "[tool.vlmrun-harness] in pyproject.toml"


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


def add_description_flags(parser: argparse.ArgumentParser) -> None:
    """`--description` and `--overlay`, on every command that reads a description."""
    parser.add_argument(
        "--description",
        type=Path,
        default=None,
        metavar="FILE",
        help=f"API description (default: `description` in {TABLE_HINT}, else the packaged one).",
    )
    parser.add_argument(
        "--overlay",
        action="append",
        type=Path,
        default=None,
        metavar="FILE",
        help="OpenAPI Overlay 1.0 corrections applied to the description, in order; repeatable "
        f"(default: `overlays` in {TABLE_HINT}).",
    )


def description_choice(args: argparse.Namespace, project: ProjectConfig | None = None) -> DescriptionChoice:
    """The description and overlays the flags name, else the project's; each file checked to exist."""
    from harness.contract import DescriptionChoice

    table = project if project is not None else load_project_config()
    if args.description is not None:
        description: Path | None = _existing("--description", args.description)
    elif table.description is not None:
        description = _existing(table.origin("description"), table.description)
    else:
        description = None
    if args.overlay:
        overlays = tuple(_existing("--overlay", o) for o in args.overlay)
    else:
        overlays = tuple(_existing(table.origin("overlays"), o) for o in table.overlays)
    return DescriptionChoice(description, overlays)


def use_description_of(args: argparse.Namespace, project: ProjectConfig | None = None) -> Contract:
    """Make the description the flags and the project name the one in use."""
    return use_choice(description_choice(args, project))


def use_choice(choice: DescriptionChoice) -> Contract:
    """`choice` made the description in use, loaded now; its errors in one line."""
    from harness.contract import use_description

    try:
        return use_description(choice)
    except DescriptionError as exc:  # a YAML error's own message spans several lines
        raise type(exc)(" ".join(line.strip() for line in str(exc).splitlines() if line.strip())) from None


def existing_folders(flag: str, given: list[Path], origin: str, configured: tuple[Path, ...]) -> list[Path]:
    """The folders the flag names, else the configured ones; each checked to exist."""
    if given:
        return [_existing(flag, p, folder=True) for p in given]
    return [_existing(origin, p, folder=True) for p in configured]


def _existing(origin: str, path: Path, *, folder: bool = False) -> Path:
    if not (path.is_dir() if folder else path.is_file()):
        raise no_such_path(origin, path, path, folder=folder)
    return path


@contextlib.contextmanager
def description_restored() -> Iterator[None]:
    """A command makes its description the one in use for the process; run in-process (`main()` from
    Python, a test), the previous one is in use again afterwards."""
    loaded = sys.modules.get("harness.contract")
    previous = loaded.description_in_use() if loaded is not None else None
    try:
        yield
    finally:
        contract = sys.modules.get("harness.contract")
        if contract is not None:
            contract.use_description(previous or contract.DescriptionChoice())
