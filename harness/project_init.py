"""`harness init`: a team's project set up to test its calls to VLM Run, in one command.

It writes the `[tool.vlmrun-harness]` table, an example skill the embedded server serves, a
starter overlay, the description the project accepts today, an example recorded test and
snapshot test, and a CI workflow. The templates are package data (`harness/templates/init/`),
so an install from a wheel has them.

Nothing is overwritten: every file is checked before the first is written, and when writing
fails half way what this run wrote is removed again, so a project is left complete or as it
was. `pyproject.toml` is the one file changed rather than created: the table is appended, and
a project that already has one is refused.
"""

from __future__ import annotations

import contextlib
import tomllib
from collections.abc import Iterator
from importlib.resources import files
from pathlib import Path

from harness.contract import Contract, default_description_path
from harness.description_yaml import accepted_yaml
from harness.errors import UsageError
from harness.files import atomic_writer
from harness.openapi.overlay import apply_overlay
from harness.yaml_load import load_yaml

__all__ = ["ACCEPTED", "FILES", "OVERLAY", "PYPROJECT", "init_project"]

PYPROJECT = "pyproject.toml"
OVERLAY = "vlmrun-overlay.yaml"
ACCEPTED = ".vlmrun/accepted-description.yaml"
SKILL_DIR = "skills/purchase-order-extraction"
TABLE = "pyproject-table.toml"
FILES: tuple[tuple[str, str], ...] = (
    # (template under harness/templates/init, file in the project); `.tmpl` keeps Python
    # templates out of the package's own modules.
    (OVERLAY, OVERLAY),
    (f"{SKILL_DIR}/SKILL.md", f"{SKILL_DIR}/SKILL.md"),
    (f"{SKILL_DIR}/schema.json", f"{SKILL_DIR}/schema.json"),
    ("tests/test_vlmrun_example.py.tmpl", "tests/test_vlmrun_example.py"),
    ("github/workflows/vlmrun-contract.yml", ".github/workflows/vlmrun-contract.yml"),
)


def init_project(root: Path) -> list[Path]:
    """Write the starter files into the project folder `root`; the paths written, `pyproject.toml` first."""
    if not root.is_dir():
        raise UsageError(f"harness init: {root} is not a folder")
    planned = {root / target: template(name) for name, target in FILES}
    planned[root / ACCEPTED] = accepted_description(planned[root / OVERLAY])
    _refuse_existing(root, [*planned, root / SKILL_DIR])
    pyproject = root / PYPROJECT
    old = _read_pyproject(pyproject)
    new = _with_table(old, template(TABLE).decode())
    with _undo_on_failure(pyproject, old) as created:
        _write(pyproject, new.encode(), created=None)
        for path, content in planned.items():
            _write(path, content, created=created)
    return [pyproject, *planned]


def template(name: str) -> bytes:
    """A template's bytes from the package data."""
    return files("harness").joinpath("templates", "init", *name.split("/")).read_bytes()


def accepted_description(overlay: bytes) -> bytes:
    """The packaged description with `overlay` applied, as YAML: what the project accepts on day one."""
    base = Contract.from_path(default_description_path())
    document = apply_overlay(base.document, load_yaml(overlay), source=OVERLAY)
    return accepted_yaml(document).encode()


def _refuse_existing(root: Path, paths: list[Path]) -> None:
    existing: list[Path] = []
    for path in sorted(paths):  # a folder before what it holds: the folder alone is named
        if (path.exists() or path.is_symlink()) and not any(path.is_relative_to(e) for e in existing):
            existing.append(path)
    if existing:
        names = ", ".join(str(p.relative_to(root)) for p in existing)
        verb, them = ("exists", "it") if len(existing) == 1 else ("exist", "them")
        raise UsageError(f"harness init overwrites nothing, and {names} {verb}: move {them} aside and run it again")


def _read_pyproject(path: Path) -> str | None:
    """Its text, line endings kept (None when there is none); refused when unreadable, not TOML, or set up."""
    if not path.exists():
        return None
    try:
        text = path.read_bytes().decode("utf-8")
        data = tomllib.loads(text)
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"harness init cannot read {PYPROJECT} ({exc})") from exc
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"harness init: {PYPROJECT} is not valid TOML ({exc}): fix it first") from exc
    tool = data.get("tool")
    if isinstance(tool, dict) and "vlmrun-harness" in tool:
        raise UsageError(
            f"harness init: {PYPROJECT} already has [tool.vlmrun-harness], so this project is set up; "
            "harness init changes nothing in it"
        )
    return text


def _with_table(old: str | None, table: str) -> str:
    if old is None:
        return table
    newline = "\r\n" if "\r\n" in old else "\n"  # the file's own line endings
    table = table.replace("\n", newline)
    new = f"{old.rstrip()}{newline}{newline}{table}" if old.strip() else table
    try:
        tomllib.loads(new)
    except tomllib.TOMLDecodeError as exc:  # e.g. `tool` already defined by dotted keys
        raise UsageError(
            f"harness init: [tool.vlmrun-harness] appended to {PYPROJECT} would not be valid TOML ({exc}): "
            "add the table by hand (the harness's README: Use it in your project)"
        ) from exc
    return new


def _write(path: Path, content: bytes, *, created: list[Path] | None) -> None:
    """Write `path` whole; folders and files it creates are added to `created` (None: not recorded)."""
    if created is not None:
        missing = [folder for folder in reversed(path.parents) if not folder.exists()]
        created += missing
    try:
        with atomic_writer(path) as out:
            out.write(content)
    except OSError as exc:
        raise UsageError(f"harness init cannot write {path}: {exc.strerror or exc}") from exc
    if created is not None:
        created.append(path)


@contextlib.contextmanager
def _undo_on_failure(pyproject: Path, old: str | None) -> Iterator[list[Path]]:
    """Yield a list for the paths created; on any failure remove them and restore `pyproject`."""
    created: list[Path] = []
    try:
        yield created
    except BaseException:
        for path in reversed(created):
            with contextlib.suppress(OSError):
                if path.is_dir():
                    path.rmdir()
                else:
                    path.unlink()
        with contextlib.suppress(OSError):
            if old is None:
                pyproject.unlink(missing_ok=True)
            else:
                pyproject.write_bytes(old.encode("utf-8"))
        raise
