"""One cassette check for replay, `harness verify` and `check_cassette`: the same loader, selection and rules."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from vcr.request import Request

from harness.contract import Contract, load_contract
from harness.recording.cassette_check import check_cassette, check_file, check_interactions
from harness.recording.cassette_io import read_cassette, save_interactions, to_vcr
from harness.recording.replay_check import check_played
from harness.recording.scope import Scope
from tests.recording._cassettes import COMPLETION, OTHER_URL, SSE, completion_request, inline_skill, interaction, stream

SCENARIO_CASSETTES = sorted((Path(__file__).resolve().parents[2] / "cassettes").rglob("*.yaml"))


@pytest.fixture(scope="module")
def contract() -> Contract:
    return load_contract()


def test_the_scenario_cassettes_are_all_checked() -> None:
    folders = [path.parent.name for path in SCENARIO_CASSETTES]
    assert {folder: folders.count(folder) for folder in folders} == {"test_long_requests": 6, "test_seed_examples": 22}


@pytest.mark.parametrize("path", SCENARIO_CASSETTES, ids=lambda p: p.name)
def test_every_scenario_cassette_conforms(contract: Contract, path: Path) -> None:
    """Format 2 with bundles in `_blobs/`: read with the format-aware reader, bundles restored."""
    report = check_cassette(path, contract)
    assert report.findings == ()
    assert report.labels
    assert report.format() == f"{path}: {len(report.labels)} interaction(s) conform to the API description"


def _drifted(status: int = 200) -> Any:
    return interaction(
        completion_request(inline_skill()),
        json.dumps({**COMPLETION, "object": "chat.thing"}).encode(),
        uri="https://api.vlm.run/v1/openai/chat/completions",
        status=status,
        vlmrun=False,
    )


def test_replay_and_verify_judge_the_same_interactions_the_same_way(contract: Contract, tmp_path: Path) -> None:
    other = interaction(None, b'{"id": 1}', uri=OTHER_URL, method="GET", vlmrun=False)
    good = interaction(completion_request(inline_skill()), json.dumps(COMPLETION).encode(), status=200)
    items = [other, good, _drifted()]
    path = save_interactions(tmp_path / "c.yaml", items)
    from_file = check_file(path, contract).report
    cassette = SimpleNamespace(_path=str(path), data=[to_vcr(i) for i in items], _metadata={})
    replayed = check_played(cassette, Scope.build(base_urls=["http://127.0.0.1:43125"]))
    assert from_file.labels == {
        1: "POST /v1/openai/chat/completions -> 200",
        2: "POST /v1/openai/chat/completions -> 200",
    }
    assert [str(f) for f in from_file.findings] == [
        'response object: "chat.completion" was expected [schema]',
    ]
    assert replayed.failure is not None
    assert str(replayed.failure) == from_file.format()


def test_another_apis_cassette_has_nothing_judged(contract: Contract, tmp_path: Path) -> None:
    path = save_interactions(tmp_path / "c.yaml", [interaction(None, b"<html>", uri=OTHER_URL, vlmrun=False)])
    checked = check_file(path, contract)
    assert (checked.judged, checked.report.labels, checked.drift) == ([], {}, None)


def test_a_request_the_api_rejected_may_be_invalid(contract: Contract) -> None:
    bad = interaction({"skills": "nope"}, b'{"detail": "bad"}', uri="https://api.vlm.run/v1/openai/chat/completions")
    rejected = interaction({"skills": "nope"}, b'{"detail": "bad"}', status=404)
    assert check_cassette([rejected], contract).findings == ()
    assert {f.side for f in check_cassette([bad], contract).findings} == {"request", "response"}


def test_a_stamp_from_another_description_is_reported(contract: Contract) -> None:
    stamp = {"description_sha256": "f" * 64}
    checked = check_interactions("c.yaml", [_drifted()], contract, stamp=stamp)
    assert checked.drift == (
        f"Cassette was recorded against API description ffffffffffff, today's is {contract.sha256[:12]} "
        f"({contract.source}): recorded traffic may no longer match; re-record or run `harness verify`"
    )
    assert check_interactions("c.yaml", [], contract, stamp=stamp).drift is None


def test_a_compressed_response_is_judged_as_the_client_read_it(contract: Contract) -> None:
    """vcrpy keeps a live response's wire bytes; the persister stores them decompressed: both judge those."""
    request = Request(
        "POST",
        "https://api.vlm.run/v1/openai/chat/completions",
        json.dumps(completion_request({"skill_name": "x"})),
        {"Content-Type": "application/json"},
    )
    response = {
        "status": {"code": 200, "message": "OK"},
        "headers": {"Content-Type": ["application/json"], "Content-Encoding": ["gzip"]},
        "body": {"string": gzip.compress(json.dumps(COMPLETION).encode())},
    }
    cassette = SimpleNamespace(_path="c.yaml", data=[(request, response)], _metadata={})
    assert check_played(cassette, Scope.build()).failure is None


def test_a_truncated_stream_is_a_finding_at_replay_and_in_verify(contract: Contract, tmp_path: Path) -> None:
    cut = stream([{"id": "c"}])[:-4]  # inside `data: [DONE]`
    item = interaction(completion_request({"skill_name": "x"}), cut, response_headers=SSE)
    path = save_interactions(tmp_path / "c.yaml", [item])
    (loaded,) = read_cassette(path).interactions
    assert loaded.response.body == cut
    kinds = [(f.location, f.kind) for f in check_file(path, contract).report.findings]
    assert ("events[1]", "incomplete_event") in kinds
