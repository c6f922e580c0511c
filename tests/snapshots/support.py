"""Send a seed example through each wire path a user has, capturing the request in-process."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any
from urllib.parse import unquote

import httpx
import pytest
from starlette.testclient import TestClient
from vlmrun.client.types import AgentSkill, InlineSkillSource

from harness.docs_examples import MODEL, SeedExample, dict_form, legacy_form, node_form, seed_examples
from harness.header_names import RESOLVED_HEADER
from harness.reference.app import ServerConfig, create_app
from harness.snapshots import Capture, CapturedRequest, openai_client, vlmrun_completions
from harness.snapshots.capture import BASE_URL, CAPTURE_KEY

EXAMPLES = {e.name: e for e in seed_examples()}


def agent_skill(spec: dict[str, Any]) -> AgentSkill:
    if "source" in spec:
        spec = {**spec, "source": InlineSkillSource(**spec["source"])}
    return AgentSkill(**spec)


def _vlmrun(skills: list[Any], example: SeedExample, stream: bool) -> CapturedRequest:
    capture = Capture()
    extra = {"stream": True} if stream else {}  # as users write it: no `stream` unless streaming
    response = vlmrun_completions(capture).create(model=MODEL, messages=example.messages, skills=skills, **extra)
    if stream:
        list(response)
    return capture.last


def vlmrun_dict(example: SeedExample, stream: bool = False) -> CapturedRequest:
    """The vlmrun CLI's form: `AgentSkill(...).model_dump(exclude_none=True)` dicts."""
    return _vlmrun([agent_skill(s).model_dump(exclude_none=True) for s in example.skills], example, stream)


def vlmrun_objects(example: SeedExample, stream: bool = False) -> CapturedRequest:
    """The docs' form: `AgentSkill` objects, serialised by openai-python >= 2.17."""
    return _vlmrun([agent_skill(s) for s in example.skills], example, stream)


def openai_dict(example: SeedExample, stream: bool = False) -> CapturedRequest:
    """Plain openai-python with the skills as raw dicts in `extra_body`."""
    capture = Capture()
    skills = [dict_form(s) for s in example.skills]
    completions = openai_client(capture).chat.completions
    extra = {"stream": True} if stream else {}
    response = completions.create(model=MODEL, messages=example.messages, extra_body={"skills": skills}, **extra)
    if stream:
        list(response)
    return capture.last


def _raw(skills: list[dict[str, Any]], example: SeedExample, stream: bool) -> CapturedRequest:
    capture = Capture()
    body: dict[str, Any] = {"model": MODEL, "messages": example.messages, "skills": skills}
    if stream:
        body["stream"] = True
    with httpx.Client(transport=httpx.MockTransport(capture.handler(httpx))) as client:
        client.post(
            f"{BASE_URL}/openai/chat/completions", json=body, headers={"authorization": f"Bearer {CAPTURE_KEY}"}
        )
    return capture.last


def httpx_raw(example: SeedExample, stream: bool = False) -> CapturedRequest:
    """A hand-written client: the docs' JSON skill objects, posted with httpx."""
    return _raw([dict_form(s) for s in example.skills], example, stream)


def node_documented(example: SeedExample, stream: bool = False) -> CapturedRequest:
    """The Node SDK's `AgentSkill.toJSON()` form (no `skill_version` on inline skills), posted raw."""
    return _raw([node_form(s) for s in example.skills], example, stream)


def legacy_aliases(example: SeedExample, stream: bool = False) -> CapturedRequest:
    """An older client still sending the deprecated `version` and `bundle` keys (vlmrun 0.5.8 sends `version`)."""
    return _raw([legacy_form(s) for s in example.skills], example, stream)


PATHS: dict[str, Callable[..., CapturedRequest]] = {
    "vlmrun-dict": vlmrun_dict,
    "vlmrun-objects": vlmrun_objects,
    "openai-dict": openai_dict,
    "httpx-raw": httpx_raw,
    "node-documented": node_documented,
    "legacy-aliases": legacy_aliases,
}


def send(path: str, example: str | SeedExample, *, stream: bool = False) -> CapturedRequest:
    seed = EXAMPLES[example] if isinstance(example, str) else example
    return PATHS[path](seed, stream)


def resolved(client: TestClient, body: bytes) -> list[str]:
    """The revisions the reference server resolves a request's skills to (or its error)."""
    answer = client.post("/v1/openai/chat/completions", content=body, headers={"content-type": "application/json"})
    if answer.status_code != 200:
        return [f"HTTP {answer.status_code}: {answer.json()['detail']}"]
    return unquote(answer.headers[RESOLVED_HEADER]).split(",")


@pytest.fixture(scope="module")
def reference() -> Iterator[TestClient]:
    with TestClient(create_app(config=ServerConfig(api_key="k")), headers={"authorization": "Bearer k"}) as client:
        yield client


def example_ids(examples: Sequence[str]) -> list[str]:
    return list(examples)
