"""Atomic writes: a reader sees the old file or the new one, never half of one."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from harness.files import write_atomic


def test_write_atomic_writes_text_and_bytes(tmp_path: Path) -> None:
    write_atomic(tmp_path / "a" / "t.txt", "é\n")
    write_atomic(tmp_path / "b.bin", b"\0\1")
    assert (tmp_path / "a" / "t.txt").read_text(encoding="utf-8") == "é\n"
    assert (tmp_path / "b.bin").read_bytes() == b"\0\1"


def test_write_atomic_keeps_the_old_file_on_failure(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "r.txt"
    out.write_text("old")

    def boom(*_: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr("harness.files.os.replace", boom)
    with pytest.raises(OSError, match="disk full"):
        write_atomic(out, "new")
    assert out.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.txt"]


def test_a_path_below_the_root_is_shown_relative_to_it_and_others_as_given(tmp_path: Path) -> None:
    from harness.files import path_below

    assert path_below(tmp_path / "cassettes" / "a.yaml", tmp_path) == str(Path("cassettes") / "a.yaml")
    assert path_below(tmp_path / "a" / ".." / "b.yaml", tmp_path) == "b.yaml"
    outside = tmp_path.parent / "elsewhere.yaml"
    assert path_below(outside, tmp_path / "project") == str(outside)


@pytest.mark.parametrize(("durable", "syncs"), [(True, 2), (False, 0)])
def test_only_durable_writes_pay_for_fsync(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, durable: bool, syncs: int
) -> None:
    """A cache's entry may be lost in a crash, never torn: the rename is atomic either way."""
    calls: list[int] = []
    monkeypatch.setattr(os, "fsync", lambda fd: calls.append(fd))
    target = tmp_path / "entry.json"
    write_atomic(target, b"whole", durable=durable)
    assert target.read_bytes() == b"whole"
    assert len(calls) == syncs
