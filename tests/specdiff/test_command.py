"""`harness diff` end to end: exit codes, --fail-on, --out, --waivers, annotations with lines."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from harness import cli
from harness.contract import default_description_path
from tests.specdiff._pairs import Doc, mutated, prop, schema

CHAT = "POST /v1/openai/chat/completions"
POLL = "GET /v1/openai/chat/completions"  # pollChatCompletion answers a ChatCompletion with 200 and 201
HEALTH = "GET /v1/health"


def main(args: list[str]) -> int:
    return cli.main(["diff", *args])


@pytest.fixture(autouse=True)
def _in_an_empty_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`harness diff` looks for recorded traffic below the current folder: none here."""
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)


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
    """One breaking change: `Health` answers one operation only (a `ChatCompletion` change shows three times)."""
    return _write(tmp_path / "err.yaml", mutated(lambda d: schema(d, "Health")["required"].remove("status")))


def test_identical_exits_0(base: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([base, base]) == 0
    assert capsys.readouterr().out.startswith("No changes detected")


def test_new_defaults_to_the_packaged_description(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(default_description_path())]) == 0


def test_err_fails_by_default(base: str, breaking: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([base, breaking]) == 1
    assert "[response-property-became-optional]" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("fail_on", "code"), [("ERR", 0), ("WARN", 1), ("INFO", 1), ("err", 0), ("warn", 1), ("Info", 1)]
)
def test_fail_on_sets_the_threshold(base: str, warn_only: str, fail_on: str, code: int) -> None:
    assert main([base, warn_only, "--fail-on", fail_on, "--format", "json"]) == code


def test_waived_changes_do_not_fail(
    base: str, breaking: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    waivers = tmp_path / "waivers.yaml"
    waivers.write_text(
        "version: 1\nwaivers:\n"
        "  - id: response-property-became-optional\n"
        f"    operation: {HEALTH}\n"
        "    path: 'response 200 application/json: status'\n"
        "    reason: status may be left out now\n"
        "  - id: api-removed-without-deprecation\n"
        "    operation: GET /v1/health\n"
        "    path: endpoint\n"
        "    reason: planned\n"
    )
    assert main([base, breaking, "--waivers", str(waivers), "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [(c["id"], c["waived"], c["waiver_reason"]) for c in data["changes"]] == [
        ("response-property-became-optional", True, "status may be left out now")
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
        (
            ["missing.yaml"],
            "no such description file: missing.yaml (a git revision is written REV:path, e.g. HEAD~1:openapi.yaml)",
        ),
    ],
)
def test_usage_errors_exit_2(args: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(args) == 2
    assert capsys.readouterr() == ("", f"error: {message}\n")


def test_an_unknown_git_revision_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["nope~9:openapi/vlmrun-agent.yaml"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: cannot read openapi/vlmrun-agent.yaml at git revision 'nope~9': ")
    assert err.count("\n") == 1  # git's own first line follows; its wording is git's


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


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--out", "nope/r.txt"], "--out: folder nope does not exist"),
        (["--out", "."], "--out . is a folder: name the file to write the report to"),
        (["--waivers", "w.yaml"], "w.yaml: waiver file not found"),
    ],
)
def test_out_and_waivers_are_checked_before_any_description_is_read(
    argv: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import harness.specdiff.command

    def unread(*args: object, **kwargs: object) -> None:
        raise AssertionError("a description was read")

    monkeypatch.setattr(harness.specdiff.command, "load_description", unread)
    monkeypatch.chdir(tmp_path)
    assert main(["old.yaml", "new.yaml", *argv]) == 2
    assert capsys.readouterr() == ("", f"error: {message}\n")


def test_one_change_is_one_change(base: str, breaking: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "r.txt"
    assert main([base, breaking, "--out", str(out)]) == 1
    assert capsys.readouterr() == (
        "",
        f"1 change: 1 error, 0 warnings, 0 info; report written to {out}\n",
    )
    assert out.read_text() == (
        "1 change: 1 error, 0 warnings, 0 info\n"
        f"error\t[response-property-became-optional] at {breaking}\n"
        f"\tin API {HEALTH}\n"
        "\t\tresponse 200 application/json: status\n"
        "\t\tthe response property 'status' became optional for the status 200\n"
    )


# -- annotations point at the line of the change --------------------------------------------------


def _line_of(text: str, *keys: str) -> int:
    """1-based line of the last of `keys`, each searched for after the one before (indented YAML keys)."""
    lines, at = text.splitlines(), 0
    for key in keys:
        at = next(i for i in range(at, len(lines)) if lines[i].lstrip().startswith(key))
    return at + 1


def test_githubactions_annotations_carry_the_line_of_the_changed_schema(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A real edit of the packaged description, as text, so the file keeps its layout."""
    text = default_description_path().read_text()
    old = tmp_path / "old.yaml"
    old.write_text(text)
    reference = _line_of(text, "SkillReference:", "skill_version:")
    lines = text.splitlines(keepends=True)
    default = next(i for i in range(reference, reference + 12) if "default: latest" in lines[i])
    lines[default] = lines[default].replace("default: latest", "default: stable")
    finish = _line_of(text, "Choice:", "finish_reason:")
    enum = next(i for i in range(finish, finish + 4) if "enum: [stop, length" in lines[i])
    lines[enum] = lines[enum].replace("enum: [stop, length,", "enum: [stop,")
    (tmp_path / "new.yaml").write_text("".join(lines))
    monkeypatch.chdir(tmp_path)
    assert main(["old.yaml", "new.yaml", "--format", "githubactions", "--fail-on", "info"]) == 1
    out, err = capsys.readouterr()
    assert err == ""
    assert out == (
        f"::warning title=request-property-default-value-changed,file=new.yaml,line={reference}::in API {CHAT} "
        "request body: skills[*].skill_version: the request property 'skills[*].skill_version' default value "
        "changed from 'latest' to 'stable' (in oneOf SkillReference)\n"
    ) + "".join(  # `Choice` answers the POST and the poll's 200 and 201: one notice each, all at its line
        f"::notice title=response-property-enum-value-removed,file=new.yaml,line={finish}::in API {operation} "
        f"response {status} application/json: choices[*].finish_reason: removed the enum value 'length' from the "
        f"response property 'choices[*].finish_reason' for the status {status}\n"
        for operation, status in ((POLL, "200"), (POLL, "201"), (CHAT, "200"))
    )


def test_a_json_description_gets_lines_too(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    old = mutated()
    new = mutated(lambda d: schema(d, "ChatCompletion")["required"].remove("usage"))
    (tmp_path / "old.json").write_text(json.dumps(old, indent=2))
    text = json.dumps(new, indent=2)
    (tmp_path / "new.json").write_text(text)
    usage = _line_of(text, '"ChatCompletion": {', '"usage": {')
    argv = [str(tmp_path / "old.json"), str(tmp_path / "new.json"), "--format", "githubactions"]
    assert main(argv) == 1
    assert capsys.readouterr().out == "".join(  # one error per response that answers a ChatCompletion
        f"::error title=response-property-became-optional,file={tmp_path / 'new.json'},line={usage}::in API "
        f"{operation} response {status} application/json: usage: the response property 'usage' became optional "
        f"for the status {status}\n"
        for operation, status in ((POLL, "200"), (POLL, "201"), (CHAT, "200"))
    )


def test_annotation_lines_are_found_with_the_harness_yaml_loader() -> None:
    """`harness.yaml_load` is the one place that picks a YAML loader."""
    from harness import yaml_load
    from harness.specdiff import command

    assert vars(command)["SafeLoader"] is yaml_load.SafeLoader
