"""Strict, bounded decoding of inline skill bundles (``source.data``).

Bundles arrive from untrusted clients, so every cap is checked from metadata before any
byte is inflated, and inflation itself is bounded in case the metadata lies. Nested zips
are accepted as plain files and never opened: only the outer archive is inflated.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import re
import stat
import struct
import zipfile
import zlib
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Protocol

from harness.bundles.file_digest import canonical_digest
from harness.bundles.skill import (
    SkillMd,
    missing_skill_md_error,
    parse_schema_json,
    parse_skill_md,
    parse_vlmrun_yaml,
)
from harness.errors import BundleError

MiB = 1024 * 1024
_CHUNK = 64 * 1024
# bzip2/lzma are refused: zipfile inflates them without an output bound per read, so a
# few compressed bytes could allocate gigabytes before any cap is seen.
_METHODS = frozenset({zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED})
_B64_BAD = re.compile(r"[^A-Za-z0-9+/=]")
_EOCD = struct.Struct("<4s4H2LH")
_EOCD64 = struct.Struct("<4sQ2H2L4Q")


@dataclass(frozen=True)
class BundleLimits:
    """Safety caps; VLM Run documents none, so the defaults are deliberately generous."""

    max_encoded_chars: int = 70_254_592  # OpenAI's cap on the analogous field
    max_entries: int = 1000
    max_total_uncompressed: int = 100 * MiB
    max_entry_uncompressed: int = 50 * MiB
    max_ratio: int = 200
    # Small entries may compress absurdly well (a run of spaces) without being a threat:
    # the total cap bounds them, so the ratio is only judged above this size.
    ratio_min_size: int = 1 * MiB

    @property
    def max_zip_bytes(self) -> int:
        """Raw-size equivalent of ``max_encoded_chars``."""
        return self.max_encoded_chars // 4 * 3


DEFAULT_LIMITS = BundleLimits()


@dataclass(frozen=True)
class ManifestEntry:
    path: str
    size: int
    sha256: str


@dataclass(frozen=True)
class Bundle:
    """A decoded, validated bundle; ``digest`` identifies its content, not its bytes."""

    files: Mapping[str, bytes]
    skill: SkillMd
    schema: dict[str, Any] | None
    config: dict[str, Any] | None
    digest: str

    def manifest(self) -> list[ManifestEntry]:
        return [
            ManifestEntry(p, len(b), hashlib.sha256(b).hexdigest())
            for p, b in sorted(self.files.items(), key=lambda kv: kv[0].encode())
        ]


def decode_base64(data: str, *, limits: BundleLimits = DEFAULT_LIMITS) -> bytes:
    """Decode standard padded base64, refusing the lenient variants decoders accept.

    The size cap comes first so an oversized string is never scanned or decoded.
    """
    if not isinstance(data, str):
        raise BundleError("bundle data must be a base64 string", code="invalid_base64")
    if len(data) > limits.max_encoded_chars:
        raise BundleError(
            f"bundle is {len(data)} base64 characters, over the limit of {limits.max_encoded_chars}",
            code="too_large",
        )
    if not data:
        raise BundleError("bundle is empty: source.data must be a base64-encoded zip", code="empty")
    first_pad = data.find("=")
    try:
        if len(data) % 4 or (first_pad != -1 and first_pad < len(data) - 2):
            raise ValueError("misplaced padding")
        # validate=True already refuses every character outside the standard alphabet, so
        # the slower scan below runs only to word the error (it was ~40% of a 1 MiB digest).
        raw = base64.b64decode(data, validate=True)
        # Unused trailing bits must be zero so one byte string has one encoding.
        canonical = base64.b64encode(base64.b64decode(data[-4:])).decode() == data[-4:]
    except (binascii.Error, ValueError) as exc:
        bad = _B64_BAD.search(data)
        if bad is not None:
            raise BundleError(_describe_bad_char(bad.group(), bad.start()), code="invalid_base64") from None
        if len(data) % 4 or (first_pad != -1 and first_pad < len(data) - 2):
            raise BundleError(
                f"base64 length {len(data)} is not a multiple of 4 or '=' is misplaced: send padded standard base64",
                code="invalid_base64",
            ) from None
        raise BundleError(f"invalid base64: {exc}", code="invalid_base64") from None
    if not canonical:
        raise BundleError(
            "base64 has non-zero padding bits in its last quantum: re-encode with base64.b64encode",
            code="invalid_base64",
        )
    if not raw:
        raise BundleError("bundle decodes to zero bytes", code="empty")
    return raw


def _describe_bad_char(char: str, offset: int) -> str:
    if char.isspace():
        return f"base64 has whitespace or a line break at offset {offset}: send it unwrapped (base64.b64encode)"
    if char in "-_":
        return f"base64 uses the URL-safe alphabet ({char!r} at offset {offset}): use '+' and '/' instead"
    return f"base64 contains invalid character {char!r} at offset {offset}"


def read_zip_entries(zip_bytes: bytes, limits: BundleLimits = DEFAULT_LIMITS) -> dict[str, bytes]:
    """Return the regular files of a zip, sorted by path, after every safety check.

    Directory entries are dropped. Nested archives come back as opaque bytes.
    """
    if not zip_bytes:
        raise BundleError("bundle is empty", code="empty")
    if len(zip_bytes) > limits.max_zip_bytes:
        raise BundleError(f"zip is {len(zip_bytes)} bytes, over the limit of {limits.max_zip_bytes}", code="too_large")
    declared = _declared_entry_count(zip_bytes)
    if declared is not None and declared > limits.max_entries:
        raise _too_many(declared, limits)
    try:
        zf = zipfile.ZipFile(io.BytesIO(zip_bytes))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError, NotImplementedError) as exc:
        raise BundleError(f"bundle is not a valid zip archive: {exc}", code="not_a_zip") from None
    with zf:
        infos = zf.infolist()
        if len(infos) > limits.max_entries:
            raise _too_many(len(infos), limits)
        files = _check_entries(infos, limits)
        out: dict[str, bytes] = {}
        budget = limits.max_total_uncompressed
        for info in files:
            data = _inflate(zf, info, min(limits.max_entry_uncompressed, budget))
            budget -= len(data)
            out[info.filename] = data
    return dict(sorted(out.items(), key=lambda kv: kv[0].encode()))


def _too_many(count: int, limits: BundleLimits) -> BundleError:
    return BundleError(f"zip has {count} entries, over the limit of {limits.max_entries}", code="too_many_entries")


def _declared_entry_count(raw: bytes) -> int | None:
    """Entry count from the end-of-central-directory record, read without parsing it all.

    Lets a million-entry archive be refused before zipfile builds a million objects; a
    lying count is caught again after opening.
    """
    pos = raw.rfind(b"PK\x05\x06", max(0, len(raw) - _EOCD.size - 0xFFFF))
    if pos < 0 or len(raw) - pos < _EOCD.size:
        return None
    count: int = _EOCD.unpack_from(raw, pos)[4]
    loc = pos - 20
    if count == 0xFFFF and loc >= _EOCD64.size and raw[loc : loc + 4] == b"PK\x06\x07":
        rec = loc - _EOCD64.size
        if raw[rec : rec + 4] == b"PK\x06\x06":
            count = _EOCD64.unpack_from(raw, rec)[7]
    return count


def check_entry_name(name: str) -> None:
    """Refuse names that could escape, or mean different files on different systems."""
    problem = _name_problem(name)
    if problem:
        raise BundleError(f"unsafe zip entry name {name!r}: {problem}", code="unsafe_path", entry=name)


def _name_problem(name: str) -> str | None:
    if not name or name == "/":
        return "empty name"
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return "name is not valid UTF-8"
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in name):
        return "control character in name"
    if "\\" in name:
        return "backslash in name (use '/' separators)"
    if name.startswith("/"):
        return "absolute path"
    if re.match(r"[A-Za-z]:", name):
        return "drive letter"
    segments = name.removesuffix("/").split("/")
    if ".." in segments:
        return "'..' segment escapes the bundle"
    if "." in segments or "" in segments:
        return "not a normal relative path ('.' or empty segment)"
    return None


def _check_entries(infos: list[zipfile.ZipInfo], limits: BundleLimits) -> list[zipfile.ZipInfo]:
    """Validate the central directory; return the file entries worth inflating."""
    seen: set[str] = set()
    files: list[zipfile.ZipInfo] = []
    total = 0
    for info in infos:
        name = info.orig_filename  # before zipfile truncates at NUL
        check_entry_name(name)
        if stat.S_ISLNK(info.external_attr >> 16):
            raise BundleError(f"zip entry {name!r} is a symbolic link: only regular files", code="symlink", entry=name)
        if name.endswith("/"):
            continue
        if name in seen:
            raise BundleError(f"zip has more than one entry named {name!r}", code="duplicate_entry", entry=name)
        seen.add(name)
        if info.flag_bits & 0x41:
            raise BundleError(f"zip entry {name!r} is encrypted: remove the password", code="encrypted", entry=name)
        if info.compress_type not in _METHODS:
            message = f"zip entry {name!r} uses compression method {info.compress_type}: use stored or deflated"
            raise BundleError(message, code="unsupported_compression", entry=name)
        _check_sizes(info, limits)
        total += info.file_size
        files.append(info)
    if total > limits.max_total_uncompressed:
        message = f"zip declares {total} uncompressed bytes, over the limit of {limits.max_total_uncompressed}"
        raise BundleError(message, code="too_large_uncompressed")
    check_conflicts(seen)
    return files


def _check_sizes(info: zipfile.ZipInfo, limits: BundleLimits) -> None:
    name, size = info.filename, info.file_size
    if size > limits.max_entry_uncompressed:
        message = (
            f"zip entry {name!r} declares {size} bytes, over the per-entry limit of {limits.max_entry_uncompressed}"
        )
        raise BundleError(message, code="too_large_uncompressed", entry=name)
    if size > limits.ratio_min_size and size > limits.max_ratio * max(info.compress_size, 1):
        message = f"zip entry {name!r} inflates {size} bytes from {info.compress_size} (ratio over {limits.max_ratio})"
        raise BundleError(message, code="compression_ratio", entry=name)


def check_conflicts(names: Collection[str]) -> None:
    """A path used both as a file and as a folder cannot be extracted."""
    for name in names:
        parts = name.split("/")
        for i in range(1, len(parts)):
            prefix = "/".join(parts[:i])
            if prefix in names:
                message = f"zip entry {prefix!r} is a file but {name!r} uses it as a folder"
                raise BundleError(message, code="path_conflict", entry=name)


def _inflate(zf: zipfile.ZipFile, info: zipfile.ZipInfo, cap: int) -> bytes:
    name = info.filename
    try:
        with zf.open(info) as stream:
            data = read_capped(stream, cap, entry=name)
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, RuntimeError, NotImplementedError) as exc:
        raise BundleError(f"zip entry {name!r} is corrupt: {exc}", code="corrupt", entry=name) from None
    if len(data) != info.file_size:
        message = f"zip entry {name!r} declares {info.file_size} bytes but holds {len(data)}"
        raise BundleError(message, code="corrupt", entry=name)
    return data


class _Readable(Protocol):
    def read(self, size: int, /) -> bytes: ...


def read_capped(stream: _Readable, cap: int, *, entry: str | None = None) -> bytes:
    """Read in chunks and stop one chunk past ``cap``, whatever the headers claimed."""
    buf = bytearray()
    while True:
        chunk = stream.read(_CHUNK)
        if not chunk:
            return bytes(buf)
        buf += chunk
        if len(buf) > cap:
            message = f"zip entry {entry!r} inflates past {cap} bytes (its header understates its size)"
            raise BundleError(message, code="too_large_uncompressed", entry=entry)


def decode_bundle(data: str, *, limits: BundleLimits = DEFAULT_LIMITS) -> Bundle:
    """Decode and validate ``source.data`` the way a strict server would."""
    files = read_zip_entries(decode_base64(data, limits=limits), limits)
    if "SKILL.md" not in files:
        raise missing_skill_md_error(files)
    schema = parse_schema_json(files["schema.json"]) if "schema.json" in files else None
    config = parse_vlmrun_yaml(files["vlmrun.yaml"]) if "vlmrun.yaml" in files else None
    return Bundle(
        files=MappingProxyType(files),
        skill=parse_skill_md(files["SKILL.md"]),
        schema=schema,
        config=config,
        digest=canonical_digest(files),
    )
