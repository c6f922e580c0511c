"""The optional extras: which one brings what, and the one line that says how to install it.

The core package is the pytest plugin, the recorder, the reference server and the CLI. It
stays light because it is installed into the user's test environment, where whatever it
pulls in loads too: schemathesis and hypothesis register pytest plugins (about 2 s on every
pytest run) and syrupy's `--snapshot-update` clashes with pytest-snapshot's. What only
some features need is an extra, named here and nowhere else:

    gate       harness check        schemathesis, hypothesis, openapi-spec-validator
    snapshots  request snapshots    syrupy
    vlmrun     the vlmrun client    vlmrun (and the openai it pins)

Every guard goes through `require_extra` (is it installed? raise if not) or `missing_extra`
(the error, for an `except ImportError`), so the message reads the same everywhere, on one line:

    harness check needs the 'gate' extra (schemathesis not installed): pip install 'vlmrun-skills-harness[gate]'
"""

from __future__ import annotations

import importlib.util
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from harness.errors import UsageError

DISTRIBUTION = "vlmrun-skills-harness"


@dataclass(frozen=True)
class Extra:
    name: str
    modules: Mapping[str, str]
    """Top-level module -> the distribution that installs it; the extra is there when every one imports."""
    needed_by: str
    """What needs it: the subject of the message unless a guard names something narrower."""


EXTRAS: dict[str, Extra] = {
    extra.name: extra
    for extra in (
        Extra(
            "gate",
            {
                "schemathesis": "schemathesis",
                "hypothesis": "hypothesis",
                "openapi_spec_validator": "openapi-spec-validator",
            },
            "harness check",
        ),
        Extra("snapshots", {"syrupy": "syrupy"}, "snapshot testing"),
        Extra("vlmrun", {"vlmrun": "vlmrun"}, "the vlmrun client"),
    )
}


def _extra(name: str) -> Extra:
    try:
        return EXTRAS[name]
    except KeyError:
        raise ValueError(f"no extra named {name!r}; the extras are {', '.join(EXTRAS)}") from None


def install_command(*names: str) -> str:
    """`pip install 'vlmrun-skills-harness[gate]'` (several names: one command for all)."""
    for name in names:
        _extra(name)
    return f"pip install '{DISTRIBUTION}[{','.join(names)}]'"


def _importable(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # a broken parent package, or a module without a spec
        return False


def absent_modules(name: str) -> list[str]:
    """The extra's modules that cannot be imported here (empty: it is installed)."""
    return [module for module in _extra(name).modules if not _importable(module)]


def extra_installed(name: str) -> bool:
    return not absent_modules(name)


def extra_message(name: str, needed_by: str | None = None, *, modules: Sequence[str] = ()) -> str:
    """The one-line message: what needs the extra, what is missing, and the install command."""
    extra = _extra(name)
    what = ", ".join(extra.modules.get(m, m) for m in (modules or extra.modules))
    return f"{needed_by or extra.needed_by} needs the '{name}' extra ({what} not installed): {install_command(name)}"


def missing_extra(name: str, needed_by: str | None = None, *, modules: Sequence[str] = ()) -> UsageError:
    """The error to raise when the extra is not there, e.g. from `except ImportError`.

    `modules` names what failed to import (default: whichever of the extra's modules are absent).
    """
    return UsageError(extra_message(name, needed_by, modules=modules or absent_modules(name)))


def require_extra(name: str, needed_by: str | None = None) -> None:
    """Return if the extra is installed, else raise `UsageError` with the one-line message.

    In a pytest fixture, e.g. `vlmrun_snapshot`: call `require_extra("snapshots", "the
    vlmrun_snapshot fixture")`, then `request.getfixturevalue("snapshot")`, so a run without
    syrupy says what to install instead of "fixture 'snapshot' not found".
    """
    gone = absent_modules(name)
    if gone:
        raise UsageError(extra_message(name, needed_by, modules=gone))
