from __future__ import annotations

import importlib
import inspect
import subprocess
import sys
import types
import typing
from pathlib import Path

import pytest

import harness


def test_all_names_what_the_package_exports() -> None:
    public = {
        name
        for name, value in vars(harness).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType) and name != "annotations"
    }
    assert set(harness.__all__) - {"__version__"} == public


def test_importing_the_package_is_cheap() -> None:
    heavy = "('jsonschema_rs', 'schemathesis', 'starlette', 'yaml')"
    code = f"import sys, harness; print(','.join(m for m in {heavy} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == ""


def test_errors_and_failures_are_distinct_families() -> None:
    assert issubclass(harness.ConformanceFailure, AssertionError)
    assert not issubclass(harness.ConformanceFailure, harness.HarnessError)
    assert issubclass(harness.BundleError, harness.HarnessError)
    err = harness.BundleError("bundle has no SKILL.md at the zip root", code="missing_skill_md", entry="x/SKILL.md")
    assert str(err) == "bundle has no SKILL.md at the zip root (entry 'x/SKILL.md')"


# The modules users import (ARCHITECTURE.md, "Public surface"); everything else is internal.
PUBLIC_MODULES = (
    "harness.wire",
    "harness.skill_dicts",
    "harness.bundles",
    "harness.canonical",
    "harness.contract",
    "harness.models",
    "harness.snapshots",
    "harness.recording.seams",
)


@pytest.mark.parametrize("name", PUBLIC_MODULES)
def test_each_public_module_exports_what_it_names(name: str) -> None:
    module = importlib.import_module(name)
    exported = getattr(module, "__all__", None)
    assert exported is not None, f"{name} has no __all__"
    missing = [n for n in exported if not hasattr(module, n)]
    assert missing == [], f"{name}.__all__ names what it does not have: {missing}"
    defined_here = {
        n
        for n, v in vars(module).items()
        if not n.startswith("_") and (inspect.isclass(v) or inspect.isfunction(v)) and v.__module__ == name
    }
    unlisted = sorted(defined_here - set(exported))
    assert unlisted == [], f"{name} defines public names outside __all__ (export them or prefix _): {unlisted}"


@pytest.mark.parametrize("name", ["harness.bundles", "harness.models"])
def test_a_public_package_exports_exactly_its_all(name: str) -> None:
    module = importlib.import_module(name)
    public = {
        n
        for n, v in vars(module).items()
        if not n.startswith("_")
        and not isinstance(v, types.ModuleType)
        and v is not getattr(typing, n, None)
        and n != "annotations"
    }
    assert public == set(module.__all__)


def test_the_blob_store_is_the_storage_seam(tmp_path: Path) -> None:
    from harness.recording.blobs import BlobStore
    from harness.recording.seams import BlobStorage

    assert isinstance(BlobStore(tmp_path / "c.yaml"), BlobStorage)
