"""The CLI in a project: `--description`/`--overlay` and `[tool.vlmrun-harness]` on every command
that reads a description, the project's skills in `serve` and `check`, `init`, and
`verify --propose-overlay`."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

import harness.gate.run
import harness.reference.app
import harness.reference.server
from harness.cli import main
from harness.contract import default_description_path, load_contract
from harness.reference.registry import Registry

ROOT = Path(__file__).resolve().parents[1]
NEW_TOOLSET: dict[str, Any] = {
    "overlay": "1.0.0",
    "info": {"title": "Our corrections", "version": "1.0.0"},
    "actions": [
        {
            "target": "$.components.schemas.ChatCompletionRequest.properties.toolsets.items",
            "update": {"enum": ["audio"]},
        }
    ],
}


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project folder (the current one) with a description, an overlay and a skill, none configured yet."""
    shutil.copy(default_description_path(), tmp_path / "ours.yaml")
    (tmp_path / "fix.yaml").write_text(yaml.safe_dump(NEW_TOOLSET))
    revision = tmp_path / "skills" / "purchase-orders" / "20260110-c0ffee01"
    revision.mkdir(parents=True)
    (revision / "SKILL.md").write_text("---\nname: purchase-orders\ndescription: Reads purchase orders\n---\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("VLMRUN_API_KEY", raising=False)
    return tmp_path


def table(project: Path, text: str) -> None:
    (project / "pyproject.toml").write_text(f"[tool.vlmrun-harness]\n{text}")


class Served:
    """`harness serve` up to the point it would listen: the description in use and the skills it got."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.description: str | None = None
        self.skills: list[str] = []
        real = harness.reference.app.create_app

        def create_app(*, registry: Registry, **kwargs: Any) -> Any:
            self.description = load_contract().source
            self.skills = sorted({r.name for r in registry.all()})
            return real(registry=registry, **kwargs)

        class Listener:
            def close(self) -> None:
                pass

        monkeypatch.setattr(harness.reference.server, "bind", lambda host, port: Listener())
        monkeypatch.setattr(harness.reference.server, "serve_forever", lambda *args, **kwargs: None)
        monkeypatch.setattr(harness.reference.app, "create_app", create_app)


SEEDED = ["invoice-extraction", "line-item-validation", "patient-referral"]


def test_serve_takes_the_description_overlays_and_skills_from_the_table(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    table(project, 'description = "ours.yaml"\noverlays = ["fix.yaml"]\nskills = ["skills"]\n')
    served = Served(monkeypatch)
    assert main(["serve"]) == 0
    assert served.description == f"{project / 'ours.yaml'} + {project / 'fix.yaml'}"
    assert served.skills == [*SEEDED, "purchase-orders"]
    assert load_contract().source == str(default_description_path())  # in-process: put back afterwards


def test_serve_flags_override_the_table_key_by_key(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    table(project, 'description = "ours.yaml"\noverlays = ["fix.yaml"]\nskills = ["skills"]\n')
    (project / "none").mkdir()
    served = Served(monkeypatch)
    assert main(["serve", "--skills", "none", "--description", str(default_description_path())]) == 0
    assert served.description == f"{default_description_path()} + {project / 'fix.yaml'}"
    assert served.skills == SEEDED


@pytest.mark.parametrize(
    ("configured", "argv", "message"),
    [
        ("", ["--skills", "nope"], "--skills: no such folder: nope"),
        ('skills = ["nope"]\n', [], "{root}/pyproject.toml [tool.vlmrun-harness] skills: no such folder: {root}/nope"),
        ("", ["--overlay", "nope.yaml"], "--overlay: no such file: nope.yaml"),
        (
            'overlays = ["nope.yaml"]\n',
            [],
            "{root}/pyproject.toml [tool.vlmrun-harness] overlays: no such file: {root}/nope.yaml",
        ),
        (
            'description = "nope.yaml"\n',
            [],
            "{root}/pyproject.toml [tool.vlmrun-harness] description: no such file: {root}/nope.yaml",
        ),
        (
            'skills = ["."]\n',
            [],
            "Skill folder {root}/skills is not a valid skill: it needs a SKILL.md, "
            "or revision folders named YYYYMMDD-<hash> that each hold one (found purchase-orders)",
        ),
        ("overlay = 1\n", [], "{root}/pyproject.toml [tool.vlmrun-harness]: unknown key(s) overlay "
         "(known: description, gate, hosts, overlays, skills)"),
    ],
)  # fmt: skip
def test_serve_mistakes_are_one_line_before_the_port_is_taken(
    configured: str,
    argv: list[str],
    message: str,
    project: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    table(project, configured)

    def bind(host: str, port: int) -> None:
        raise AssertionError("the port was taken")

    monkeypatch.setattr(harness.reference.server, "bind", bind)
    assert main(["serve", *argv]) == 2
    assert capsys.readouterr() == ("", f"error: {message.format(root=project)}\n")


def test_a_broken_overlay_is_one_line_naming_it(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (project / "stale.yaml").write_text(
        yaml.safe_dump({**NEW_TOOLSET, "actions": [{"target": "$.nope", "remove": True}]})
    )
    assert main(["verify", "--overlay", "stale.yaml"]) == 2
    assert capsys.readouterr() == (
        "",
        "error: Overlay stale.yaml: actions[0] (target $.nope) selects nothing in the description: "
        "fix the target or remove the action\n",
    )


def _cassettes(project: Path) -> Path:
    shutil.copytree(ROOT / "cassettes", project / "cassettes")
    return project / "cassettes"


def test_verify_judges_by_the_description_in_use(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import harness.recording.verify

    seen: list[str] = []
    real = harness.recording.verify.verify

    def verify(paths: list[Path], contract: Any) -> Any:
        seen.append(contract.source)
        return real(paths, contract)

    monkeypatch.setattr(harness.recording.verify, "verify", verify)
    _cassettes(project)
    table(project, 'overlays = ["fix.yaml"]\n')
    assert main(["verify"]) == 0
    assert main(["verify", "--description", "ours.yaml"]) == 0
    assert seen == [f"{default_description_path()} + {project / 'fix.yaml'}", f"ours.yaml + {project / 'fix.yaml'}"]


def test_verify_proposes_an_overlay_to_review(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import harness.recording.overlay_proposal as proposal

    written: list[tuple[Path, Any]] = []
    proposed: list[Any] = [{**NEW_TOOLSET, "actions": NEW_TOOLSET["actions"] * 2}, NEW_TOOLSET, None]
    monkeypatch.setattr(proposal, "propose_overlay", lambda result, contract: proposed.pop(0))
    monkeypatch.setattr(proposal, "write_overlay", lambda path, overlay, in_use: written.append((path, in_use)))
    _cassettes(project)
    for expected in ("wrote proposed.yaml (2 actions)", "wrote proposed.yaml (1 action)", "nothing to propose"):
        assert main(["verify", "--overlay", "fix.yaml", "--propose-overlay", "proposed.yaml"]) == 0
        out, err = capsys.readouterr()
        assert out.splitlines()[0].endswith(" checked against the description")  # the report, then the proposal
        assert err == f"{expected}\n"
    assert written == [(Path("proposed.yaml"), (Path("fix.yaml"),))] * 2


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("no/such/folder/p.yaml", "--propose-overlay: folder no/such/folder does not exist"),
        ("skills", "--propose-overlay skills is a folder: name the file to write the overlay to"),
        (
            "fix.yaml",
            "Overlay proposal not written: fix.yaml is an overlay in use, and the proposal was computed with it "
            "applied, so replacing it would drop its corrections; choose another file",
        ),
    ],
)
def test_verify_refuses_a_place_it_cannot_write_before_reading_a_cassette(
    target: str, message: str, project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import harness.recording.verify

    monkeypatch.setattr(harness.recording.verify, "verify", None)  # any call fails
    _cassettes(project)
    assert main(["verify", "--overlay", "fix.yaml", "--propose-overlay", target]) == 2
    assert capsys.readouterr() == ("", f"error: {message}\n")


def test_diff_compares_against_the_description_in_use(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`harness diff OLD` with an overlay in use: what the overlay changes, and nothing when none is."""
    packaged = str(default_description_path())
    assert main(["diff", packaged, "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["changes"] == []
    table(project, 'overlays = ["fix.yaml"]\n')
    assert main(["diff", packaged, "--format", "json", "--fail-on", "INFO"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert [(c["id"], c["path"]) for c in report["changes"]] == [
        ("request-property-enum-value-added", "request body: toolsets[*]")
    ]
    assert main(["diff", packaged, "--fail-on", "INFO"]) == 1
    text = capsys.readouterr().out
    assert f"{default_description_path()} + {project / 'fix.yaml'}" in text  # what NEW holds, not the temporary copy
    assert "harness-description-" not in text
    assert main(["diff", packaged, packaged, "--format", "json"]) == 0  # NEW named: the overlay plays no part
    assert json.loads(capsys.readouterr().out)["changes"] == []


class Gate:
    """`harness check` up to the gate: the options it would run with, and the description in use then."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.opts: harness.gate.run.GateOptions | None = None
        self.description = ""

        def run_gate(opts: harness.gate.run.GateOptions, console: object) -> object:
            self.opts, self.description = opts, load_contract().source
            return type("Result", (), {"exit_code": 0})()

        monkeypatch.setattr(harness.gate.run, "run_gate", run_gate)


def test_check_takes_the_project_settings(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    table(
        project,
        'overlays = ["fix.yaml"]\nskills = ["skills"]\n'
        '[tool.vlmrun-harness.gate]\nproperties = "embedded"\naccepted = "accepted.yaml"\n',
    )
    gate = Gate(monkeypatch)
    assert main(["check"]) == 0
    assert gate.opts is not None
    assert (gate.opts.description, gate.opts.properties, gate.opts.accepted) == (
        None,
        "embedded",
        project / "accepted.yaml",
    )
    assert gate.opts.skills == (project / "skills",)
    assert gate.opts.snapshot_args == ()  # the snapshot tests' pytest reads the same table
    assert gate.description == f"{default_description_path()} + {project / 'fix.yaml'}"


def test_check_flags_reach_the_snapshot_tests_and_override_the_table(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    table(project, '[tool.vlmrun-harness.gate]\nproperties = "embedded"\n')
    gate = Gate(monkeypatch)
    assert main(["check", "--description", "ours.yaml", "--overlay", "fix.yaml", "--properties", "off"]) == 0
    assert gate.opts is not None
    assert gate.opts.properties == "off"
    assert gate.opts.snapshot_args == (
        "--vlmrun-description",
        str(project / "ours.yaml"),
        "--vlmrun-overlay",
        str(project / "fix.yaml"),
    )
    assert gate.description == "ours.yaml + fix.yaml"


def test_check_accept_writes_the_description_in_use_and_runs_no_step(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    table(project, 'overlays = ["fix.yaml"]\n[tool.vlmrun-harness.gate]\naccepted = ".vlmrun/accepted.yaml"\n')
    gate = Gate(monkeypatch)
    assert main(["check", "--accept"]) == 0
    assert gate.opts is None
    accepted = yaml.safe_load((project / ".vlmrun" / "accepted.yaml").read_text())
    toolsets = accepted["components"]["schemas"]["ChatCompletionRequest"]["properties"]["toolsets"]
    assert "audio" in toolsets["items"]["enum"]
    out, err = capsys.readouterr()
    assert (out, err) == (
        "",
        f"accepted {default_description_path()} + {project / 'fix.yaml'}: written to .vlmrun/accepted.yaml; "
        "commit it\n",
    )


def test_init_prints_each_file_it_wrote(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import harness.project_init

    seen: list[Path] = []

    def init_project(root: Path) -> list[Path]:
        seen.append(root)
        return [root / "pyproject.toml", root / "skills" / "x" / "SKILL.md"]

    monkeypatch.setattr(harness.project_init, "init_project", init_project)
    assert main(["init"]) == 0
    assert seen == [project]
    assert capsys.readouterr() == ("wrote pyproject.toml\nwrote skills/x/SKILL.md\n", "")


def test_init_refuses_a_second_run_in_one_line(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from harness.errors import UsageError
    from harness.project_init import init_project

    (project / "skills").rename(project / "their-skills")
    assert main(["init"]) == 0
    written = capsys.readouterr().out.splitlines()
    assert written[0] == "wrote pyproject.toml"
    assert all(line.startswith("wrote ") for line in written)
    with pytest.raises(UsageError) as refused:
        init_project(project)
    assert main(["init"]) == 2
    assert capsys.readouterr() == ("", f"error: {refused.value}\n")
