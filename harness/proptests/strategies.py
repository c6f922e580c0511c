"""Hypothesis strategies for values the description's schemas cannot describe.

`format: byte` on `source.data`/`bundle` only says "base64"; the API also needs the bytes
to be a zip holding a valid SKILL.md. Registering this strategy under `byte` makes every
positive example a real bundle, so `positive_data_acceptance` holds against a server that
checks bundles (schemathesis' own `byte` values decode to no zip at all).
"""

from __future__ import annotations

import json

import yaml

from harness.bundles import build_bundle, encode_bundle
from harness.extras import missing_extra

try:
    from hypothesis import strategies as st
except ImportError as exc:
    raise missing_extra("gate", "harness.proptests.strategies", modules=["hypothesis"]) from exc

_NAMES = st.from_regex(r"[a-z][a-z0-9-]{0,30}", fullmatch=True)
_TEXT = st.text(min_size=1, max_size=80).filter(lambda s: s.strip() != "")
_PATHS = st.from_regex(r"(resources/)?[a-z][a-z0-9_]{0,12}\.(txt|py|md|csv)", fullmatch=True)
_SCHEMAS = st.sampled_from(
    [
        None,
        {"type": "object", "properties": {"total": {"type": "number"}}, "required": ["total"]},
        {"type": "object", "properties": {"items": {"type": "array", "items": {"type": "string"}}}},
    ]
)


@st.composite
def skill_bundles(draw: st.DrawFn) -> str:
    """Base64 of a deterministic zip: SKILL.md with YAML frontmatter, maybe schema.json and extra files."""
    front = {"name": draw(_NAMES), "description": draw(_TEXT)}
    body = draw(st.text(max_size=200))
    files: dict[str, bytes] = {
        "SKILL.md": f"---\n{yaml.safe_dump(front, allow_unicode=True)}---\n{body}".encode(),
    }
    schema = draw(_SCHEMAS)
    if schema is not None:
        files["schema.json"] = json.dumps(schema).encode()
    for path, content in draw(st.dictionaries(_PATHS, st.binary(max_size=256), max_size=3)).items():
        files.setdefault(path, content)
    return encode_bundle(build_bundle(files))


def register() -> None:
    """Make schemathesis generate real skill bundles for `format: byte`."""
    try:
        import schemathesis
    except ImportError as exc:
        raise missing_extra("gate", "the bundle strategy", modules=["schemathesis"]) from exc

    schemathesis.openapi.format("byte", skill_bundles())
