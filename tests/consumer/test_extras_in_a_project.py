"""A project that picks the extras a team would: snapshots of what it sends, recordings, the gate."""

from __future__ import annotations

from tests.consumer.conftest import MakeProject
from tests.consumer.env import ConsumerEnv, explain

SNAPSHOT_TEST = """
from harness.snapshots import Capture, openai_client


def test_my_call_sends_the_pinned_skill(vlmrun_snapshot):
    capture = Capture()
    openai_client(capture).chat.completions.create(
        model="vlmrun-orion-1:auto",
        messages=[{"role": "user", "content": "Refer this patient."}],
        extra_body={"skills": [{"skill_name": "patient-referral", "skill_version": "20260219-abc123"}]},
    )
    assert capture.last == vlmrun_snapshot
"""
RECORDED_TEST = """
import pytest


@pytest.mark.vcr
def test_invoice(openai_client):
    r = openai_client.chat.completions.create(
        model="vlmrun-orion-1:auto",
        messages=[{"role": "user", "content": "Extract the invoice."}],
        extra_body={"skills": [{"skill_name": "invoice-extraction"}]},
    )
    assert r.choices[0].message.content
"""


def test_snapshots_recordings_and_the_gate_work_with_the_extras(
    consumer_env_full: ConsumerEnv, consumer_project: MakeProject
) -> None:
    project = consumer_project({"tests/test_snapshot.py": SNAPSHOT_TEST, "tests/test_recorded.py": RECORDED_TEST})
    created = consumer_env_full.pytest(project, "--snapshot-update", "--record-mode=once", "-q")
    assert created.returncode == 0, explain(created)
    assert list((project / "tests" / "__snapshots__").rglob("*.json")), explain(created)
    replayed = consumer_env_full.pytest(project, "--record-mode=none", "--block-network", "-q")
    assert replayed.returncode == 0, explain(replayed)
    assert "2 passed" in replayed.stdout, explain(replayed)

    gate = consumer_env_full.harness(project, "check", "--skip", "properties", "--skip", "client-stack")
    assert gate.returncode == 0, explain(gate)
    assert "harness check: passed" in gate.stdout + gate.stderr, explain(gate)
    assert "1 cassette, 1 interaction" in gate.stdout + gate.stderr, explain(gate)
