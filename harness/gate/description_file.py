"""The description in use as a file, for what reads one: schemathesis, the diff engine, `--accept`.

A description used as it is already is a file. With overlays, the description in use
(`contract.use_description`) exists only in memory, so it is written out as YAML, to a
temporary file that lives as long as the step that reads it.
"""

from __future__ import annotations

import contextlib
import hashlib
import tempfile
from collections.abc import Iterator
from pathlib import Path

from harness.contract import Contract
from harness.description_yaml import description_yaml


def own_file(contract: Contract) -> Path | None:
    """The file `contract` was read from, when its bytes are the whole description (no overlay)."""
    path = Path(contract.source)
    try:
        raw = path.read_bytes()
    except OSError:
        return None
    return path if hashlib.sha256(raw).hexdigest() == contract.sha256 else None


@contextlib.contextmanager
def description_file(contract: Contract) -> Iterator[Path]:
    """A file holding exactly the description in use: its own, or a temporary copy with the overlays applied."""
    path = own_file(contract)
    if path is not None:
        yield path
        return
    with tempfile.TemporaryDirectory(prefix="harness-description-") as folder:
        copy = Path(folder) / "description.yaml"
        copy.write_text(description_yaml(contract.document), encoding="utf-8")
        yield copy
