"""Property tests on everything that reads untrusted input: only the documented error may escape.

Bounded and reproducible in CI: `derandomize=True` with no example database, so every run
draws the same cases; a modest `max_examples` each (a few seconds in all); `deadline=None`
because CI machines stall. Found here: lone surrogates (JSON `\\ud800` escapes decode to
them) crashed `canonicalize` and the matcher with UnicodeEncodeError; both now hash with
`surrogatepass` (harness/canonical.py, harness/recording/matcher.py).
"""

from __future__ import annotations

import base64
import contextlib
import io
import json
import random
import re
import tempfile
import warnings
import zipfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from vcr.persisters.filesystem import CassetteNotFoundError
from vcr.request import Request

from harness.bundles import build_bundle, decode_bundle, digest_b64, encode_bundle, read_zip_entries
from harness.canonical import canonicalize
from harness.docs_examples import WIRE_FORMS
from harness.errors import BundleError, CassetteError
from harness.recording.cassette_io import read_cassette, save_interactions
from harness.recording.matcher import request_key
from tests.json_order import shuffled
from tests.recording._cassettes import SSE, completion_request, inline_skill, interaction, stream

FUZZ = settings(
    derandomize=True, database=None, deadline=None, suppress_health_check=[HealthCheck.too_slow], max_examples=150
)
SKILL_MD = "---\nname: fuzz\ndescription: Fuzzed skill\n---\n# Fuzz\n"
VALID = build_bundle({"SKILL.md": SKILL_MD, "schema.json": '{"type":"object"}', "a/b.txt": "x" * 300})

# -- the bundle decoder ----------------------------------------------------------------------

NAMES = st.one_of(
    st.sampled_from(
        ["SKILL.md", "schema.json", "vlmrun.yaml", "a/", "../x", "/abs", "a//b", "C:x", "x\\y", ".", "a/.."]
    ),
    st.text(min_size=1, max_size=12),
)
ENTRY = st.tuples(
    NAMES,
    st.binary(max_size=300),
    st.sampled_from([zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA]),
    st.integers(0, 0xFFFFFFFF),  # external attributes: modes, symlink bits, garbage
    st.sampled_from([0, 3]),  # created on DOS or Unix
)


def _zip(entries: list[tuple[str, bytes, int, int, int]]) -> bytes:
    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with zipfile.ZipFile(buf, "w") as zf:
            for name, data, method, attrs, system in entries:
                info = zipfile.ZipInfo(name)
                info.compress_type, info.external_attr, info.create_system = method, attrs, system
                zf.writestr(info, data)
    return buf.getvalue()


def only_bundle_errors(data: Any) -> None:
    """Decode and digest `data`: success, or a BundleError with a code and a message."""
    for decode in (decode_bundle, digest_b64):
        error: BundleError | None = None
        try:
            decode(data)
        except BundleError as exc:
            error = exc
        assert error is None or (error.code != "" and str(error) != "")


@FUZZ
@given(st.lists(ENTRY, max_size=6), st.booleans())
def test_any_zip_decodes_or_is_a_bundle_error(entries: list[tuple[str, bytes, int, int, int]], skill: bool) -> None:
    prefix = [("SKILL.md", SKILL_MD.encode(), zipfile.ZIP_STORED, 0o644 << 16, 3)] if skill else []
    only_bundle_errors(base64.b64encode(_zip(prefix + entries)).decode())


B64ISH = st.text(alphabet=st.sampled_from([*"ABCDabcd0189+/=-_ \n\t\r%é\x00", "\ud800"]), max_size=64)


@FUZZ
@given(st.one_of(B64ISH, st.builds(lambda b: base64.b64encode(b).decode(), st.binary(max_size=200))))
def test_any_base64ish_string_decodes_or_is_a_bundle_error(data: str) -> None:
    only_bundle_errors(data)


MUTATION = st.one_of(
    st.tuples(st.just("flip"), st.integers(0, len(VALID) - 1), st.integers(1, 255)),
    st.tuples(st.just("cut"), st.integers(0, len(VALID) - 1), st.just(0)),
    st.tuples(st.just("insert"), st.integers(0, len(VALID)), st.integers(0, 255)),
)


@FUZZ
@given(st.lists(MUTATION, min_size=1, max_size=4))
def test_a_mutated_valid_bundle_decodes_or_is_a_bundle_error(mutations: list[tuple[str, int, int]]) -> None:
    data = bytearray(VALID)
    for kind, at, value in mutations:
        at = min(at, len(data))
        if kind == "flip" and at < len(data):
            data[at] ^= value
        elif kind == "cut":
            del data[at:]
        elif kind == "insert":
            data[at:at] = bytes([value])
    with contextlib.suppress(BundleError):
        read_zip_entries(bytes(data))
    only_bundle_errors(base64.b64encode(bytes(data)).decode())


# -- the canonicalizer ---------------------------------------------------------------------------

TEXT = st.text(st.one_of(st.characters(), st.sampled_from(["\ud800", "\udfff", "\x00"])), max_size=12)
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True, allow_infinity=True), TEXT)
JSON = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4))
BUNDLES = st.one_of(
    st.builds(
        lambda files: encode_bundle(build_bundle({"SKILL.md": SKILL_MD, **files})),
        st.dictionaries(st.sampled_from(["a.txt", "b/c.txt", "schema.json"]), st.text(max_size=20), max_size=2),
    ),
    B64ISH,
    JSON,
)
SKILL_KEYS = ["type", "skill_id", "skill_name", "skill_version", "version", "name", "description", "bundle"]
SKILLS = st.one_of(
    st.dictionaries(st.sampled_from(SKILL_KEYS), st.one_of(TEXT, st.none(), st.sampled_from(["inline", "latest"]))),
    st.fixed_dictionaries(
        {"type": st.just("inline")},
        optional={
            "source": st.one_of(JSON, st.fixed_dictionaries({}, optional={"data": BUNDLES, "type": TEXT})),
            "bundle": BUNDLES,
            "skill_version": TEXT,
            "name": TEXT,
        },
    ),
    JSON,
)
REQUESTS = st.fixed_dictionaries(
    {"messages": st.lists(st.dictionaries(st.sampled_from(["role", "content"]), JSON), max_size=3)},
    optional={
        "skills": st.one_of(st.lists(SKILLS, max_size=3), JSON),
        "model": st.one_of(TEXT, st.none()),
        "stream": JSON,
        "metadata": JSON,
        "extra": JSON,
    },
)


@FUZZ
@given(JSON)
def test_any_json_value_canonicalizes(value: Any) -> None:
    key = canonicalize(value).key
    assert re.fullmatch(r"[0-9a-f]{64}", key)


@FUZZ
@given(JSON, st.sampled_from(["/v1/openai/chat/completions", "/v1/skills/lookup"]))
def test_the_matcher_keys_any_json_body_on_any_path(value: Any, path: str) -> None:
    raw = json.dumps(value).encode()  # ASCII escapes, as clients send: lone surrogates survive them
    key = request_key(Request("POST", f"http://127.0.0.1:9{path}", raw, {}))
    assert key[:2] == ("POST", path)


@settings(FUZZ, max_examples=200)
@given(REQUESTS, st.randoms(use_true_random=False))
def test_request_shaped_bodies_canonicalize_idempotently_whatever_the_key_order(
    body: dict[str, Any], rng: random.Random
) -> None:
    first = canonicalize(body)
    assert canonicalize(first.body).key == first.key  # a canonical body is its own canonical form
    assert canonicalize(shuffled(body, rng)).key == first.key
    assert canonicalize(json.loads(json.dumps(body))).key == first.key  # the wire round trip changes nothing


PRINTABLE = st.text(st.characters(categories=["L", "N", "P"]), min_size=1, max_size=16)
AGENT_SKILLS = st.one_of(
    st.fixed_dictionaries(
        {"skill_name": PRINTABLE}, optional={"version": PRINTABLE, "skill_version": PRINTABLE, "skill_id": PRINTABLE}
    ),
    st.fixed_dictionaries({"skill_id": PRINTABLE}, optional={"skill_version": PRINTABLE}),
    st.builds(
        lambda name, description, data: {
            "type": "inline",
            "name": name,
            "description": description,
            "source": {"data": data},
        },
        PRINTABLE,
        PRINTABLE,
        BUNDLES.filter(lambda b: isinstance(b, str)),
    ),
)


@settings(FUZZ, max_examples=100)
@given(st.lists(AGENT_SKILLS, min_size=1, max_size=3), PRINTABLE)
def test_every_wire_form_of_any_call_canonicalizes_equal(skills: list[dict[str, Any]], text: str) -> None:
    messages = [{"role": "user", "content": text}]
    keys = {
        name: canonicalize({"messages": messages, "skills": [form(s) for s in skills]}).key
        for name, form in WIRE_FORMS.items()
    }
    assert len(set(keys.values())) == 1, keys


# -- cassettes ---------------------------------------------------------------------------------------

_CASSETTE = Path("cassettes") / "fuzz.yaml"


@settings(FUZZ, max_examples=100)
@given(st.lists(st.tuples(st.integers(0, 10**6), st.integers(1, 255)), min_size=1, max_size=6), st.integers(0, 10**6))
def test_a_randomly_damaged_cassette_loads_or_names_the_file(flips: list[tuple[int, int]], cut: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / _CASSETTE
        items = [
            interaction(completion_request(inline_skill())),
            interaction({"stream": True}, stream([{"n": 1}]), response_headers=SSE),
        ]
        save_interactions(path, items)
        data = bytearray(path.read_bytes())
        for at, value in flips:
            data[at % len(data)] ^= value
        path.write_bytes(bytes(data[: max(1, len(data) - cut % 200)]))
        message = str(path)
        try:
            read_cassette(path)
        except CassetteNotFoundError:
            pass
        except CassetteError as exc:
            message = str(exc)
        assert str(path) in message
