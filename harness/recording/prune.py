"""`harness cassettes prune`: delete the bundle blobs no cassette refers to any more.

A re-recorded or deleted cassette leaves its bundles in `_blobs/`; nothing else removes
them. A blob is kept while any cassette file under the same `cassettes` folder names its
digest (`$blob:sha256:<hex>`); the scan reads bytes, so it costs no YAML parse and sees
every format the harness writes.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from harness.recording.blobs import BLOB_DIR
from harness.recording.verify import find_cassettes

_REFERENCE = re.compile(rb"\$blob:sha256:([0-9a-f]{64})")
_BLOB = re.compile(r"sha256-([0-9a-f]{64})\.zip")


@dataclass
class PruneResult:
    removed: list[Path] = field(default_factory=list)
    kept: int = 0
    dry_run: bool = False

    def format(self) -> str:
        verb = "would remove" if self.dry_run else "removed"
        blobs = "blob" if len(self.removed) == 1 else "blobs"
        lines = [f"{verb} {len(self.removed)} unreferenced {blobs}; {self.kept} still referenced"]
        return "\n".join([*lines, *(f"  {path}" for path in self.removed)])


def prune(roots: Sequence[Path], *, dry_run: bool = False) -> PruneResult:
    """Each root is a cassettes folder (its `_blobs/` and every cassette below it)."""
    result = PruneResult(dry_run=dry_run)
    for root in roots:
        blob_dir = root / BLOB_DIR
        if not blob_dir.is_dir():
            continue
        referenced = {
            m.group(1).decode() for path in find_cassettes([root]) for m in _REFERENCE.finditer(path.read_bytes())
        }
        for blob in sorted(blob_dir.iterdir()):
            match = _BLOB.fullmatch(blob.name)
            if match is None:
                continue
            if match.group(1) in referenced:
                result.kept += 1
                continue
            result.removed.append(blob)
            if not dry_run:
                blob.unlink(missing_ok=True)
    return result
