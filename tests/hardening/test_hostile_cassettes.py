"""Malformed cassettes: a `CassetteError` naming the file (and interaction), through the API and pytest.

Already covered in tests/recording/test_persister.py (not repeated): a non-mapping top level,
no `interactions`, `harness.format` 2 or missing, vcrpy version 2, every missing interaction
field, bad status codes and body kinds, non-mapping headers, a text interaction, YAML syntax
errors with line and column, invalid UTF-8, a missing blob; in tests/recording/test_blobs.py
a corrupt blob through `BlobStore`; in tests/test_pytest_plugin.py one truncated cassette in
a replay run. Identical interactions recorded twice stay allowed (the same call made twice
is two interactions); what a bad merge leaves, duplicate keys, is refused.
"""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from vcr.persisters.filesystem import CassetteNotFoundError

from harness.contract import load_contract
from harness.errors import CassetteError
from harness.recording.blobs import blob_dir_for
from harness.recording.cassette_io import read_cassette, save_interactions
from harness.recording.conformance import check_recorded
from tests.hardening._runs import OFFLINE, RECORD
from tests.recording._cassettes import SSE, completion_request, inline_skill, interaction, stream

HEAD = "version: 1\nharness: {format: 1}\n"
ONE = (
    "- request: {method: GET, uri: 'http://127.0.0.1:9/v1/health', headers: {}}\n"
    "  response: {status: {code: 200, message: OK}, headers: {}, body: {json: {status: ok}}}\n"
)
LAUGHS = "".join(f"l{i}: &l{i} [{','.join([f'*l{i - 1}'] * 9)}]\n" for i in range(1, 9))


@pytest.fixture
def cassette(tmp_path: Path) -> Path:
    path = tmp_path / "cassettes" / "test_hostile.yaml"
    path.parent.mkdir(parents=True)
    return path


def refused(path: Path) -> str:
    with pytest.raises(CassetteError) as info:
        read_cassette(path)
    message = str(info.value)
    assert str(path) in message
    return message


@pytest.mark.parametrize(
    ("text", "needles"),
    [
        # Found by this module: PyYAML keeps the last duplicate key, silently dropping data.
        (HEAD + "interactions:\n" + ONE + "interactions: []\n", ["line 6", "duplicate key 'interactions'"]),
        (HEAD + "interactions:\n" + ONE.replace("  response:", "  request: {}\n  response:"), ["duplicate key"]),
        # Found by this module: aliases expand on serialisation (9**9 strings from 1 KB).
        ("l0: &l0 [lol,lol,lol,lol,lol,lol,lol,lol,lol]\n" + LAUGHS + HEAD + "interactions: *l8\n", ["alias"]),
        (HEAD + "base: &b {method: GET}\ninteractions: []\n", []),  # an anchor alone is harmless
        (HEAD + "interactions:\n- request: {<<: {method: GET}, uri: x}\n", ["merge keys"]),
        (HEAD + "interactions: " + "[" * 20_000 + "]" * 20_000 + "\n", ["maximum nesting depth"]),
        (HEAD + "interactions: !!python/object/apply:os.system [echo]\n", ["could not determine a constructor"]),
        (b"\x00\x01\x02PK\x03\x04garbage\xff", ["not valid YAML"]),
    ],
    ids=["duplicate-top-key", "duplicate-request", "billion-laughs", "anchor", "merge", "deep", "python-tag", "binary"],
)
def test_yaml_level_hostility_is_a_cassette_error(cassette: Path, text: str | bytes, needles: list[str]) -> None:
    cassette.write_bytes(text if isinstance(text, bytes) else text.encode())
    if not needles:
        assert read_cassette(cassette).interactions == []
        return
    message = refused(cassette)
    for needle in needles:
        assert needle in message


@pytest.mark.parametrize(
    ("value", "needle"),
    [
        ("0", "unknown harness.format 0"),
        ("'1'", "unknown harness.format '1'"),
        ("true", "unknown harness.format True"),
        ("99", "was written by a newer harness (harness.format 99"),
    ],
)
def test_a_wrong_format_says_which_way_it_is_wrong(cassette: Path, value: str, needle: str) -> None:
    # Found by this module: format 0 or "1" was reported as "written by a newer harness: upgrade".
    cassette.write_text(f"version: 1\nharness: {{format: {value}}}\ninteractions: []\n")
    assert needle in refused(cassette)


def test_what_the_writer_writes_always_loads(cassette: Path) -> None:
    """The loader refuses aliases, so the writer must never emit one, even for shared objects."""
    shared = {"suite": ["scenarios"]}
    save_interactions(cassette, [interaction({"a": 1})], user_metadata={"first": shared, "second": shared})
    assert "&id" not in cassette.read_text()
    assert read_cassette(cassette).user_metadata == {"first": shared, "second": shared}


@pytest.mark.parametrize("node", ["[1, 2]", "null", "42", "'text'"])
def test_non_mapping_interactions_name_their_index(cassette: Path, node: str) -> None:
    cassette.write_text(HEAD + "interactions:\n" + ONE + f"- {node}\n")
    assert "interaction 1: interaction must be a mapping" in refused(cassette)


@pytest.mark.parametrize("code", [0, 99, 600, 10**20])
def test_impossible_status_codes_are_refused(cassette: Path, code: int) -> None:
    cassette.write_text(HEAD + "interactions:\n" + ONE.replace("code: 200", f"code: {code}"))
    assert "interaction 0: response status code must be an integer from 100 to 599" in refused(cassette)


def _with_bundle(cassette: Path) -> Path:
    save_interactions(cassette, [interaction({}), interaction(completion_request(inline_skill()))])
    (blob,) = blob_dir_for(cassette).iterdir()
    return blob


def _other_zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("SKILL.md", "---\nname: other\ndescription: Other\n---\n")
    return buf.getvalue()


@pytest.mark.parametrize(
    ("damage", "needle"),
    [
        (lambda blob: blob.write_bytes(_other_zip()), "its content digest is sha256:"),
        (lambda blob: blob.write_bytes(blob.read_bytes()[:-30]), "not a valid zip"),
        (lambda blob: blob.write_bytes(b""), "not a valid zip"),
    ],
    ids=["digest-mismatch", "truncated", "emptied"],
)
def test_a_corrupt_blob_names_cassette_interaction_and_blob(
    cassette: Path, damage: Callable[[Path], object], needle: str
) -> None:
    blob = _with_bundle(cassette)
    damage(blob)
    message = refused(cassette)
    assert "interaction 1" in message
    assert str(blob) in message
    assert needle in message


def test_a_blob_folder_that_is_a_file_is_a_cassette_error(cassette: Path) -> None:
    blob = _with_bundle(cassette)
    folder = blob.parent
    blob.unlink()
    folder.rmdir()
    folder.write_text("not a folder")
    assert "interaction 1" in refused(cassette)


def test_recorded_lone_surrogates_are_findings_at_replay_not_a_crash(cassette: Path) -> None:
    # Found by this module: jsonschema-rs raised UnicodeEncodeError from Contract.violations.
    body = b'{"model":"\\ud800","messages":[{"role":"user","content":"\\udc00"}]}'
    save_interactions(cassette, [interaction(body)])
    (loaded,) = read_cassette(cassette).interactions
    findings = check_recorded(loaded, load_contract())
    assert [f.location for f in findings if "lone UTF-16 surrogate" in f.message] == ["model", "messages[0].content"]


def test_truncated_at_any_byte_a_cassette_loads_a_prefix_or_names_the_file(cassette: Path) -> None:
    """An editor crash or a partial checkout can cut a file anywhere: never a stray exception."""
    items = [
        interaction(completion_request(inline_skill()), b'{"id":"r1","choices":[]}'),
        interaction({"stream": True}, stream([{"id": "c", "n": 1}]), response_headers=SSE),
    ]
    save_interactions(cassette, items)
    full = cassette.read_bytes()
    complete = read_cassette(cassette).interactions
    outcomes = {"error": 0, "unnamed": 0, "empty": 0, "prefix": 0}
    for cut in range(0, len(full), 3):
        cassette.write_bytes(full[:cut])
        try:
            loaded = read_cassette(cassette).interactions
        except CassetteNotFoundError:  # only the header comment survived: vcrpy records afresh
            outcomes["empty"] += 1
            continue
        except CassetteError as exc:
            outcomes["error" if str(cassette) in str(exc) else "unnamed"] += 1
            continue
        outcomes["prefix"] += 1
        assert len(loaded) <= len(complete)
        # All but the last loaded interaction are whole; the last may have lost trailing fields.
        assert [i.request for i in loaded[:-1]] == [i.request for i in complete[: len(loaded) - 1]]
    assert outcomes["unnamed"] == 0
    assert outcomes["error"] > 0
    assert outcomes["prefix"] > 0


# -- the same through a pytest replay run -------------------------------------------------------

TESTS = """
import pytest
from harness.bundles import build_bundle, encode_bundle
from harness.docs_examples import MODEL

def bundle(note):
    return encode_bundle(build_bundle({"SKILL.md": "---\\nname: n\\ndescription: d\\n---\\n", "note.txt": note}))

def call(client, skills):
    messages = [{"role": "user", "content": "Extract."}]
    r = client.chat.completions.create(model=MODEL, messages=messages, extra_body={"skills": skills})
    assert r.choices[0].message.content

@pytest.mark.vcr
@pytest.mark.parametrize("case", ["truncated", "format", "duplicate_key", "not_mapping", "aliases"])
def test_reference(openai_client, case):
    call(openai_client, [{"skill_name": "invoice-extraction"}])

@pytest.mark.vcr
@pytest.mark.parametrize("case", ["missing_blob", "corrupt_blob"])
def test_inline(openai_client, case):
    call(openai_client, [{"type": "inline", "source": {"data": bundle(case)}}])
"""


def _cut_inside_headers(text: str) -> str:
    return text[: text.index("content-type: [") + len("content-type: [")]


EDITS: dict[str, Callable[[str], str]] = {
    "truncated": _cut_inside_headers,
    "format": lambda text: text.replace("format: 2", "format: 7", 1),
    "duplicate_key": lambda text: text + "interactions: []\n",
    "not_mapping": lambda text: text.replace("interactions:\n-", "interactions:\n- [oops]\n-", 1),
    "aliases": lambda text: text.replace("\nvlmrun_harness:", "\nvlmrun_harness: &h", 1) + "again: *h\n",
}
EXPECTED = {
    "truncated": "is not valid YAML (line",
    "format": "written by a newer harness (format 7",
    "duplicate_key": "found duplicate key 'interactions'",
    "not_mapping": "interaction 0: interaction must be a mapping",
    "aliases": "aliases are not allowed",
    "missing_blob": "interaction 0: blob",
    "corrupt_blob": "its content digest is sha256:",
}


def test_a_replay_run_reports_each_malformed_cassette_as_a_cassette_error(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_broken=TESTS)
    pytester.runpytest(*RECORD).assert_outcomes(passed=7)
    folder = pytester.path / "cassettes" / "test_broken"
    for case, edit in EDITS.items():
        path = folder / f"test_reference[{case}].yaml"
        path.write_text(edit(path.read_text()))
    blobs = blob_dir_for(folder / "x.yaml")
    for case in ("missing_blob", "corrupt_blob"):
        text = (folder / f"test_inline[{case}].yaml").read_text()
        digest = re.findall(r"\$blob:sha256:([0-9a-f]{64})", text)[0]
        blob = blobs / f"sha256-{digest}.zip"
        if case == "missing_blob":
            blob.unlink()
        else:
            blob.write_bytes(_other_zip())

    junit = pytester.path / "junit.xml"
    result = pytester.runpytest(*OFFLINE, f"--junitxml={junit}")
    result.assert_outcomes(errors=7)
    messages = {}
    for testcase in ET.parse(junit).getroot().iter("testcase"):
        error = testcase.find("error")
        messages[testcase.get("name", "")] = "" if error is None else error.get("message", "")
    for case, needle in EXPECTED.items():
        (message,) = [m for name, m in messages.items() if f"[{case}]" in name]
        # The error a user reads is ours, naming the file: not a yaml or vcrpy exception.
        assert "harness.errors.CassetteError: Cassette " in message, message
        assert f"[{case}].yaml" in message, message
        assert needle in message, message
