"""`harness cassettes migrate`: format 1 cassettes rewritten as format 2, checked before writing.

Format 1 (the harness's earlier layout) is still read everywhere, so migrating is optional:
it makes the files plain vcrpy cassettes again. Each file is converted in memory, read back,
and written only if every interaction replays the same bytes; the write is atomic.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from harness.errors import CassetteError
from harness.files import write_atomic
from harness.recording.cassette_io import document_for, load_file
from harness.recording.cassette_parse import parse_document
from harness.recording.cassette_yaml import dump_document, load_yaml
from harness.recording.verify import find_cassettes


@dataclass
class MigrateResult:
    migrated: list[Path] = field(default_factory=list)
    current: list[Path] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def format(self) -> str:
        lines = [f"migrated {len(self.migrated)} cassette(s) to format 2; {len(self.current)} needed nothing"]
        lines += [f"  {path}" for path in self.migrated]
        lines += [f"error: {error}" for error in self.errors]
        return "\n".join(lines)


def migrate_file(path: Path) -> bool:
    """Rewrite one cassette as format 2; False when it needs nothing (already format 2, or plain)."""
    loaded = load_file(path)
    if not loaded.harness or loaded.recording.get("format") != 1:
        return False
    stash: dict[str, bytes] = {}
    pairs = list(zip(loaded.requests, loaded.responses, strict=True))
    document = document_for(pairs, loaded.owned, loaded.metadata, stash)
    buffer = io.BytesIO()
    dump_document(document, buffer)
    again = parse_document(load_yaml(buffer.getvalue()), path)
    for index, (old, new) in enumerate(zip(loaded.interactions(), again.interactions(), strict=True)):
        if (old.request.body, old.response.body, old.response.status) != (
            new.request.body,
            new.response.body,
            new.response.status,
        ):
            raise CassetteError(f"Cassette {path}: interaction {index} would not replay the same bytes; left as is")
    write_atomic(path, buffer.getvalue())  # blobs: format 1 already stored them in the same place
    return True


def migrate(paths: Sequence[Path]) -> MigrateResult:
    result = MigrateResult()
    for path in find_cassettes(paths):
        try:
            (result.migrated if migrate_file(path) else result.current).append(path)
        except CassetteError as exc:
            result.errors.append(str(exc))
    return result
