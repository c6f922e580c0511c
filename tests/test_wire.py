"""`harness.wire`: every kind, default, alias fold and bundle slot, each case once."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import harness.skill_dicts
from harness import wire

WIRE = Path(wire.__file__)
DATA = "UEsFBgAAAAAAAAAAAAAAAAAAAAAAAA=="
OTHER = "UEsDBAo="


def test_the_defaults() -> None:
    assert (wire.REFERENCE, wire.INLINE, wire.LATEST) == ("skill_reference", "inline", "latest")
    assert dict(wire.SOURCE_DEFAULTS) == {"type": "base64", "media_type": "application/zip"}


@pytest.mark.parametrize(
    ("skill", "kind", "inline", "reference"),
    [
        ({"skill_name": "x"}, "skill_reference", False, True),
        ({"type": None, "skill_name": "x"}, "skill_reference", False, True),
        ({"type": "skill_reference", "skill_id": "x"}, "skill_reference", False, True),
        ({"type": "inline", "source": {"data": DATA}}, "inline", True, False),
        ({"type": "inlne"}, "inlne", False, False),
        ({"type": ""}, "", False, False),
    ],
)
def test_kind_absent_or_null_means_a_reference(skill: dict[str, Any], kind: str, inline: bool, reference: bool) -> None:
    assert wire.skill_kind(skill) == kind
    assert (wire.is_inline(skill), wire.is_reference(skill)) == (inline, reference)


@pytest.mark.parametrize(
    ("skill", "expected"),
    [
        ({}, "latest"),
        ({"skill_version": "v2"}, "v2"),
        ({"version": "v1"}, "v1"),
        ({"skill_version": "v2", "version": "v1"}, "v2"),
        ({"skill_version": "latest", "version": "v1"}, "latest"),
        ({"skill_version": None, "version": "v1"}, "v1"),
        ({"skill_version": "", "version": "v1"}, "v1"),
        ({"skill_version": None, "version": None}, "latest"),
    ],
)
def test_version_skill_version_else_version_else_latest(skill: dict[str, Any], expected: str) -> None:
    assert wire.effective_version(skill) == expected


@pytest.mark.parametrize(
    ("skill", "path", "expected"),
    [
        ({"source": {"data": DATA}}, ("source", "data"), DATA),
        ({"bundle": DATA}, ("bundle",), DATA),
        ({"source": {"data": DATA}, "bundle": OTHER}, ("source", "data"), DATA),
        ({"source": {"data": None}, "bundle": OTHER}, ("bundle",), OTHER),
        ({"source": None, "bundle": OTHER}, ("bundle",), OTHER),
        ({"source": "not an object", "bundle": OTHER}, ("bundle",), OTHER),
        ({"source": {"type": "base64"}}, ("bundle",), None),
    ],
)
def test_bundle_source_data_else_bundle(skill: dict[str, Any], path: tuple[str, ...], expected: str | None) -> None:
    assert wire.effective_bundle_path(skill) == path
    assert wire.effective_bundle(skill) == expected


def _body() -> dict[str, Any]:
    return {
        "messages": [],
        "skills": [
            {"type": "inline", "source": {"data": DATA}, "bundle": OTHER},
            {"skill_name": "x"},
            "not a skill",
            {"type": "inline", "source": {"data": None}, "bundle": 7},
            {"source": {"data": OTHER}},
        ],
    }


def test_bundle_slots_are_every_string_in_either_slot_in_order() -> None:
    slots = [(slot.loc, slot.data) for slot in wire.iter_bundle_slots(_body())]
    assert slots == [
        (("skills", 0, "source", "data"), DATA),
        (("skills", 0, "bundle"), OTHER),
        (("skills", 4, "source", "data"), OTHER),
    ]


@pytest.mark.parametrize("body", [None, [], "text", {}, {"skills": None}, {"skills": {"source": {"data": DATA}}}])
def test_bodies_without_a_skills_list_have_no_slots(body: Any) -> None:
    assert list(wire.iter_bundle_slots(body)) == []


def test_a_slot_is_replaced_in_place() -> None:
    body = _body()
    for slot in wire.iter_bundle_slots(body):
        slot.replace(len(slot.data))
    assert body["skills"][0] == {"type": "inline", "source": {"data": len(DATA)}, "bundle": len(OTHER)}
    assert body["skills"][4] == {"source": {"data": len(OTHER)}}


def test_map_bundles_returns_a_copy_and_leaves_the_body_alone() -> None:
    body, before = _body(), json.dumps(_body())
    mapped = wire.map_bundles(body, lambda data: {"chars": len(data)})
    assert json.dumps(body) == before
    assert mapped["skills"][0] == {"type": "inline", "source": {"data": {"chars": len(DATA)}}, "bundle": {"chars": 8}}
    assert mapped["skills"][1:4] == body["skills"][1:4]
    assert wire.map_bundles("text", str.upper) == "text"


def _admin_body() -> dict[str, Any]:
    """A skill create or update body: the zip is the top-level `source` (and `skills` means nothing)."""
    return {"name": "x", "source": {"type": "base64", "data": DATA}, "skills": [{"source": {"data": OTHER}}]}


@pytest.mark.parametrize(
    ("path", "slots"),
    [
        (None, [(("skills", 0, "source", "data"), OTHER)]),  # no path: a chat completion's body
        ("/v1/openai/chat/completions", [(("skills", 0, "source", "data"), OTHER)]),
        ("https://api.vlm.run/v1/openai/chat/completions?x=1", [(("skills", 0, "source", "data"), OTHER)]),
        ("/v1/skills/create", [(("source", "data"), DATA)]),
        ("http://127.0.0.1:8000/proxy/v1/skills/create/", [(("source", "data"), DATA)]),
        ("/v1/skills/invoice-extraction/update", [(("source", "data"), DATA)]),
        ("/v1/skills/{skill_id}/update", [(("source", "data"), DATA)]),
        # any other operation: a chat completion's slots (which bodies without `skills` lack)
        ("/v1/skills/lookup", [(("skills", 0, "source", "data"), OTHER)]),
        ("/v1/skills/create/download", [(("skills", 0, "source", "data"), OTHER)]),
        ("/v1/openai/chat/completions/stream", [(("skills", 0, "source", "data"), OTHER)]),
    ],
)
def test_the_path_decides_the_slots(path: str | None, slots: list[Any]) -> None:
    assert [(slot.loc, slot.data) for slot in wire.iter_bundle_slots(_admin_body(), path)] == slots


@pytest.mark.parametrize(
    "body", [{"source": {"data": 7}}, {"source": "x"}, {"source": {"type": "base64"}}, {"data": DATA}, [], None]
)
def test_admin_bodies_without_a_string_source_data_have_no_slots(body: Any) -> None:
    assert list(wire.iter_bundle_slots(body, "/v1/skills/create")) == []
    assert wire.map_bundles(body, len, "/v1/skills/create") == body


def test_map_bundles_follows_the_path_and_copies_the_source() -> None:
    body, before = _admin_body(), json.dumps(_admin_body())
    mapped = wire.map_bundles(body, len, "/v1/skills/s1/update")
    assert json.dumps(body) == before
    assert mapped == {**body, "source": {"type": "base64", "data": len(DATA)}}
    assert mapped["skills"] is body["skills"]  # not a slot here: shared, untouched
    assert wire.map_bundles({"source": body["source"]}, len, "/v1/skills/lookup") == {"source": body["source"]}
    assert wire.map_bundles(body, len)["skills"] == [{"source": {"data": len(OTHER)}}]


def test_the_vlmrun_dict_form_applies_every_fold_and_default() -> None:
    """The other cases of the public helper are in tests/test_skill_dicts.py."""
    assert wire.to_wire_dict({"skill_name": "x", "version": "v1", "skill_version": None}) == {
        "type": "skill_reference",
        "skill_name": "x",
        "skill_version": "v1",
    }
    assert wire.to_wire_dict({"type": "inline", "name": "n", "bundle": DATA}) == {
        "type": "inline",
        "skill_version": "latest",
        "name": "n",
        "source": {"type": "base64", "media_type": "application/zip", "data": DATA},
    }


def test_skill_dicts_is_the_documented_name_of_the_same_helper() -> None:
    assert harness.skill_dicts.to_wire_dicts is wire.to_wire_dicts
    assert harness.skill_dicts.to_wire_dict is wire.to_wire_dict


def test_wire_imports_only_the_standard_library() -> None:
    roots = set()
    for node in ast.walk(ast.parse(WIRE.read_text())):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            roots.add(node.module.split(".")[0])
    assert roots - {"__future__"} <= set(sys.stdlib_module_names)


def test_wire_loads_by_path_where_the_harness_is_not_installed(tmp_path: Path) -> None:
    """As the matrix probe loads it in a client stack: `-S` leaves site-packages (and the harness) out."""
    code = (
        "import importlib.util, json, sys\n"
        "spec = importlib.util.spec_from_file_location('probe_wire', sys.argv[1])\n"
        "module = importlib.util.module_from_spec(spec)\n"
        "spec.loader.exec_module(module)\n"
        "print(json.dumps(module.to_wire_dicts([{'skill_name': 'x'}])))\n"
        "print('harness' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-I", "-S", "-c", code, str(WIRE)], capture_output=True, text=True, check=True, cwd=tmp_path
    )
    assert out.stdout == '[{"type": "skill_reference", "skill_name": "x", "skill_version": "latest"}]\nFalse\n'
