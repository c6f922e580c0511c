"""The load cache gives exactly what loading the cassette gives, and only while that is provably so."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import pytest

from harness.errors import CassetteError
from harness.recording import cassette_io
from harness.recording.blobs import blob_dir_for, referenced_digests
from harness.recording.cassette_io import load_file, save_interactions
from harness.recording.cassette_parse import Loaded
from harness.recording.load_cache import LoadCache
from harness.recording.matcher import request_key
from tests.recording._cassettes import (
    BUNDLE_B64,
    another_description,
    completion_request,
    inline_skill,
    interaction,
    stream,
)

BINARY = bytes(range(256))


def _cassette(tmp_path: Path) -> Path:
    """A bundle (a blob), a stream, a non-ASCII prompt, and another API's binary body in one cassette."""
    return save_interactions(
        tmp_path / "cassettes" / "mixed.yaml",
        [
            interaction(completion_request(inline_skill(), {"type": "skill_reference", "skill_name": "invoice"})),
            interaction(
                completion_request(content="Grüße, 請求書 ✓"),
                stream([{"id": "c1", "choices": [{"delta": {"content": "hé"}}]}]),
                response_headers={"content-type": ["text/event-stream"]},
            ),
            interaction(None, BINARY, uri="https://example.com/file", method="GET", vlmrun=False, response_headers={}),
        ],
    )


class CountingCache(LoadCache):
    def __init__(self, folder: Path) -> None:
        super().__init__(lambda: folder)
        self.folder = folder
        self.hits = 0

    def read(self, cassette: Path, content: str, contract: str) -> Loaded | None:
        found = super().read(cassette, content, contract)
        self.hits += found is not None
        return found


def _shape(loaded: Loaded) -> list[Any]:
    pairs = zip(loaded.requests, loaded.responses, loaded.owned, strict=True)
    return [
        [rq.method, rq.uri, dict(rq.headers), rq.body, own, rs, getattr(rq, "_vlmrun_harness_owned", None)]
        for rq, rs, own in pairs
    ] + [loaded.metadata, loaded.harness]


def _fresh_keys(loaded: Loaded) -> list[Any]:
    return [request_key(rq) if own else None for rq, own in zip(loaded.requests, loaded.owned, strict=True)]


@pytest.fixture
def cache(tmp_path: Path) -> CountingCache:
    return CountingCache(tmp_path / "cache")


def test_a_cached_load_is_the_load_byte_for_byte_with_its_keys(tmp_path: Path, cache: CountingCache) -> None:
    path = _cassette(tmp_path)
    plain = load_file(path)
    first = load_file(path, cache=cache)
    second = load_file(path, cache=cache)
    assert (cache.hits, _shape(first), _shape(second)) == (1, _shape(plain), _shape(plain))
    assert second.requests[2].body is None
    assert second.responses[2]["body"]["string"] == BINARY
    assert [getattr(rq, "_harness_request_key", None) for rq in second.requests] == _fresh_keys(plain)


def test_nothing_is_written_before_a_load_and_one_entry_is_kept_per_cassette(
    tmp_path: Path, cache: CountingCache
) -> None:
    path = _cassette(tmp_path)
    assert cache.read(path, "0" * 64, "c") is None
    assert not cache.folder.exists()
    for _ in range(3):
        load_file(path, cache=cache)
    path.write_bytes(path.read_bytes().replace(b"Extract the invoice.", b"Extract the receipt."))
    changed = load_file(path, cache=cache)
    assert len(list(cache.folder.glob("*.json"))) == 1
    assert b"Extract the receipt." in changed.requests[0].body


def test_a_changed_cassette_is_loaded_afresh(tmp_path: Path, cache: CountingCache) -> None:
    path = _cassette(tmp_path)
    load_file(path, cache=cache)
    path.write_bytes(path.read_bytes().replace(b"Extract the invoice.", b"Extract the receipt."))
    again = load_file(path, cache=cache)
    assert cache.hits == 0
    assert _shape(again) == _shape(load_file(path))


@pytest.mark.parametrize(
    "damage",
    [
        lambda raw: raw[: len(raw) // 2],
        lambda raw: raw.replace(b'"format":', b'"formats":', 1),
        lambda raw: raw.split(b"\n", 1)[0] + b"\n" + b"x" * (len(raw.split(b"\n", 1)[1])),
        lambda raw: b"",
    ],
    ids=["torn", "another-format", "garbage-payload", "empty"],
)
def test_a_damaged_entry_is_a_miss_never_a_wrong_load(tmp_path: Path, cache: CountingCache, damage: Any) -> None:
    path = _cassette(tmp_path)
    load_file(path, cache=cache)
    (entry,) = cache.folder.glob("*.json")
    entry.write_bytes(damage(entry.read_bytes()))
    again = load_file(path, cache=cache)
    assert cache.hits == 0
    assert _shape(again) == _shape(load_file(path))


def test_a_deleted_blob_fails_as_it_would_without_the_cache(tmp_path: Path, cache: CountingCache) -> None:
    path = _cassette(tmp_path)
    load_file(path, cache=cache)
    (blob,) = blob_dir_for(path).iterdir()
    blob.unlink()
    with pytest.raises(CassetteError) as cached:
        load_file(path, cache=cache)
    with pytest.raises(CassetteError) as plain:
        load_file(path)
    assert str(cached.value) == str(plain.value)
    assert "is missing" in str(plain.value)


def test_a_blob_whose_time_alone_changed_is_still_the_one_verified(tmp_path: Path, cache: CountingCache) -> None:
    """A fresh checkout (CI restoring the cache folder) renews every file's time, not its bytes."""
    path = _cassette(tmp_path)
    expected = _shape(load_file(path, cache=cache))
    (blob,) = blob_dir_for(path).iterdir()
    os.utime(blob, ns=(1, 1))
    assert _shape(load_file(path, cache=cache)) == expected
    assert cache.hits == 1


def test_a_replaced_blob_is_verified_again(tmp_path: Path, cache: CountingCache) -> None:
    path = _cassette(tmp_path)
    load_file(path, cache=cache)
    (blob,) = blob_dir_for(path).iterdir()
    blob.write_bytes(b"not a zip")
    os.utime(blob, ns=(1, 1))
    with pytest.raises(CassetteError, match="is corrupt"):
        load_file(path, cache=cache)


def test_keys_are_computed_again_under_another_description(tmp_path: Path, cache: CountingCache) -> None:
    path = _cassette(tmp_path)
    load_file(path, cache=cache)
    with another_description(tmp_path):
        again = load_file(path, cache=cache)
        assert cache.hits == 0
        assert [getattr(rq, "_harness_request_key", None) for rq in again.requests] == _fresh_keys(again)
        load_file(path, cache=cache)
        assert cache.hits == 1


def test_entries_name_the_cassettes_bytes_and_hold_no_more_than_the_cassette(
    tmp_path: Path, cache: CountingCache
) -> None:
    path = _cassette(tmp_path)
    load_file(path, cache=cache)
    (entry,) = cache.folder.glob("*.json")
    head = json.loads(entry.read_bytes().split(b"\n", 1)[0])
    assert head["cassette"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert set(head) == {"format", "cassette", "code", "length"}


def test_a_plain_vcrpy_cassette_is_never_cached(tmp_path: Path, cache: CountingCache) -> None:
    path = tmp_path / "plain.yaml"
    path.write_text("version: 1\ninteractions: []\n")
    loaded = load_file(path, cache=cache)
    assert loaded.requests == []
    assert not cache.folder.exists()


def test_an_unwritable_cache_folder_is_no_cache(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    path = _cassette(tmp_path)
    cache = CountingCache(blocker / "cache")
    assert _shape(load_file(path, cache=cache)) == _shape(load_file(path, cache=cache)) == _shape(load_file(path))
    assert cache.hits == 0


def test_the_cache_is_used_instead_of_yaml(tmp_path: Path, cache: CountingCache, monkeypatch: Any) -> None:
    path = _cassette(tmp_path)
    expected = _shape(load_file(path, cache=cache))

    def no_yaml(*args: Any) -> Any:
        raise AssertionError("parsed the YAML again")

    monkeypatch.setattr(cassette_io, "parse_text", no_yaml)
    assert _shape(load_file(path, cache=cache)) == expected


def test_a_bundles_base64_is_kept_once_beside_the_entries_not_in_them(tmp_path: Path, cache: CountingCache) -> None:
    path = _cassette(tmp_path)
    load_file(path, cache=cache)
    (entry,) = cache.folder.glob("*.json")
    (kept,) = (cache.folder / "b64").iterdir()
    assert BUNDLE_B64.encode() not in entry.read_bytes()
    assert kept.read_bytes() == BUNDLE_B64.encode()


def test_a_damaged_base64_copy_is_a_miss(tmp_path: Path, cache: CountingCache) -> None:
    path = _cassette(tmp_path)
    expected = _shape(load_file(path, cache=cache))
    (kept,) = (cache.folder / "b64").iterdir()
    kept.write_bytes(kept.read_bytes()[:-4])
    assert _shape(load_file(path, cache=cache)) == expected
    assert cache.hits == 0
    assert kept.read_bytes() == BUNDLE_B64.encode()  # written again by that load
    assert _shape(load_file(path, cache=cache)) == expected
    assert cache.hits == 1


def test_a_body_holding_a_placeholders_text_is_never_cached(tmp_path: Path, cache: CountingCache) -> None:
    """The cache swaps base64 and placeholders; a prompt quoting a placeholder must not be swapped."""
    path = save_interactions(tmp_path / "cassettes" / "quoting.yaml", [interaction(completion_request(inline_skill()))])
    (ref,) = referenced_digests(path.read_bytes())
    quoting = completion_request(inline_skill(), content=f"What is $blob:{ref}?")
    path = save_interactions(tmp_path / "cassettes" / "quoting.yaml", [interaction(quoting)])
    first, second = load_file(path, cache=cache), load_file(path, cache=cache)
    assert _shape(first) == _shape(second) == _shape(load_file(path))
    assert cache.hits == 0
    assert not list(cache.folder.glob("*.json"))
