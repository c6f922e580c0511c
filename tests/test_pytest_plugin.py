"""The plugin as users meet it, driven through pytester: record, replay offline, miss, conform."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

RECORD = ["--record-mode=once", "-p", "no:cacheprovider"]
REPLAY_OFFLINE = [
    "--record-mode=none",
    "--block-network",
    "--vlmrun-base-url",
    "http://127.0.0.1:9/v1",
    "-p",
    "no:cacheprovider",
]
SECRET = "sk-test-secret-4b8e21"

TEST_TEMPLATE = """
import pytest
from harness.docs_examples import MODEL, dict_form, object_form, seed_examples

EXAMPLES = {{e.name: e for e in seed_examples()}}

@pytest.mark.vcr
def test_call(openai_client):
    example = EXAMPLES["{example}"]
    skills = [{form}(s) for s in example.skills]
    create = openai_client.chat.completions.create
    response = create(model=MODEL, messages=example.messages, extra_body={{"skills": skills}})
    assert response.choices[0].message.content
"""


def write_test(pytester: pytest.Pytester, *, example: str = "mixed", form: str = "dict_form") -> None:
    pytester.makepyfile(test_calls=TEST_TEMPLATE.format(example=example, form=form))


def cassette(pytester: pytest.Pytester) -> Path:
    return pytester.path / "cassettes" / "test_calls" / "test_call.yaml"


@pytest.fixture
def recorded(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    monkeypatch.setenv("VLMRUN_API_KEY", SECRET)
    write_test(pytester)
    result = pytester.runpytest(*RECORD)
    result.assert_outcomes(passed=1)
    monkeypatch.delenv("VLMRUN_API_KEY")
    return pytester


def test_help_lists_our_options_next_to_pytest_recordings(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--help")
    out = result.stdout.str()
    ours = ("--vlmrun-base-url", "--vlmrun-api-key", "--vlmrun-conformance", "--vlmrun-description", "--vlmrun-overlay")
    for option in (*ours, "--vlmrun-skills", "--record-mode", "--block-network"):
        assert option in out
    for ini in ("vlmrun_hosts", "vlmrun_description", "vlmrun_overlays", "vlmrun_skills"):
        assert f"  {ini} " in out
    assert len(re.findall(r"--record-mode=", out)) == 1


def test_record_writes_a_readable_cassette_without_the_key(recorded: pytest.Pytester) -> None:
    path = cassette(recorded)
    text = path.read_text()
    data = yaml.safe_load(text)
    stamp = data["vlmrun_harness"]
    assert stamp["format"] == 2
    assert stamp["recorded_against"] == "http://vlmrun-reference.invalid"  # the embedded server, any port
    [interaction] = data["interactions"]
    body = json.loads(interaction["request"]["body"])
    assert body["skills"][0]["source"]["data"].startswith("$blob:sha256:")
    assert json.loads(interaction["response"]["body"]["string"])["object"] == "chat.completion"
    assert interaction["response"]["vlmrun_harness"] == {"request_body": "json", "response_body": "json"}
    lines = [line.strip() for line in text.splitlines()]
    assert '"object": "chat.completion",' in lines  # indented JSON: one field per line in a diff
    for file in recorded.path.rglob("*"):
        if file.is_file() and file.suffix in {".yaml", ".zip"}:
            assert SECRET.encode() not in file.read_bytes(), file


def test_replay_works_offline_with_the_server_gone(recorded: pytest.Pytester) -> None:
    recorded.runpytest(*REPLAY_OFFLINE).assert_outcomes(passed=1)


@pytest.mark.parametrize("form", ["object_form", "dict_form"])
def test_other_wire_forms_of_the_same_call_replay(recorded: pytest.Pytester, form: str) -> None:
    write_test(recorded, form=form)
    recorded.runpytest(*REPLAY_OFFLINE).assert_outcomes(passed=1)


def test_a_changed_call_misses_naming_the_field(recorded: pytest.Pytester) -> None:
    write_test(recorded, example="inline")  # the mixed example without its second skill
    result = recorded.runpytest(*REPLAY_OFFLINE)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["*CassetteMiss*", "*Closest recorded: interaction 0*", "*skills[[]1[]]*", "*--record-mode*"]
    )


def test_a_malformed_cassette_names_the_file(recorded: pytest.Pytester) -> None:
    cassette(recorded).write_text("interactions: [\n")
    result = recorded.runpytest(*REPLAY_OFFLINE)
    assert result.ret != 0
    result.stdout.fnmatch_lines(["*CassetteError*test_call.yaml*"])


def _tamper(pytester: pytest.Pytester, edit: object) -> None:
    path = cassette(pytester)
    data = yaml.safe_load(path.read_text())
    edit(data)  # type: ignore[operator]
    path.write_text(yaml.safe_dump(data, sort_keys=False))


def test_a_drifted_response_fails_conformance_naming_cassette_interaction_and_path(recorded: pytest.Pytester) -> None:
    def drop_session_id(data: dict[str, Any]) -> None:
        body = data["interactions"][0]["response"]["body"]
        value = json.loads(body["string"])
        value.pop("session_id")
        body["string"] = json.dumps(value, indent=2)

    _tamper(recorded, drop_session_id)
    result = recorded.runpytest(*REPLAY_OFFLINE)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*ConformanceFailure*test_call.yaml*", "*interaction 0*", "*session_id*"])
    recorded.runpytest(*REPLAY_OFFLINE, "--vlmrun-conformance=warn").assert_outcomes(passed=1, warnings=1)
    recorded.runpytest(*REPLAY_OFFLINE, "--vlmrun-conformance=off").assert_outcomes(passed=1)


def test_a_cassette_from_another_description_is_reported(recorded: pytest.Pytester) -> None:
    _tamper(recorded, lambda d: d["vlmrun_harness"].update(description_sha256="0" * 64))
    result = recorded.runpytest(*REPLAY_OFFLINE)
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*recorded against another API description*", "*test_call.yaml*"])


def test_vlmrun_client_fixture_records_its_health_check(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_sdk="""
import pytest
from harness.docs_examples import MODEL, seed_examples

@pytest.mark.vcr
def test_sdk(vlmrun_client):
    example = seed_examples()[0]
    r = vlmrun_client.agent.completions.create(model=MODEL, messages=example.messages, skills=list(example.skills))
    assert r.choices[0].message.content
"""
    )
    pytester.runpytest(*RECORD).assert_outcomes(passed=1)
    data = yaml.safe_load((pytester.path / "cassettes" / "test_sdk" / "test_sdk.yaml").read_text())
    assert [i["request"]["method"] for i in data["interactions"]] == ["GET", "POST"]
    pytester.runpytest(*REPLAY_OFFLINE).assert_outcomes(passed=1)


def test_recording_under_xdist_shares_blobs_safely(pytester: pytest.Pytester) -> None:
    tests = "\n".join(
        f'''
@pytest.mark.vcr
def test_{i}(openai_client):
    example = EXAMPLES["inline"]
    messages = example.messages + [{{"role": "user", "content": "{i}"}}]
    skills = [dict_form(s) for s in example.skills]
    r = openai_client.chat.completions.create(model=MODEL, messages=messages, extra_body={{"skills": skills}})
    assert r.choices[0].message.content
'''
        for i in range(8)
    )
    pytester.makepyfile(
        test_many="import pytest\nfrom harness.docs_examples import MODEL, dict_form, seed_examples\n"
        "EXAMPLES = {e.name: e for e in seed_examples()}\n" + tests
    )
    pytester.runpytest_subprocess("-n", "4", *RECORD).assert_outcomes(passed=8)
    blobs = list((pytester.path / "cassettes" / "_blobs").iterdir())
    assert len(blobs) == 1
    pytester.runpytest_subprocess("-n", "4", *REPLAY_OFFLINE).assert_outcomes(passed=8)


KEY_TEST = """
def test_key(vlmrun_api_key, vlmrun_base_url):
    print("\\nKEY=" + str(vlmrun_api_key))
"""


@pytest.mark.parametrize(
    ("argv", "env", "sent"),
    [
        ([], None, "harness-local-key"),
        ([], "env-key-1234", "env-key-1234"),
        (["--vlmrun-api-key", "option-key-1234"], "env-key-1234", "option-key-1234"),
        (["--vlmrun-base-url", "http://127.0.0.1:9/v1"], None, "vlmrun-api-key-not-set"),
    ],
)
def test_the_fixtures_key_is_the_option_then_the_environment_then_the_local_one(
    argv: list[str], env: str | None, sent: str, pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    if env is None:
        monkeypatch.delenv("VLMRUN_API_KEY", raising=False)
    else:
        monkeypatch.setenv("VLMRUN_API_KEY", env)
    monkeypatch.delenv("VLMRUN_BASE_URL", raising=False)
    pytester.makepyfile(test_key=KEY_TEST)
    result = pytester.runpytest("-s", "-p", "no:cacheprovider", *argv)
    result.assert_outcomes(passed=1)
    assert [line for line in result.outlines if line.startswith("KEY=")] == [f"KEY={sent}"]
