from __future__ import annotations

import base64
import hashlib
import io
import zipfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from vlmrun.client.types import AgentSkill

from harness.bundles import (
    BundleLimits,
    build_bundle,
    build_bundle_from_directory,
    canonical_digest,
    decode_bundle,
    digest_b64,
    encode_bundle,
    read_zip_entries,
)
from harness.bundles.digest import clear_digest_cache, digest_cache_info
from harness.errors import BundleError

SKILL_MD = "---\nname: demo\ndescription: Demo skill\n---\n# Demo\n"
FILES = {"SKILL.md": SKILL_MD.encode(), "schema.json": b'{"type": "object"}', "res/a.txt": b"alpha"}


DateTime = tuple[int, int, int, int, int, int]


def plain_zip(files: dict[str, bytes], method: int, date_time: DateTime, reverse: bool = False) -> str:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", method) as zf:
        for name in sorted(files, reverse=reverse):
            zf.writestr(zipfile.ZipInfo(name, date_time=date_time), files[name])
    return base64.b64encode(buf.getvalue()).decode()


def test_known_value() -> None:
    # sha256sum-style lines, so the digest can be recomputed with coreutils.
    lines = "".join(f"{hashlib.sha256(FILES[p]).hexdigest()}  {p}\n" for p in sorted(FILES))
    assert canonical_digest(FILES) == "sha256:" + hashlib.sha256(lines.encode()).hexdigest()
    assert canonical_digest({}) == "sha256:" + hashlib.sha256(b"").hexdigest()


def test_same_files_in_different_zips_have_one_digest() -> None:
    variants = {
        encode_bundle(build_bundle(FILES)),
        encode_bundle(build_bundle(FILES, compression="deflated")),
        plain_zip(FILES, zipfile.ZIP_STORED, (2024, 5, 6, 7, 8, 10)),
        plain_zip(FILES, zipfile.ZIP_DEFLATED, (1999, 1, 1, 0, 0, 0), reverse=True),
    }
    assert len(variants) == 4  # the zips really differ
    digests = {digest_b64(v) for v in variants} | {decode_bundle(v).digest for v in variants}
    assert digests == {canonical_digest(FILES)}


def test_one_byte_changes_the_digest() -> None:
    changed = dict(FILES, **{"res/a.txt": b"alphb"})
    assert canonical_digest(changed) != canonical_digest(FILES)


def test_rename_changes_the_digest() -> None:
    renamed = {("res/b.txt" if k == "res/a.txt" else k): v for k, v in FILES.items()}
    assert canonical_digest(renamed) != canonical_digest(FILES)


def test_swapping_contents_changes_the_digest() -> None:
    files = {"a": b"1", "b": b"2"}
    assert canonical_digest(files) != canonical_digest({"a": b"2", "b": b"1"})


def test_paths_sort_by_utf8_bytes() -> None:
    files = {"\u00e9.txt": b"x", "z.txt": b"y", "Z.txt": b"z"}
    assert canonical_digest(files) == canonical_digest(dict(reversed(files.items())))


def test_line_break_in_path_is_refused() -> None:
    with pytest.raises(BundleError) as exc:
        canonical_digest({"a\nb": b""})
    assert exc.value.code == "unsafe_path"


def test_digest_b64_does_not_need_skill_md() -> None:
    data = encode_bundle(build_bundle({"notes.txt": "hi"}))
    with pytest.raises(BundleError):
        decode_bundle(data)
    assert digest_b64(data) == canonical_digest({"notes.txt": b"hi"})


@pytest.mark.parametrize(
    ("data", "code"),
    [
        ("", "empty"),
        ("not base64!", "invalid_base64"),
        (base64.b64encode(b"plain text").decode(), "not_a_zip"),
    ],
)
def test_digest_b64_applies_the_same_safety(data: str, code: str) -> None:
    with pytest.raises(BundleError) as exc:
        digest_b64(data)
    assert exc.value.code == code


def test_digest_b64_size_cap_uses_limits() -> None:
    data = encode_bundle(build_bundle(FILES))
    with pytest.raises(BundleError) as exc:
        digest_b64(data, limits=BundleLimits(max_encoded_chars=10))
    assert exc.value.code == "too_large"


def test_digest_b64_is_memoised() -> None:
    clear_digest_cache()
    data = encode_bundle(build_bundle(FILES))
    first = digest_b64(data)
    assert digest_b64("".join(list(data))) == first  # an equal string, not the same object
    hits, misses, size = digest_cache_info()
    assert (hits, misses, size) == (1, 1, 1)


def test_cache_is_bounded() -> None:
    clear_digest_cache()
    for i in range(300):
        digest_b64(encode_bundle(build_bundle({"f.txt": str(i)})))
    assert digest_cache_info()[2] == 256


# --- property -------------------------------------------------------------------------

_segment = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789_-", min_size=1, max_size=8)
_path = st.builds(
    lambda dirs, stem: "/".join([*dirs, stem + ".txt"]),
    st.lists(_segment, max_size=2),
    _segment,
)
_files = st.dictionaries(_path, st.binary(max_size=300), min_size=1, max_size=6)


@settings(max_examples=60, deadline=None)
@given(files=_files, data=st.data())
def test_digest_depends_on_content_only(files: dict[str, bytes], data: st.DataObject) -> None:
    expected = canonical_digest(files)
    for compression in ("stored", "deflated"):
        shuffled = dict(data.draw(st.permutations(list(files.items()))))
        zip_bytes = build_bundle(shuffled, compression=compression)
        assert canonical_digest(read_zip_entries(zip_bytes)) == expected
    date = data.draw(st.tuples(st.integers(1980, 2100), st.integers(1, 12), st.integers(1, 28)))
    assert digest_b64(plain_zip(files, zipfile.ZIP_DEFLATED, (*date, 0, 0, 0))) == expected

    path = data.draw(st.sampled_from(sorted(files)))
    content = files[path]
    position = data.draw(st.integers(0, len(content)))
    mutated = content[:position] + bytes([data.draw(st.integers(0, 255))]) + content[position + 1 :]
    if mutated != content:
        assert canonical_digest({**files, path: mutated}) != expected


# --- the real SDK ---------------------------------------------------------------------


def make_skill(root: Path) -> Path:
    (root / "resources").mkdir(parents=True)
    (root / "SKILL.md").write_text(SKILL_MD)
    (root / "schema.json").write_text('{"type": "object"}')
    (root / "resources" / "a.txt").write_text("alpha\n")
    return root


def test_sdk_from_directory_has_our_digest(tmp_path: Path) -> None:
    skill = make_skill(tmp_path / "demo")
    sdk = AgentSkill.from_directory(skill)
    assert sdk.source is not None
    ours = encode_bundle(build_bundle_from_directory(skill))
    assert sdk.source.data != ours  # different bytes (deflated, real mtimes)...
    assert digest_b64(sdk.source.data) == digest_b64(ours)  # ...same content
    assert decode_bundle(sdk.source.data).skill.name == sdk.name == "demo"


def test_sdk_ships_ds_store_and_we_do_not(tmp_path: Path) -> None:
    skill = make_skill(tmp_path / "demo")
    clean = digest_b64(encode_bundle(build_bundle_from_directory(skill)))
    (skill / ".DS_Store").write_bytes(b"\0\0\0\1Bud1\0")
    sdk = AgentSkill.from_directory(skill)
    assert sdk.source is not None
    sdk_files = read_zip_entries(base64.b64decode(sdk.source.data))
    assert ".DS_Store" in sdk_files
    assert digest_b64(sdk.source.data) != clean
    ours = build_bundle_from_directory(skill)
    assert ".DS_Store" not in read_zip_entries(ours)
    assert digest_b64(encode_bundle(ours)) == clean
    sdk_files.pop(".DS_Store")
    assert canonical_digest(sdk_files) == clean
