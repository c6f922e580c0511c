from __future__ import annotations

import base64
import hashlib
import io
import os
import zipfile
from pathlib import Path

import pytest

from harness.bundles import (
    build_bundle,
    build_bundle_from_directory,
    bundle_b64_from_directory,
    decode_bundle,
    encode_bundle,
)
from harness.errors import BundleError

SKILL_MD = "---\nname: demo\ndescription: Demo skill\n---\n# Demo\n"


def make_skill(root: Path) -> Path:
    (root / "resources" / "deep").mkdir(parents=True)
    (root / "SKILL.md").write_text(SKILL_MD)
    (root / "schema.json").write_text('{"type": "object"}')
    (root / "resources" / "a.txt").write_bytes(b"alpha")
    (root / "resources" / "deep" / "b.py").write_text("print('b')\n")
    (root / "Zeta.md").write_text("upper case sorts before lower case\n")
    return root


def entries(zip_bytes: bytes) -> list[zipfile.ZipInfo]:
    return zipfile.ZipFile(io.BytesIO(zip_bytes)).infolist()


def test_same_folder_gives_same_bytes_after_touch_and_chmod(tmp_path: Path) -> None:
    skill = make_skill(tmp_path / "skill")
    first = build_bundle_from_directory(skill)
    assert build_bundle_from_directory(skill) == first
    for path in skill.rglob("*"):
        if path.is_file():
            os.utime(path, (1_000_000_000, 1_000_000_000))
            os.chmod(path, 0o755)
    assert build_bundle_from_directory(skill) == first
    (skill / "SKILL.md").chmod(0o600)
    os.utime(skill / "SKILL.md")
    assert build_bundle_from_directory(skill) == first


def test_same_files_in_another_folder_give_same_bytes(tmp_path: Path) -> None:
    a = make_skill(tmp_path / "a")
    b = make_skill(tmp_path / "b")
    os.utime(b / "schema.json", (0, 0))
    assert build_bundle_from_directory(a) == build_bundle_from_directory(b)


def test_entry_metadata_is_fixed_and_sorted(tmp_path: Path) -> None:
    infos = entries(build_bundle_from_directory(make_skill(tmp_path / "s")))
    names = [i.filename for i in infos]
    assert names == [
        "SKILL.md",
        "Zeta.md",
        "resources/a.txt",
        "resources/deep/b.py",
        "schema.json",
    ]
    for info in infos:
        assert info.date_time == (1980, 1, 1, 0, 0, 0)
        assert info.external_attr == 0o100644 << 16
        assert info.create_system == 3
        assert info.compress_type == zipfile.ZIP_STORED
        assert not info.is_dir()


def test_stored_bytes_match_golden_hash() -> None:
    # Stored zips depend on nothing but content and zipfile's header layout, so this
    # hash must hold on every machine; a change means the format drifted.
    data = build_bundle({"SKILL.md": SKILL_MD, "b/c.txt": b"c"})
    assert hashlib.sha256(data).hexdigest() == GOLDEN_STORED


GOLDEN_STORED = "687705317c49d6a243946eac75977aff94794059265712227cd1332c8ebdf2f4"


def test_deflated_option_is_deterministic_and_decodes() -> None:
    files = {"SKILL.md": SKILL_MD, "big.txt": "spam " * 10_000}
    one = build_bundle(files, compression="deflated")
    assert one == build_bundle(dict(reversed(files.items())), compression="deflated")
    assert {i.compress_type for i in entries(one)} == {zipfile.ZIP_DEFLATED}
    assert len(one) < len(build_bundle(files))
    bundle = decode_bundle(encode_bundle(one))
    assert bundle.files["big.txt"] == b"spam " * 10_000


def test_unknown_compression_is_refused() -> None:
    with pytest.raises(ValueError, match="compression"):
        build_bundle({"SKILL.md": SKILL_MD}, compression="lzma")  # type: ignore[arg-type]


def test_junk_is_excluded(tmp_path: Path) -> None:
    skill = make_skill(tmp_path / "s")
    clean = build_bundle_from_directory(skill)
    (skill / ".DS_Store").write_bytes(b"\0\0\0\1Bud1")
    (skill / "resources" / "Thumbs.db").write_bytes(b"x")
    (skill / "__pycache__").mkdir()
    (skill / "__pycache__" / "m.cpython-311.pyc").write_bytes(b"\x00")
    (skill / "resources" / "stray.pyc").write_bytes(b"\x00")
    for vcs in (".git", ".hg", ".svn"):
        (skill / vcs).mkdir()
        (skill / vcs / "HEAD").write_text("ref: refs/heads/main\n")
    assert build_bundle_from_directory(skill) == clean


def test_dotfiles_are_kept_only_when_asked(tmp_path: Path) -> None:
    skill = make_skill(tmp_path / "s")
    (skill / ".env.example").write_text("A=1\n")
    assert ".env.example" not in [i.filename for i in entries(build_bundle_from_directory(skill))]
    kept = build_bundle_from_directory(skill, include_hidden=True)
    assert ".env.example" in [i.filename for i in entries(kept)]


@pytest.mark.parametrize("target", ["file", "dir", "dangling"])
def test_symlink_in_source_is_refused(tmp_path: Path, target: str) -> None:
    skill = make_skill(tmp_path / "s")
    link = skill / "resources" / "link"
    if target == "file":
        link.symlink_to(skill / "SKILL.md")
    elif target == "dir":
        link.symlink_to(tmp_path)
    else:
        link.symlink_to(tmp_path / "missing")
    with pytest.raises(BundleError) as exc:
        build_bundle_from_directory(skill)
    assert exc.value.code == "symlink"
    assert exc.value.entry == "resources/link"
    assert "resources/link" in str(exc.value)


def test_directory_needs_skill_md_at_root(tmp_path: Path) -> None:
    skill = tmp_path / "s"
    (skill / "inner").mkdir(parents=True)
    (skill / "inner" / "SKILL.md").write_text(SKILL_MD)
    with pytest.raises(BundleError) as exc:
        build_bundle_from_directory(skill)
    assert exc.value.code == "missing_skill_md"


def test_not_a_directory(tmp_path: Path) -> None:
    with pytest.raises(BundleError) as exc:
        build_bundle_from_directory(tmp_path / "nope")
    assert exc.value.code == "not_a_directory"


def test_fifo_is_refused(tmp_path: Path) -> None:
    skill = make_skill(tmp_path / "s")
    os.mkfifo(skill / "pipe")
    with pytest.raises(BundleError) as exc:
        build_bundle_from_directory(skill)
    assert exc.value.code == "not_a_regular_file"


@pytest.mark.parametrize(
    "path",
    ["/etc/passwd", "../x", "a/../b", "./a", "a//b", "a\\b", "C:/x", "", "dir/", "a\nb"],
)
def test_in_memory_paths_must_be_normal(path: str) -> None:
    with pytest.raises(BundleError) as exc:
        build_bundle({"SKILL.md": SKILL_MD, path: b"x"})
    assert exc.value.code == "unsafe_path"


def test_in_memory_file_folder_clash_is_refused() -> None:
    with pytest.raises(BundleError) as exc:
        build_bundle({"a": b"1", "a/b": b"2"})
    assert exc.value.code == "path_conflict"


def test_in_memory_input_is_taken_as_given() -> None:
    names = [i.filename for i in entries(build_bundle({"z.txt": "", ".DS_Store": b""}))]
    assert names == [".DS_Store", "z.txt"]


def test_encode_is_standard_padded_one_line(tmp_path: Path) -> None:
    text = bundle_b64_from_directory(make_skill(tmp_path / "s"))
    assert not set(text) & set("\n -_")
    assert len(text) % 4 == 0
    assert base64.b64decode(text, validate=True) == build_bundle_from_directory(tmp_path / "s")
    assert encode_bundle(b"\xfb\xff") == "+/8="


def test_hidden_files_stay_out_of_bundles_unless_asked(tmp_path: Path) -> None:
    skill = tmp_path / "skill"
    (skill / ".secrets").mkdir(parents=True)
    (skill / "SKILL.md").write_text("---\nname: s\ndescription: d\n---\n")
    (skill / ".env").write_text("VLMRUN_API_KEY=sk-live-in-a-dotfile\n")
    (skill / ".secrets" / "token").write_text("t0k3n\n")
    default = build_bundle_from_directory(skill)
    assert zipfile.ZipFile(io.BytesIO(default)).namelist() == ["SKILL.md"]
    asked = build_bundle_from_directory(skill, include_hidden=True)
    assert zipfile.ZipFile(io.BytesIO(asked)).namelist() == [".env", ".secrets/token", "SKILL.md"]
