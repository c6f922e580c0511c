"""`harness cassettes migrate`: format 1 in, plain vcrpy cassettes (format 2) out, same bytes on replay."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from vcr.persisters.filesystem import FilesystemPersister
from vcr.serializers import yamlserializer

from harness.cli import main
from harness.recording.cassette_io import load_file

FORMAT_1 = Path(__file__).parent / "fixtures" / "format1" / "cassettes"


@pytest.fixture
def cassettes(tmp_path: Path) -> Path:
    target = tmp_path / "cassettes"
    shutil.copytree(FORMAT_1, target)
    return target


def test_migrate_rewrites_format_1_as_plain_vcrpy_cassettes(
    cassettes: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (path,) = cassettes.glob("*.yaml")
    before = load_file(path)
    assert before.recording["format"] == 1

    assert main(["cassettes", "migrate", str(cassettes)]) == 0
    out = capsys.readouterr().out
    assert out.splitlines() == ["migrated 1 cassette(s) to format 2; 0 needed nothing", f"  {path}"]

    after = load_file(path)
    assert after.recording["format"] == 2
    assert after.recording["recorded_at"] == before.recording["recorded_at"]  # the recording's facts stay
    assert [(i.request.body, i.response.status, i.response.body) for i in after.interactions()] == [
        (i.request.body, i.response.status, i.response.body) for i in before.interactions()
    ]
    assert "harness" not in yaml.safe_load(path.read_text())
    requests, responses = FilesystemPersister.load_cassette(path, yamlserializer)[:2]  # plain vcrpy reads it
    assert len(requests) == len(responses) == len(before.requests)

    assert main(["cassettes", "migrate", str(cassettes)]) == 0
    assert capsys.readouterr().out.splitlines() == ["migrated 0 cassette(s) to format 2; 1 needed nothing"]


def test_migrate_reports_a_cassette_it_cannot_read_and_exits_2(
    cassettes: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for blob in (cassettes / "_blobs").iterdir():
        blob.unlink()
    (path,) = cassettes.glob("*.yaml")
    before = path.read_bytes()
    assert main(["cassettes", "migrate", str(cassettes)]) == 2
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "migrated 0 cassette(s) to format 2; 0 needed nothing"
    assert out[1].startswith(f"error: Cassette {path}: interaction 1: blob ")
    assert out[1].endswith("is missing (restore it from version control or re-record)")
    assert path.read_bytes() == before
