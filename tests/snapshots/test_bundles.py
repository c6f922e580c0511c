"""Inline bundle encoding: byte-determinism, a reviewable manifest, parity with the SDK's builder."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from vlmrun.client.types import AgentSkill

from harness.bundles import build_bundle_from_directory, encode_bundle
from harness.docs_examples import INVOICE_SCHEMA, INVOICE_SKILL_MD
from harness.snapshots import bundle_fingerprint, bundle_manifest

FILES = {
    "SKILL.md": INVOICE_SKILL_MD,
    "schema.json": INVOICE_SCHEMA,
    "references/fields.md": "# Fields\n\n- invoice_id: the number printed top right\n",
}


@pytest.fixture
def skill_dir(tmp_path: Path) -> Path:
    root = tmp_path / "invoice-extraction"
    for rel, text in FILES.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


def test_bundle_bytes_survive_touch_chmod_and_rebuild(skill_dir: Path, vlmrun_snapshot: Any) -> None:
    first = bundle_fingerprint(build_bundle_from_directory(skill_dir))
    assert first == vlmrun_snapshot
    assert bundle_fingerprint(build_bundle_from_directory(skill_dir)) == first
    for path in skill_dir.rglob("*"):
        if path.is_file():
            os.utime(path, (1_900_000_000, 1_900_000_000))
            path.chmod(0o600)
    assert bundle_fingerprint(build_bundle_from_directory(skill_dir)) == first


def test_bundle_manifest(skill_dir: Path, vlmrun_snapshot: Any) -> None:
    assert bundle_manifest(encode_bundle(build_bundle_from_directory(skill_dir))) == vlmrun_snapshot


def test_junk_files_stay_out_of_the_manifest(skill_dir: Path, vlmrun_snapshot: Any) -> None:
    (skill_dir / ".DS_Store").write_bytes(b"\0\0\0\1Bud1")
    (skill_dir / "__pycache__").mkdir()
    (skill_dir / "__pycache__" / "x.cpython-311.pyc").write_bytes(b"\x00")
    manifest = bundle_manifest(encode_bundle(build_bundle_from_directory(skill_dir)))
    assert manifest == vlmrun_snapshot
    assert [e["path"] for e in manifest["entries"]] == ["SKILL.md", "references/fields.md", "schema.json"]


def test_the_sdk_builder_gives_the_same_manifest_and_digest(skill_dir: Path) -> None:
    """vlmrun's `from_directory` zips mtimes and modes (not byte-stable) but the same content."""
    sdk = AgentSkill.from_directory(skill_dir)
    assert sdk.source is not None
    ours = bundle_manifest(encode_bundle(build_bundle_from_directory(skill_dir)))
    assert bundle_manifest(sdk.source.data) == ours
    assert (sdk.name, sdk.description) == (ours["skill"]["name"], ours["skill"]["description"])
