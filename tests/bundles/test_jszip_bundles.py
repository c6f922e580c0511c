"""A bundle zipped the way the Node SDK zips one has our content digest.

The Node SDK's newer code builds bundles with JSZip 3, DEFLATE and sorted POSIX paths
(Source: vlm-run/vlmrun-node-sdk `src/client/skill_bundle.ts`). Its zip bytes differ from
ours in every way that is not content: folder entries (JSZip's `createFolders` is on by
default), DOS attributes and version-made-by (its default `platform` is `DOS`), the time
of day the zip was made, version needed 1.0 even for DEFLATE, an Info-ZIP Unicode Path
field beside the UTF-8 flag, and a data descriptor when `streamFiles` is on. `jszip_zip`
writes those bytes field by field as JSZip 3.10.1 does (Source: Stuk/jszip
`lib/generate/ZipFileWorker.js`, `lib/object.js` for folder entries and entry order,
`lib/defaults.js`, `lib/flate.js` for pako's raw deflate at its default level); the
goldens below are what JSZip 3.10.1 itself wrote on Node 20 for the same input, so the
imitation is checked against the real thing.
"""

from __future__ import annotations

import base64
import hashlib
import re
import struct
import zipfile
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from io import BytesIO
from typing import Literal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.bundles import build_bundle, canonical_digest, decode_bundle, digest_b64, encode_bundle, read_zip_entries

SKILL_MD = "---\nname: invoice-extraction\ndescription: Extract invoice fields\n---\n# Invoices\n"
FILES: dict[str, bytes] = {
    "SKILL.md": SKILL_MD.encode(),
    "schema.json": b'{"type": "object", "properties": {"total": {"type": "number"}}}',
    "resources/examples/a.txt": b"alpha\n" * 40,
    "resources/r\u00e9sum\u00e9.md": "caf\u00e9\n".encode(),
    "resources/empty.txt": b"",
}
MADE_AT = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
"""The `Date` every entry carries in the goldens (JSZip stamps `new Date()` at `zip.file`)."""


@dataclass(frozen=True)
class JSZipOptions:
    """`generateAsync` and `zip.file` options that change the bytes; defaults are JSZip's, with DEFLATE."""

    compression: Literal["DEFLATE", "STORE"] = "DEFLATE"
    level: int | None = None
    """`compressionOptions.level`; None is pako's default (-1, zlib's 6)."""
    platform: Literal["DOS", "UNIX"] = "DOS"
    create_folders: bool = True
    stream_files: bool = False
    unix_permissions: int | None = None
    date: datetime = MADE_AT


def _js_key_order(names: list[str]) -> list[str]:
    """A JS object's key order, which `JSZip.forEach` follows: array-index keys ascending, then insertion order."""
    index = [n for n in names if re.fullmatch(r"0|[1-9][0-9]*", n) and int(n) < 2**32 - 1]
    return sorted(index, key=int) + [n for n in names if n not in index]


def _jszip_entries(files: Mapping[str, bytes], create_folders: bool) -> list[tuple[str, bytes | None]]:
    """Entries as `zip.file(path, data)` in sorted order adds them: each missing parent folder first (None)."""
    entries: dict[str, bytes | None] = {}

    def add_folders(path: str) -> None:
        parent = path.removesuffix("/").rpartition("/")[0]
        if parent and parent + "/" not in entries:
            add_folders(parent + "/")
            entries[parent + "/"] = None

    for path in sorted(files):
        if create_folders:
            add_folders(path)
        entries[path] = None if path.endswith("/") else files[path]
    return [(name, entries[name]) for name in _js_key_order(list(entries))]


def _dos_date_time(date: datetime) -> tuple[int, int]:
    when = date.astimezone(UTC)
    time = when.hour << 11 | when.minute << 5 | when.second // 2
    return time, (when.year - 1980) << 9 | when.month << 5 | when.day


def _external_attr(is_dir: bool, opts: JSZipOptions) -> int:
    attr = 0x10 if is_dir else 0
    if opts.platform == "UNIX":
        mode = opts.unix_permissions if opts.unix_permissions and not is_dir else (0o40775 if is_dir else 0o100664)
        attr |= (mode & 0xFFFF) << 16
    return attr  # DOS: `dosPermissions & 0x3F`, null unless given


def _entry(name: str, content: bytes | None, offset: int, opts: JSZipOptions) -> tuple[bytes, bytes]:
    """One entry's local record (header, data, descriptor) and its central directory record."""
    data = content or b""
    is_dir = content is None
    deflate = opts.compression == "DEFLATE" and data != b""  # folders and empty files are always STORE
    payload = data
    if deflate:
        packer = zlib.compressobj(-1 if opts.level is None else opts.level, zlib.DEFLATED, -15)
        payload = packer.compress(data) + packer.flush()
    streamed = opts.stream_files and not is_dir
    encoded = name.encode("utf-8")
    flags, extra = (0x0008 if streamed else 0), b""
    if not name.isascii():
        flags |= 0x0800
        field = b"\x01" + struct.pack("<I", zlib.crc32(encoded)) + encoded
        extra = b"up" + struct.pack("<H", len(field)) + field
    time, date = _dos_date_time(opts.date)
    crc, sizes = zlib.crc32(data), (len(payload), len(data))
    common = (10, flags, 8 if deflate else 0, time, date)
    names = (len(encoded), len(extra))
    header = struct.pack("<HHHHHIIIHH", *common, crc, *sizes, *names)
    local_header = struct.pack("<HHHHHIIIHH", *common, 0, 0, 0, *names) if streamed else header
    local = b"PK\x03\x04" + local_header + encoded + extra + payload
    if streamed:
        local += b"PK\x07\x08" + struct.pack("<III", crc, *sizes)
    made_by = 0x031E if opts.platform == "UNIX" else 0x0014
    tail = struct.pack("<HHHII", 0, 0, 0, _external_attr(is_dir, opts), offset)
    return local, b"PK\x01\x02" + struct.pack("<H", made_by) + header + tail + encoded + extra


def jszip_zip(files: Mapping[str, bytes], opts: JSZipOptions = JSZipOptions()) -> bytes:
    """The zip JSZip 3.10.1 generates for `files` added in sorted order (comments and custom encodings left out).

    A path ending in `/` is a `zip.folder(path)` call.
    """
    out, central = bytearray(), bytearray()
    entries = _jszip_entries(files, opts.create_folders)
    for name, content in entries:
        local, record = _entry(name, content, len(out), opts)
        out += local
        central += record
    end = struct.pack("<HHHHIIH", 0, 0, len(entries), len(entries), len(central), len(out), 0)
    return bytes(out + central + b"PK\x05\x06" + end)


def _pako_compatible() -> bool:
    """Whether this zlib deflates as pako 1.0 (zlib 1.2.8's algorithm) does; zlib-ng, for one, does not."""
    packer = zlib.compressobj(-1, zlib.DEFLATED, -15)
    pako = "09XV5cpLzE21UsjMK8vPTE7VTa0oKUpMLsnMz+NKSS1OLsosALGtFFwh4jB1CmmZqTkpxVy6QAOUFTwhgsVcAA=="
    return packer.compress(FILES["SKILL.md"]) + packer.flush() == base64.b64decode(pako)


needs_pako_deflate = pytest.mark.skipif(not _pako_compatible(), reason="this zlib's deflate output differs from pako's")

# Written by JSZip 3.10.1 (`zip.file(path, buffer)` in sorted order, `generateAsync` with
# `compression: "DEFLATE"`, every `new Date()` at MADE_AT) for FILES.
JSZIP_DEFLATE_B64 = (
    "UEsDBAoAAAAIAIIYIlwbAoAOQAAAAFAAAAAIAAAAU0tJTEwubWTT1dXlykvMTbVSyMwry89MTtVNrSgpSkwuyczP40pJLU4uyiwAsa0UXCHiMHUK"
    "aZmpOSnFXLpAA5QVPCGCxVwAUEsDBAoAAAAAAIIYIlwAAAAAAAAAAAAAAAAKAAAAcmVzb3VyY2VzL1BLAwQKAAAAAACCGCJcAAAAAAAAAAAAAAAA"
    "EwAAAHJlc291cmNlcy9lbXB0eS50eHRQSwMECgAAAAAAghgiXAAAAAAAAAAAAAAAABMAAAByZXNvdXJjZXMvZXhhbXBsZXMvUEsDBAoAAAAIAIIY"
    "IlwGVmY6CwAAAPAAAAAYAAAAcmVzb3VyY2VzL2V4YW1wbGVzL2EudHh0S8wpyEjkShwxJABQSwMECgAACAgAghgiXNLsRIkIAAAABgAAABUAHgBy"
    "ZXNvdXJjZXMvcsOpc3Vtw6kubWR1cBoAAZf7eN5yZXNvdXJjZXMvcsOpc3Vtw6kubWRLTkw7vJILAFBLAwQKAAAACACCGCJcxiTqUDYAAAA/AAAA"
    "CwAAAHNjaGVtYS5qc29uq1YqqSxIVbJSUMpPykpNLlHSUVAqKMovSC0qyUwtBopXK5XklyTmQFhQpXmluUmpRUq1tbUAUEsBAhQACgAAAAgAghgi"
    "XBsCgA5AAAAAUAAAAAgAAAAAAAAAAAAAAAAAAAAAAFNLSUxMLm1kUEsBAhQACgAAAAAAghgiXAAAAAAAAAAAAAAAAAoAAAAAAAAAAAAQAAAAZgAA"
    "AHJlc291cmNlcy9QSwECFAAKAAAAAACCGCJcAAAAAAAAAAAAAAAAEwAAAAAAAAAAAAAAAACOAAAAcmVzb3VyY2VzL2VtcHR5LnR4dFBLAQIUAAoA"
    "AAAAAIIYIlwAAAAAAAAAAAAAAAATAAAAAAAAAAAAEAAAAL8AAAByZXNvdXJjZXMvZXhhbXBsZXMvUEsBAhQACgAAAAgAghgiXAZWZjoLAAAA8AAA"
    "ABgAAAAAAAAAAAAAAAAA8AAAAHJlc291cmNlcy9leGFtcGxlcy9hLnR4dFBLAQIUAAoAAAgIAIIYIlzS7ESJCAAAAAYAAAAVAB4AAAAAAAAAAAAA"
    "ADEBAAByZXNvdXJjZXMvcsOpc3Vtw6kubWR1cBoAAZf7eN5yZXNvdXJjZXMvcsOpc3Vtw6kubWRQSwECFAAKAAAACACCGCJcxiTqUDYAAAA/AAAA"
    "CwAAAAAAAAAAAAAAAACKAQAAc2NoZW1hLmpzb25QSwUGAAAAAAcABwDQAQAA6QEAAAAA"
)
# sha256 of what JSZip 3.10.1 wrote for FILES with other options (`platform`, `streamFiles`,
# `compressionOptions.level` to `generateAsync`; `createFolders`, `unixPermissions` to `zip.file`).
JSZIP_SHA256: dict[JSZipOptions, str] = {
    JSZipOptions(platform="UNIX"): "b0c1798c4de40f3771e7bfbd0f8f29069c00a141e13da2806c02ac0d167fa066",
    JSZipOptions(stream_files=True): "f5722503e297850b82996fb74c86499bc8356357463b3ecab8c18412ca7e316c",
    JSZipOptions(create_folders=False): "84c4551153f2cad8059afbc7e166d9a07000b5efd6065364aaa8ddb3b71e929d",
    JSZipOptions(compression="STORE"): "7d7c7b06fb3ccb10e964525093ab106ead9d259feb112ed22f697643f70549d4",
    JSZipOptions(platform="UNIX", unix_permissions=0o100755, stream_files=True): (
        "c5e87a41daf384824db4bdec08893f3184aa4ddfbff45f918a85cad095eb0177"
    ),
    JSZipOptions(level=1, platform="UNIX", create_folders=False): (
        "a99c5065ed8a99b75c6fa9a6b1f610d64ca9b1fdf0ba7ad1fa60ad96b3f42195"
    ),
}
BIG_FILES = {
    "SKILL.md": SKILL_MD.encode(),
    "data/big.txt": b"".join(f"line {i} {i * i % 977}\n".encode() for i in range(5000)),
}
"""Past the 16 KiB chunks JSZip feeds pako in (`lib/stream/DataWorker.js`)."""
BIG_JSZIP_SHA256 = "3147c5d02f2c1b99a822d9a2f0f96800ddaa68e03a153b61f986d478d7631d5e"


def test_real_jszip_bundle_has_our_digest() -> None:
    ours = encode_bundle(build_bundle(FILES))
    assert ours != JSZIP_DEFLATE_B64
    assert digest_b64(JSZIP_DEFLATE_B64) == digest_b64(ours) == canonical_digest(FILES)
    assert decode_bundle(JSZIP_DEFLATE_B64).digest == decode_bundle(ours).digest


def test_real_jszip_bundle_holds_folder_entries_and_dos_attributes() -> None:
    infos = zipfile.ZipFile(BytesIO(base64.b64decode(JSZIP_DEFLATE_B64))).infolist()
    assert [(i.filename, i.create_system, i.external_attr, i.compress_type) for i in infos] == [
        ("SKILL.md", 0, 0, zipfile.ZIP_DEFLATED),
        ("resources/", 0, 0x10, zipfile.ZIP_STORED),
        ("resources/empty.txt", 0, 0, zipfile.ZIP_STORED),
        ("resources/examples/", 0, 0x10, zipfile.ZIP_STORED),
        ("resources/examples/a.txt", 0, 0, zipfile.ZIP_DEFLATED),
        ("resources/r\u00e9sum\u00e9.md", 0, 0, zipfile.ZIP_DEFLATED),
        ("schema.json", 0, 0, zipfile.ZIP_DEFLATED),
    ]
    assert {i.date_time for i in infos} == {(2026, 1, 2, 3, 4, 4)}  # DOS time counts seconds in twos


@needs_pako_deflate
def test_imitation_writes_the_bytes_jszip_wrote() -> None:
    assert encode_bundle(jszip_zip(FILES)) == JSZIP_DEFLATE_B64


@needs_pako_deflate
def test_imitation_matches_jszip_past_its_chunk_size() -> None:
    zip_bytes = jszip_zip(BIG_FILES)
    assert hashlib.sha256(zip_bytes).hexdigest() == BIG_JSZIP_SHA256
    assert digest_b64(encode_bundle(zip_bytes)) == canonical_digest(BIG_FILES)


@needs_pako_deflate
@pytest.mark.parametrize("opts", list(JSZIP_SHA256), ids=repr)
def test_imitation_matches_jszip_with_other_options(opts: JSZipOptions) -> None:
    assert hashlib.sha256(jszip_zip(FILES, opts)).hexdigest() == JSZIP_SHA256[opts]


@pytest.mark.parametrize("opts", [JSZipOptions(), *JSZIP_SHA256], ids=repr)
def test_every_jszip_option_gives_our_digest(opts: JSZipOptions) -> None:
    zip_bytes = jszip_zip(FILES, opts)
    assert zipfile.ZipFile(BytesIO(zip_bytes)).testzip() is None
    assert digest_b64(encode_bundle(zip_bytes)) == digest_b64(encode_bundle(build_bundle(FILES)))


@pytest.mark.parametrize(
    "changed",
    [
        {**FILES, "schema.json": b'{"type": "array"}'},
        {**FILES, "resources/extra.txt": b""},  # an empty file is a file
        {("resources/b.txt" if p == "resources/examples/a.txt" else p): c for p, c in FILES.items()},
    ],
    ids=["content", "empty-file-added", "renamed"],
)
def test_a_different_file_gives_a_different_digest(changed: dict[str, bytes]) -> None:
    assert digest_b64(encode_bundle(jszip_zip(changed))) == canonical_digest(changed) != canonical_digest(FILES)


def test_an_empty_folder_is_not_content() -> None:
    """`zip.folder("notes")` adds an entry and no file: the digest stays (empty folders do not exist in it)."""
    with_folder = jszip_zip({**FILES, "notes/": b""}, JSZipOptions())
    assert "notes/" in zipfile.ZipFile(BytesIO(with_folder)).namelist()
    assert "notes/" not in read_zip_entries(with_folder)
    assert digest_b64(encode_bundle(with_folder)) == canonical_digest(FILES)


_segment = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789_-\u00e9\u4e2d", min_size=1, max_size=6)
_files = st.dictionaries(
    st.lists(_segment, min_size=1, max_size=3).map("/".join),
    st.binary(max_size=400) | st.text(max_size=200).map(str.encode),
    min_size=1,
    max_size=6,
).filter(lambda files: not any(other.startswith(path + "/") for path in files for other in files))
_options = st.builds(
    JSZipOptions,
    compression=st.sampled_from(["DEFLATE", "STORE"]),
    level=st.sampled_from([None, 1, 9]),
    platform=st.sampled_from(["DOS", "UNIX"]),
    create_folders=st.booleans(),
    stream_files=st.booleans(),
    unix_permissions=st.sampled_from([None, 0o100755, 0o644]),
    date=st.datetimes(datetime(1980, 1, 1), datetime(2107, 12, 31), timezones=st.just(UTC)),
)


@settings(max_examples=80, deadline=None)
@given(files=_files, opts=_options, data=st.data())
def test_jszip_digest_depends_on_files_only(files: dict[str, bytes], opts: JSZipOptions, data: st.DataObject) -> None:
    expected = digest_b64(encode_bundle(build_bundle(files)))
    assert digest_b64(encode_bundle(jszip_zip(files, opts))) == expected == canonical_digest(files)
    path = data.draw(st.sampled_from(sorted(files)))
    mutated = {**files, path: files[path] + b"\0"}
    assert digest_b64(encode_bundle(jszip_zip(mutated, replace(opts, stream_files=not opts.stream_files)))) != expected
