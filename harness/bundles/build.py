"""Byte-reproducible skill bundles.

The SDK's ``bundle_from_directory`` stores each file's mtime and mode and deflates, so the
same skill gives different base64 after a checkout, ``touch`` or ``chmod``. Here
everything that is not content is fixed: sorted POSIX paths, 1980-01-01 timestamps, mode
0644, Unix creator, no directory entries, and ZIP_STORED by default because deflate
output varies with the zlib build (zlib-ng in Fedora 40+ differs from madler zlib).
"""

from __future__ import annotations

import base64
import fnmatch
import os
import stat
import zipfile
from collections.abc import Mapping
from io import BytesIO
from typing import Literal

from harness.bundles.decode import check_conflicts, check_entry_name
from harness.errors import BundleError

Compression = Literal["stored", "deflated"]

FIXED_DATE_TIME = (1980, 1, 1, 0, 0, 0)
FIXED_EXTERNAL_ATTR = (stat.S_IFREG | 0o644) << 16
DEFLATE_LEVEL = 6  # fixed, but still only reproducible on the same zlib
JUNK_FILES = (".DS_Store", "Thumbs.db", "*.pyc")
JUNK_DIRS = frozenset({"__pycache__", ".git", ".hg", ".svn"})

_METHOD = {"stored": zipfile.ZIP_STORED, "deflated": zipfile.ZIP_DEFLATED}


def build_bundle(files: Mapping[str, bytes | str], *, compression: Compression = "stored") -> bytes:
    """Zip in-memory files deterministically; ``str`` content is written as UTF-8.

    Paths must be normal relative POSIX paths. Input is taken as given: no junk
    filtering and no SKILL.md requirement, so tests can build incomplete bundles.
    """
    method = _METHOD.get(compression)
    if method is None:
        raise ValueError(f"compression must be 'stored' or 'deflated', not {compression!r}")
    for path in files:
        if path.endswith("/"):
            raise BundleError(
                f"path {path!r} is a folder: bundles hold files only",
                code="unsafe_path",
                entry=path,
            )
        check_entry_name(path)
    check_conflicts(files)
    buf = BytesIO()
    with zipfile.ZipFile(buf, "w", compression=method) as zf:
        for path in sorted(files, key=lambda p: p.encode()):
            content = files[path]
            info = zipfile.ZipInfo(path, date_time=FIXED_DATE_TIME)
            info.compress_type = method
            info.create_system = 3
            info.external_attr = FIXED_EXTERNAL_ATTR
            data = content.encode("utf-8") if isinstance(content, str) else bytes(content)
            level = DEFLATE_LEVEL if method == zipfile.ZIP_DEFLATED else None
            zf.writestr(info, data, compresslevel=level)
    return buf.getvalue()


def is_junk(rel_path: str) -> bool:
    """OS and VCS droppings that the SDK would ship but no skill needs."""
    parts = rel_path.split("/")
    if JUNK_DIRS.intersection(parts):  # a worktree's .git is a file
        return True
    return any(fnmatch.fnmatchcase(parts[-1], pattern) for pattern in JUNK_FILES)


def collect_directory(path: str | os.PathLike[str], *, include_hidden: bool = False) -> dict[str, bytes]:
    """Read a skill folder into ``{posix_path: bytes}``, refusing symlinks and specials.

    Symlinks are refused rather than followed: following them makes the bundle depend on
    what lies outside the folder, and on the checkout (git may store them as text files).
    Hidden files and folders (`.env`, `.venv`, `.secrets/`) stay out unless `include_hidden`:
    a bundle is sent to the API and recorded, and a dotfile is where keys live.
    """
    root = os.fspath(path)
    if not os.path.isdir(root):
        raise BundleError(f"{root!r} is not a directory", code="not_a_directory")
    out: dict[str, bytes] = {}

    def walk(directory: str, prefix: str) -> None:
        with os.scandir(directory) as it:
            entries = sorted(it, key=lambda e: e.name)
        for entry in entries:
            rel = prefix + entry.name
            if is_junk(rel) or (entry.name.startswith(".") and not include_hidden):
                continue
            if entry.is_symlink():
                raise BundleError(
                    f"{rel!r} in {root!r} is a symbolic link: replace it with the file",
                    code="symlink",
                    entry=rel,
                )
            if entry.is_dir(follow_symlinks=False):
                walk(entry.path, rel + "/")
            elif not entry.is_file(follow_symlinks=False):
                raise BundleError(
                    f"{rel!r} in {root!r} is not a regular file",
                    code="not_a_regular_file",
                    entry=rel,
                )
            else:
                check_entry_name(rel)
                with open(entry.path, "rb") as fh:
                    out[rel] = fh.read()

    walk(root, "")
    if "SKILL.md" not in out:
        raise BundleError(
            f"{root!r} has no SKILL.md at its top level: every skill folder needs one",
            code="missing_skill_md",
        )
    return out


def build_bundle_from_directory(
    path: str | os.PathLike[str], *, compression: Compression = "stored", include_hidden: bool = False
) -> bytes:
    """Zip a skill folder; identical files give identical bytes on any machine; dotfiles left out."""
    return build_bundle(collect_directory(path, include_hidden=include_hidden), compression=compression)


def encode_bundle(zip_bytes: bytes) -> str:
    """Standard padded base64 on one line, the form ``source.data`` expects."""
    return base64.b64encode(zip_bytes).decode("ascii")


def bundle_b64_from_directory(path: str | os.PathLike[str], *, compression: Compression = "stored") -> str:
    return encode_bundle(build_bundle_from_directory(path, compression=compression))
