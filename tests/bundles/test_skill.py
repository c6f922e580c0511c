from __future__ import annotations

import datetime
import json

import pytest

from harness.bundles import SkillMd, parse_skill_md
from harness.bundles.skill import parse_schema_json, parse_vlmrun_yaml
from harness.errors import BundleError


def error(fn: object, *args: object) -> BundleError:
    with pytest.raises(BundleError) as exc:
        fn(*args)  # type: ignore[operator]
    return exc.value


# --- SKILL.md --------------------------------------------------------------------


def test_sdk_test_example() -> None:
    info = parse_skill_md("---\nname: my-skill\ndescription: Does cool things\n---\n# My Skill\n\nBody content.\n")
    assert info == SkillMd(
        name="my-skill",
        description="Does cool things",
        frontmatter={"name": "my-skill", "description": "Does cool things"},
        body="# My Skill\n\nBody content.\n",
    )


def test_docs_example_keeps_extra_fields() -> None:
    text = (
        "---\nname: invoice-extraction\n"
        "description: Extract structured data from invoice documents\n"
        'version: "1.0"\nlicense: MIT\nupdated: 2026-02-19\n---\nBody\n'
    )
    info = parse_skill_md(text.encode())
    assert info.frontmatter["version"] == "1.0"
    assert info.frontmatter["license"] == "MIT"
    assert info.frontmatter["updated"] == datetime.date(2026, 2, 19)


def test_folded_and_quoted_descriptions() -> None:
    folded = parse_skill_md(
        "---\nname: mm-cli-skill\ndescription: >\n  Use the mm CLI to\n  inspect media.\n  Second sentence.\n---\n"
    )
    assert folded.description == "Use the mm CLI to inspect media. Second sentence."
    quoted = parse_skill_md("---\nname: 'q'\ndescription: \"Says: hello\"\n---\n")
    assert (quoted.name, quoted.description) == ("q", "Says: hello")


def test_crlf_and_trailing_spaces_on_fences() -> None:
    info = parse_skill_md("--- \r\nname: n\r\ndescription: d\r\n---\r\nbody\r\n")
    assert (info.name, info.description, info.body) == ("n", "d", "body\r\n")


def test_only_the_first_closing_fence_counts() -> None:
    info = parse_skill_md("---\nname: n\ndescription: d\n---\nintro\n---\nmore\n")
    assert info.body == "intro\n---\nmore\n"


@pytest.mark.parametrize(
    "text",
    [
        "# Title\n---\nname: n\n---\n",
        "\n---\nname: n\ndescription: d\n---\n",
        " ---\nname: n\ndescription: d\n---\n",
        "---\nname: n\ndescription: d\n",
        "\ufeff---\nname: n\ndescription: d\n---\n",
        "",
    ],
)
def test_no_frontmatter(text: str) -> None:
    err = error(parse_skill_md, text)
    assert (err.code, err.entry) == ("no_frontmatter", "SKILL.md")


def test_bom_message_is_specific() -> None:
    assert "byte-order mark" in error(parse_skill_md, "\ufeff---\n---\n").message


def test_invalid_yaml_names_the_line() -> None:
    err = error(parse_skill_md, "---\nname: n\ndescription: Extract: data: here\n---\n")
    assert (err.code, err.entry) == ("invalid_yaml", "SKILL.md")
    # Line 3 of SKILL.md: the opening fence is line 1.
    assert "line 3" in err.message
    assert "description: Extract: data: here" in err.message


@pytest.mark.parametrize("text", ["---\n- a\n- b\n---\n", "---\njust text\n---\n"])
def test_frontmatter_not_mapping(text: str) -> None:
    assert error(parse_skill_md, text).code == "frontmatter_not_mapping"


@pytest.mark.parametrize(
    ("yaml_text", "code"),
    [
        ("description: d", "missing_name"),
        ("name: ''\ndescription: d", "missing_name"),
        ("name: 12\ndescription: d", "missing_name"),
        ("name: n", "missing_description"),
        ("name: n\ndescription: '   '", "missing_description"),
        ("name: n\ndescription: [a]", "missing_description"),
        ("", "missing_name"),
    ],
)
def test_required_fields(yaml_text: str, code: str) -> None:
    err = error(parse_skill_md, f"---\n{yaml_text}\n---\n")
    assert (err.code, err.entry) == (code, "SKILL.md")


def test_missing_description_message_is_actionable() -> None:
    err = error(parse_skill_md, "---\nname: n\n---\n")
    assert err.message == ("SKILL.md frontmatter has no 'description': add `description: ...` between the --- lines")


def test_not_utf8() -> None:
    err = error(parse_skill_md, "---\nname: café\n---\n".encode("latin-1"))
    assert (err.code, err.entry) == ("not_utf8", "SKILL.md")


# --- schema.json -------------------------------------------------------------------


def test_docs_schema_example_is_valid() -> None:
    schema = {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "type": "object",
        "title": "invoice-extraction",
        "properties": {"invoice_date": {"type": "string", "format": "date"}},
        "required": ["invoice_date"],
        "additionalProperties": False,
    }
    assert parse_schema_json(json.dumps(schema).encode()) == schema


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("{nope", "invalid_json"),
        ('{"minimum": NaN}', "invalid_json"),
        ("", "invalid_json"),
        ('{"type": 12}', "invalid_schema"),
        ('{"required": "x"}', "invalid_schema"),
        ("[1, 2]", "invalid_schema"),
        ("true", "invalid_schema"),
        ('{"$schema": "https://example.invalid/meta", "type": "object"}', "invalid_schema"),
    ],
)
def test_bad_schema_json(text: str, code: str) -> None:
    err = error(parse_schema_json, text.encode())
    assert (err.code, err.entry) == (code, "schema.json")


def test_invalid_schema_message_points_at_the_keyword() -> None:
    err = error(parse_schema_json, b'{"properties": {"a": {"type": "strng"}}}')
    assert "properties/a/type" in err.message


def test_schema_not_utf8() -> None:
    assert error(parse_schema_json, b'{"title": "\xff"}').code == "not_utf8"


# --- vlmrun.yaml ---------------------------------------------------------------------

DOCS_VLMRUN_YAML = """\
apiVersion: vlm.run/v1alpha
metadata: {}
model: vlmrun-orion-1:auto
toolsets:
  - core
  - image
graph: |
  stateDiagram-v2
    AnalyzeImage: Analyze input image content
    [*] --> AnalyzeImage
"""


def test_docs_vlmrun_yaml_example() -> None:
    config = parse_vlmrun_yaml(DOCS_VLMRUN_YAML.encode())
    assert config["model"] == "vlmrun-orion-1:auto"
    assert config["toolsets"] == ["core", "image"]
    assert config["graph"].startswith("stateDiagram-v2\n")


def test_vlmrun_yaml_keys_are_not_enforced() -> None:
    assert parse_vlmrun_yaml("anything: goes\n") == {"anything": "goes"}


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("model: [unclosed\n", "invalid_yaml"),
        ("a: 1\n---\nb: 2\n", "invalid_yaml"),
        ("", "config_not_mapping"),
        ("- core\n", "config_not_mapping"),
        ("just a string\n", "config_not_mapping"),
    ],
)
def test_bad_vlmrun_yaml(text: str, code: str) -> None:
    err = error(parse_vlmrun_yaml, text)
    assert (err.code, err.entry) == (code, "vlmrun.yaml")


def test_vlmrun_yaml_error_has_line() -> None:
    message = error(parse_vlmrun_yaml, "a: 1\nb: [2\nc: 3\n").message
    assert "at line 3, column 2 ('c: 3')" in message
    assert "while parsing a flow sequence at line 2" in message
