"""`harness cassettes prune`: blobs no cassette refers to are deleted; referenced ones stay."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.cli import main
from harness.recording.cassette_io import save_interactions
from tests.recording._cassettes import completion_request, inline_skill, interaction


def test_prune_removes_only_unreferenced_blobs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cassettes = tmp_path / "cassettes"
    save_interactions(cassettes / "test_a" / "one.yaml", [interaction(completion_request(inline_skill()))])
    blobs = cassettes / "_blobs"
    (kept,) = list(blobs.iterdir())
    stale = blobs / ("sha256-" + "0" * 64 + ".zip")
    stale.write_bytes(b"left by a deleted cassette")

    assert main(["cassettes", "prune", "--dry-run", str(cassettes)]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "would remove 1 unreferenced blob; 1 still referenced",
        f"  {stale}",
    ]
    assert stale.exists()

    assert main(["cassettes", "prune", str(cassettes)]) == 0
    assert capsys.readouterr().out.splitlines() == ["removed 1 unreferenced blob; 1 still referenced", f"  {stale}"]
    assert sorted(blobs.iterdir()) == [kept]

    (cassettes / "test_a" / "one.yaml").unlink()
    assert main(["cassettes", "prune", str(cassettes)]) == 0
    assert capsys.readouterr().out.splitlines()[0] == "removed 1 unreferenced blob; 0 still referenced"
    assert list(blobs.iterdir()) == []
