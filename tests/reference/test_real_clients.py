"""The seed examples through the real vlmrun SDK and openai-python, over loopback."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import openai
import pytest
from starlette.applications import Starlette
from vlmrun.client import VLMRun
from vlmrun.client.exceptions import AuthenticationError
from vlmrun.client.types import AgentSkill, InlineSkillSource

from harness.docs_examples import MODEL, SeedExample, seed_examples
from harness.reference.app import ServerConfig, create_app
from harness.reference.registry import Registry
from harness.reference.server import Running, serve_in_thread

KEY = "loopback-key"
LATEST = {r.name: r.version for r in Registry.seeded().latest()}


@pytest.fixture(scope="module")
def app() -> Starlette:
    return create_app(config=ServerConfig(api_key=KEY))


@pytest.fixture(scope="module")
def server(app: Starlette) -> Iterator[Running]:
    with serve_in_thread(app) as running:
        yield running


def agent_skill(spec: dict[str, Any]) -> AgentSkill:
    if "source" in spec:
        spec = {**spec, "source": InlineSkillSource(**spec["source"])}
    return AgentSkill(**spec)


def expected(example: SeedExample) -> list[str]:
    out = []
    for label in example.expected:
        name, version = label.split("@")
        out.append(f"{name}@{LATEST[name]}" if version == "latest" else label)
    return out


def resolved(app: Starlette, completion_id: str) -> list[str]:
    return [label.split(":")[0] for label in app.state.resolutions[completion_id]]


@pytest.mark.parametrize("example", seed_examples(), ids=lambda e: e.name)
def test_vlmrun_sdk_dict_form(server: Running, app: Starlette, example: SeedExample) -> None:
    client = VLMRun(api_key=KEY, base_url=f"{server.url}/v1", max_retries=0)  # constructor GETs /v1/health
    skills = [agent_skill(s).model_dump(exclude_none=True) for s in example.skills]
    response = client.agent.completions.create(model=MODEL, messages=example.messages, skills=skills)
    assert resolved(app, response.id) == expected(example)
    assert response.choices[0].message.content


@pytest.mark.parametrize("example", seed_examples(), ids=lambda e: e.name)
def test_vlmrun_sdk_agent_skill_objects_on_new_openai(server: Running, app: Starlette, example: SeedExample) -> None:
    client = VLMRun(api_key=KEY, base_url=f"{server.url}/v1", max_retries=0)
    response = client.agent.completions.create(
        model=MODEL, messages=example.messages, skills=[agent_skill(s) for s in example.skills]
    )
    assert resolved(app, response.id) == expected(example)


@pytest.mark.parametrize("example", seed_examples(), ids=lambda e: e.name)
def test_openai_python_with_agent_skill_objects(server: Running, app: Starlette, example: SeedExample) -> None:
    client = openai.OpenAI(api_key=KEY, base_url=f"{server.url}/v1/openai", max_retries=0)
    messages: Any = example.messages
    response = client.chat.completions.create(
        model=MODEL, messages=messages, extra_body={"skills": [agent_skill(s) for s in example.skills]}
    )
    assert resolved(app, response.id) == expected(example)
    assert response.model_extra is not None
    assert response.model_extra["session_id"]


def test_openai_streaming_sync_and_async(server: Running, app: Starlette) -> None:
    pinned = next(e for e in seed_examples() if e.name == "pinned")
    body: dict[str, Any] = {
        "model": MODEL,
        "messages": pinned.messages,
        "extra_body": {"skills": [agent_skill(s) for s in pinned.skills]},
    }
    sync = openai.OpenAI(api_key=KEY, base_url=f"{server.url}/v1/openai", max_retries=0)
    whole = sync.chat.completions.create(**body).choices[0].message.content
    streamed = "".join(c.choices[0].delta.content or "" for c in sync.chat.completions.create(stream=True, **body))
    assert streamed == whole

    async def collect() -> str:
        client = openai.AsyncOpenAI(api_key=KEY, base_url=f"{server.url}/v1/openai", max_retries=0)
        stream = await client.chat.completions.create(stream=True, **body)
        return "".join([c.choices[0].delta.content or "" async for c in stream])

    assert asyncio.run(collect()) == whole


def test_error_statuses_surface_as_the_sdk_exceptions(server: Running) -> None:
    client = openai.OpenAI(api_key=KEY, base_url=f"{server.url}/v1/openai", max_retries=0)
    messages: Any = [{"role": "user", "content": "hi"}]
    with pytest.raises(openai.NotFoundError) as not_found:
        client.chat.completions.create(
            model=MODEL, messages=messages, extra_body={"skills": [{"skill_name": "no-such-skill"}]}
        )
    assert isinstance(not_found.value.body, dict)
    assert "no-such-skill" in not_found.value.body["detail"]  # FastAPI shape: openai shows only the status
    with pytest.raises(openai.UnprocessableEntityError):
        client.chat.completions.create(
            model=MODEL, messages=messages, extra_body={"skills": [{"type": "inline", "source": {"data": "eA=="}}]}
        )
    bad_key = openai.OpenAI(api_key="wrong", base_url=f"{server.url}/v1/openai", max_retries=0)
    with pytest.raises(openai.AuthenticationError):
        bad_key.chat.completions.create(model=MODEL, messages=messages)


def test_vlmrun_constructor_rejects_a_bad_key(server: Running) -> None:
    with pytest.raises(AuthenticationError, match="Invalid API key"):
        VLMRun(api_key="wrong", base_url=f"{server.url}/v1", max_retries=0)
