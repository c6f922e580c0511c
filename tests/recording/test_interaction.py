"""An interaction is built from the bytes the persister stores, so what is judged is what is written."""

from __future__ import annotations

import gzip
import io
import json
import zlib
from pathlib import Path
from typing import Any

import pytest
from vcr.request import Request

from harness.recording.cassette_io import read_cassette, write_pairs
from harness.recording.interaction import Interaction, decoded_response, request_bytes
from tests.recording._cassettes import URL

BODY = {"model": "vlmrun-orion-1:auto", "messages": [{"role": "user", "content": "héllo"}]}
RAW = json.dumps(BODY, separators=(",", ":"), ensure_ascii=False).encode()
ANSWER = json.dumps({"id": "r1", "choices": []}, separators=(",", ":")).encode()


@pytest.mark.parametrize(
    "body",
    [RAW, RAW.decode(), io.BytesIO(RAW), iter([RAW[:10], RAW[10:]]), bytearray(RAW)],
    ids=["bytes", "text", "file", "iterator", "bytearray"],
)
def test_request_bodies_of_every_kind_read_as_the_same_bytes(body: Any) -> None:
    request = Request("POST", URL, body, {"Content-Type": "application/json"})
    assert request_bytes(request) == RAW
    assert Interaction.from_vcr(request, {"status": {"code": 200}}).request.body == RAW


@pytest.mark.parametrize(
    ("encoding", "compress"), [("gzip", gzip.compress), ("deflate", zlib.compress)], ids=["gzip", "deflate"]
)
def test_a_compressed_response_is_read_decompressed(encoding: str, compress: Any) -> None:
    response: dict[str, Any] = {
        "status": {"code": 200, "message": "OK"},
        "headers": {"Content-Type": ["application/json"], "Content-Encoding": [encoding]},
        "body": {"string": compress(ANSWER)},
    }
    decoded = decoded_response(response)
    assert decoded["body"]["string"] == ANSWER
    assert "Content-Encoding" not in decoded["headers"]
    assert response["body"]["string"] != ANSWER  # vcrpy's live response is left as it is
    assert Interaction.from_vcr(Request("GET", URL, None, {}), response).response.body == ANSWER


def test_a_response_without_encoding_is_not_copied() -> None:
    response = {"status": {"code": 200}, "headers": {}, "body": {"string": ANSWER}}
    assert decoded_response(response) is response


def test_not_vcrpys_shape_is_kept_as_recorded() -> None:
    response = {"status": {"code": 200}, "headers": {"content-encoding": ["gzip"]}, "body": "text"}
    assert decoded_response(response) is response


def test_what_is_judged_is_what_the_persister_stores(tmp_path: Path) -> None:
    request = Request("POST", URL, io.BytesIO(RAW), {"Content-Type": "application/json"})
    response = {
        "status": {"code": 200, "message": "OK"},
        "headers": {"Content-Type": ["application/json"], "Content-Encoding": ["gzip"]},
        "body": {"string": gzip.compress(ANSWER)},
    }
    live = Interaction.from_vcr(request, response)
    path = write_pairs(tmp_path / "c.yaml", [(request, response)], [True])
    (stored,) = read_cassette(path).interactions
    assert (stored.request.body, stored.response.body) == (live.request.body, live.response.body)
    assert json.loads(stored.request.body) == BODY
