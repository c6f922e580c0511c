"""Content digest of a bundle's files: equal for the same files however the zip was made.

Zip bytes depend on timestamps, modes, order and the zlib build, so two clients sending
the same skill rarely send the same base64. Matching recorded requests therefore goes by
this digest, never by the base64 text. It reads only the files, so decoding (which stamps
every `Bundle` with it) and the memoised base64 digest both build on it without importing
each other.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

from harness.errors import BundleError


def canonical_digest(files: Mapping[str, bytes]) -> str:
    """``sha256:`` over ``sha256sum``-style lines, paths sorted by their UTF-8 bytes.

    Each line is ``"{sha256(content)}  {path}\\n"``; paths cannot hold a line break, so
    the encoding is unambiguous. Empty folders do not exist in it.
    """
    lines: list[tuple[bytes, str]] = []
    for path, content in files.items():
        if "\n" in path or "\r" in path:
            raise BundleError(f"path {path!r} contains a line break", code="unsafe_path", entry=path)
        lines.append((path.encode("utf-8", "surrogatepass"), hashlib.sha256(content).hexdigest()))
    outer = hashlib.sha256()
    for path_bytes, content_hex in sorted(lines):
        outer.update(content_hex.encode("ascii") + b"  " + path_bytes + b"\n")
    return "sha256:" + outer.hexdigest()
