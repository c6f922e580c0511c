"""Long requests through each client path: what a `303 See Other` does to them today.

The live API answers `303` with a `Location` when a completion outlasts its gateway's idle
timeout (~150 s); the job goes on and the client must poll `GET Location` until a `200`
carries the `ChatCompletion`. The vlmrun SDK learns this after 0.9.2; what a released stack
does with it is recorded here, against the embedded server with long requests on (POLLS = 2:
the `Location` answers `202` twice, then the completion), and replays offline like the seed
examples. Re-record with `pytest tests/scenarios/test_long_requests.py --record-mode=rewrite`.
The live API cannot be made to answer 303 on demand, so these tests are not recorded against it.

What they show (openai 3.x, httpx 0.28, vlmrun 0.9.2): openai-python's client follows
redirects, so it turns the 303 into a GET of `Location`, takes the first answer (an empty
`202`) as the result and returns `""` where a `ChatCompletion` was expected, with no error;
the vlmrun SDK 0.9.2 builds that client and does the same. A client that polls, as the
newer SDK does, gets the completion.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import urljoin

import httpx
import pytest

from harness.docs_examples import MODEL, dict_form, seed_examples
from harness.pytest_plugin import REGISTRY_KEY, SCOPE_KEY
from harness.reference.app import ServerConfig, create_app
from harness.reference.server import serve_in_thread
from harness.settings import API_PREFIX

pytestmark = [pytest.mark.vcr, pytest.mark.block_network]

POLLS = 2
POLL_PARAM = "__modal_function_call_id"
INVOICE_KEYS = {"invoice_id", "date", "total_amount"}
SINGLE = next(e for e in seed_examples() if e.name == "single")
BODY: dict[str, Any] = {"model": MODEL, "messages": SINGLE.messages, "skills": [dict_form(s) for s in SINGLE.skills]}
PENDING = (202, 204, 303)  # and 5xx: "keep waiting" (vlmrun/client/long_request.py)


@pytest.fixture(scope="module")
def vlmrun_base_url(request: pytest.FixtureRequest, vlmrun_api_key: str) -> Iterator[str]:
    """This module's own embedded server, with long requests on; registered as VLM Run's like the session's."""
    from harness.clients import external_base_url

    external = external_base_url(request.config.getoption("--vlmrun-base-url"))
    if external:
        if request.config.getoption("--record-mode") not in (None, "none"):
            pytest.skip(
                "the live API answers 303 only past its ~150 s timeout: record these against the embedded server"
            )
        yield external
        return
    scope = request.config.stash[SCOPE_KEY]
    config = ServerConfig(api_key=str(vlmrun_api_key), long_requests=POLLS)
    with serve_in_thread(create_app(config=config, registry=request.config.stash[REGISTRY_KEY])) as running:
        session_server, scope.embedded = scope.embedded, running.url
        scope.add_base_url(running.url)
        try:
            yield f"{running.url}{API_PREFIX}"
        finally:
            scope.embedded = session_server


def _poll(client: httpx.Client, url: str, location: str, key: str) -> tuple[list[int], httpx.Response]:
    """The newer SDK's loop: GET with the key, redirects off, until 200/201 with a body."""
    seen: list[int] = []
    for _ in range(10):
        url = urljoin(url, location)
        answer = client.get(url, headers={"Authorization": f"Bearer {key}"}, follow_redirects=False)
        seen.append(answer.status_code)
        if answer.status_code in (200, 201) and answer.content:
            return seen, answer
        assert answer.status_code in PENDING or answer.status_code >= 500, answer.text
        location = answer.headers.get("location", location)
    raise AssertionError(f"no result after {seen}")


def test_raw_httpx_gets_the_303_and_polls_until_the_completion(vlmrun_base_url: str, vlmrun_api_key: str) -> None:
    url = f"{vlmrun_base_url}/openai/chat/completions"
    with httpx.Client() as client:
        posted = client.post(url, json=BODY, headers={"Authorization": f"Bearer {vlmrun_api_key}"})
        assert (posted.status_code, posted.content) == (303, b"")
        location = posted.headers["location"]
        assert location.startswith(f"/v1/openai/chat/completions?{POLL_PARAM}=fc-")
        seen, done = _poll(client, url, location, vlmrun_api_key)
        assert seen == [202] * POLLS + [200]
        completion = done.json()
        assert completion["object"] == "chat.completion"
        assert set(json.loads(completion["choices"][0]["message"]["content"])) == INVOICE_KEYS
        again = client.get(urljoin(url, location), headers={"Authorization": f"Bearer {vlmrun_api_key}"})
        assert (again.status_code, again.json()) == (200, completion)  # the result URL reloads


def test_raw_httpx_following_redirects_stops_at_the_first_202(vlmrun_base_url: str, vlmrun_api_key: str) -> None:
    answer = httpx.post(
        f"{vlmrun_base_url}/openai/chat/completions",
        json=BODY,
        headers={"Authorization": f"Bearer {vlmrun_api_key}"},
        follow_redirects=True,
    )
    assert [r.status_code for r in answer.history] == [303]
    assert (answer.request.method, answer.status_code, answer.content) == ("GET", 202, b"")


def test_openai_python_returns_an_empty_string_for_a_long_request(openai_client: Any) -> None:
    """No error and no ChatCompletion: `create()` follows the 303 and returns the 202's empty body."""
    extra = {"skills": BODY["skills"]}
    answer = openai_client.chat.completions.create(model=MODEL, messages=BODY["messages"], extra_body=extra)
    assert answer == ""
    raw = openai_client.chat.completions.with_raw_response.create(
        model=MODEL, messages=BODY["messages"], extra_body=extra
    )
    assert [r.status_code for r in raw.http_response.history] == [303]
    assert (raw.http_response.request.method, raw.status_code) == ("GET", 202)
    assert raw.http_response.request.url.params[POLL_PARAM].startswith("fc-")


def test_openai_python_async_returns_an_empty_string_too(async_openai_client: Any) -> None:
    async def run() -> Any:
        return await async_openai_client.chat.completions.create(
            model=MODEL, messages=BODY["messages"], extra_body={"skills": BODY["skills"]}
        )

    assert asyncio.run(run()) == ""


def test_openai_python_streaming_is_never_a_long_request(openai_client: Any) -> None:
    stream = openai_client.chat.completions.create(
        model=MODEL, messages=BODY["messages"], stream=True, extra_body={"skills": BODY["skills"]}
    )
    content = "".join(c.choices[0].delta.content or "" for c in stream)
    assert set(json.loads(content)) == INVOICE_KEYS


def test_vlmrun_sdk_0_9_2_returns_an_empty_string_for_a_long_request(vlmrun_client: Any) -> None:
    answer = vlmrun_client.agent.completions.create(model=MODEL, messages=BODY["messages"], skills=BODY["skills"])
    assert answer == ""
