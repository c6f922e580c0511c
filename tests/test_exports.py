from __future__ import annotations

import subprocess
import sys
import types

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
