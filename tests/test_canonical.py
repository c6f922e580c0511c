from __future__ import annotations

import base64
import copy
import io
import random
import zipfile
from pathlib import Path
from typing import Any

import pytest

from harness.canonical import canonical_diff, canonicalize, request_defaults
from harness.contract import Contract, DescriptionChoice, load_contract, use_description
from harness.docs_examples import INVOICE_SCHEMA, INVOICE_SKILL_MD, WIRE_FORMS, inline_bundle, seed_examples
from tests.json_order import shuffled


def _request(skills: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {"model": "vlmrun-orion-1:auto", "messages": [{"role": "user", "content": "hi"}], "skills": skills, **extra}


def _sdk_style_zip() -> str:
    """The docs' bundle built the usual way: deflated, today's timestamps, other order."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(zipfile.ZipInfo("schema.json", date_time=(2026, 11, 24, 13, 37, 2)), INVOICE_SCHEMA)
        zf.writestr(zipfile.ZipInfo("SKILL.md", date_time=(2025, 1, 2, 3, 4, 6)), INVOICE_SKILL_MD)
    return base64.b64encode(buf.getvalue()).decode()


@pytest.mark.parametrize("example", seed_examples(), ids=lambda e: e.name)
def test_every_wire_form_canonicalizes_equal(example: Any) -> None:
    keys = {form: canonicalize(_request([build(s) for s in example.skills])).key for form, build in WIRE_FORMS.items()}
    reordered = shuffled(_request([WIRE_FORMS["vlmrun-dict"](s) for s in example.skills]), random.Random(7))
    keys["shuffled"] = canonicalize(reordered).key
    assert len(set(keys.values())) == 1, keys


def test_rebuilt_bundle_with_new_timestamps_canonicalizes_equal() -> None:
    ours = {"type": "inline", "name": "n", "source": {"data": inline_bundle()}}
    theirs = {"type": "inline", "name": "n", "source": {"data": _sdk_style_zip()}}
    assert inline_bundle() != _sdk_style_zip()
    assert canonicalize(_request([ours])).key == canonicalize(_request([theirs])).key


@pytest.mark.parametrize(
    ("change", "path"),
    [
        ({"skill_name": "line-item-validation"}, "skills[0].skill_name"),
        ({"skill_version": "20260219-abc123"}, "skills[0].skill_version"),
        ({"skill_id": "invoice-extraction", "skill_name": None}, "skills[0].skill_id"),
    ],
)
def test_a_changed_reference_changes_the_key(change: dict[str, Any], path: str) -> None:
    before = {"skill_name": "invoice-extraction"}
    after = {k: v for k, v in {**before, **change}.items() if v is not None}
    a, b = canonicalize(_request([before])), canonicalize(_request([after]))
    assert a.key != b.key
    assert path in [p for p, _, _ in canonical_diff(a.body, b.body)]


def test_changed_bundle_content_changes_the_key() -> None:
    from harness.bundles import build_bundle, encode_bundle

    other = encode_bundle(
        build_bundle({"SKILL.md": INVOICE_SKILL_MD + "\nOne more line.\n", "schema.json": INVOICE_SCHEMA})
    )
    a = canonicalize(_request([{"type": "inline", "source": {"data": inline_bundle()}}]))
    b = canonicalize(_request([{"type": "inline", "source": {"data": other}}]))
    assert a.key != b.key
    [(path, old, new)] = list(canonical_diff(a.body, b.body))
    assert path == "skills[0].source.digest"
    assert old.startswith("sha256:")
    assert new.startswith("sha256:")


def test_skill_version_wins_over_the_legacy_alias() -> None:
    both = canonicalize(_request([{"skill_name": "x", "skill_version": "v2", "version": "v1"}]))
    assert both.skills == [{"type": "skill_reference", "skill_name": "x", "skill_version": "v2"}]


def test_source_data_wins_over_the_legacy_bundle() -> None:
    form = canonicalize(_request([{"type": "inline", "source": {"data": inline_bundle()}, "bundle": "AAAA"}]))
    assert form.skills[0]["source"]["digest"].startswith("sha256:")


def test_undecodable_bundle_gets_a_raw_digest_not_an_exception() -> None:
    form = canonicalize(_request([{"type": "inline", "source": {"data": "not base64!"}}]))
    assert form.skills[0]["source"]["digest"].startswith("raw-sha256:")


def test_top_level_defaults_come_from_the_description() -> None:
    props = load_contract().schema("ChatCompletionRequest")["properties"]
    body = canonicalize({"messages": [{"role": "user", "content": "hi"}]}).body
    for name in ("model", "max_tokens", "n", "temperature", "top_p", "stream"):
        assert body[name] == props[name]["default"]
    explicit = canonicalize({"messages": [{"role": "user", "content": "hi"}], "stream": False, "n": None})
    assert explicit.key == canonicalize({"messages": [{"role": "user", "content": "hi"}]}).key


def test_nulls_are_dropped_everywhere() -> None:
    form = canonicalize({"messages": [{"role": "user", "content": "hi", "name": None}], "metadata": {"a": None}})
    assert form.body["messages"] == [{"role": "user", "content": "hi"}]
    assert form.body["metadata"] == {}


def test_non_object_bodies_do_not_crash() -> None:
    assert canonicalize([1, None, {"a": None}]).body == {"<body>": [1, None, {}]}
    assert canonicalize(None).key == canonicalize(None).key


def _contract_with_default(name: str, value: Any) -> Contract:
    document = copy.deepcopy(load_contract().document)
    document["components"]["schemas"]["ChatCompletionRequest"]["properties"][name]["default"] = value
    return Contract(document, source="changed.yaml", sha256="changed")


def test_defaults_come_from_the_description_in_use() -> None:
    body = {"messages": [{"role": "user", "content": "hi"}]}
    changed = _contract_with_default("max_tokens", 1024)
    assert canonicalize(body, changed).body["max_tokens"] == 1024
    assert (
        canonicalize(body).body["max_tokens"]
        == load_contract().schema("ChatCompletionRequest")["properties"]["max_tokens"]["default"]
    )
    assert canonicalize({**body, "max_tokens": 1024}, changed).key == canonicalize(body, changed).key
    assert canonicalize(body, changed).key != canonicalize(body).key


def test_without_a_contract_the_defaults_are_those_of_the_overlaid_description_in_use(tmp_path: Path) -> None:
    """What the plugin and the CLI set with a project's overlay, matching and snapshots follow."""
    overlay = tmp_path / "ours.yaml"
    overlay.write_text(
        "overlay: 1.0.0\ninfo: {title: ours, version: '1'}\nactions:\n"
        "  - target: $.components.schemas.ChatCompletionRequest.properties.max_tokens\n"
        "    update: {default: 2048}\n"
    )
    body = {"messages": [{"role": "user", "content": "hi"}]}
    use_description(DescriptionChoice(overlays=(overlay,)))
    try:
        assert canonicalize(body).body["max_tokens"] == 2048
        assert canonicalize(body).key == canonicalize({**body, "max_tokens": 2048}).key
    finally:
        use_description(DescriptionChoice())
    assert canonicalize(body).body["max_tokens"] == 32768


def test_defaults_are_read_once_per_description() -> None:
    changed = _contract_with_default("n", 3)
    assert request_defaults(changed) is request_defaults(changed)
    assert request_defaults(changed)["n"] == 3
    assert request_defaults() is request_defaults(load_contract())


def test_a_version_of_the_wrong_type_is_kept_not_read_as_latest() -> None:
    """The description refuses it; the canonical form must still tell it from the default."""
    odd = canonicalize(_request([{"skill_name": "x", "skill_version": 3}]))
    assert odd.skills == [{"type": "skill_reference", "skill_name": "x", "skill_version": 3}]
