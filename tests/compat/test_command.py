"""`harness diff` end to end: exit codes, --fail-on, --out, --waivers, argparse wiring."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest
import yaml

from harness.compat.command import add_parser, main
from harness.contract import default_description_path
from tests.compat._pairs import Doc, mutated, prop, schema

CHAT = "POST /v1/openai/chat/completions"


def _write(path: Path, doc: Doc) -> str:
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return str(path)


@pytest.fixture
def base(tmp_path: Path) -> str:
    return _write(tmp_path / "base.yaml", mutated())


@pytest.fixture
def warn_only(tmp_path: Path) -> str:
    return _write(
        tmp_path / "warn.yaml",
        mutated(lambda d: prop(d, "SkillReference", "skill_version").update(default="20260219-abc123")),
    )


@pytest.fixture
def breaking(tmp_path: Path) -> str:
    return _write(tmp_path / "err.yaml", mutated(lambda d: schema(d, "ChatCompletion")["required"].remove("usage")))


def test_identical_exits_0(base: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([base, base]) == 0
    assert capsys.readouterr().out.startswith("No changes detected")


def test_new_defaults_to_the_packaged_description(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(default_description_path())]) == 0


def test_err_fails_by_default(base: str, breaking: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([base, breaking]) == 1
    assert "[response-property-became-optional]" in capsys.readouterr().out


@pytest.mark.parametrize(("fail_on", "code"), [("ERR", 0), ("WARN", 1), ("INFO", 1)])
def test_fail_on_sets_the_threshold(base: str, warn_only: str, fail_on: str, code: int) -> None:
    assert main([base, warn_only, "--fail-on", fail_on, "--format", "json"]) == code


def test_waived_changes_do_not_fail(
    base: str, breaking: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    waivers = tmp_path / "waivers.yaml"
    waivers.write_text(
        "version: 1\nwaivers:\n"
        "  - id: response-property-became-optional\n"
        f"    operation: {CHAT}\n"
        "    path: 'response 200 application/json: usage'\n"
        "    reason: usage may be null now\n"
        "  - id: api-removed-without-deprecation\n"
        "    operation: GET /v1/health\n"
        "    path: endpoint\n"
        "    reason: planned\n"
    )
    assert main([base, breaking, "--waivers", str(waivers), "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [(c["id"], c["waived"], c["waiver_reason"]) for c in data["changes"]] == [
        ("response-property-became-optional", True, "usage may be null now")
    ]
    assert [w["index"] for w in data["unused_waivers"]] == [1]


def test_out_writes_atomically(base: str, breaking: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "report.xml"
    out.write_text("old report")
    assert main([base, breaking, "--format", "junit", "--out", str(out)]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "report written to" in captured.err
    assert out.read_text().startswith("<?xml")
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".report")] == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["missing.yaml"], "no such description file: missing.yaml"),
        (["nope~9:openapi/vlmrun-agent.yaml"], "git revision 'nope~9'"),
    ],
)
def test_usage_errors_exit_2(args: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(args) == 2
    assert message in capsys.readouterr().err


def test_bad_description_exits_2(tmp_path: Path, base: str, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("openapi: [\n")
    assert main([base, str(bad)]) == 2
    err = capsys.readouterr().err
    assert "bad.yaml: not valid YAML" in err
    assert "Traceback" not in err


def test_bad_waivers_exit_2(base: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    waivers = tmp_path / "w.yaml"
    waivers.write_text("version: 1\nwaivers:\n  - {id: endpoint-added, operation: X, path: p}\n")
    assert main([base, base, "--waivers", str(waivers)]) == 2
    assert "waivers[0]: needs a reason" in capsys.readouterr().err


def test_out_into_a_missing_folder_exits_2(base: str, tmp_path: Path) -> None:
    assert main([base, base, "--out", str(tmp_path / "nope" / "r.txt")]) == 2


def test_add_parser_registers_diff() -> None:
    parser = argparse.ArgumentParser(prog="harness")
    add_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["diff", "a.yaml", "b.yaml", "--format", "markdown", "--fail-on", "WARN"])
    assert (args.command, args.base, args.revision, args.format, args.fail_on) == (
        "diff",
        "a.yaml",
        "b.yaml",
        "markdown",
        "WARN",
    )
    with pytest.raises(SystemExit) as info:
        parser.parse_args(["diff", "a.yaml", "--format", "html"])
    assert info.value.code == 2
