"""The extras: one table of what each brings, one line when one is missing, every guard using it."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from harness.errors import UsageError
from harness.extras import (
    EXTRAS,
    absent_modules,
    extra_installed,
    extra_message,
    install_command,
    missing_extra,
    require_extra,
)

ROOT = Path(__file__).resolve().parent.parent
GATE_LINE = (
    "harness check needs the 'gate' extra (schemathesis not installed): pip install 'vlmrun-skills-harness[gate]'"
)
SNAPSHOTS_LINE = (
    "snapshot testing needs the 'snapshots' extra (syrupy not installed): "
    "pip install 'vlmrun-skills-harness[snapshots]'"
)


def _block(monkeypatch: pytest.MonkeyPatch, *modules: str) -> None:
    """Make `modules` (and anything below them) look uninstalled, the way a missing extra does."""
    real = importlib.util.find_spec

    def find_spec(name: str, package: str | None = None) -> object:
        if name.split(".")[0] in modules:
            return None
        return real(name, package)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)
    for name in [n for n in sys.modules if n.split(".")[0] in modules]:
        monkeypatch.setitem(sys.modules, name, None)
    for name in modules:
        monkeypatch.setitem(sys.modules, name, None)


def _requirement_names(requirements: list[str]) -> set[str]:
    return {re.split(r"[\[<>=!~; ]", r, maxsplit=1)[0] for r in requirements}


def test_every_extra_matches_pyproject() -> None:
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    for extra in EXTRAS.values():
        assert _requirement_names(declared[extra.name]) == set(extra.modules.values()), extra.name
    assert set(declared) == {*EXTRAS, "all"}
    assert _requirement_names(declared["all"]) == {"vlmrun-skills-harness"}
    assert all(e in declared["all"][0] for e in EXTRAS)


def test_the_dev_group_installs_every_extra() -> None:
    dev = tomllib.loads((ROOT / "pyproject.toml").read_text())["dependency-groups"]["dev"]
    [self_reference] = [r for r in dev if r.startswith("vlmrun-skills-harness[")]
    assert set(self_reference.removeprefix("vlmrun-skills-harness[").removesuffix("]").split(",")) == set(EXTRAS)


def test_install_command() -> None:
    assert install_command("gate") == "pip install 'vlmrun-skills-harness[gate]'"
    assert install_command("gate", "snapshots") == "pip install 'vlmrun-skills-harness[gate,snapshots]'"
    with pytest.raises(ValueError, match="no extra named 'gaet'; the extras are gate, snapshots, vlmrun"):
        install_command("gaet")


def test_this_environment_has_every_extra() -> None:
    for name in EXTRAS:
        assert extra_installed(name), name
        require_extra(name)


def test_a_missing_extra_is_one_line_naming_the_install_command(monkeypatch: pytest.MonkeyPatch) -> None:
    _block(monkeypatch, "schemathesis")
    assert absent_modules("gate") == ["schemathesis"]
    assert not extra_installed("gate")
    with pytest.raises(UsageError) as caught:
        require_extra("gate")
    assert str(caught.value) == GATE_LINE


def test_missing_modules_are_named_as_pip_names_them(monkeypatch: pytest.MonkeyPatch) -> None:
    _block(monkeypatch, "hypothesis", "openapi_spec_validator")
    assert str(missing_extra("gate", "running the property tests")) == (
        "running the property tests needs the 'gate' extra (hypothesis, openapi-spec-validator not installed): "
        "pip install 'vlmrun-skills-harness[gate]'"
    )


def test_the_message_names_what_a_guard_says_failed() -> None:
    assert extra_message("vlmrun", "the openai client fixture", modules=["openai"]) == (
        "the openai client fixture needs the 'vlmrun' extra (openai not installed): "
        "pip install 'vlmrun-skills-harness[vlmrun]'"
    )


def test_a_snapshot_fixture_can_ask_first(monkeypatch: pytest.MonkeyPatch) -> None:
    _block(monkeypatch, "syrupy")
    with pytest.raises(UsageError) as caught:
        require_extra("snapshots")
    assert str(caught.value) == SNAPSHOTS_LINE


# -- the guards ---------------------------------------------------------------------------------


def test_harness_check_without_the_gate_extra_exits_2_with_the_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from harness.cli import main

    _block(monkeypatch, "schemathesis")
    assert main(["check"]) == 2
    assert capsys.readouterr().err == f"error: {GATE_LINE}\n"


def test_validating_a_description_without_the_gate_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    from harness.contract import load_contract

    contract = load_contract()
    _block(monkeypatch, "openapi_spec_validator")
    with pytest.raises(UsageError) as caught:
        contract.check()
    assert str(caught.value) == (
        "validating the API description needs the 'gate' extra (openapi-spec-validator not installed): "
        "pip install 'vlmrun-skills-harness[gate]'"
    )


def test_the_property_runner_without_the_gate_extra(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from harness.proptests.runner import RunOptions, run

    _block(monkeypatch, "schemathesis")
    with pytest.raises(
        UsageError, match=r"^running the property tests needs the 'gate' extra \(schemathesis not installed\)"
    ):
        run(RunOptions(description=tmp_path / "d.yaml", base_url="http://127.0.0.1:9", api_key="k"))


def test_the_gate_snapshot_step_without_syrupy(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from harness.gate.snapshot_status import run_snapshot_tests

    (tmp_path / "__snapshots__" / "test_x").mkdir(parents=True)
    (tmp_path / "test_x.py").write_text("def test_x(): pass\n")
    _block(monkeypatch, "syrupy")
    step = run_snapshot_tests(tmp_path)
    assert step.status == "error"
    assert step.summary == (
        "the gate's snapshots step needs the 'snapshots' extra (syrupy not installed): "
        "pip install 'vlmrun-skills-harness[snapshots]'"
    )


def _without(modules: tuple[str, ...], code: str) -> subprocess.CompletedProcess[str]:
    """Run `code` in a fresh interpreter where `modules` cannot be imported."""
    blocker = f"import sys\nfor _m in {modules!r}:\n    sys.modules[_m] = None\n"
    return subprocess.run([sys.executable, "-c", blocker + code], capture_output=True, text=True, check=False)


def test_harness_snapshots_imports_without_syrupy() -> None:
    code = (
        "import harness.snapshots as s\n"
        "assert s.Capture and s.snapshot_data({'a': 1}) == {'a': 1}\n"
        "from harness.errors import UsageError\n"
        "try:\n"
        "    s.RequestSnapshotExtension\n"
        "except UsageError as exc:\n"
        "    print(exc)\n"
    )
    proc = _without(("syrupy",), code)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == (
        "RequestSnapshotExtension needs the 'snapshots' extra (syrupy not installed): "
        "pip install 'vlmrun-skills-harness[snapshots]'\n"
    )


def test_the_bundle_strategy_without_hypothesis() -> None:
    code = (
        "from harness.errors import UsageError\n"
        "try:\n"
        "    import harness.proptests.strategies\n"
        "except UsageError as exc:\n"
        "    print(exc)\n"
    )
    proc = _without(("hypothesis",), code)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == (
        "harness.proptests.strategies needs the 'gate' extra (hypothesis not installed): "
        "pip install 'vlmrun-skills-harness[gate]'\n"
    )


def test_the_cli_starts_without_any_extra() -> None:
    code = "from harness.cli import main\nraise SystemExit(main(['--help']))\n"
    proc = _without(("schemathesis", "hypothesis", "openapi_spec_validator", "syrupy", "vlmrun"), code)
    assert proc.returncode == 0, proc.stderr
    assert "check" in proc.stdout


def test_asking_about_an_extra_imports_none() -> None:
    code = (
        "import sys\nfrom harness.extras import EXTRAS, extra_installed\n"
        "assert all(extra_installed(name) for name in EXTRAS)\n"
        "print(sorted(m for extra in EXTRAS.values() for m in extra.modules if m in sys.modules))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert proc.stdout.strip() == "[]"
