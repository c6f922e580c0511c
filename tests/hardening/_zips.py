"""Hostile zip builders shared by the hardening tests: plain zipfile, no sanitising.

Each builder returns raw zip bytes; `b64` turns them into what a client puts in `source.data`.
"""

from __future__ import annotations

import base64
import io
import stat
import struct
import warnings
import zipfile
from collections.abc import Iterable

SKILL_MD = b"---\nname: demo\ndescription: Demo skill\n---\n# Demo\n"
SKILL = ("SKILL.md", SKILL_MD)
MiB = 1 << 20


def raw_zip(entries: Iterable[tuple[str | zipfile.ZipInfo, bytes]], method: int = zipfile.ZIP_STORED) -> bytes:
    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # duplicate names are the point of some fixtures
        with zipfile.ZipFile(buf, "w", method) as zf:
            for name, data in entries:
                zf.writestr(name, data)
    return buf.getvalue()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def symlink(name: str, target: bytes) -> tuple[zipfile.ZipInfo, bytes]:
    info = zipfile.ZipInfo(name)
    info.create_system = 3
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    return info, target


def zeros_entry(name: str, mib: int) -> bytes:
    """A zip holding SKILL.md and `mib` MiB of zeros deflated (about 1 KiB per MiB), streamed."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(*SKILL)
        with zf.open(name, "w", force_zip64=True) as out:
            chunk = bytes(MiB)
            for _ in range(mib):
                out.write(chunk)
    return buf.getvalue()


def many_mib_entries(count: int) -> bytes:
    """SKILL.md plus `count` entries of exactly 1 MiB of zeros: each under the ratio threshold."""
    chunk = bytes(MiB)
    return raw_zip([SKILL, *((f"data/{i:03}.bin", chunk) for i in range(count))], zipfile.ZIP_DEFLATED)


def _central_records(data: bytes) -> tuple[int, int, list[bytes]]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        start = zf.start_dir
    end = data.rfind(b"PK\x05\x06")
    records, pos = [], start
    while data[pos : pos + 4] == b"PK\x01\x02":
        name_len, extra_len, comment_len = struct.unpack_from("<3H", data, pos + 28)
        size = 46 + name_len + extra_len + comment_len
        records.append(data[pos : pos + size])
        pos += size
    return start, end, records


def overlapping_entries(copies: int) -> bytes:
    """A "non-recursive zip bomb" (Fifield 2019): many central records pointing at one local entry.

    The extra records carry other one-letter names, so each would inflate the same MiB again.
    """
    data = raw_zip([SKILL, ("k", bytes(MiB))], zipfile.ZIP_DEFLATED)
    start, end, records = _central_records(data)
    target = records[-1]
    names = [c for c in "abcdefghijmnopqrstuvwxyz0123456789"][:copies]
    extra = b"".join(target[:46] + name.encode() + target[47:] for name in names)
    directory = b"".join(records) + extra
    eocd = bytearray(data[end:])
    total = len(records) + len(names)
    struct.pack_into("<HHLL", eocd, 8, total, total, len(directory), start)
    return data[:start] + directory + bytes(eocd)


def patch_sizes(zip_bytes: bytes, name: str, *, usize: int) -> bytes:
    """Rewrite the declared uncompressed size of one entry in its local and central headers."""
    out = bytearray(zip_bytes)
    with zipfile.ZipFile(io.BytesIO(zip_bytes)) as zf:
        info = zf.getinfo(name)
    struct.pack_into("<L", out, info.header_offset + 22, usize)
    start, _, records = _central_records(zip_bytes)
    pos = start
    for record in records:
        if record[46 : 46 + len(name)] == name.encode() and struct.unpack_from("<H", record, 28)[0] == len(name):
            struct.pack_into("<L", out, pos + 24, usize)
        pos += len(record)
    return bytes(out)


def alias_bomb_skill_md(levels: int = 9) -> bytes:
    """SKILL.md whose `name` is a YAML "billion laughs": 9**levels strings once expanded."""
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, levels):
        refs = ",".join([f"*a{i - 1}"] * 9)
        lines.append(f"a{i}: &a{i} [{refs}]")
    body = "\n".join(lines)
    return f"---\n{body}\nname: *a{levels - 1}\ndescription: d\n---\n".encode()
