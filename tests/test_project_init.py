"""`harness init`: the files it writes, and that it never overwrites or half-writes anything."""

from __future__ import annotations

import ast
import contextlib
import os
import re
import shlex
import subprocess
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import pytest
import yaml

import harness.project_init as project_init
from harness.contract import DescriptionChoice
from harness.errors import UsageError
from harness.openapi.overlay import apply_overlay
from harness.project_config import GateConfig, ProjectConfig, load_project_config
from harness.project_init import ACCEPTED, FILES, OVERLAY, PYPROJECT, init_project, template
from harness.reference.registry import Registry
from harness.yaml_load import load_yaml

WRITTEN = [
    "pyproject.toml",
    "vlmrun-overlay.yaml",
    "skills/purchase-order-extraction/SKILL.md",
    "skills/purchase-order-extraction/schema.json",
    "tests/test_vlmrun_example.py",
    ".github/workflows/vlmrun-contract.yml",
    ".vlmrun/accepted-description.yaml",
]
TEAM_PYPROJECT = '[project]\nname = "team"\nversion = "1.0"\n\n[tool.pytest.ini_options]\naddopts = ["-ra"]\n'


def tree(root: Path) -> dict[str, bytes | None]:
    """Every file (its bytes) and folder (None) under `root`."""
    return {str(p.relative_to(root)): None if p.is_dir() else p.read_bytes() for p in sorted(root.rglob("*"))}


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "team"
    root.mkdir()
    (root / PYPROJECT).write_text(TEAM_PYPROJECT)
    (root / "src").mkdir()
    (root / "src" / "team.py").write_text("VALUE = 1\n")
    return root


def test_writes_exactly_these_files_each_from_its_template(project: Path) -> None:
    before = tree(project)
    written = init_project(project)
    assert written == [project / rel for rel in WRITTEN]
    for name, target in FILES:
        assert (project / target).read_bytes() == template(name)
    new = set(tree(project)) - set(before)
    folders = {"skills", "skills/purchase-order-extraction", "tests", ".github", ".github/workflows", ".vlmrun"}
    assert new == set(WRITTEN[1:]) | folders
    assert {k: v for k, v in tree(project).items() if k in before and k != PYPROJECT} == {
        k: v for k, v in before.items() if k != PYPROJECT
    }


def test_the_table_is_appended_to_the_projects_pyproject(project: Path) -> None:
    init_project(project)
    table = template("pyproject-table.toml").decode()
    assert (project / PYPROJECT).read_text() == f"{TEAM_PYPROJECT.rstrip()}\n\n{table}"
    assert load_project_config(project) == ProjectConfig(
        source=project / PYPROJECT,
        overlays=(project / OVERLAY,),
        skills=(project / "skills",),
        gate=GateConfig(properties="off", accepted=project / ACCEPTED),
    )


def test_a_project_without_pyproject_gets_one_with_the_table_only(tmp_path: Path) -> None:
    init_project(tmp_path)
    assert (tmp_path / PYPROJECT).read_bytes() == template("pyproject-table.toml")
    assert tomllib.loads((tmp_path / PYPROJECT).read_text())["tool"]["vlmrun-harness"]["skills"] == ["skills"]


def test_crlf_line_endings_are_kept(tmp_path: Path) -> None:
    (tmp_path / PYPROJECT).write_bytes(TEAM_PYPROJECT.replace("\n", "\r\n").encode())
    init_project(tmp_path)
    text = (tmp_path / PYPROJECT).read_bytes()
    assert text.count(b"\n") == text.count(b"\r\n")
    assert tomllib.loads(text.decode())["tool"]["vlmrun-harness"]["overlays"] == [OVERLAY]


def test_the_accepted_description_is_the_description_in_use(project: Path, tmp_path: Path) -> None:
    """On day one the project accepts what it judges by: the packaged description with its overlay."""
    init_project(project)
    in_use = DescriptionChoice(None, (project / OVERLAY,)).load()
    accepted = (project / ACCEPTED).read_text()
    assert load_yaml(accepted) == in_use.document
    assert in_use.document["info"]["x-overlay"] == OVERLAY
    # Byte for byte what `harness check --accept` writes: accepting it again changes nothing.
    from harness.gate.accepted import accept

    again = tmp_path / "again.yaml"
    accept(again, in_use, tmp_path)
    assert accepted == again.read_text()


def test_the_overlays_commented_example_is_a_working_correction() -> None:
    """The example the starter overlay shows, uncommented, adds the toolset: it is not a stale target."""
    text = template(OVERLAY).decode()
    example = re.search(r"  # - target: .*", text, re.DOTALL)
    assert example is not None
    uncommented = text[: example.start()] + re.sub(r"^  # ", "  ", text[example.start() :], flags=re.MULTILINE)
    overlay = load_yaml(uncommented)
    assert [a["target"] for a in overlay["actions"]] == [
        "$.info",
        "$.components.schemas.ChatCompletionRequest.properties.toolsets.items.enum",
    ]
    document = apply_overlay(DescriptionChoice().load().document, overlay, source=OVERLAY)
    enum = document["components"]["schemas"]["ChatCompletionRequest"]["properties"]["toolsets"]["items"]["enum"]
    assert enum[-1] == "audio"


def test_the_example_skill_is_served_beside_the_seeded_ones(project: Path) -> None:
    init_project(project)
    registry = Registry.seeded(project / "skills")
    skill = registry.resolve(skill_name="purchase-order-extraction")
    assert skill.description == "Extract the order number, supplier, order date and total from a purchase order."
    assert skill.schema is not None
    assert skill.schema["required"] == ["po_number", "supplier", "order_date", "total"]
    assert {r.name for r in registry.latest()} >= {"invoice-extraction", "purchase-order-extraction"}


def test_the_example_tests_call_the_example_skill_with_the_fixtures(project: Path) -> None:
    init_project(project)
    source = (project / "tests" / "test_vlmrun_example.py").read_text()
    module = ast.parse(source)
    tests = {f.name: f for f in module.body if isinstance(f, ast.FunctionDef) and f.name.startswith("test_")}
    recorded, snapshot = tests["test_the_skill_answers_with_its_schema"], tests["test_what_we_send_for_the_skill"]
    assert [ast.unparse(d) for d in recorded.decorator_list] == ["pytest.mark.vlmrun", "pytest.mark.vcr"]
    assert [a.arg for a in recorded.args.args] == ["openai_client"]
    assert [a.arg for a in snapshot.args.args] == ["vlmrun_snapshot"]
    assert 'SKILL = "purchase-order-extraction"' in source


def _workflow_commands(text: str) -> list[str]:
    workflow = yaml.safe_load(text)
    [job] = workflow["jobs"].values()
    return [line.strip() for step in job["steps"] for line in step.get("run", "").splitlines()]


def test_the_workflow_installs_from_a_placeholder_replays_offline_and_runs_the_gate(project: Path) -> None:
    init_project(project)
    text = (project / ".github/workflows/vlmrun-contract.yml").read_text()
    workflow = yaml.safe_load(text)
    assert workflow["env"]["HARNESS_REQUIREMENT"] == (
        "vlmrun-skills-harness[gate,snapshots] @ git+https://github.com/OWNER/REPO@REF"
    )
    commands = _workflow_commands(text)
    assert 'python -m pip install "$HARNESS_REQUIREMENT" openai' in commands
    assert "pytest --record-mode=none --block-network" in commands
    harness_commands = [shlex.split(c)[1:] for c in commands if c.startswith("harness ")]
    assert harness_commands == [["check", "--report-dir", "harness-report"]]
    from harness.cli import _parser

    for argv in harness_commands:
        _parser().parse_args(argv)  # today's command line takes it (SystemExit otherwise)


def test_the_workflow_keeps_the_plugins_load_cache_between_runs(project: Path) -> None:
    from harness.pytest_vcr import LOAD_CACHE_FOLDER

    init_project(project)
    workflow = yaml.safe_load((project / ".github/workflows/vlmrun-contract.yml").read_text())
    [job] = workflow["jobs"].values()
    names = [step.get("name") or step.get("uses") for step in job["steps"]]
    [cache] = [step for step in job["steps"] if str(step.get("uses", "")).startswith("actions/cache@")]
    assert cache["with"]["path"] == f".pytest_cache/d/{LOAD_CACHE_FOLDER}"
    assert "hashFiles('**/cassettes/**')" in cache["with"]["key"]
    assert names.index(cache["uses"]) < names.index("Replay the recorded tests (offline)")


@pytest.mark.parametrize(
    ("requirement", "expected"),
    [
        (
            None,  # the placeholder the workflow ships with
            (
                1,
                "::error file=.github/workflows/vlmrun-contract.yml::"
                "set HARNESS_REQUIREMENT to the harness's git URL or wheel\n",
            ),
        ),
        ("vlmrun-skills-harness @ git+https://github.com/acme/harness@v0.1.0", (0, "would install\n")),
    ],
)
def test_the_install_step_stops_on_the_placeholder_only(
    project: Path, requirement: str | None, expected: tuple[int, str]
) -> None:
    init_project(project)
    workflow = yaml.safe_load((project / ".github/workflows/vlmrun-contract.yml").read_text())
    [job] = workflow["jobs"].values()
    [step] = [s for s in job["steps"] if s.get("name") == "Install the harness"]
    script = step["run"].replace("python -m pip install", "echo would install; : ")  # everything but the install
    env = {"PATH": os.environ["PATH"], "HARNESS_REQUIREMENT": requirement or workflow["env"]["HARNESS_REQUIREMENT"]}
    proc = subprocess.run(["bash", "-e", "-c", script], env=env, capture_output=True, text=True, check=False)
    assert (proc.returncode, proc.stdout) == expected


# -- refusals: nothing is written --------------------------------------------------------------


@pytest.mark.parametrize("existing", [*WRITTEN[1:], "skills/purchase-order-extraction"])
def test_an_existing_file_is_never_overwritten_and_nothing_is_written(project: Path, existing: str) -> None:
    path = project / existing
    path.parent.mkdir(parents=True, exist_ok=True)
    if "." in path.name:
        path.write_text("ours\n")
    else:
        path.mkdir()
    before = tree(project)
    with pytest.raises(UsageError) as caught:
        init_project(project)
    named = "skills/purchase-order-extraction" if existing.startswith("skills/") else existing  # its folder
    assert str(caught.value) == f"harness init overwrites nothing, and {named} exists: move it aside and run it again"
    assert tree(project) == before


def test_every_existing_file_is_named(project: Path) -> None:
    for rel in ("tests/test_vlmrun_example.py", "vlmrun-overlay.yaml"):
        (project / rel).parent.mkdir(parents=True, exist_ok=True)
        (project / rel).write_text("ours\n")
    before = tree(project)
    with pytest.raises(UsageError) as caught:
        init_project(project)
    assert str(caught.value) == (
        "harness init overwrites nothing, and tests/test_vlmrun_example.py, vlmrun-overlay.yaml exist: "
        "move them aside and run it again"
    )
    assert tree(project) == before


def test_a_project_that_is_set_up_is_refused(project: Path) -> None:
    (project / PYPROJECT).write_text(TEAM_PYPROJECT + '\n[tool.vlmrun-harness.gate]\nproperties = "off"\n')
    before = tree(project)
    with pytest.raises(UsageError) as caught:
        init_project(project)
    assert str(caught.value) == (
        "harness init: pyproject.toml already has [tool.vlmrun-harness], so this project is set up; "
        "harness init changes nothing in it"
    )
    assert tree(project) == before


def test_a_pyproject_that_is_not_toml_is_refused(project: Path) -> None:
    (project / PYPROJECT).write_text("[project\nname = 1\n")
    before = tree(project)
    with pytest.raises(UsageError) as caught:
        init_project(project)
    assert str(caught.value) == (
        "harness init: pyproject.toml is not valid TOML "
        "(Expected ']' at the end of a table declaration (at line 1, column 9)): fix it first"
    )
    assert tree(project) == before


def test_a_pyproject_the_table_cannot_be_appended_to_is_refused(project: Path) -> None:
    (project / PYPROJECT).write_text("tool = {black = {line-length = 100}}\n")
    before = tree(project)
    with pytest.raises(UsageError) as caught:
        init_project(project)
    assert str(caught.value) == (
        "harness init: [tool.vlmrun-harness] appended to pyproject.toml would not be valid TOML "
        "(Cannot declare ('tool', 'vlmrun-harness') twice (at line 6, column 21)): "
        "add the table by hand (the harness's README: Use it in your project)"
    )
    assert tree(project) == before


def test_a_root_that_is_not_a_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(UsageError) as caught:
        init_project(tmp_path / "missing")
    assert str(caught.value) == f"harness init: {tmp_path / 'missing'} is not a folder"


@pytest.mark.parametrize("failing", range(1, len(WRITTEN) + 1))
def test_a_write_failing_half_way_leaves_the_project_as_it_was(
    project: Path, monkeypatch: pytest.MonkeyPatch, failing: int
) -> None:
    """The n-th write fails (a full disk): the files and folders written before it go, pyproject.toml is restored."""
    before = tree(project)
    from harness.files import atomic_writer as real

    calls: list[Path] = []

    @contextlib.contextmanager
    def flaky(path: Path) -> Iterator[IO[bytes]]:
        calls.append(path)
        if len(calls) == failing:
            path.parent.mkdir(parents=True, exist_ok=True)  # as the real writer does before it fails
            raise OSError(28, "No space left on device")
        with real(path) as out:
            yield out

    monkeypatch.setattr(project_init, "atomic_writer", flaky)
    with pytest.raises(UsageError) as caught:
        init_project(project)
    assert str(caught.value) == f"harness init cannot write {project / WRITTEN[failing - 1]}: No space left on device"
    assert tree(project) == before
