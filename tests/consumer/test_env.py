"""The consumer env is isolated: the harness comes from the wheel in its own venv, not from this checkout."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.consumer.conftest import MakeProject
from tests.consumer.env import REPO, ConsumerEnv, explain, find_uv


def test_harness_imports_from_the_venv_not_the_checkout(consumer_env: ConsumerEnv, consumer_project: MakeProject):
    project = consumer_project()
    proc = consumer_env.run(
        [str(consumer_env.python), "-c", "import harness, sys; print(harness.__file__); print(sys.prefix)"], project
    )
    assert proc.returncode == 0, explain(proc)
    module, prefix = (Path(line) for line in proc.stdout.splitlines())
    assert module.is_relative_to(consumer_env.site_packages())
    assert not module.resolve().is_relative_to(REPO)
    assert prefix == consumer_env.prefix


def test_installed_from_the_wheel_not_editable(consumer_env: ConsumerEnv, consumer_project: MakeProject):
    project = consumer_project()
    code = (
        "from importlib.metadata import distribution; "
        "print(distribution('vlmrun-skills-harness').read_text('direct_url.json'))"
    )
    proc = consumer_env.run([str(consumer_env.python), "-c", code], project)
    assert proc.returncode == 0, explain(proc)
    direct_url = json.loads(proc.stdout)
    assert not direct_url.get("dir_info", {}).get("editable", False)
    assert "archive_info" in direct_url
    assert direct_url["url"].endswith(".whl")

    show = consumer_env.run(
        [*find_uv(), "pip", "show", "--python", str(consumer_env.python), "vlmrun-skills-harness"], project
    )
    assert show.returncode == 0, explain(show)
    assert "Editable project location" not in show.stdout
    assert f"Location: {consumer_env.site_packages()}" in show.stdout


def test_harness_console_script_runs(consumer_env: ConsumerEnv, consumer_project: MakeProject):
    proc = consumer_env.harness(consumer_project(), "--help")
    assert proc.returncode == 0, explain(proc)
    assert "usage: harness" in proc.stdout


def test_pytest_collects_in_a_fresh_project(consumer_env: ConsumerEnv, consumer_project: MakeProject):
    project = consumer_project({"tests/test_one.py": "def test_one():\n    assert True\n"})
    proc = consumer_env.pytest(project, "--co", "-q")
    assert proc.returncode == 0, explain(proc)
    assert "1 test collected" in proc.stdout

    header = consumer_env.pytest(project, "--co")  # the header names rootdir and the plugins
    assert header.returncode == 0, explain(header)
    assert f"rootdir: {project}" in header.stdout
    assert "vlmrun-skills-harness" in header.stdout  # the pytest11 entry point of the installed wheel


def test_the_outer_session_does_not_leak_in(
    consumer_env: ConsumerEnv, consumer_project: MakeProject, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("PYTHONPATH", str(REPO))
    monkeypatch.setenv("PYTEST_ADDOPTS", "--this-option-does-not-exist")
    monkeypatch.setenv("VLMRUN_BASE_URL", "http://example.invalid")
    code = "import json, os, shutil, sys; print(json.dumps([dict(os.environ), sys.path, shutil.which('harness')]))"
    proc = consumer_env.run([str(consumer_env.python), "-c", code], consumer_project())
    assert proc.returncode == 0, explain(proc)
    environ, path, harness_script = json.loads(proc.stdout)
    assert not {"PYTHONPATH", "PYTEST_ADDOPTS", "VLMRUN_BASE_URL"} & environ.keys()
    assert not any(k.startswith(("PYTEST_", "COV_")) for k in environ)
    assert environ["VIRTUAL_ENV"] == str(consumer_env.prefix)
    assert environ["PATH"].split(os.pathsep)[0] == str(consumer_env.bin)
    assert harness_script == str(consumer_env.bin / "harness")
    assert not any(p and Path(p).resolve().is_relative_to(REPO) for p in path)


def test_full_env_has_the_gate_and_snapshot_packages(consumer_env_full: ConsumerEnv, consumer_project: MakeProject):
    proc = consumer_env_full.run(
        [str(consumer_env_full.python), "-c", "import schemathesis, hypothesis, syrupy, harness"], consumer_project()
    )
    assert proc.returncode == 0, explain(proc)
