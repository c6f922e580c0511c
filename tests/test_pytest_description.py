"""The project's own contract in the plugin: its description, overlays and skills, from the options,
the ini file or `[tool.vlmrun-harness]`, in that order; a mistake is one line and exit 4."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from harness.contract import default_description_path, load_contract

PROBE = """
import httpx
from harness.contract import load_contract

def test_probe(vlmrun_base_url, vlmrun_api_key):
    print("\\nDESCRIPTION=" + load_contract().source)
    params = {"grouped": "true", "order_by": "name", "descending": "false", "limit": 100}
    auth = {"Authorization": f"Bearer {vlmrun_api_key}"}
    skills = httpx.get(vlmrun_base_url + "/skills", params=params, headers=auth).json()
    print("SKILLS=" + ",".join(s["name"] for s in skills))
"""
SEEDED = ["invoice-extraction", "line-item-validation", "patient-referral"]
NO_CACHE = ("-p", "no:cacheprovider", "-p", "no:randomly")


def overlay(model: str) -> str:
    """An Overlay 1.0 document that also allows the model id `model` (letters, digits and `-`),
    of a form the packaged description's pattern refuses."""
    ids = f"^(vlmrun-orion-[0-9]+(:[a-z0-9][a-z0-9._-]*)?|{model})$"
    return yaml.safe_dump(
        {
            "overlay": "1.0.0",
            "info": {"title": "Our corrections", "version": "1.0.0"},
            "actions": [
                {"target": "$.components.schemas.ChatCompletionRequest.properties.model", "update": {"pattern": ids}}
            ],
        },
        sort_keys=False,
    )


def skill(root: Path, name: str) -> None:
    folder = root / name / "20260101-aaaa1111"
    folder.mkdir(parents=True)
    (folder / "SKILL.md").write_text(f"---\nname: {name}\ndescription: Does {name} things\n---\n# {name}\n")


def probe(pytester: pytest.Pytester, *args: str) -> tuple[str, list[str]]:
    """The description in use and the skills the embedded server serves, as the inner test saw them."""
    result = pytester.runpytest("-s", *NO_CACHE, *args)
    result.assert_outcomes(passed=1)
    said = dict(line.split("=", 1) for line in result.outlines if line.startswith(("DESCRIPTION=", "SKILLS=")))
    return said["DESCRIPTION"], said["SKILLS"].split(",")


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    """A project with a description, an overlay and a skill for each place a setting can come from."""
    for where in ("opt", "ini", "table"):
        shutil.copy(default_description_path(), pytester.path / f"{where}.yaml")
        (pytester.path / f"{where}-overlay.yaml").write_text(overlay(f"team-orion-{where}"))
        skill(pytester.path / f"{where}-skills", f"{where}-skill")
    pytester.makepyfile(test_probe=PROBE)
    return pytester


def configure(pytester: pytest.Pytester, *, ini: bool, table: bool) -> None:
    if ini:
        pytester.makeini(
            "[pytest]\nvlmrun_description = ini.yaml\nvlmrun_overlays = ini-overlay.yaml\nvlmrun_skills = ini-skills\n"
        )
    if table:
        pytester.makefile(
            ".toml",
            pyproject='[tool.vlmrun-harness]\ndescription = "table.yaml"\noverlays = ["table-overlay.yaml"]\n'
            'skills = ["table-skills"]\n',
        )


OPTIONS = ("--vlmrun-description", "opt.yaml", "--vlmrun-overlay", "opt-overlay.yaml", "--vlmrun-skills", "opt-skills")


@pytest.mark.parametrize(
    ("options", "ini", "table", "expected"),
    [
        (True, True, True, "opt"),
        (False, True, True, "ini"),
        (False, False, True, "table"),
        (True, False, True, "opt"),
    ],
)
def test_each_setting_comes_from_the_option_then_the_ini_file_then_the_table(
    options: bool, ini: bool, table: bool, expected: str, project: pytest.Pytester
) -> None:
    configure(project, ini=ini, table=table)
    description, skills = probe(project, *(OPTIONS if options else ()))
    root = project.path
    assert description == f"{root / f'{expected}.yaml'} + {root / f'{expected}-overlay.yaml'}"
    assert skills == sorted([*SEEDED, f"{expected}-skill"])


def test_without_any_setting_the_packaged_description_and_the_seeded_skills(project: pytest.Pytester) -> None:
    assert probe(project) == (str(default_description_path()), SEEDED)


def test_settings_are_independent_and_option_paths_start_at_the_rootdir(
    project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The table's description, the option's overlay; run from a subfolder, paths still start at the rootdir."""
    configure(project, ini=False, table=True)
    (project.path / "sub").mkdir()
    monkeypatch.chdir(project.path / "sub")
    description, skills = probe(project, "--vlmrun-overlay", "opt-overlay.yaml", str(project.path / "test_probe.py"))
    assert description == f"{project.path / 'table.yaml'} + {project.path / 'opt-overlay.yaml'}"
    assert skills == sorted([*SEEDED, "table-skill"])


def test_a_team_skill_named_like_a_seeded_one_is_the_one_served(project: pytest.Pytester) -> None:
    skill(project.path / "ours", "invoice-extraction")
    project.makepyfile(
        test_probe="""
import httpx

def test_probe(vlmrun_base_url, vlmrun_api_key):
    auth = {"Authorization": f"Bearer {vlmrun_api_key}"}
    found = httpx.post(vlmrun_base_url + "/skills/lookup", json={"name": "invoice-extraction"}, headers=auth)
    assert found.json()["skill_version"] == "20260101-aaaa1111"
"""
    )
    project.runpytest(*NO_CACHE, "--vlmrun-skills", "ours").assert_outcomes(passed=1)


def test_the_description_in_use_is_restored_after_an_in_process_run(project: pytest.Pytester) -> None:
    before = load_contract()
    probe(project, *OPTIONS)
    assert load_contract() is before


@pytest.mark.parametrize(
    ("files", "args", "message"),
    [
        (
            {},
            ["--vlmrun-description", "nope.yaml"],
            "--vlmrun-description: no such file: nope.yaml (looked for {root}/nope.yaml)",
        ),
        (
            {"pytest.ini": "[pytest]\nvlmrun_overlays =\n    opt-overlay.yaml\n    nope.yaml\n"},
            [],
            "{root}/pytest.ini vlmrun_overlays: no such file: nope.yaml (looked for {root}/nope.yaml)",
        ),
        (
            {"pyproject.toml": '[tool.vlmrun-harness]\nskills = ["nope"]\n'},
            [],
            "{root}/pyproject.toml [tool.vlmrun-harness] skills: no such folder: {root}/nope",
        ),
        (
            {"pyproject.toml": '[tool.vlmrun-harness]\noverlay = ["opt-overlay.yaml"]\n'},
            [],
            "{root}/pyproject.toml [tool.vlmrun-harness]: unknown key(s) overlay "
            "(known: description, gate, hosts, overlays, skills)",
        ),
        (
            {"stale.yaml": overlay("x").replace("properties.model", "properties.modle")},
            ["--vlmrun-overlay", "stale.yaml"],
            "Overlay {root}/stale.yaml: actions[0] (target $.components.schemas.ChatCompletionRequest.properties.modle)"
            " selects nothing in the description: fix the target or remove the action",
        ),
        (
            {"skills/broken/SKILL.txt": "not a skill"},
            ["--vlmrun-skills", "skills"],
            "Skill folder {root}/skills/broken is not a valid skill: it needs a SKILL.md, "
            "or revision folders named YYYYMMDD-<hash> that each hold one",
        ),
    ],
)
def test_a_mistake_is_one_line_naming_the_file_and_exit_4(
    files: dict[str, str], args: list[str], message: str, project: pytest.Pytester
) -> None:
    for name, text in files.items():
        (project.path / name).parent.mkdir(parents=True, exist_ok=True)
        (project.path / name).write_text(text)
    result = project.runpytest(*NO_CACHE, *args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert result.stderr.lines == [f"ERROR: {message.format(root=project.path)}", ""]


def test_a_description_that_is_not_yaml_is_one_line_too(project: pytest.Pytester) -> None:
    """PyYAML's message spans lines; the plugin joins them."""
    (project.path / "broken.yaml").write_text("paths: [\n")
    result = project.runpytest(*NO_CACHE, "--vlmrun-description", "broken.yaml")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert result.stderr.lines == [
        f"ERROR: API description {project.path / 'broken.yaml'} is not valid YAML/JSON: while parsing a flow node; "
        'did not find expected node content; in "<byte string>", line 2, column 1',
        "",
    ]


def test_hosts_from_the_table_are_vlmrun_traffic(project: pytest.Pytester) -> None:
    project.makefile(".toml", pyproject='[tool.vlmrun-harness]\nhosts = ["vlm-proxy.internal"]\n')
    project.makepyfile(
        test_probe="""
def test_probe(request):
    from harness.pytest_plugin import SCOPE_KEY

    assert request.config.stash[SCOPE_KEY].owns_url("https://vlm-proxy.internal/v1/openai/chat/completions")
"""
    )
    project.runpytest(*NO_CACHE).assert_outcomes(passed=1)


RECORDED = """
import pytest

@pytest.mark.vcr
def test_new_model(openai_client):
    r = openai_client.chat.completions.create(
        model="team-orion", messages=[{"role": "user", "content": "Hello"}],
        extra_body={"skills": [{"skill_name": "our-skill"}]},
    )
    assert r.model == "team-orion"
    assert r.choices[0].message.content
"""


def test_an_overlay_and_a_skill_of_yours_record_and_replay_under_xdist(pytester: pytest.Pytester) -> None:
    """Served with the overlay's model, recorded, then judged by the same description in each worker."""
    (pytester.path / "ours.yaml").write_text(overlay("team-orion"))
    skill(pytester.path / "skills", "our-skill")
    pytester.makefile(".toml", pyproject='[tool.vlmrun-harness]\noverlays = ["ours.yaml"]\nskills = ["skills"]\n')
    pytester.makepyfile(test_ours=RECORDED)
    pytester.runpytest(*NO_CACHE, "--record-mode=once").assert_outcomes(passed=1)
    cassette = yaml.safe_load((pytester.path / "cassettes" / "test_ours" / "test_new_model.yaml").read_text())
    assert json.loads(cassette["interactions"][0]["response"]["body"]["string"])["model"] == "team-orion"
    offline = ("--record-mode=none", "--block-network", "--vlmrun-base-url", "http://127.0.0.1:9/v1")
    pytester.runpytest_subprocess("-n", "2", *NO_CACHE, *offline).assert_outcomes(passed=1)
    # Without the overlay the same cassette breaks the description: the request's model is not allowed.
    (pytester.path / "pyproject.toml").write_text("")
    failed = pytester.runpytest(*NO_CACHE, *offline)
    failed.assert_outcomes(failed=1)
    failed.stdout.fnmatch_lines(["*ConformanceFailure*test_new_model.yaml*", "*model*team-orion*does not match*"])
