"""The snapshot extension as a user meets it: the fixture, `--snapshot-update`, unused snapshots."""

from __future__ import annotations

from pathlib import Path

import pytest

SECRET = "sk-live-0123456789abcdefSECRET"

USER_TEST = f"""
from harness.snapshots import Capture, openai_client


def test_request(vlmrun_snapshot):
    capture = Capture()
    client = openai_client(capture)
    client.api_key = "{SECRET}"
    client.chat.completions.create(
        model="vlmrun-orion-1:auto",
        messages=[{{"role": "user", "content": "hi"}}],
        extra_body={{
            "skills": [{{"skill_name": "SKILL", "skill_version": "latest"}}],
            "metadata": {{"api_key": "{SECRET}"}},
        }},
        extra_query={{"api_key": "{SECRET}"}},
    )
    assert capture.last == vlmrun_snapshot
"""


def _write(pytester: pytest.Pytester, skill: str = "invoice-extraction", name: str = "test_user") -> None:
    pytester.makepyfile(**{name: USER_TEST.replace("SKILL", skill)})


def _snapshot_files(pytester: pytest.Pytester) -> list[Path]:
    return sorted(p for p in pytester.path.rglob("__snapshots__/**/*") if p.is_file())


def test_missing_snapshot_fails_then_update_creates_it_and_it_passes(pytester: pytest.Pytester) -> None:
    _write(pytester)
    assert pytester.runpytest_inprocess("-p", "no:cacheprovider").ret == pytest.ExitCode.TESTS_FAILED
    created = pytester.runpytest_inprocess("-p", "no:cacheprovider", "--snapshot-update")
    assert created.ret == pytest.ExitCode.OK
    created.stdout.fnmatch_lines(["*1 snapshot generated*"])
    [stored] = _snapshot_files(pytester)
    assert stored.suffix == ".json"
    assert '"skill_name": "invoice-extraction"' in stored.read_text()
    assert pytester.runpytest_inprocess("-p", "no:cacheprovider").ret == pytest.ExitCode.OK


def test_secrets_never_reach_the_snapshot(pytester: pytest.Pytester) -> None:
    _write(pytester)
    pytester.runpytest_inprocess("-p", "no:cacheprovider", "--snapshot-update").assert_outcomes(passed=1)
    [stored] = _snapshot_files(pytester)
    text = stored.read_text()
    assert SECRET not in text
    assert text.count("<redacted>") == 3  # authorization header, api_key query, metadata.api_key


def test_a_changed_request_fails_with_a_diff(pytester: pytest.Pytester) -> None:
    _write(pytester)
    pytester.runpytest_inprocess("-p", "no:cacheprovider", "--snapshot-update").assert_outcomes(passed=1)
    _write(pytester, skill="line-item-validation")
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(['*-*"skill_name": "invoice-extraction"*', '*+*"skill_name": "line-item-validation"*'])


def test_unused_snapshots_are_reported_and_removed_on_update(pytester: pytest.Pytester) -> None:
    _write(pytester)
    pytester.runpytest_inprocess("-p", "no:cacheprovider", "--snapshot-update").assert_outcomes(passed=1)
    (pytester.path / "test_user.py").unlink()
    _write(pytester, name="test_renamed")
    pytester.runpytest_inprocess("-p", "no:cacheprovider", "--snapshot-update").assert_outcomes(passed=1)
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.OK
    assert [p.parent.name for p in _snapshot_files(pytester)] == ["test_renamed"]


def test_an_unused_snapshot_fails_the_run(pytester: pytest.Pytester) -> None:
    _write(pytester)
    pytester.runpytest_inprocess("-p", "no:cacheprovider", "--snapshot-update").assert_outcomes(passed=1)
    pytester.makepyfile(test_user="def test_other():\n    pass\n")
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["*1 snapshot unused*"])


def test_the_readme_example_runs(pytester: pytest.Pytester) -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    blocks = [chunk.split("```")[0] for chunk in readme.split("```python\n")[1:]]
    block = next(b for b in blocks if "vlmrun_snapshot" in b)
    pytester.makepyfile(test_readme=block)
    pytester.runpytest_inprocess("-p", "no:cacheprovider", "--snapshot-update").assert_outcomes(passed=1)
    [stored] = _snapshot_files(pytester)
    assert '"skill_version": "20260219-abc123"' in stored.read_text()
    pytester.runpytest_inprocess("-p", "no:cacheprovider").assert_outcomes(passed=1)
