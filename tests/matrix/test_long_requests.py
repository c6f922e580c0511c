"""The matrix's long-request server: the reference server answering `303`, noting what it answered."""

from __future__ import annotations

import json
from urllib.parse import urljoin

import httpx

from harness.docs_examples import MODEL, dict_form, seed_examples
from harness.matrix.long_requests import EXAMPLE, POLLS, Seen, long_request_server

KEY = "k"
SINGLE = next(e for e in seed_examples() if e.name == EXAMPLE)
BODY = {"model": MODEL, "messages": SINGLE.messages, "skills": [dict_form(s) for s in SINGLE.skills]}


def test_a_polling_client_gets_the_result_the_server_notes() -> None:
    with long_request_server(KEY) as server, httpx.Client(headers={"authorization": f"Bearer {KEY}"}) as client:
        assert server.request() == {"base_url": server.url, "example": "single", "polls": POLLS}
        assert client.get(f"{server.url}/health").status_code == 200  # not the completions path: not noted
        url = f"{server.url}/openai/chat/completions"
        posted = client.post(url, json=BODY)
        assert posted.status_code == 303
        answers = [client.get(urljoin(url, posted.headers["location"])) for _ in range(POLLS + 1)]
        assert [a.status_code for a in answers] == [202] * POLLS + [200]
        seen = server.take()
        assert seen == Seen(
            ("POST 303", *["GET 202"] * POLLS, "GET 200"), answers[-1].json()["choices"][0]["message"]["content"]
        )
        assert seen.gets == POLLS + 1
        assert json.loads(seen.result or "")  # the seed example's invoice fields
        assert server.take() == Seen()


def test_errors_are_answered_at_once_and_noted() -> None:
    with long_request_server(KEY) as server:
        assert httpx.post(f"{server.url}/openai/chat/completions", json=BODY).status_code == 401
        assert server.take() == Seen(("POST 401",))
