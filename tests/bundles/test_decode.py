from __future__ import annotations

import base64
import io
import re
import stat
import struct
import warnings
import zipfile
import zlib
from collections.abc import Iterable

import pytest

from harness.bundles import (
    DEFAULT_LIMITS,
    BundleLimits,
    build_bundle,
    decode_bundle,
    encode_bundle,
    read_zip_entries,
)
from harness.bundles.decode import read_capped
from harness.errors import BundleError

SKILL_MD = "---\nname: demo\ndescription: Demo skill\n---\n# Demo\n"
SKILL = ("SKILL.md", SKILL_MD.encode())


def raw_zip(entries: Iterable[tuple[str | zipfile.ZipInfo, bytes]], method: int = zipfile.ZIP_STORED) -> bytes:
    """A zip written by plain zipfile, with no sanitising: for hostile fixtures."""
    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # duplicate names
        with zipfile.ZipFile(buf, "w", method) as zf:
            for name, data in entries:
                zf.writestr(name, data)
    return buf.getvalue()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def patch_headers(zip_bytes: bytes, name: str, **fields: int) -> bytes:
    """Rewrite flag/crc/sizes of one entry in both its local and central headers."""
    out = bytearray(zip_bytes)
    local = {"flag": (6, "<H"), "crc": (14, "<L"), "csize": (18, "<L"), "usize": (22, "<L")}
    central = {"flag": (8, "<H"), "crc": (16, "<L"), "csize": (20, "<L"), "usize": (24, "<L")}
    with zipfile.ZipFile(io.BytesIO(zip_bytes)) as zf:
        info = zf.getinfo(name)
        pos = zf.start_dir
    for key, value in fields.items():
        offset, fmt = local[key]
        struct.pack_into(fmt, out, info.header_offset + offset, value)
    while out[pos : pos + 4] == b"PK\x01\x02":
        nlen, xlen, clen = struct.unpack_from("<3H", out, pos + 28)
        if out[pos + 46 : pos + 46 + nlen] == name.encode():
            for key, value in fields.items():
                offset, fmt = central[key]
                struct.pack_into(fmt, out, pos + offset, value)
        pos += 46 + nlen + xlen + clen
    return bytes(out)


def code_of(data: str, limits: BundleLimits = DEFAULT_LIMITS) -> str:
    with pytest.raises(BundleError) as exc:
        decode_bundle(data, limits=limits)
    return exc.value.code


# --- happy paths ------------------------------------------------------------------


def test_docs_inline_example_decodes() -> None:
    # Verbatim from docs.vlm.run/skills/usage/chat (the docs' inline bundle): ZIP_STORED.
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr(
            "SKILL.md",
            """\
---
name: invoice-extraction
description: Extract structured data from invoices
---
# Invoice Extraction

Extract invoice_id, date, and total_amount from the provided document.
""",
        )
        zf.writestr(
            "schema.json",
            '{"type":"object","properties":{"invoice_id":{"type":"string"},"date":'
            '{"type":"string"},"total_amount":{"type":"number"}},"required":'
            '["invoice_id","date","total_amount"]}',
        )
    bundle = decode_bundle(base64.b64encode(buf.getvalue()).decode())
    assert bundle.skill.name == "invoice-extraction"
    assert bundle.skill.description == "Extract structured data from invoices"
    assert bundle.skill.body.startswith("# Invoice Extraction\n")
    assert bundle.schema is not None
    assert bundle.schema["required"][0] == "invoice_id"
    assert bundle.config is None
    assert [m.path for m in bundle.manifest()] == ["SKILL.md", "schema.json"]
    assert bundle.digest.startswith("sha256:")


def test_deflated_bundle_with_folders_decodes() -> None:
    folder = zipfile.ZipInfo("resources/")
    data = raw_zip(
        [SKILL, (folder, b""), ("resources/a.txt", b"a" * 1000), ("vlmrun.yaml", b"model: m\n")],
        zipfile.ZIP_DEFLATED,
    )
    bundle = decode_bundle(b64(data))
    assert dict(bundle.files) == {
        "SKILL.md": SKILL_MD.encode(),
        "resources/a.txt": b"a" * 1000,
        "vlmrun.yaml": b"model: m\n",
    }
    assert bundle.config == {"model": "m"}
    with pytest.raises(TypeError):
        bundle.files["x"] = b""  # type: ignore[index]


def test_folded_description_parses_to_folded_text() -> None:
    skill_md = "---\nname: mm\ndescription: >\n  Multi-modal\n  CLI skill.\n---\nbody\n"
    bundle = decode_bundle(encode_bundle(build_bundle({"SKILL.md": skill_md})))
    assert bundle.skill.description == "Multi-modal CLI skill."


def test_nested_zip_is_kept_as_a_plain_file() -> None:
    inner = raw_zip([("../../evil", b"x")])
    bundle = decode_bundle(b64(raw_zip([SKILL, ("assets/inner.zip", inner)])))
    assert bundle.files["assets/inner.zip"] == inner


def test_manifest_is_sorted_with_sizes_and_hashes() -> None:
    bundle = decode_bundle(b64(raw_zip([("b.txt", b"bb"), SKILL, ("a/z.txt", b"")])))
    manifest = bundle.manifest()
    assert [(m.path, m.size) for m in manifest] == [("SKILL.md", len(SKILL_MD)), ("a/z.txt", 0), ("b.txt", 2)]
    assert manifest[1].sha256 == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


# --- base64 -------------------------------------------------------------------


GOOD = b64(raw_zip([SKILL]))


@pytest.mark.parametrize(
    ("data", "needle"),
    [
        (GOOD.rstrip("="), "multiple of 4"),  # missing padding
        (GOOD[:40] + "\n" + GOOD[40:], "line break"),
        (GOOD[:40] + " " + GOOD[40:], "whitespace"),
        (GOOD[:-8] + "-_" + GOOD[-6:], "URL-safe"),
        (GOOD + "====", "misplaced"),
        (GOOD[:-4] + "AA=A", "invalid base64"),
        ("YR==", "padding bits"),  # decodes to b"a" but is not canonical
        ("UEsDB\u00e9==", "invalid character"),
    ],
)
def test_bad_base64_is_refused(data: str, needle: str) -> None:
    with pytest.raises(BundleError, match=needle) as exc:
        decode_bundle(data)
    assert exc.value.code == "invalid_base64"
    assert exc.value.entry is None


def test_empty_string() -> None:
    assert code_of("") == "empty"


def test_encoded_size_cap_is_checked_before_decoding(monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*args: object, **kwargs: object) -> bytes:
        raise AssertionError("decoded an oversized bundle")

    monkeypatch.setattr(base64, "b64decode", boom)
    assert code_of(GOOD, BundleLimits(max_encoded_chars=len(GOOD) - 1)) == "too_large"
    assert code_of("!" * 200, BundleLimits(max_encoded_chars=100)) == "too_large"


def test_not_a_zip() -> None:
    assert code_of(b64(b"this is a text file, not a zip")) == "not_a_zip"
    assert code_of(b64(raw_zip([SKILL])[:-10])) == "not_a_zip"  # truncated


# --- entry names and kinds ------------------------------------------------------


@pytest.mark.parametrize("name", ["../x", "a/../../x", "/etc/x", "C:/x", "c:x", "a\\..\\x", "./SKILL2.md", "a//b"])
def test_unsafe_paths(name: str) -> None:
    with pytest.raises(BundleError) as exc:
        decode_bundle(b64(raw_zip([SKILL, (name, b"x")])))
    assert exc.value.code == "unsafe_path"
    assert exc.value.entry == name


def test_nul_in_name_is_unsafe() -> None:
    data = raw_zip([SKILL, ("evil.txtX", b"x")]).replace(b"evil.txtX", b"evil.txt\0")
    assert code_of(b64(data)) == "unsafe_path"


def test_symlink_entry_is_refused() -> None:
    link = zipfile.ZipInfo("resources/link")
    link.create_system = 3
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    with pytest.raises(BundleError) as exc:
        decode_bundle(b64(raw_zip([SKILL, (link, b"/etc/passwd")])))
    assert exc.value.code == "symlink"
    assert exc.value.entry == "resources/link"


def test_duplicate_entries_are_refused() -> None:
    data = raw_zip([SKILL, ("SKILL.md", b"---\nname: other\ndescription: x\n---\n")])
    with pytest.raises(BundleError) as exc:
        decode_bundle(b64(data))
    assert (exc.value.code, exc.value.entry) == ("duplicate_entry", "SKILL.md")


def test_file_used_as_folder_is_refused() -> None:
    assert code_of(b64(raw_zip([SKILL, ("a", b"1"), ("a/b", b"2")]))) == "path_conflict"


def test_encrypted_entry_is_refused() -> None:
    data = patch_headers(raw_zip([SKILL, ("secret.txt", b"x")]), "secret.txt", flag=0x1)
    assert code_of(b64(data)) == "encrypted"


def test_bzip2_is_refused_before_inflating() -> None:
    data = raw_zip([SKILL, ("a.txt", b"a" * 100)], zipfile.ZIP_BZIP2)
    assert code_of(b64(data)) == "unsupported_compression"


def test_too_many_entries() -> None:
    data = raw_zip([SKILL] + [(f"r/{i}.txt", b"") for i in range(5)])
    limits = BundleLimits(max_entries=3)
    assert code_of(b64(data), limits) == "too_many_entries"
    # An end record that understates the count is caught after the directory is read.
    eocd = data.rfind(b"PK\x05\x06")
    lying = bytearray(data)
    struct.pack_into("<2H", lying, eocd + 8, 1, 1)
    assert code_of(b64(bytes(lying)), limits) == "too_many_entries"


def test_crc_mismatch_is_corrupt() -> None:
    data = raw_zip([SKILL, ("a.txt", b"hello")])
    assert code_of(b64(data.replace(b"hello", b"jello"))) == "corrupt"


# --- size caps and bombs ----------------------------------------------------------


def test_zip_bomb_is_refused_before_inflation(monkeypatch: pytest.MonkeyPatch) -> None:
    bomb = raw_zip([SKILL, ("bomb.bin", bytes(50_000_000))], zipfile.ZIP_DEFLATED)
    assert len(bomb) < 100_000

    def no_open(*args: object, **kwargs: object) -> object:
        raise AssertionError("inflated an entry of a zip bomb")

    monkeypatch.setattr(zipfile.ZipFile, "open", no_open)  # refusing without inflating is the point, not speed
    with pytest.raises(BundleError) as exc:
        decode_bundle(b64(bomb))
    assert (exc.value.code, exc.value.entry) == ("compression_ratio", "bomb.bin")


def test_declared_sizes_over_caps(monkeypatch: pytest.MonkeyPatch) -> None:
    data = b64(raw_zip([SKILL, ("a.bin", b"x" * 600), ("b.bin", b"y" * 600)]))
    monkeypatch.setattr(zipfile.ZipFile, "open", None)  # nothing may be inflated
    per_entry = BundleLimits(max_entry_uncompressed=500)
    total = BundleLimits(max_total_uncompressed=1000)
    with pytest.raises(BundleError) as exc:
        decode_bundle(data, limits=per_entry)
    assert (exc.value.code, exc.value.entry) == ("too_large_uncompressed", "a.bin")
    with pytest.raises(BundleError) as exc:
        decode_bundle(data, limits=total)
    assert (exc.value.code, exc.value.entry) == ("too_large_uncompressed", None)


def test_small_entries_may_compress_well() -> None:
    data = raw_zip([SKILL, ("spaces.txt", b" " * 100_000)], zipfile.ZIP_DEFLATED)
    assert decode_bundle(b64(data)).files["spaces.txt"] == b" " * 100_000


def test_lying_header_cannot_inflate_past_what_it_declared() -> None:
    payload = bytes(2_000_000)
    data = raw_zip([SKILL, ("lie.bin", payload)], zipfile.ZIP_DEFLATED)
    compressed = zipfile.ZipFile(io.BytesIO(data)).getinfo("lie.bin").compress_size
    # Declares fewer bytes than it holds, with a CRC that matches the declared prefix:
    # only the declared prefix is ever produced.
    short = patch_headers(data, "lie.bin", usize=compressed, crc=zlib.crc32(payload[:compressed]))
    limits = BundleLimits(max_entry_uncompressed=100_000)
    files = read_zip_entries(short, limits)
    assert files["lie.bin"] == payload[:compressed]
    # Same lie with the real CRC: caught as corruption.
    assert code_of(b64(patch_headers(data, "lie.bin", usize=compressed)), limits) == "corrupt"
    # Declares more than it holds.
    small = raw_zip([SKILL, ("small.bin", b"abc" * 100)], zipfile.ZIP_DEFLATED)
    assert code_of(b64(patch_headers(small, "small.bin", usize=310))) == "corrupt"


def test_read_is_capped_whatever_the_stream_yields() -> None:
    class Endless:
        served = 0

        def read(self, size: int) -> bytes:
            self.served += size
            return bytes(size)

    stream = Endless()
    with pytest.raises(BundleError) as exc:
        read_capped(stream, 1_000_000, entry="x")
    assert exc.value.code == "too_large_uncompressed"
    assert stream.served <= 1_000_000 + 64 * 1024


# --- SKILL.md placement and content -------------------------------------------------


def test_missing_skill_md() -> None:
    with pytest.raises(BundleError) as exc:
        decode_bundle(b64(raw_zip([("README.md", b"hi")])))
    assert exc.value.code == "missing_skill_md"


def test_skill_md_in_a_subfolder_is_named() -> None:
    with pytest.raises(BundleError, match=re.escape("found 'my-skill/SKILL.md'")) as exc:
        decode_bundle(b64(raw_zip([("my-skill/SKILL.md", SKILL[1])])))
    assert exc.value.code == "missing_skill_md"
    assert "SKILL.md must be at the zip root" in str(exc.value)


def test_lowercase_skill_md_gets_a_hint() -> None:
    with pytest.raises(BundleError, match="case-sensitive"):
        decode_bundle(b64(raw_zip([("skill.md", SKILL[1])])))


@pytest.mark.parametrize(
    ("files", "code", "entry"),
    [
        ({"SKILL.md": "# no frontmatter\n"}, "no_frontmatter", "SKILL.md"),
        ({"SKILL.md": "---\nname: [oops\n---\n"}, "invalid_yaml", "SKILL.md"),
        ({"SKILL.md": "---\ndescription: d\n---\n"}, "missing_name", "SKILL.md"),
        ({"SKILL.md": "---\nname: n\n---\n"}, "missing_description", "SKILL.md"),
        ({"SKILL.md": b"---\nname: \xff\n---\n"}, "not_utf8", "SKILL.md"),
        ({"SKILL.md": SKILL_MD, "schema.json": '{"type": 12}'}, "invalid_schema", "schema.json"),
        ({"SKILL.md": SKILL_MD, "schema.json": "{nope"}, "invalid_json", "schema.json"),
        ({"SKILL.md": SKILL_MD, "vlmrun.yaml": "a: [1\n"}, "invalid_yaml", "vlmrun.yaml"),
        ({"SKILL.md": SKILL_MD, "vlmrun.yaml": "- a\n"}, "config_not_mapping", "vlmrun.yaml"),
    ],
)
def test_bad_skill_files(files: dict[str, str | bytes], code: str, entry: str) -> None:
    with pytest.raises(BundleError) as exc:
        decode_bundle(encode_bundle(build_bundle(files)))
    assert (exc.value.code, exc.value.entry) == (code, entry)
