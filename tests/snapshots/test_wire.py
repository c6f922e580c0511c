"""What every wire path sends for every seed example: the bytes' meaning and the meaning.

`test_wire_body` snapshots each body as sent (keys sorted; bundles as manifests), so a
renamed key, a dropped `skill_version: "latest"` or a lost pin fails with a diff.
`test_canonical_form` snapshots what the request means and checks that every path means
the same thing. Update with `pytest tests/snapshots --snapshot-update` after a reviewed change.
"""

from __future__ import annotations

from typing import Any

import pytest

from harness.canonical import canonical_diff
from harness.snapshots import canonical_view
from tests.snapshots.support import EXAMPLES, PATHS, send


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("example", EXAMPLES)
def test_wire_body(example: str, path: str, vlmrun_snapshot: Any) -> None:
    assert send(path, example) == vlmrun_snapshot


@pytest.mark.parametrize("example", EXAMPLES)
def test_canonical_form(example: str, vlmrun_snapshot: Any) -> None:
    meanings = {path: canonical_view(send(path, example).json()) for path in PATHS}
    reference = meanings["vlmrun-dict"]
    assert reference == vlmrun_snapshot
    differences = [
        f"{path} means {where} = {theirs!r}, vlmrun-dict means {ours!r}"
        for path, meaning in meanings.items()
        for where, ours, theirs in canonical_diff(reference, meaning)
    ]
    assert not differences, "every wire path must mean the same request:\n" + "\n".join(differences)


@pytest.mark.parametrize("path", ["vlmrun-dict", "vlmrun-objects", "openai-dict"])
def test_streaming_adds_only_the_stream_flag(path: str, vlmrun_snapshot: Any) -> None:
    streamed, plain = send(path, "pinned", stream=True), send(path, "pinned")
    assert streamed.json() == {**plain.json(), "stream": True}
    assert streamed == vlmrun_snapshot
