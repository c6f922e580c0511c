"""A team's suite with the harness installed from the wheel: VLM Run's rules on VLM Run's traffic only.

The consumer project records other APIs as teams do (hand-written vcrpy cassettes of several
hosts, timestamped bodies, tokens in bodies, gzip; a loopback stand-in recorded live) and
calls VLM Run, separately and mixed with another API in one cassette. It records once,
replays offline under `-n 2`, and the VLM Run cassettes replay again in an environment
without the harness, with plain pytest-recording and vcrpy's default matching.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml
from vcr.persisters.filesystem import FilesystemPersister
from vcr.serialize import serialize
from vcr.serializers import yamlserializer

from harness.reference.app import ServerConfig, create_app
from harness.reference.server import serve_in_thread
from tests import serving
from tests.consumer.env import ConsumerEnv, explain, find_uv, locked

KEY = "sk-consumer-secret-0b5f3e1d9c7a"
PLAIN_REQUIREMENTS = ("pytest==9.2.0", "vcrpy==9.4.2", "pytest-recording==0.14.1", "openai>=2.17", "httpx")


def _cassette(uri: str, response: object, *, method: str = "GET", body: str | None = None) -> str:
    return yaml.safe_dump(
        {
            "version": 1,
            "interactions": [
                {"request": {"method": method, "uri": uri, "body": body, "headers": {}}, "response": response}
            ],
        }
    )


def _json_response(value: object, headers: dict[str, list[str]] | None = None) -> dict[str, object]:
    return {
        "status": {"code": 200, "message": "OK"},
        "headers": {"Content-Type": ["application/json"], **(headers or {})},
        "body": {"string": json.dumps(value)},
    }


REGIONS = yaml.safe_dump(
    {
        "version": 1,
        "interactions": [
            {
                "request": {
                    "method": "GET",
                    "uri": f"https://{region}.api.acme.test/v1/status",
                    "body": None,
                    "headers": {},
                },
                "response": _json_response({"region": region}),
            }
            for region in ("us", "eu")
        ],
    }
)
GZIPPED = {
    "status": {"code": 200, "message": "OK"},
    "headers": {"Content-Type": ["application/json"], "Content-Encoding": ["gzip"]},
    "body": {"string": gzip.compress(b'{"rows": 3}', mtime=0)},
}
HAND_WRITTEN = {
    "cassettes/test_other_apis/test_regions_keep_their_own_answers.yaml": REGIONS,
    "cassettes/test_other_apis/test_timestamped_body_replays.yaml": _cassette(
        "https://api.github.com/graphql",
        _json_response({"data": {"viewer": "octocat"}}),
        method="POST",
        body=json.dumps({"query": "{ viewer }", "sent_at": "2026-01-01T00:00:00Z"}),
    ),
    "cassettes/test_other_apis/test_tokens_in_bodies_stay_readable.yaml": _cassette(
        "https://api.stripe.com/v1/oauth/token",
        _json_response({"access_token": "tok_live_abc", "client_secret": "cs_live_xyz"}),
        method="POST",
        body="grant_type=client_credentials",
    ),
    "cassettes/test_other_apis/test_gzip_keeps_its_encoding.yaml": yaml.dump(
        {
            "version": 1,
            "interactions": [
                {
                    "request": {"method": "GET", "uri": "https://api.acme.test/v1/report", "body": None, "headers": {}},
                    "response": GZIPPED,
                }
            ],
        }
    ),
}
OTHER_APIS = """
import datetime
import httpx
import pytest

@pytest.mark.vcr
def test_regions_keep_their_own_answers():
    assert httpx.get("https://eu.api.acme.test/v1/status").json() == {"region": "eu"}
    assert httpx.get("https://us.api.acme.test/v1/status").json() == {"region": "us"}

@pytest.mark.vcr
def test_timestamped_body_replays():
    sent_at = datetime.datetime.now(datetime.UTC).isoformat()
    r = httpx.post("https://api.github.com/graphql", json={"query": "{ viewer }", "sent_at": sent_at})
    assert r.json() == {"data": {"viewer": "octocat"}}

@pytest.mark.vcr
def test_tokens_in_bodies_stay_readable():
    r = httpx.post("https://api.stripe.com/v1/oauth/token", content=b"grant_type=client_credentials")
    assert r.json() == {"access_token": "tok_live_abc", "client_secret": "cs_live_xyz"}

@pytest.mark.vcr
def test_gzip_keeps_its_encoding():
    r = httpx.get("https://api.acme.test/v1/report")
    assert r.headers["content-encoding"] == "gzip"
    assert r.json() == {"rows": 3}
"""
CALLS = """
import os
import httpx
import pytest

INLINE = "{inline}"

def complete(client, skills, text="Extract the invoice."):
    return client.chat.completions.create(
        model="vlmrun-orion-1:auto",
        messages=[{{"role": "user", "content": text}}],
        extra_body={{"skills": skills}},
    )

@pytest.mark.vcr
def test_vlmrun_only(openai_client):
    assert complete(openai_client, [{{"skill_name": "invoice-extraction"}}]).choices[0].message.content
    inline = {{"type": "inline", "name": "invoice-extraction", "description": "Extract invoices",
              "source": {{"data": INLINE}}}}
    assert complete(openai_client, [inline], "Again, inline.").choices[0].message.content

@pytest.mark.vcr
def test_standin_api():
    r = httpx.get(os.environ["STANDIN_URL"] + "/v1/items?page=1", headers={{"authorization": "token team-token"}})
    assert r.json()["path"] == "/v1/items?page=1"

@pytest.mark.vcr
def test_mixed(openai_client):
    r = httpx.get(os.environ["STANDIN_URL"] + "/v1/items?page=2")
    assert r.json()["client_secret"] == "cs_standin"
    assert complete(openai_client, [{{"skill_name": "line-item-validation"}}]).choices[0].message.content
"""
CONFTEST = """
import os
import pytest

try:
    import harness  # noqa: F401
except ImportError:  # the harness uninstalled: plain pytest-recording replays the same cassettes
    import openai

    @pytest.fixture
    def openai_client():
        base = os.environ["VLMRUN_BASE_URL"]
        return openai.OpenAI(base_url=base + "/openai", api_key="unused", max_retries=0)
"""


@pytest.fixture
def standin() -> Iterator[ThreadingHTTPServer]:
    with serving.other_api("cs_standin") as server:
        yield server


@pytest.fixture(scope="session")
def plain_env(consumer_cache: Path) -> ConsumerEnv:
    """pytest-recording and vcrpy without the harness: what a team has after uninstalling it."""
    where = consumer_cache / "plain-env"
    python = where / "bin" / "python"
    with locked(consumer_cache / "plain-env.lock"):
        if not (where / ".ready").exists():
            import subprocess

            uv = find_uv()
            subprocess.run([*uv, "venv", "--no-config", "--quiet", str(where)], check=True)
            install = [*uv, "pip", "install", "--no-config", "--quiet", "--python", str(python)]
            subprocess.run([*install, *PLAIN_REQUIREMENTS], check=True)
            (where / ".ready").touch()
    return ConsumerEnv(python, where / "bin")


def test_a_teams_suite_records_and_replays_beside_vlmrun(
    consumer_env: ConsumerEnv, plain_env: ConsumerEnv, consumer_project, standin: ThreadingHTTPServer
) -> None:
    from harness.docs_examples import inline_bundle

    project = consumer_project(
        {
            "conftest.py": CONFTEST,
            "test_other_apis.py": OTHER_APIS,
            "test_calls.py": CALLS.format(inline=inline_bundle()),
        }
    )
    for name, text in HAND_WRITTEN.items():
        (project / name).parent.mkdir(parents=True, exist_ok=True)
        (project / name).write_text(text)
    hand_written = {name: (project / name).read_bytes() for name in HAND_WRITTEN}
    standin_url = f"http://127.0.0.1:{standin.server_address[1]}"

    with serve_in_thread(create_app(config=ServerConfig(api_key=KEY))) as running:
        base = f"{running.url}/v1"
        env = {"STANDIN_URL": standin_url, "VLMRUN_API_KEY": KEY, "VLMRUN_BASE_URL": base}
        recorded = consumer_env.pytest(project, "--record-mode=once", "-q", env=env)
        assert recorded.returncode == 0, explain(recorded)
    standin.shutdown()
    offline = {"STANDIN_URL": standin_url, "VLMRUN_BASE_URL": base}

    # Other APIs' cassettes: replayed by vcrpy's own rules and left exactly as they were.
    assert {name: (project / name).read_bytes() for name in HAND_WRITTEN} == hand_written
    cassettes = project / "cassettes" / "test_calls"
    standin_text = (cassettes / "test_standin_api.yaml").read_text()
    requests, responses = FilesystemPersister.load_cassette(cassettes / "test_standin_api.yaml", yamlserializer)[:2]
    assert serialize({"requests": requests, "responses": responses}, yamlserializer) == standin_text
    assert "team-token" in standin_text
    assert "vlmrun_harness" not in standin_text

    # VLM Run's cassettes: format 2, no key anywhere, the bundle stored once.
    for path in project.rglob("*"):
        if path.is_file():
            assert KEY.encode() not in path.read_bytes(), path
    only = yaml.safe_load((cassettes / "test_vlmrun_only.yaml").read_text())
    assert only["vlmrun_harness"]["format"] == 2
    assert [len(i["response"]["vlmrun_harness"]) for i in only["interactions"]] == [2, 2]
    mixed = yaml.safe_load((cassettes / "test_mixed.yaml").read_text())
    assert ["vlmrun_harness" in i["response"] for i in mixed["interactions"]] == [False, True]
    assert json.loads(mixed["interactions"][0]["response"]["body"]["string"])["client_secret"] == "cs_standin"
    assert len(list((project / "cassettes" / "_blobs").glob("sha256-*.zip"))) == 1

    # Replay offline with the harness, under xdist.
    replayed = consumer_env.pytest(project, "--record-mode=none", "--block-network", "-n", "2", "-q", env=offline)
    assert replayed.returncode == 0, explain(replayed)
    assert "7 passed" in replayed.stdout, explain(replayed)

    # With pytest's cache on, each VLM Run cassette's load and clean conformance verdict are kept, by
    # the xdist workers too, and read on the next run; other APIs' cassettes are neither cached nor touched.
    ours = sorted(p.name for p in project.rglob("*.yaml") if b"vlmrun_harness:" in p.read_bytes())
    kept = project / ".pytest_cache" / "d" / "vlmrun-harness"
    for _ in range(2):
        cached = consumer_env.pytest(
            project, "--record-mode=none", "--block-network", "-n", "2", "-q", env=offline, cache=True
        )
        assert "7 passed" in cached.stdout, explain(cached)
        assert len(list(kept.glob("*.json"))) == len(ours)
        assert sorted(p.stem for p in kept.glob("*.verdict")) == sorted(p.stem for p in kept.glob("*.json"))
    assert {name: (project / name).read_bytes() for name in HAND_WRITTEN} == hand_written

    # Replay with the harness gone: plain pytest-recording, vcrpy's default matching.
    plain = plain_env.pytest(project, "--record-mode=none", "--block-network", "-q", env=offline)
    assert plain.returncode == 0, explain(plain)
    assert "7 passed" in plain.stdout, explain(plain)
