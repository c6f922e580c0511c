"""Stack definitions and environment building, with a fake uv (no network, no real builds)."""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

import pytest

from harness.errors import UsageError
from harness.matrix import stacks
from harness.matrix.stacks import STACKS, Stack, build_env, env_python, find_uv, select


def _script(path: Path, body: str) -> str:
    path.write_text(f"#!{sys.executable}\n{body}")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return str(path)


def test_every_stack_has_its_requirements_file_in_the_package() -> None:
    assert list(STACKS) == ["vlmrun-pinned", "vlmrun-openai3", "openai-only", "vlmrun-0.5.8"]
    for stack in STACKS.values():
        assert stack.requirements.is_file()
        assert stack.lines(stack.requirements)
    assert STACKS["vlmrun-pinned"].lines(STACKS["vlmrun-pinned"].requirements) == ("vlmrun==0.9.2",)
    assert STACKS["vlmrun-openai3"].lines(STACKS["vlmrun-openai3"].overrides) == ("openai==3.57.0",)
    assert STACKS["openai-only"].overrides is None


def test_select_keeps_order_and_refuses_unknown_names() -> None:
    assert [s.name for s in select(["openai-only", "vlmrun-pinned", "openai-only"])] == ["openai-only", "vlmrun-pinned"]
    assert len(select(None)) == len(STACKS)
    with pytest.raises(UsageError, match=r"unknown stack\(s\) nope; choose from vlmrun-pinned"):
        select(["nope"])


def test_the_cache_key_follows_the_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(stacks, "STACK_DIR", tmp_path)
    (tmp_path / "s.txt").write_text("openai==3.57.0\n")
    before = Stack("s", "").key()
    (tmp_path / "s.overrides.txt").write_text("openai==3.57.0\n")
    assert Stack("s", "").key() != before
    assert Stack("s", "").key() == Stack("s", "other summary").key()


def test_uv_comes_from_UV_then_PATH(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = _script(tmp_path / "uv", "")
    monkeypatch.setenv("UV", fake)
    assert find_uv() == fake
    monkeypatch.setenv("UV", str(tmp_path / "missing"))
    with pytest.raises(UsageError, match="not an executable uv"):
        find_uv()
    monkeypatch.delenv("UV")
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(UsageError, match="uv not found"):
        find_uv()


FAKE_UV = """\
import json, os, pathlib, sys
log = pathlib.Path(os.environ["FAKE_UV_LOG"])
log.write_text(log.read_text() + json.dumps(sys.argv[1:]) + "\\n" if log.exists() else json.dumps(sys.argv[1:]) + "\\n")
if sys.argv[1] == "venv":
    pathlib.Path(sys.argv[-1], "bin").mkdir(parents=True)
elif os.environ.get("FAKE_UV_FAIL"):
    sys.stderr.write("noise\\n" * 500 + "No solution found: vlmrun==0.9.2 depends on openai==1.109.1\\n")
    sys.exit(1)
"""


def test_an_environment_is_built_once_then_reused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    uv = _script(tmp_path / "uv", FAKE_UV)
    log = tmp_path / "log"
    monkeypatch.setenv("FAKE_UV_LOG", str(log))
    stack = STACKS["vlmrun-openai3"]
    python = build_env(stack, tmp_path / "cache", uv=uv)
    assert python == env_python(tmp_path / "cache" / f"vlmrun-openai3-{stack.key()}")
    calls = log.read_text().splitlines()
    assert len(calls) == 2
    assert '"--no-config"' in calls[1]
    assert '"--overrides"' in calls[1]
    assert (tmp_path / "cache" / ".gitignore").read_text().endswith("*\n")
    assert build_env(stack, tmp_path / "cache", uv=uv) == python
    assert len(log.read_text().splitlines()) == 2  # reused
    build_env(stack, tmp_path / "cache", uv=uv, refresh=True)
    assert len(log.read_text().splitlines()) == 4
    assert [p.name for p in (tmp_path / "cache").iterdir() if p.name.endswith(".tmp")] == []


def test_a_failed_build_names_the_stack_and_shows_the_tail_of_uv_stderr(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    uv = _script(tmp_path / "uv", FAKE_UV)
    monkeypatch.setenv("FAKE_UV_LOG", str(tmp_path / "log"))
    monkeypatch.setenv("FAKE_UV_FAIL", "1")
    with pytest.raises(UsageError) as info:
        build_env(STACKS["vlmrun-pinned"], tmp_path / "cache", uv=uv)
    message = str(info.value)
    assert message.startswith("stack vlmrun-pinned cannot be built: `uv pip install` exited 1")
    assert message.endswith("depends on openai==1.109.1")
    assert len(message) < 2200
    assert os.listdir(tmp_path / "cache") == [".gitignore"]  # nothing half-built left behind
