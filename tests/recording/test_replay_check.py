"""Replay conformance keeps a clean verdict on a cassette's exact bytes, and only while it is provably theirs."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import yaml

from harness.recording import load_cache, replay_check
from harness.recording.cassette_check import check_interactions
from harness.recording.cassette_io import load_file, save_interactions
from harness.recording.load_cache import LoadCache
from harness.recording.replay_check import ReplayCheck, check_played
from harness.recording.scope import Scope
from tests.recording._cassettes import COMPLETION, another_description, completion_request, inline_skill, interaction

SCOPE = Scope.build(base_urls=["http://127.0.0.1:43125"])
STALE = "0" * 64


def _save(path: Path, completion: dict[str, Any] = COMPLETION, *, stamp: str | None = None) -> Path:
    saved = save_interactions(path, [interaction(completion_request(inline_skill()), json.dumps(completion).encode())])
    if stamp is not None:
        document = yaml.safe_load(saved.read_text())
        document["vlmrun_harness"]["description_sha256"] = stamp
        saved.write_text(yaml.safe_dump(document, sort_keys=False))
    return saved


class Judged:
    """Counts the cassettes replay conformance actually judges."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.count = 0

        def counting(*args: Any, **kwargs: Any) -> Any:
            self.count += 1
            return check_interactions(*args, **kwargs)

        monkeypatch.setattr(replay_check, "check_interactions", counting)


@pytest.fixture
def judged(monkeypatch: pytest.MonkeyPatch) -> Judged:
    return Judged(monkeypatch)


def _replayed(path: Path, cache: LoadCache, *, dirty: bool = False, extra: int = 0) -> ReplayCheck:
    """Load as the plugin's persister does, then check as the plugin does after the test."""
    cache.forget(path)
    loaded = load_file(path, cache=cache)
    data = list(zip(loaded.requests, loaded.responses, strict=True))
    data += data[:extra]  # another file's interactions in the same cassette (an extra path)
    cassette = SimpleNamespace(_path=str(path), data=data, _metadata=loaded.metadata, dirty=dirty)
    return check_played(cassette, SCOPE, cache)


def test_a_clean_cassette_is_judged_once_then_its_verdict_is_kept(tmp_path: Path, judged: Judged) -> None:
    path = _save(tmp_path / "c.yaml", stamp=STALE)
    first = _replayed(path, LoadCache(lambda: tmp_path / "cache"))
    second = _replayed(path, LoadCache(lambda: tmp_path / "cache"))  # a later run
    assert judged.count == 1
    assert first == second
    assert first.failure is None
    assert first.drift is not None
    assert first.drift.startswith(f"{path}: Cassette was recorded against API description")


def test_a_cassette_with_findings_is_judged_every_time(tmp_path: Path, judged: Judged) -> None:
    path = _save(tmp_path / "c.yaml", {**COMPLETION, "object": "chat.thing"})
    first = _replayed(path, LoadCache(lambda: tmp_path / "cache"))
    second = _replayed(path, LoadCache(lambda: tmp_path / "cache"))
    assert judged.count == 2
    assert first.failure is not None
    assert second.failure is not None
    assert str(first.failure) == str(second.failure)
    assert not list((tmp_path / "cache").glob("*.verdict"))


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda path, cache: _replayed(path, cache, dirty=True), id="recorded into"),
        pytest.param(lambda path, cache: _replayed(path, cache, extra=1), id="another file's interactions"),
    ],
)
def test_a_cassette_that_is_not_the_loaded_file_is_judged(tmp_path: Path, judged: Judged, change: Any) -> None:
    path = _save(tmp_path / "c.yaml")
    cache = LoadCache(lambda: tmp_path / "cache")
    change(path, cache)
    assert not list((tmp_path / "cache").glob("*.verdict"))
    _replayed(path, cache)
    change(path, cache)
    assert judged.count == 3


def test_changed_bytes_are_judged_again(tmp_path: Path, judged: Judged) -> None:
    path = _save(tmp_path / "c.yaml")
    _replayed(path, LoadCache(lambda: tmp_path / "cache"))
    _save(path, {**COMPLETION, "object": "chat.thing"})
    assert _replayed(path, LoadCache(lambda: tmp_path / "cache")).failure is not None
    assert judged.count == 2


def test_another_description_or_validator_judges_again(
    tmp_path: Path, judged: Judged, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _save(tmp_path / "c.yaml")
    _replayed(path, LoadCache(lambda: tmp_path / "cache"))
    with another_description(tmp_path):
        _replayed(path, LoadCache(lambda: tmp_path / "cache"))
    assert judged.count == 2
    for _ in range(2):  # judged under the description again (one verdict per cassette), then kept
        _replayed(path, LoadCache(lambda: tmp_path / "cache"))
    assert judged.count == 3
    monkeypatch.setattr(load_cache, "_CHECKER", {"jsonschema-rs": "0.0.0"})
    _replayed(path, LoadCache(lambda: tmp_path / "cache"))
    assert judged.count == 4


def test_a_damaged_verdict_is_judged_again(tmp_path: Path, judged: Judged) -> None:
    path = _save(tmp_path / "c.yaml")
    _replayed(path, LoadCache(lambda: tmp_path / "cache"))
    (kept,) = (tmp_path / "cache").glob("*.verdict")
    kept.write_text('{"drift": 1')
    assert _replayed(path, LoadCache(lambda: tmp_path / "cache")).failure is None
    assert judged.count == 2


def test_without_a_cache_every_replay_is_judged(tmp_path: Path, judged: Judged) -> None:
    path = _save(tmp_path / "c.yaml")
    loaded = load_file(path)
    cassette = SimpleNamespace(
        _path=str(path), data=list(zip(loaded.requests, loaded.responses, strict=True)), _metadata={}, dirty=False
    )
    check_played(cassette, SCOPE)
    check_played(cassette, SCOPE)
    assert judged.count == 2
