"""A project's own settings for the harness: `[tool.vlmrun-harness]` in its `pyproject.toml`.

One place that the pytest plugin and the CLI both read, so `pytest`, `harness verify` and
`harness check` judge by the same description, overlays and skills; a flag (or a pytest ini
option) overrides the file, key by key. Paths are relative to the `pyproject.toml` that holds
them, so the commands work from any folder of the project. A misspelt key is an error naming
the file and the key, not a setting silently ignored.

    [tool.vlmrun-harness]
    description = "openapi/vlmrun-agent.yaml"   # default: the description packaged with the harness
    overlays = ["vlmrun-overlay.yaml"]          # OpenAPI Overlay 1.0 corrections, applied in order
    skills = ["skills"]                         # folders of skills the embedded server serves
    hosts = ["vlm-proxy.internal"]              # more hosts whose traffic is VLM Run's

    [tool.vlmrun-harness.gate]
    properties = "off"                          # "embedded": property-test the embedded server
    accepted = ".vlmrun/accepted-description.yaml"  # the description last accepted, diffed each run
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.errors import UsageError

__all__ = [
    "GATE_PROPERTIES",
    "TABLE",
    "GateConfig",
    "ProjectConfig",
    "find_pyproject",
    "load_project_config",
    "no_such_path",
]

TABLE = "vlmrun-harness"
GATE_PROPERTIES = ("off", "embedded")
_TOP_KEYS = frozenset({"description", "overlays", "skills", "hosts", "gate"})
_GATE_KEYS = frozenset({"properties", "accepted"})


@dataclass(frozen=True)
class GateConfig:
    """What `harness check` does in this project when no flag says otherwise."""

    properties: str = "off"
    accepted: Path | None = None


@dataclass(frozen=True)
class ProjectConfig:
    """The table's values with paths made absolute; `source` is the file read (None: no table found)."""

    source: Path | None = None
    description: Path | None = None
    overlays: tuple[Path, ...] = ()
    skills: tuple[Path, ...] = ()
    hosts: tuple[str, ...] = ()
    gate: GateConfig = field(default_factory=GateConfig)

    def origin(self, key: str) -> str:
        """Where a setting came from, as messages name it: the file, the table and the key."""
        return f"{self.source} [tool.{TABLE}] {key}"


def find_pyproject(start: Path) -> Path | None:
    """The nearest `pyproject.toml` at or above `start` (the project's root, as pip and pytest find it)."""
    here = start.resolve()
    for folder in (here, *here.parents):
        candidate = folder / "pyproject.toml"
        if candidate.is_file():
            return candidate
    return None


def load_project_config(start: Path | None = None, *, pyproject: Path | None = None) -> ProjectConfig:
    """The `[tool.vlmrun-harness]` table of the project at `start` (default: the current folder)."""
    path = pyproject or find_pyproject(start or Path.cwd())
    if path is None:
        return ProjectConfig()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path}: cannot read it ({exc})") from exc
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"{path}: not valid TOML ({exc})") from exc
    table = data.get("tool", {}).get(TABLE)
    if table is None:
        return ProjectConfig()
    return _parse(table, path)


def _parse(table: Any, path: Path) -> ProjectConfig:
    where = f"{path} [tool.{TABLE}]"
    if not isinstance(table, Mapping):
        raise UsageError(f"{where} must be a table")
    _no_unknown(table, _TOP_KEYS, where)
    root = path.parent
    gate_table = table.get("gate", {})
    if not isinstance(gate_table, Mapping):
        raise UsageError(f"{where}: `gate` must be a table ([tool.{TABLE}.gate])")
    _no_unknown(gate_table, _GATE_KEYS, f"{path} [tool.{TABLE}.gate]")
    properties = gate_table.get("properties", "off")
    if properties not in GATE_PROPERTIES:
        raise UsageError(
            f"{path} [tool.{TABLE}.gate]: `properties` must be one of {', '.join(GATE_PROPERTIES)}, got {properties!r}"
        )
    accepted = gate_table.get("accepted")
    return ProjectConfig(
        source=path,
        description=_path(table.get("description"), root, f"{where}: `description`"),
        overlays=tuple((root / p).resolve() for p in _strings(table, "overlays", where)),
        skills=tuple((root / p).resolve() for p in _strings(table, "skills", where)),
        hosts=tuple(_strings(table, "hosts", where)),
        gate=GateConfig(properties=properties, accepted=_path(accepted, root, f"{where}: `gate.accepted`")),
    )


def _no_unknown(table: Mapping[str, Any], known: frozenset[str], where: str) -> None:
    unknown = sorted(set(table) - known)
    if unknown:
        raise UsageError(f"{where}: unknown key(s) {', '.join(unknown)} (known: {', '.join(sorted(known))})")


def _strings(table: Mapping[str, Any], key: str, where: str) -> Sequence[str]:
    value = table.get(key, [])
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise UsageError(f"{where}: `{key}` must be a list of non-empty strings")
    return value


def _path(value: Any, root: Path, what: str) -> Path | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise UsageError(f"{what} must be a non-empty path string")
    return (root / value).resolve()


def no_such_path(origin: str, given: str | Path, resolved: Path, *, folder: bool = False) -> UsageError:
    """The one message for a configured path that is not there, wherever it was configured.

    `given` is what the user wrote; `resolved` (shown when it differs) is where it was looked for,
    which says which folder a relative path starts from.
    """
    looked = f" (looked for {resolved})" if str(resolved) != str(given) else ""
    return UsageError(f"{origin}: no such {'folder' if folder else 'file'}: {given}{looked}")
