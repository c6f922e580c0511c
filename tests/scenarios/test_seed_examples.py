"""The docs' seed examples through every client path, recorded against the embedded server.

Cassettes live in `cassettes/` at the repository root and replay offline: CI runs with the
default `--record-mode=none` and these tests block the network. Re-record against the
embedded server with `pytest tests/scenarios --record-mode=rewrite`, or against the real
API with `--record-mode=rewrite --vlmrun-base-url https://api.vlm.run/v1` and
`VLMRUN_API_KEY` set (the key is scrubbed before anything is written).
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import openai
import pytest
from vlmrun.client.types import AgentSkill, InlineSkillSource

from harness.docs_examples import MODEL, PINNED_VERSION, SeedExample, dict_form, seed_examples

pytestmark = [pytest.mark.vcr, pytest.mark.block_network]

# What each seed example's answer looks like: the reference server answers with a JSON
# document valid against the first resolved skill's schema.json, so the keys show which
# revision was resolved (only patient-referral's newer revision has `urgency`).
EXPECTED_KEYS = {
    "single": {"invoice_id", "date", "total_amount"},
    "multiple": {"invoice_id", "date", "total_amount"},
    "inline": {"invoice_id", "date", "total_amount"},
    "mixed": {"invoice_id", "date", "total_amount"},
    "pinned": {"referring_physician", "patient_name", "reason"},
}
OPENAI_OBJECTS_SUPPORTED = tuple(int(p) for p in openai.__version__.split(".")[:2]) >= (2, 17)


def agent_skill(spec: dict[str, Any]) -> AgentSkill:
    if "source" in spec:
        spec = {**spec, "source": InlineSkillSource(**spec["source"])}
    return AgentSkill(**spec)


def keys_of(content: str | None) -> set[str]:
    assert content is not None
    return set(json.loads(content))


def messages(example: SeedExample) -> Any:
    return example.messages


@pytest.mark.parametrize("example", seed_examples(), ids=lambda e: e.name)
def test_vlmrun_sdk_dict_form(vlmrun_client: Any, example: SeedExample) -> None:
    skills = [agent_skill(s).model_dump(exclude_none=True) for s in example.skills]
    response = vlmrun_client.agent.completions.create(model=MODEL, messages=example.messages, skills=skills)
    assert keys_of(response.choices[0].message.content) == EXPECTED_KEYS[example.name]


@pytest.mark.parametrize("example", seed_examples(), ids=lambda e: e.name)
def test_vlmrun_sdk_agent_skill_objects(vlmrun_client: Any, example: SeedExample) -> None:
    skills = [agent_skill(s) for s in example.skills]
    if not OPENAI_OBJECTS_SUPPORTED:
        # What `pip install vlmrun` gives today (openai 1.109.1): the docs' own examples crash.
        with pytest.raises(TypeError, match="not JSON serializable"):
            vlmrun_client.agent.completions.create(model=MODEL, messages=example.messages, skills=skills)
        return
    response = vlmrun_client.agent.completions.create(model=MODEL, messages=example.messages, skills=skills)
    assert keys_of(response.choices[0].message.content) == EXPECTED_KEYS[example.name]


@pytest.mark.parametrize("example", seed_examples(), ids=lambda e: e.name)
def test_openai_python_dict_skills(openai_client: Any, example: SeedExample) -> None:
    skills = [dict_form(s) for s in example.skills]
    response = openai_client.chat.completions.create(
        model=MODEL, messages=messages(example), extra_body={"skills": skills}
    )
    assert keys_of(response.choices[0].message.content) == EXPECTED_KEYS[example.name]
    assert response.model_extra["session_id"]


def test_openai_python_streaming(openai_client: Any) -> None:
    pinned = next(e for e in seed_examples() if e.name == "pinned")
    stream = openai_client.chat.completions.create(
        model=MODEL,
        messages=messages(pinned),
        stream=True,
        extra_body={"skills": [dict_form(s) for s in pinned.skills]},
    )
    chunks = list(stream)
    assert len(chunks) > 2
    assert keys_of("".join(c.choices[0].delta.content or "" for c in chunks)) == EXPECTED_KEYS["pinned"]


def test_openai_python_async_and_async_streaming(async_openai_client: Any) -> None:
    inline = next(e for e in seed_examples() if e.name == "inline")
    body: dict[str, Any] = {
        "model": MODEL,
        "messages": messages(inline),
        "extra_body": {"skills": [dict_form(s) for s in inline.skills]},
    }

    async def run() -> tuple[str, str]:
        whole = await async_openai_client.chat.completions.create(**body)
        stream = await async_openai_client.chat.completions.create(stream=True, **body)
        parts = [c.choices[0].delta.content or "" async for c in stream]
        return whole.choices[0].message.content, "".join(parts)

    whole, streamed = asyncio.run(run())
    assert whole == streamed
    assert keys_of(whole) == EXPECTED_KEYS["inline"]


def test_raw_httpx(vlmrun_base_url: str, vlmrun_api_key: str) -> None:
    pinned = next(e for e in seed_examples() if e.name == "pinned")
    body = {
        "model": MODEL,
        "messages": pinned.messages,
        "skills": [{"skill_name": "patient-referral", "skill_version": PINNED_VERSION}],
    }
    response = httpx.post(
        f"{vlmrun_base_url}/openai/chat/completions", json=body, headers={"Authorization": f"Bearer {vlmrun_api_key}"}
    )
    assert response.status_code == 200
    assert keys_of(response.json()["choices"][0]["message"]["content"]) == EXPECTED_KEYS["pinned"]


def test_unknown_skill_is_404(openai_client: Any) -> None:
    with pytest.raises(openai.NotFoundError) as info:
        openai_client.chat.completions.create(
            model=MODEL,
            messages=[{"role": "user", "content": "hi"}],
            extra_body={"skills": [{"skill_name": "no-such-skill"}]},
        )
    assert "no-such-skill" in str(info.value.body)


def test_unknown_pinned_version_is_404(openai_client: Any) -> None:
    with pytest.raises(openai.NotFoundError) as info:
        openai_client.chat.completions.create(
            model=MODEL,
            messages=[{"role": "user", "content": "hi"}],
            extra_body={"skills": [{"skill_name": "patient-referral", "skill_version": "20990101-ffffffff"}]},
        )
    assert "20990101-ffffffff" in str(info.value.body)


def test_invalid_bundle_is_422(openai_client: Any) -> None:
    not_a_zip = "aGVsbG8gd29ybGQ="
    with pytest.raises(openai.UnprocessableEntityError) as info:
        openai_client.chat.completions.create(
            model=MODEL,
            messages=[{"role": "user", "content": "hi"}],
            extra_body={"skills": [{"type": "inline", "source": {"data": not_a_zip}}]},
        )
    assert isinstance(info.value.body, dict)
    assert info.value.body["detail"][0]["loc"] == ["body", "skills", 0, "source", "data"]


def test_bad_key_is_401(vlmrun_base_url: str) -> None:
    client = openai.OpenAI(api_key="not-the-key", base_url=f"{vlmrun_base_url}/openai", max_retries=0)
    with pytest.raises(openai.AuthenticationError):
        client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "hi"}])
