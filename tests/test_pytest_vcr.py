"""The recording side of the plugin as users meet it: the safe rewrite, scope, and a good guest.

Driven through pytester: a VLM Run test records against the embedded server, then is
re-recorded with `--record-mode=rewrite` while failing, interrupted, or no longer calling;
another API's test on a loopback stand-in keeps pytest-recording's own behaviour.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tests import serving

NO_CACHE = ["-p", "no:cacheprovider"]
OFFLINE = ["--record-mode=none", "--block-network", "--vlmrun-base-url", "http://127.0.0.1:9/v1", *NO_CACHE]

VLMRUN_TEST = """
import os
import pytest
from harness.docs_examples import MODEL, dict_form, seed_examples

EXAMPLES = {{e.name: e for e in seed_examples()}}

def call(client, name):
    example = EXAMPLES[name]
    skills = [dict_form(s) for s in example.skills]
    return client.chat.completions.create(model=MODEL, messages=example.messages, extra_body={{"skills": skills}})

@pytest.mark.vcr
def test_two_calls(openai_client):
    assert call(openai_client, "single").choices[0].message.content
{second}
"""
SECOND_CALL = '    assert call(openai_client, "pinned").choices[0].message.content'
SECOND_FAILS = '    raise RuntimeError("the second call broke")'
SECOND_INTERRUPTED = "    raise KeyboardInterrupt"


def _cassette(pytester: pytest.Pytester) -> Path:
    return pytester.path / "cassettes" / "test_vlm" / "test_two_calls.yaml"


@pytest.fixture
def recorded(pytester: pytest.Pytester) -> Path:
    pytester.makepyfile(test_vlm=VLMRUN_TEST.format(second=SECOND_CALL))
    pytester.runpytest("--record-mode=once", *NO_CACHE).assert_outcomes(passed=1)
    path = _cassette(pytester)
    assert len(yaml.safe_load(path.read_text())["interactions"]) == 2
    return path


def test_a_failing_test_keeps_the_old_cassette_under_rewrite(pytester: pytest.Pytester, recorded: Path) -> None:
    before = recorded.read_bytes()
    pytester.makepyfile(test_vlm=VLMRUN_TEST.format(second=SECOND_FAILS))
    result = pytester.runpytest("--record-mode=rewrite", *NO_CACHE)
    result.assert_outcomes(failed=1)
    assert recorded.read_bytes() == before
    result.stdout.fnmatch_lines(
        [
            "*vlmrun cassettes kept under --record-mode=rewrite*",
            "*test_two_calls.yaml: kept the previous recording, the test did not pass under --record-mode=rewrite",
        ]
    )
    assert not list(recorded.parent.glob(".*.tmp"))


def test_an_interrupted_test_keeps_the_old_cassette_under_rewrite(pytester: pytest.Pytester, recorded: Path) -> None:
    before = recorded.read_bytes()
    pytester.makepyfile(test_vlm=VLMRUN_TEST.format(second=SECOND_INTERRUPTED))
    result = pytester.runpytest_subprocess("--record-mode=rewrite", *NO_CACHE)
    assert result.ret == pytest.ExitCode.INTERRUPTED
    assert recorded.read_bytes() == before


def test_a_passing_test_replaces_the_cassette_under_rewrite(pytester: pytest.Pytester, recorded: Path) -> None:
    stamp = yaml.safe_load(recorded.read_text())["vlmrun_harness"]
    stamp["recorded_at"] = "2020-01-01T00:00:00Z"
    document = yaml.safe_load(recorded.read_text())
    document["vlmrun_harness"] = stamp
    document["interactions"] = document["interactions"][:1]  # as if recorded before the second call existed
    recorded.write_text(yaml.safe_dump(document, sort_keys=False))
    pytester.runpytest("--record-mode=rewrite", *NO_CACHE).assert_outcomes(passed=1)
    fresh = yaml.safe_load(recorded.read_text())
    assert len(fresh["interactions"]) == 2
    assert fresh["vlmrun_harness"]["recorded_at"] != "2020-01-01T00:00:00Z"
    pytester.runpytest(*OFFLINE).assert_outcomes(passed=1)


def test_a_test_that_no_longer_records_loses_its_cassette_under_rewrite(
    pytester: pytest.Pytester, recorded: Path
) -> None:
    pytester.makepyfile(
        test_vlm="import pytest\n\n@pytest.mark.vcr\ndef test_two_calls(openai_client):\n    assert openai_client\n"
    )
    pytester.runpytest("--record-mode=rewrite", *NO_CACHE).assert_outcomes(passed=1)
    assert not recorded.exists()  # pytest-recording's rewrite would have deleted it up front


# -- another API beside VLM Run -------------------------------------------------------------------


@pytest.fixture
def other_api() -> Iterator[str]:
    with serving.other_api() as server:
        yield f"http://127.0.0.1:{server.server_address[1]}"


OTHER_TEST = """
import httpx
import pytest

@pytest.mark.vcr
def test_other():
    r = httpx.get("{url}/repos/acme/api")
    assert r.json()["client_secret"] == "cs_live_123"
    {tail}
"""


def test_another_apis_rewrite_deletes_up_front_as_pytest_recording_does(
    pytester: pytest.Pytester, other_api: str
) -> None:
    pytester.makepyfile(test_other=OTHER_TEST.format(url=other_api, tail="pass"))
    pytester.runpytest("--record-mode=once", *NO_CACHE).assert_outcomes(passed=1)
    path = pytester.path / "cassettes" / "test_other" / "test_other.yaml"
    text = path.read_text()
    assert "vlmrun_harness" not in text
    assert "cs_live_123" in text
    pytester.makepyfile(test_other=OTHER_TEST.format(url=other_api, tail='raise RuntimeError("boom")'))
    pytester.runpytest("--record-mode=rewrite", *NO_CACHE).assert_outcomes(failed=1)
    assert path.exists()  # vcrpy saved what it recorded (record_on_exception), after the delete
    assert yaml.safe_load(path.read_text())["interactions"][0]["request"]["uri"].endswith("/repos/acme/api")


def test_without_pytest_recording_the_plugin_still_loads(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_plain="def test_plain():\n    assert True\n")
    pytester.runpytest("-p", "no:recording", *NO_CACHE).assert_outcomes(passed=1)
    pytester.runpytest("-p", "no:syrupy", *NO_CACHE).assert_outcomes(passed=1)


def test_vlmrun_snapshot_without_syrupy_is_a_one_line_error(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_snap="def test_snap(vlmrun_snapshot):\n    pass\n")
    result = pytester.runpytest("-p", "no:syrupy", *NO_CACHE)
    result.assert_outcomes(errors=1)
    errors = [line for line in result.stdout.lines if line.startswith("vlmrun_snapshot needs syrupy")]
    assert errors == [
        "vlmrun_snapshot needs syrupy, which is not installed or was disabled with -p no:syrupy: "
        "pip install 'vlmrun-skills-harness[snapshots]'"
    ]


def test_a_users_recording_configure_hook_wins(pytester: pytest.Pytester, other_api: str) -> None:
    pytester.makeconftest(
        """
def pytest_recording_configure(config, vcr):
    vcr.filter_headers = ["x-team-token"]
"""
    )
    pytester.makepyfile(
        test_other=f"""
import httpx
import pytest

@pytest.mark.vcr
def test_other():
    httpx.get("{other_api}/x", headers={{"x-team-token": "t0k3n", "x-kept": "yes"}})
"""
    )
    pytester.runpytest("--record-mode=once", *NO_CACHE).assert_outcomes(passed=1)
    text = (pytester.path / "cassettes" / "test_other" / "test_other.yaml").read_text()
    assert "t0k3n" not in text
    assert "x-kept" in text


def test_another_apis_miss_is_vcrpys_own_error(pytester: pytest.Pytester, other_api: str) -> None:
    pytester.makepyfile(test_other=OTHER_TEST.format(url=other_api, tail="pass"))
    pytester.runpytest("--record-mode=once", *NO_CACHE).assert_outcomes(passed=1)
    pytester.makepyfile(test_other=OTHER_TEST.format(url=other_api, tail='httpx.get("' + other_api + '/elsewhere")'))
    result = pytester.runpytest("--record-mode=none", *NO_CACHE)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*CannotOverwriteExistingCassetteException*"])
    assert "CassetteMiss" not in result.stdout.str()


# -- messages, whole ---------------------------------------------------------------------------------


def _failure_text(result: pytest.RunResult, pytester: pytest.Pytester) -> str:
    """The FAILURES section of a run, with the project's temp path made stable."""
    text = result.stdout.str()
    start = text.index("= FAILURES =")
    end = text.index("short test summary info")
    section = text[text.index("\n", start) + 1 : text.rindex("\n", 0, end)]
    # Caret lines under a call depend on the Python version, not on what we print.
    lines = [line for line in section.splitlines() if line.strip(" ^")]
    return "\n".join(lines).replace(str(pytester.path), "<project>").rstrip() + "\n"


def test_a_miss_reads_as_written_for_the_person_who_fixes_it(pytester: pytest.Pytester, recorded: Path) -> None:
    pytester.makepyfile(test_vlm=VLMRUN_TEST.format(second=SECOND_CALL.replace('"pinned"', '"multiple"')))
    result = pytester.runpytest(*OFFLINE, "--tb=short")
    result.assert_outcomes(failed=1)
    text = _failure_text(result, pytester)
    assert text == (
        "________________________________ test_two_calls ________________________________\n"
        "test_vlm.py:15: in test_two_calls\n"
        '    assert call(openai_client, "multiple").choices[0].message.content\n'
        "test_vlm.py:10: in call\n"
        "    return client.chat.completions.create(model=MODEL, messages=example.messages, "
        'extra_body={"skills": skills})\n'
        "E   harness.errors.CassetteMiss: No recorded interaction matches POST /v1/openai/chat/completions in "
        "cassette cassettes/test_vlm/test_two_calls.yaml (record mode none).\n"
        "E   Closest recorded: interaction 0; what differs in the canonical request:\n"
        """E     skills[1]: recorded <absent>, sent {"type": "skill_reference", "skill_name": """
        """"line-item-validation", "skill_version": "latest"}\n"""
        "E   If the call changed on purpose, re-record with --record-mode=rewrite "
        "(pytest test_vlm.py::test_two_calls); otherwise fix the call.\n"
    )


def test_a_miss_in_once_mode_and_without_a_cassette_advises_what_works(
    pytester: pytest.Pytester, recorded: Path
) -> None:
    pytester.makepyfile(test_vlm=VLMRUN_TEST.format(second=SECOND_CALL.replace('"pinned"', '"multiple"')))
    once = pytester.runpytest("--record-mode=once", "--vlmrun-base-url", "http://127.0.0.1:9/v1", *NO_CACHE)
    once.assert_outcomes(failed=1)
    assert (
        "E       To record it: --record-mode=new_episodes adds it to the cassette, --record-mode=rewrite records the "
        "test afresh (pytest test_vlm.py::test_two_calls); or fix the call." in once.stdout.lines
    )
    assert "RecordMode" not in once.stdout.str()
    recorded.unlink()
    missing = pytester.runpytest(*OFFLINE)
    missing.assert_outcomes(failed=1)
    assert (
        "E       The cassette does not exist yet: record it with --record-mode=once (pytest "
        "test_vlm.py::test_two_calls)." in missing.stdout.lines
    )
    assert "it has: nothing" not in missing.stdout.str()


def test_a_conformance_failure_names_each_location_once(pytester: pytest.Pytester, recorded: Path) -> None:
    document = yaml.safe_load(recorded.read_text())
    stored = document["interactions"][0]["response"]["body"]
    body = json.loads(stored["string"])
    body["choices"][0]["finish_reason"] = "exploded"
    stored["string"] = json.dumps(body, indent=2)
    recorded.write_text(yaml.safe_dump(document, sort_keys=False))
    result = pytester.runpytest(*OFFLINE)
    result.assert_outcomes(failed=1)
    assert _failure_text(result, pytester) == (
        "________________________________ test_two_calls ________________________________\n"
        "harness.errors.ConformanceFailure: cassettes/test_vlm/test_two_calls.yaml: 2 interaction(s), "
        "1 with 1 conformance finding(s):\n"
        "  interaction 0: POST /v1/openai/chat/completions -> 200\n"
        '    response choices[0].finish_reason: "exploded" is not one of "stop", "length", "tool_calls", '
        '"content_filter", null [schema]\n'
    )


def test_the_recording_key_never_reaches_disk_even_in_a_prompt(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = "sk-prompt-leak-7c1e9b24d6a0"
    monkeypatch.setenv("VLMRUN_API_KEY", key)
    pytester.makepyfile(
        test_leak="""
import os
import pytest

@pytest.mark.vcr
def test_leak(openai_client):
    text = "My key is " + os.environ["VLMRUN_API_KEY"] + ", do not store it."
    r = openai_client.chat.completions.create(
        model="vlmrun-orion-1:auto", messages=[{"role": "user", "content": text}],
        extra_body={"skills": [{"skill_name": "invoice-extraction"}]},
    )
    assert r.choices[0].message.content
"""
    )
    pytester.runpytest("--record-mode=once", *NO_CACHE).assert_outcomes(passed=1)
    written = [p for p in pytester.path.rglob("*") if p.is_file() and "__pycache__" not in p.parts]
    assert [p.name for p in written if key.encode() in p.read_bytes() and p.suffix != ".py"] == []
    text = (pytester.path / "cassettes" / "test_leak" / "test_leak.yaml").read_text()
    assert '"content": "My key is <redacted>, do not store it."' in text
    pytester.runpytest("--record-mode=none", "--block-network", *NO_CACHE).assert_outcomes(passed=1)


def test_an_agentskill_typeerror_carries_the_workaround(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_hint="""
def test_hint():
    raise TypeError("Object of type AgentSkill is not JSON serializable")
"""
    )
    result = pytester.runpytest(*NO_CACHE)
    result.assert_outcomes(failed=1)
    assert result.stdout.lines[
        result.stdout.lines.index("E       TypeError: Object of type AgentSkill is not JSON serializable") + 1
    ] == (
        "E       hint: openai-python before 2.17 (what `pip install vlmrun` gives) cannot serialize AgentSkill "
        "objects; send dicts instead: skills=harness.skill_dicts.to_wire_dicts(skills), which works on every "
        "client stack"
    )


def test_re_recording_the_same_calls_gives_the_same_file(pytester: pytest.Pytester, recorded: Path) -> None:
    before = recorded.read_bytes()
    text = before.decode()
    assert "http://vlmrun-reference.invalid/v1/openai/chat/completions" in text  # not this session's port
    assert "recorded_against: http://vlmrun-reference.invalid" in text
    assert "\n      date:" not in text
    pytester.runpytest("--record-mode=rewrite", *NO_CACHE).assert_outcomes(passed=1)  # a new server, a new port
    assert recorded.read_bytes() == before
    pytester.runpytest(*OFFLINE).assert_outcomes(passed=1)


def test_a_changed_bundle_misses_naming_the_file_inside_it(pytester: pytest.Pytester) -> None:
    skill = pytester.path / "skills" / "invoice"
    skill.mkdir(parents=True)
    (skill / "SKILL.md").write_text("---\nname: invoice-extraction\ndescription: Extract invoices\n---\n# Do it\n")
    (skill / "schema.json").write_text('{"type": "object"}')
    pytester.makepyfile(
        test_bundle="""
import pytest
from harness.bundles import build_bundle_from_directory, encode_bundle

@pytest.mark.vcr
def test_bundle(openai_client):
    data = encode_bundle(build_bundle_from_directory("skills/invoice"))
    skill = {"type": "inline", "name": "invoice-extraction", "description": "Extract invoices",
             "source": {"data": data}}
    r = openai_client.chat.completions.create(
        model="vlmrun-orion-1:auto", messages=[{"role": "user", "content": "Extract."}],
        extra_body={"skills": [skill]},
    )
    assert r.choices[0].message.content
"""
    )
    pytester.runpytest("--record-mode=once", *NO_CACHE).assert_outcomes(passed=1)
    (skill / "schema.json").write_text('{"type": "object", "required": ["total"]}')
    (skill / "notes.md").write_text("new\n")
    result = pytester.runpytest(*OFFLINE)
    result.assert_outcomes(failed=1)
    lines = [line for line in result.stdout.lines if line.startswith("E   ")]
    assert "E         skills[0] bundle: notes.md added; schema.json changed (18 → 41 bytes)" in lines


def test_the_summaries_survive_xdist(pytester: pytest.Pytester, recorded: Path) -> None:
    document = yaml.safe_load(recorded.read_text())
    document["vlmrun_harness"]["description_sha256"] = "0" * 64
    recorded.write_text(yaml.safe_dump(document, sort_keys=False))
    result = pytester.runpytest_subprocess("-n", "2", *OFFLINE)
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(
        [
            "*vlmrun cassettes recorded against another API description*",
            "cassettes/test_vlm/test_two_calls.yaml: Cassette was recorded against API description 000000000000*",
        ]
    )


NO_YAML = """
import harness.recording.cassette_io as cassette_io
import harness.recording.replay_check as replay_check

def _parsed_again(*args):
    raise AssertionError("the cassette was parsed again")

def _judged_again(*args, **kwargs):
    raise AssertionError("the cassette was judged again")

def pytest_configure(config):
    originals = cassette_io.parse_text, replay_check.check_interactions
    cassette_io.parse_text, replay_check.check_interactions = _parsed_again, _judged_again

    def restore():
        cassette_io.parse_text, replay_check.check_interactions = originals

    config.add_cleanup(restore)
"""


def test_replay_keeps_each_cassettes_load_and_clean_verdict_in_pytests_cache_folder(
    pytester: pytest.Pytester, recorded: Path
) -> None:
    replay = ["--record-mode=none", "--block-network", "--vlmrun-base-url", "http://127.0.0.1:9/v1"]
    folder = pytester.path / ".pytest_cache" / "d" / "vlmrun-harness"
    pytester.runpytest(*replay).assert_outcomes(passed=1)
    kept = sorted(path.suffix for path in folder.iterdir())
    assert kept == [".json", ".verdict"]
    pytester.makeconftest(NO_YAML)
    pytester.runpytest(*replay).assert_outcomes(passed=1)  # from the cache: YAML never read, never judged
    result = pytester.runpytest(*replay, "--cache-clear")  # emptied: the cassette must be parsed
    result.assert_outcomes(errors=1)
    assert "the cassette was parsed again" in result.stdout.str()
    (pytester.path / "conftest.py").unlink()
    recorded.write_bytes(recorded.read_bytes().replace(b"interactions:", b"interactions:  "))  # other bytes
    pytester.runpytest(*replay).assert_outcomes(passed=1)
    assert sorted(path.suffix for path in folder.iterdir()) == kept


def test_without_pytests_cache_nothing_is_kept(pytester: pytest.Pytester, recorded: Path) -> None:
    pytester.runpytest(*OFFLINE).assert_outcomes(passed=1)
    assert not (pytester.path / ".pytest_cache").exists()
