"""Recording and replay against vcrpy and pytest-recording defaults, side by side.

Four questions, each measured in one run and reported as ratios:

1. matching: one lookup (what vcrpy's httpx stub does per request: `can_play_response_for`,
   then `play_response`) in a 1,000-interaction cassette, with our `MATCH_ON` and with
   vcrpy's default `match_on` plus its `body` matcher; same lookup requests, same verdicts;
2. replay: the scenario suite under our plugin, and the same tests and cassettes (converted
   to vcrpy's format) under bare pytest-recording with a `body` matcher;
3. a 1 MiB inline bundle: cassette size and load time, our persister against vcrpy's YAML;
4. a replay miss: how long a call that misses takes to fail, on openai 3.x (this env) and
   openai 1.109.1 (an overlay env), with our `max_retries=0` clients and, for contrast,
   vlmrun's default `max_retries=5`.

Run as `python -m benchmarks recording`; `python -m benchmarks.bench_recording miss-child`
is the child process of question 4.
"""

from __future__ import annotations

import argparse
import base64
import functools
import importlib.metadata
import inspect
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from statistics import median
from typing import Any

import vcr
from vcr.cassette import Cassette
from vcr.errors import CannotOverwriteExistingCassetteException
from vcr.persisters.filesystem import FilesystemPersister
from vcr.request import Request
from vcr.serializers import yamlserializer

from benchmarks.bench_digest import rotated, time_side_by_side
from harness.bundles import build_bundle, encode_bundle
from harness.canonical import canonicalize
from harness.examples import MODEL, PINNED_VERSION, WIRE_FORMS, dict_form, seed_examples
from harness.recording import blobs, cassette_file, matcher
from harness.recording.blobs import BlobStore, zip_digest
from harness.recording.cassette_file import compact_json, load_yaml
from harness.recording.configure import configure_vcr
from harness.recording.interaction import Interaction, RecordedRequest, RecordedResponse
from harness.recording.miss import find_vcr_miss, miss_from_vcr
from harness.recording.persister import HarnessPersister, load_interactions, save_interactions, to_vcr

ROOT = Path(__file__).resolve().parent.parent
SEED = 20260224
KiB = 1024
MiB = 1024 * KiB
BASE_URL = "http://127.0.0.1:33337/v1"
COMPLETIONS_URI = f"{BASE_URL}/openai/chat/completions"
VCRPY_MATCH_ON = ("method", "scheme", "host", "port", "path", "query", "body")

OURS = "ours"
VCRPY = "vcrpy body"
PREVIOUS = "ours before: 4 matchers, diff message"
MATCH_KINDS = (OURS, VCRPY, PREVIOUS)
PREVIOUS_NAME = "vlmrun_body_with_diff"
PREVIOUS_MATCH_ON = ("method", "path", "query", PREVIOUS_NAME)


def _version(name: str) -> str:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


# -- realistic traffic -------------------------------------------------------------------------


def _request_headers(length: int, *, authorization: str = "<redacted>") -> dict[str, list[str]]:
    """What openai-python sends (as recorded: the key scrubbed)."""
    return {
        "host": ["127.0.0.1:33337"],
        "accept-encoding": ["gzip, deflate"],
        "connection": ["keep-alive"],
        "authorization": [authorization],
        "accept": ["application/json"],
        "content-type": ["application/json"],
        "user-agent": ["OpenAI/Python 3.57.0"],
        "x-stainless-lang": ["python"],
        "x-stainless-package-version": ["3.57.0"],
        "x-stainless-retry-count": ["0"],
        "content-length": [str(length)],
    }


RESPONSE_HEADERS = {"content-type": ["application/json"], "server": ["uvicorn"]}


class Traffic:
    """Distinct chat-completion bodies with skills, about 2 KB each, drawn deterministically.

    Body `i` cycles through the seed examples and the five wire forms, with a system prompt
    and a user text unique to `i`; inline skills carry the docs' bundle.
    """

    def __init__(self, seed: int = SEED) -> None:
        rng = random.Random(seed)
        self.vocab = ["".join(rng.choices("abcdefghijklmnopqrstuvwxyz", k=rng.randint(3, 9))) for _ in range(800)]
        self.seed = seed
        self.examples = seed_examples()
        self.forms = list(WIRE_FORMS.values())

    def body(self, i: int, *, extra_skill: bool = False) -> dict[str, Any]:
        rng = random.Random(self.seed * 7919 + i)
        example = self.examples[i % len(self.examples)]
        form = self.forms[(i // len(self.examples)) % len(self.forms)]
        words = " ".join(rng.choices(self.vocab, k=170))
        skills = [form(s) for s in example.skills]
        if extra_skill:  # a near miss: the same call with one more skill
            skills.append({"skill_name": "patient-referral", "skill_version": PINNED_VERSION})
        return {
            "model": MODEL,
            "messages": [
                {"role": "system", "content": f"Case {i}. Follow the skill instructions. {words[:700]}"},
                {
                    "role": "user",
                    "content": [
                        {"type": "text", "text": f"{example.text} Notes {i}: {words[700:]}"},
                        {"type": "file_url", "file_url": {"url": f"https://example.com/documents/{i}.pdf"}},
                    ],
                },
            ],
            "skills": skills,
            "temperature": 0.0,
        }

    @staticmethod
    def response(i: int) -> bytes:
        return compact_json(
            {
                "id": f"chatcmpl-{i:024x}",
                "object": "chat.completion",
                "created": 1767225600,
                "model": MODEL,
                "choices": [
                    {
                        "index": 0,
                        "message": {
                            "role": "assistant",
                            "content": json.dumps({"invoice_id": f"INV-{i}", "date": "2026-01-01", "total": i}),
                        },
                        "finish_reason": "stop",
                    }
                ],
                "usage": {"prompt_tokens": 512, "completion_tokens": 21, "total_tokens": 533},
                "session_id": f"{i:08x}-6ddc-ed08-6c37-761556c76495",
            }
        ).encode()


def _body_bytes(body: Mapping[str, Any]) -> bytes:
    return compact_json(body).encode()


def _interaction(index: int, body: bytes, response: bytes) -> Interaction:
    request = RecordedRequest("POST", COMPLETIONS_URI, _request_headers(len(body)), body)
    return Interaction(request, RecordedResponse(200, "OK", dict(RESPONSE_HEADERS), response), index)


def _live_request(body: bytes) -> Request:
    """A request as vcrpy's httpx stub builds it, real key included (scrubbed by our hook)."""
    headers = {
        k: v[0] for k, v in _request_headers(len(body), authorization="Bearer sk-bench-0123456789abcdef").items()
    }
    return Request("POST", COMPLETIONS_URI, body, headers)


def save_vcrpy(path: Path, interactions: Sequence[Interaction]) -> Path:
    """vcrpy's own format (FilesystemPersister + yaml serializer), bundles inline.

    An empty request body is stored as vcrpy records a bodiless `requests` call (None): our
    format does not tell None from b"", and vcrpy's `body` matcher does.
    """
    pairs = [to_vcr(i) for i in interactions]
    for request, _ in pairs:
        if not request.body:
            request.body = None
    cassette = {"requests": [p[0] for p in pairs], "responses": [p[1] for p in pairs]}
    FilesystemPersister.save_cassette(path, cassette, serializer=yamlserializer)
    return path


# -- 1. matching ------------------------------------------------------------------------------


def _vlmrun_body_with_diff(live: Any, recorded: Any) -> None:
    """The matcher as first shipped: every AssertionError names the differing paths.

    vcrpy evaluates every matcher on every recorded request and stringifies each
    AssertionError at once (`_evaluate_matcher`), so this builds a canonical diff per
    non-matching candidate. Kept as a reference row for the key matcher that replaced it.
    """
    if matcher.canonical_body(live).key != matcher.canonical_body(recorded).key:
        raise AssertionError("canonical bodies differ: " + "; ".join(matcher.differences(live, recorded)))


def _vcr_for(kind: str) -> vcr.VCR:
    if kind == VCRPY:
        return vcr.VCR(match_on=VCRPY_MATCH_ON)
    configured = vcr.VCR()
    configure_vcr(configured)
    if kind == PREVIOUS:
        configured.register_matcher(PREVIOUS_NAME, _vlmrun_body_with_diff)
        configured.match_on = PREVIOUS_MATCH_ON
    return configured


_CASSETTE_ARGS = frozenset(inspect.signature(Cassette.__init__).parameters) - {"self"}


def open_cassette(config: vcr.VCR, path: Path) -> Cassette:
    """`Cassette.load` with the VCR's merged config: what `use_cassette` does, without patching."""
    merged = config.get_merged_config(path=str(path), record_mode="none")
    return Cassette.load(**{k: v for k, v in merged.items() if k in _CASSETTE_ARGS})


def lookup(cassette: Cassette, request: Request) -> bool:
    """vcrpy's httpx stub per request: `can_play_response_for`, then `play_response` on a hit."""
    if cassette.can_play_response_for(request):
        cassette.play_response(request)
        return True
    return False


@dataclass
class LookupPass:
    load_s: float
    seconds: list[float]
    verdicts: list[bool]
    miss_error_s: list[float]  # CannotOverwriteExistingCassetteException(...) for a few misses
    miss_report_s: list[float]  # + the plugin's miss_from_vcr (ours only)


@dataclass
class MatchResults:
    interactions: int
    lookups: int
    hits: int
    near_misses: int
    repeats: int
    mean_body_bytes: float
    file_bytes: dict[str, int]
    passes: dict[str, list[LookupPass]] = field(default_factory=dict)
    expected: list[bool] = field(default_factory=list)

    def ms_per_lookup(self, kind: str) -> float:
        return median(sum(p.seconds) / len(p.seconds) for p in self.passes[kind]) * 1e3

    def ms_where(self, kind: str, hit: bool) -> float:
        values = [s for p in self.passes[kind] for s, e in zip(p.seconds, self.expected, strict=True) if e == hit]
        return median(values) * 1e3

    def first_ms(self, kind: str) -> float:
        return median(p.seconds[0] for p in self.passes[kind]) * 1e3

    def load_s(self, kind: str) -> float:
        return median(p.load_s for p in self.passes[kind])

    def miss_error_ms(self, kind: str) -> float:
        return median(s for p in self.passes[kind] for s in p.miss_error_s) * 1e3

    def miss_report_ms(self, kind: str) -> float | None:
        values = [s for p in self.passes[kind] for s in p.miss_report_s]
        return median(values) * 1e3 if values else None


def _lookup_pass(kind: str, config: vcr.VCR, path: Path, stream: Sequence[Request], misses: int) -> LookupPass:
    matcher._cache.clear()  # live bodies are new to the matcher, as in a fresh test
    start = time.perf_counter()
    cassette = open_cassette(config, path)
    load_s = time.perf_counter() - start
    seconds: list[float] = []
    verdicts: list[bool] = []
    for request in stream:
        start = time.perf_counter()
        verdicts.append(lookup(cassette, request))
        seconds.append(time.perf_counter() - start)
    miss_error_s: list[float] = []
    miss_report_s: list[float] = []
    for request in [r for r, hit in zip(stream, verdicts, strict=True) if not hit][:misses]:
        start = time.perf_counter()
        error = CannotOverwriteExistingCassetteException(cassette=cassette, failed_request=request)
        miss_error_s.append(time.perf_counter() - start)
        if kind != VCRPY:
            start = time.perf_counter()
            miss_from_vcr(error)
            miss_report_s.append(time.perf_counter() - start)
    return LookupPass(load_s, seconds, verdicts, miss_error_s, miss_report_s)


def run_matching(
    workdir: Path, *, interactions: int = 1000, lookups: int = 100, repeats: int = 2, miss_errors: int = 2
) -> MatchResults:
    traffic = Traffic()
    bodies = [_body_bytes(traffic.body(i)) for i in range(interactions)]
    recorded = [_interaction(i, body, traffic.response(i)) for i, body in enumerate(bodies)]
    paths = {
        OURS: save_interactions(workdir / "cassettes" / "matching" / "ours.yaml", recorded),
        VCRPY: save_vcrpy(workdir / "vcrpy" / "matching.yaml", recorded),
    }
    paths[PREVIOUS] = paths[OURS]

    hits = lookups * 3 // 4
    near = (lookups - hits) // 2
    fresh = lookups - hits - near
    # Hits spread evenly over the cassette; misses half near (a recorded call plus one skill), half new.
    entries = [(bodies[(2 * k + 1) * interactions // (2 * hits)], True) for k in range(hits)]
    entries += [
        (_body_bytes(traffic.body(k * interactions // max(near, 1), extra_skill=True)), False) for k in range(near)
    ]
    entries += [(_body_bytes(traffic.body(interactions + k)), False) for k in range(fresh)]
    random.Random(SEED).shuffle(entries)
    stream = [_live_request(body) for body, _ in entries]
    expected = [hit for _, hit in entries]

    # One-off costs (loading the API description for the defaults) outside the timings.
    canonicalize(json.loads(bodies[0]))
    configs = {kind: _vcr_for(kind) for kind in MATCH_KINDS}
    results = MatchResults(
        interactions=interactions,
        lookups=lookups,
        hits=hits,
        near_misses=near,
        repeats=repeats,
        mean_body_bytes=sum(map(len, bodies)) / len(bodies),
        file_bytes={kind: paths[kind].stat().st_size for kind in (OURS, VCRPY)},
        passes={kind: [] for kind in MATCH_KINDS},
        expected=expected,
    )
    kinds = list(MATCH_KINDS)
    for rep in range(repeats):
        for kind in rotated(kinds, rep):
            print(f"  matching: {kind}, pass {rep + 1}/{repeats}", file=sys.stderr, flush=True)
            done = _lookup_pass(kind, configs[kind], paths[kind], stream, miss_errors)
            if done.verdicts != expected:
                wrong = sum(a != b for a, b in zip(done.verdicts, expected, strict=True))
                raise AssertionError(f"{kind}: {wrong} of {lookups} lookups gave the wrong hit/miss verdict")
            results.passes[kind].append(done)
    if any(hasattr(r, "_harness_canonical") for r in stream):
        raise AssertionError("a lookup request was modified: the passes did not see the same requests")
    return results


# -- 2. replay of the scenario suite ------------------------------------------------------------

SCENARIO = ROOT / "tests" / "scenarios" / "test_seed_examples.py"
SCENARIO_CASSETTES = ROOT / "tests" / "scenarios" / "cassettes"
DUMMY_BASE_URL = "http://127.0.0.1:9/v1"
BARE_CONFTEST = f'''"""The plugin's fixtures for bare pytest-recording (benchmark copy; our plugin is disabled).

Imports inside the fixtures, as the plugin does, so both import the clients during collection.
"""

from collections.abc import Iterator
from typing import Any

import pytest

KEY = "bench-key"


@pytest.fixture(scope="module")
def vcr_config() -> dict[str, Any]:
    return {{"match_on": ["method", "path", "query", "body"]}}


@pytest.fixture(scope="session")
def vlmrun_base_url() -> str:
    return "{DUMMY_BASE_URL}"


@pytest.fixture(scope="session")
def vlmrun_api_key() -> str:
    return KEY


@pytest.fixture
def vlmrun_client(vlmrun_base_url: str) -> Any:
    from vlmrun.client import VLMRun

    return VLMRun(api_key=KEY, base_url=vlmrun_base_url, max_retries=0)


@pytest.fixture
def openai_client(vlmrun_base_url: str) -> Iterator[Any]:
    import openai

    client = openai.OpenAI(api_key=KEY, base_url=f"{{vlmrun_base_url}}/openai", max_retries=0)
    yield client
    client.close()


@pytest.fixture
def async_openai_client(vlmrun_base_url: str) -> Any:
    import openai

    return openai.AsyncOpenAI(api_key=KEY, base_url=f"{{vlmrun_base_url}}/openai", max_retries=0)
'''

IN_REPO = "ours, in repo"
IN_REPO_OFF = "ours, in repo, conformance off"
COPY = "ours, temp copy"
COPY_EXTERNAL = "ours, temp copy, no embedded server"
BARE = "bare pytest-recording"
REPLAY_VARIANTS = (IN_REPO, IN_REPO_OFF, COPY, COPY_EXTERNAL, BARE)
_PASSED = re.compile(r"(\d+) passed")
_SESSION = re.compile(r" in ([0-9.]+)s")


@dataclass
class ReplayRun:
    wall_s: float
    session_s: float
    passed: int


@dataclass
class ReplayResults:
    runs: int
    commands: dict[str, str]
    samples: dict[str, list[ReplayRun]] = field(default_factory=dict)
    converted: int = 0

    def wall(self, variant: str) -> float:
        return median(r.wall_s for r in self.samples[variant])

    def fastest(self, variant: str) -> float:
        return min(r.wall_s for r in self.samples[variant])

    def session(self, variant: str) -> float:
        return median(r.session_s for r in self.samples[variant])


def convert_to_vcrpy(source: Path, target: Path) -> int:
    """Our cassettes (blobs restored inline) in vcrpy's default format, same file names."""
    count = 0
    for path in sorted(source.glob("*.yaml")):
        save_vcrpy(target / path.name, load_interactions(path).interactions)
        count += 1
    return count


def _pytest_env() -> dict[str, str]:
    drop = {"VLMRUN_BASE_URL", "VLMRUN_API_KEY", "PYTEST_ADDOPTS", "PYTEST_PLUGINS"}
    return {k: v for k, v in os.environ.items() if k not in drop}


def _run_pytest(cwd: Path, args: Sequence[str]) -> ReplayRun:
    command = [sys.executable, "-m", "pytest", *args]
    start = time.perf_counter()
    proc = subprocess.run(command, cwd=cwd, env=_pytest_env(), capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    passed, session = _PASSED.search(proc.stdout), _SESSION.search(proc.stdout)
    if proc.returncode != 0 or passed is None or session is None:
        raise RuntimeError(f"{' '.join(command)} (in {cwd}) failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-2000:]}")
    return ReplayRun(wall, float(session.group(1)), int(passed.group(1)))


def run_replay(workdir: Path, *, runs: int = 4) -> ReplayResults:
    ours_dir, bare_dir = workdir / "replay-ours", workdir / "replay-bare"
    for directory in (ours_dir, bare_dir):
        directory.mkdir(parents=True)
        shutil.copy2(SCENARIO, directory / SCENARIO.name)
    shutil.copytree(SCENARIO_CASSETTES, ours_dir / "cassettes")
    (bare_dir / "conftest.py").write_text(BARE_CONFTEST, encoding="utf-8")
    converted = convert_to_vcrpy(SCENARIO_CASSETTES / SCENARIO.stem, bare_dir / "cassettes" / SCENARIO.stem)

    base = ["-p", "no:cacheprovider", "-q"]
    off = "--vlmrun-conformance=off"
    variants: dict[str, tuple[Path, list[str]]] = {
        IN_REPO: (ROOT, [str(SCENARIO.relative_to(ROOT)), *base]),
        IN_REPO_OFF: (ROOT, [str(SCENARIO.relative_to(ROOT)), *base, off]),
        COPY: (ours_dir, [SCENARIO.name, *base]),
        COPY_EXTERNAL: (ours_dir, [SCENARIO.name, *base, f"--vlmrun-base-url={DUMMY_BASE_URL}"]),
        BARE: (bare_dir, [SCENARIO.name, *base, "-p", "no:vlmrun_harness"]),
    }
    results = ReplayResults(
        runs=runs,
        commands={name: "python -m pytest " + " ".join(args) for name, (_, args) in variants.items()},
        samples={name: [] for name in variants},
        converted=converted,
    )
    names = list(variants)
    for rep in range(runs):
        for name in rotated(names, rep):
            print(f"  replay: {name}, run {rep + 1}/{runs}", file=sys.stderr, flush=True)
            results.samples[name].append(_run_pytest(*variants[name]))
    counts = {r.passed for runs_ in results.samples.values() for r in runs_}
    if len(counts) != 1:
        raise AssertionError(f"the variants ran different numbers of tests: {counts}")
    return results


# -- 3. a 1 MiB inline bundle -------------------------------------------------------------------

OURS_LOAD = "ours: HarnessPersister.load_cassette"
VCRPY_LOAD = "vcrpy: FilesystemPersister.load_cassette"
OURS_SAVE = "ours: save_interactions"
VCRPY_SAVE = "vcrpy: FilesystemPersister.save_cassette"
STAGE_YAML = "↳ read + parse the cassette YAML"
STAGE_BLOB = "↳ read the blob"
STAGE_VERIFY = "↳ verify the blob (zip_digest)"
STAGE_B64 = "↳ base64-encode the blob"
STAGE_JSON = "↳ serialise the body, splice the base64 in"
COLD_LOAD = "ours, first load of the bundle in a process"


def _cold_load(path: Path) -> object:
    """Our load with the per-process blob cache emptied first: what the first cassette pays."""
    blobs._PROCESS_B64.clear()
    return HarnessPersister.load_cassette(path)


@dataclass
class BundleResults:
    repeats: int
    bundle_bytes: int
    base64_chars: int
    body_bytes: int
    ours_yaml_bytes: int
    ours_blob_bytes: int
    vcrpy_bytes: int
    seconds: dict[str, float]
    stages: dict[str, float]


def _bundle_interaction() -> tuple[Interaction, bytes]:
    rng = random.Random(SEED)
    files: dict[str, bytes | str] = {
        "SKILL.md": "---\nname: bench-blob\ndescription: one random file\n---\nUse blob.bin.\n",
        "blob.bin": rng.randbytes(MiB),
    }
    zip_bytes = build_bundle(files)
    skill = {"type": "inline", "name": "bench-blob", "description": "one random file"}
    body = Traffic().body(0)
    body["skills"] = [dict_form({**skill, "source": {"data": encode_bundle(zip_bytes)}})]
    return _interaction(0, _body_bytes(body), Traffic.response(0)), zip_bytes


def run_bundle(workdir: Path, *, repeats: int = 7, sample_s: float = 0.1) -> BundleResults:
    interaction, zip_bytes = _bundle_interaction()
    ours_path = workdir / "cassettes" / "bundle" / "ours.yaml"
    vcrpy_path = workdir / "vcrpy" / "bundle.yaml"
    save_interactions(ours_path, [interaction])
    save_vcrpy(vcrpy_path, [interaction])
    blobs = sorted((workdir / "cassettes" / "_blobs").glob("*.zip"))

    def load_ours() -> object:
        return HarnessPersister.load_cassette(ours_path)

    def load_vcrpy() -> object:
        return FilesystemPersister.load_cassette(vcrpy_path, serializer=yamlserializer)

    loads: dict[str, Callable[[], object]] = {
        OURS_LOAD: load_ours,
        VCRPY_LOAD: load_vcrpy,
        COLD_LOAD: lambda: _cold_load(ours_path),
    }
    original = interaction.request.body
    for name, load in loads.items():
        loaded = load()
        assert isinstance(loaded, tuple)
        if loaded[0][0].body != original:
            raise AssertionError(f"{name}: the loaded request body differs from the recorded one")

    seconds = time_side_by_side(loads, repeats=repeats, sample_s=sample_s)
    saves = time_side_by_side(
        {
            OURS_SAVE: lambda: save_interactions(ours_path, [interaction]),
            VCRPY_SAVE: lambda: save_vcrpy(vcrpy_path, [interaction]),
        },
        repeats=repeats,
        sample_s=sample_s,
    )
    seconds.update(saves)

    digest = zip_digest(zip_bytes)
    assert digest is not None
    blob_path = BlobStore(ours_path).path_for(digest)
    placeholder_body = json.loads(original)
    placeholder_body["skills"][0]["source"]["data"] = f"$blob:{digest}"
    b64 = base64.b64encode(zip_bytes).decode("ascii")
    stage_funcs: dict[str, Callable[[], object]] = {
        STAGE_YAML: lambda: load_yaml(ours_path.read_bytes()),
        STAGE_BLOB: blob_path.read_bytes,
        STAGE_VERIFY: lambda: zip_digest(zip_bytes),
        STAGE_B64: lambda: base64.b64encode(zip_bytes).decode("ascii"),
        STAGE_JSON: lambda: cassette_file._json_with_bundles(placeholder_body, lambda _digest: b64),
        OURS_LOAD: load_ours,
    }
    stages = time_side_by_side(stage_funcs, repeats=repeats, sample_s=sample_s)
    return BundleResults(
        repeats=repeats,
        bundle_bytes=len(zip_bytes),
        base64_chars=len(encode_bundle(zip_bytes)),
        body_bytes=len(original),
        ours_yaml_bytes=ours_path.stat().st_size,
        ours_blob_bytes=sum(p.stat().st_size for p in blobs),
        vcrpy_bytes=vcrpy_path.stat().st_size,
        seconds=seconds,
        stages=stages,
    )


# -- 4. a replay miss ---------------------------------------------------------------------------

MISS_KEY = "bench-key"
OVERLAY = ("--with", "openai==1.109.1", "--with", "httpx==0.28.1")


def _miss_cassette(directory: Path) -> Path:
    """A few recorded interactions: vlmrun's /health, and two completions with skills."""
    health = Interaction(
        RecordedRequest("GET", f"{BASE_URL}/health", {"accept": ["*/*"]}, b""),
        RecordedResponse(200, "OK", dict(RESPONSE_HEADERS), b'{"status":"ok"}'),
        0,
    )
    recorded = [health]
    for i, example in enumerate(e for e in seed_examples() if e.name in ("single", "pinned")):
        body = {"model": MODEL, "messages": example.messages, "skills": [dict_form(s) for s in example.skills]}
        recorded.append(_interaction(i + 1, _body_bytes(body), Traffic.response(i)))
    return save_interactions(directory / "cassettes" / "miss.yaml", recorded)


def _miss_call(client: Any, *, vlmrun: bool) -> None:
    example = seed_examples()[0]
    skills = [{"skill_name": "invoice-extraction", "skill_version": "20990101-ffffffff"}]  # never recorded
    if vlmrun:
        client.agent.completions.create(model=MODEL, messages=example.messages, skills=skills)
    else:
        client.chat.completions.create(model=MODEL, messages=example.messages, extra_body={"skills": skills})


def _time_miss(call: Callable[[], object]) -> tuple[float, BaseException]:
    start = time.perf_counter()
    try:
        call()
    except Exception as exc:
        elapsed = time.perf_counter() - start
        if find_vcr_miss(exc) is None:
            raise AssertionError(f"the call failed, but not with a vcrpy miss: {exc!r}") from exc
        return elapsed, exc
    raise AssertionError("the call did not miss")


def miss_child(*, contrast: bool, warm: int = 5) -> dict[str, Any]:
    """Time misses in this interpreter (whatever openai it has); JSON-able results."""
    from harness.clients import make_openai_client, make_vlmrun_client

    config = vcr.VCR()
    configure_vcr(config)
    rows: list[dict[str, Any]] = []
    report_s: list[float] = []
    with tempfile.TemporaryDirectory(prefix="bench-miss-") as tmp:
        path = _miss_cassette(Path(tmp))
        clients: list[tuple[str, Callable[[], Any], bool, bool]] = [
            (
                "openai.OpenAI via make_openai_client",
                lambda: make_openai_client(BASE_URL, MISS_KEY, asynchronous=False),
                False,
                False,
            ),
            ("vlmrun VLMRun via make_vlmrun_client", lambda: make_vlmrun_client(BASE_URL, MISS_KEY), True, False),
        ]
        if contrast:
            from vlmrun.client import VLMRun

            clients.append(
                ("vlmrun VLMRun, default retries", lambda: VLMRun(api_key=MISS_KEY, base_url=BASE_URL), True, True)
            )
        for label, make, is_vlmrun, once in clients:
            with config.use_cassette(str(path), record_mode="none"):
                client = make()  # vlmrun's constructor replays /health
                call = functools.partial(_miss_call, client, vlmrun=is_vlmrun)
                cold, error = _time_miss(call)
                warm_s = []
                for _ in range(0 if once else warm):
                    elapsed, error = _time_miss(call)
                    warm_s.append(elapsed)
                start = time.perf_counter()
                miss_from_vcr(find_vcr_miss(error))
                report_s.append(time.perf_counter() - start)
            rows.append(
                {
                    "client": label,
                    "max_retries": client.max_retries,
                    "cold_s": cold,
                    "warm_s": warm_s,
                    "exception": f"{type(error).__module__}.{type(error).__qualname__}",
                }
            )
    return {
        "openai": _version("openai"),
        "httpx": _version("httpx"),
        "python": sys.version.split()[0],
        "rows": rows,
        "report_ms": median(report_s) * 1e3,
    }


@dataclass
class MissResults:
    envs: list[dict[str, Any]]
    overlay_command: str


def _uv() -> str:
    found = os.environ.get("UV") or shutil.which("uv")
    if not found:
        raise RuntimeError("uv not found ($UV unset and no uv on PATH): needed for the openai 1.x overlay")
    return found


def _child(command: list[str]) -> dict[str, Any]:
    proc = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False, env=_pytest_env())
    lines = proc.stdout.strip().splitlines()
    if proc.returncode != 0 or not lines:
        raise RuntimeError(f"{' '.join(command)} failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(lines[-1])
    return result


def run_miss(*, contrast: bool = True) -> MissResults:
    module = ["-m", "benchmarks.bench_recording", "miss-child"]
    overlay = [_uv(), "run", "--frozen", *OVERLAY, "python", *module, *(["--contrast"] if contrast else [])]
    print("  miss: openai in this env", file=sys.stderr, flush=True)
    here = _child([sys.executable, *module])
    print(
        "  miss: openai 1.109.1 overlay" + (" (incl. ~15 s default-retries contrast)" if contrast else ""),
        file=sys.stderr,
        flush=True,
    )
    old = _child(overlay)
    shown = ["uv", "run", "--frozen", *OVERLAY, "python", *module, *(["--contrast"] if contrast else [])]
    return MissResults([here, old], " ".join(shown))


# -- everything ----------------------------------------------------------------------------------


@dataclass
class RecordingResults:
    matching: MatchResults
    replay: ReplayResults
    bundle: BundleResults
    miss: MissResults
    versions: dict[str, str]


def run(
    *,
    lookups: int = 100,
    match_repeats: int = 2,
    replay_runs: int = 4,
    bundle_repeats: int = 7,
    contrast: bool = True,
) -> RecordingResults:
    with tempfile.TemporaryDirectory(prefix="bench-recording-") as tmp:
        workdir = Path(tmp)
        print(" recording 1/4: matching at 1,000 interactions", file=sys.stderr, flush=True)
        matching = run_matching(workdir, lookups=lookups, repeats=match_repeats)
        print(" recording 2/4: scenario replay", file=sys.stderr, flush=True)
        replay = run_replay(workdir, runs=replay_runs)
        print(" recording 3/4: 1 MiB bundle cassette", file=sys.stderr, flush=True)
        bundle = run_bundle(workdir, repeats=bundle_repeats)
        print(" recording 4/4: replay misses", file=sys.stderr, flush=True)
        miss = run_miss(contrast=contrast)
    versions = {name: _version(name) for name in ("vcrpy", "pytest-recording", "pytest", "pyyaml", "openai", "vlmrun")}
    return RecordingResults(matching, replay, bundle, miss, versions)


# -- reporting ----------------------------------------------------------------------------------


def _verdict(met: bool) -> str:
    return "met" if met else "missed"


def _delta(seconds: float, noise: float = 0.3) -> str:
    """A wall-time difference, marked as noise when it is smaller than the run-to-run spread."""
    return f"{seconds:+.2f} s" + (" (noise)" if abs(seconds) < noise else "")


def _matching_md(m: MatchResults) -> list[str]:
    base = m.ms_per_lookup(VCRPY)
    ratio = {kind: base / m.ms_per_lookup(kind) for kind in MATCH_KINDS}
    # A hit scans to its match twice (can_play_response_for, then play_response), a miss scans all once:
    # with hits spread evenly, a lookup is about one comparison per recorded request.
    per_candidate = {kind: m.ms_per_lookup(kind) * 1e3 / m.interactions for kind in MATCH_KINDS}
    lines = [
        f"### 1. Matching at {m.interactions:,} interactions",
        "",
        f"An in-memory `vcr.cassette.Cassette` loaded (`Cassette.load` with each VCR's merged config) from "
        f"{m.interactions:,} recorded chat-completion POSTs to one URI, each a distinct body with skills "
        f"(seed examples in all five wire forms, inline ones with the docs' bundle; mean {m.mean_body_bytes:,.0f} "
        f"bytes). The same {m.lookups} live `vcr.request.Request`s are looked up in every pass: {m.hits} hits "
        f"spread evenly over the cassette, {m.near_misses} near misses (a recorded call plus one skill) and "
        f"{m.lookups - m.hits - m.near_misses} new calls, shuffled. A lookup is what vcrpy's httpx stub does: "
        "`can_play_response_for`, then `play_response` on a hit. *ours* = `configure_vcr` as shipped "
        f"(`MATCH_ON` = {', '.join(f'`{name}`' for name in matcher.MATCH_ON)}, and our scrub hook); "
        "*vcrpy body* = vcrpy's default `match_on` + `body`; *ours before* = the first shipped default "
        "(`method`, `path`, `query`, `vlmrun_body` raising an AssertionError that lists the differing paths), "
        "rebuilt in the benchmark for reference. Every pass gave the expected verdict on every lookup "
        f"(asserted), so all rows agree on hits and misses. Median of {m.repeats} interleaved passes; each pass "
        "loads the cassette afresh and clears the matcher's body cache, so the first lookup also computes the "
        "recorded requests' canonical keys.",
        "",
        "| matcher | ms / lookup | µs / recorded request | ms / hit (median) | ms / miss (median) "
        "| first lookup ms | cassette load s | miss error ms | + plugin miss report ms | vcrpy ms / this |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for kind in MATCH_KINDS:
        report = m.miss_report_ms(kind)
        lines.append(
            f"| {kind} | {m.ms_per_lookup(kind):.2f} | {per_candidate[kind]:.1f} | {m.ms_where(kind, True):.2f} "
            f"| {m.ms_where(kind, False):.2f} | {m.first_ms(kind):.1f} | {m.load_s(kind):.2f} "
            f"| {m.miss_error_ms(kind):.0f} | {'–' if report is None else f'{report:.0f}'} | {ratio[kind]:.1f}x |"
        )
    lines += [
        "",
        "*µs / recorded request* = ms per lookup over the cassette size: a hit scans to its match twice, a miss "
        "scans everything once, so with hits spread evenly a lookup is about one comparison per recorded "
        "request. *miss error* = constructing vcrpy's `CannotOverwriteExistingCassetteException` for a miss "
        "(it runs every matcher on every recorded request to name the closest); *plugin miss report* = "
        "`miss_from_vcr` on it (the pytest plugin's message). Both are paid once per failing test. Cassette "
        f"files: ours {m.file_bytes[OURS] / 1e6:.2f} MB, vcrpy {m.file_bytes[VCRPY] / 1e6:.2f} MB.",
        "",
        f"**Goal, ours ≥ 50x faster per lookup: {_verdict(ratio[OURS] >= 50)} ({ratio[OURS]:.1f}x, means).** "
        f"Per-lookup medians give {m.ms_where(VCRPY, True) / m.ms_where(OURS, True):.0f}x on hits and "
        f"{m.ms_where(VCRPY, False) / m.ms_where(OURS, False):.0f}x on misses: our mean carries the first "
        f"lookup's key computation ({m.first_ms(OURS):.0f} ms, below) spread over {m.lookups} lookups, which "
        f"vcrpy does not have. The first shipped matcher managed {ratio[PREVIOUS]:.1f}x. Earlier full runs "
        "while writing this gave 3.4-3.9x for that one and 46-66x (means) for a key-first matcher like today's: "
        "the result sits near 50x, not far above it.",
        "",
        "**What limits it** (cProfile of the lookup stream). vcrpy scans every recorded request on every lookup "
        "and evaluates every matcher on each, with no index and no short-circuit. With its `body` matcher a "
        f"comparison costs {per_candidate[VCRPY]:.0f} µs: two `json.loads` of ~2 KB and, when they differ, a "
        "unified diff for the AssertionError text. Ours compares precomputed keys (`vlmrun_request`: two "
        "attribute reads and a tuple comparison), so what remains is vcrpy's own machinery around that one "
        f"call, {per_candidate[OURS]:.1f} µs per recorded request: `requests_match` formats its `log.debug` "
        "f-string eagerly (two `Request.__str__`) for every non-matching candidate, `get_matchers_results` "
        "and `_evaluate_matcher` wrap the call and catch the AssertionError, plus a deep copy and our scrub "
        "hook per scan. That is the floor for any matcher: `VCR.use_cassette` hard-codes `Cassette` and its "
        "linear scan, so going further would mean an index by request key inside vcrpy, not a matcher "
        "(returning `False` instead of raising would save only the exception, a small share of the profile). "
        f"The first shipped matcher was {ratio[OURS] / ratio[PREVIOUS]:.0f}x slower because of its message: "
        "vcrpy's `_evaluate_matcher` "
        "stringifies every AssertionError at once, so each non-matching candidate paid a full `canonical_diff` "
        "and a `json.dumps` per differing value (about 80% of its lookup time in the profile).",
        "",
        f"The first lookup ({m.first_ms(OURS):.0f} ms) computes the canonical key of every recorded request it "
        "passes (`json.loads`, `canonicalize`, sha256): once per cassette load. The plugin's miss report "
        f"({m.miss_report_ms(OURS) or 0:.0f} ms) runs `differences(..., limit=1000)` on every candidate with the "
        "same method and path to pick the closest: linear in the cassette, once per failing test.",
        "",
        f"Loading: our structured YAML has one YAML node per JSON field and PyYAML's constructor runs in "
        f"Python even with libyaml, so `Cassette.load` takes {m.load_s(OURS):.2f} s against "
        f"{m.load_s(VCRPY):.2f} s for vcrpy's one-string bodies (profile: ~75% `yaml.constructor`, the rest "
        "vcrpy's `append` deep copies and our scrub hook re-parsing every loaded body). That is the price of "
        "reviewable diffs, paid once per cassette. `scrub_vcr_request` (harness/recording/scrub.py) could "
        "return early for requests carrying `_harness_loaded` (scrubbed when saved), saving the re-parse.",
        "",
    ]
    return lines


def _replay_md(r: ReplayResults) -> list[str]:
    bare = r.wall(BARE)
    copy_ratio, repo_ratio = r.wall(COPY) / bare, r.wall(IN_REPO) / bare
    lines = [
        "### 2. Replaying the scenario suite",
        "",
        f"`tests/scenarios/test_seed_examples.py` ({r.samples[BARE][0].passed} tests, replayed offline), each "
        f"variant a fresh `sys.executable -m pytest` subprocess, {r.runs} interleaved runs each (every run "
        "checked to pass). *in repo* is the suite's own command (with the project's "
        "`tests/conftest.py`); *temp copy* runs the copied test file with our cassettes and `_blobs` and no "
        f"conftest, the same layout as *bare*: our plugin disabled, the {r.converted} cassettes converted to "
        "vcrpy's format (bundles inline) and a conftest giving the same fixtures (`max_retries=0`, a dummy base "
        "URL) and `vcr_config` `match_on` = method, path, query, body. *no embedded server* is the temp "
        "copy with `--vlmrun-base-url` set to that dummy URL, so our session fixture starts nothing. "
        "*session s* is pytest's own `passed in …s` (collection and tests); the rest of the wall time is "
        "interpreter start, imports and plugin loading.",
        "",
        "| variant | wall s (median) | wall s (fastest) | session s (median) | median / bare | fastest / bare "
        "| command |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for name in REPLAY_VARIANTS:
        lines.append(
            f"| {name} | {r.wall(name):.2f} | {r.fastest(name):.2f} | {r.session(name):.2f} "
            f"| {r.wall(name) / bare:.2f}x | {r.fastest(name) / r.fastest(BARE):.2f}x | `{r.commands[name]}` |"
        )
    conformance = r.fastest(IN_REPO) - r.fastest(IN_REPO_OFF)
    server = r.fastest(COPY) - r.fastest(COPY_EXTERNAL)
    conftest = r.fastest(IN_REPO) - r.fastest(COPY)
    lines += [
        "",
        f"**Goal, ours ≤ 1.3x bare: {_verdict(copy_ratio <= 1.3)} like for like ({copy_ratio:.2f}x, medians, "
        f"temp copy against bare).** The suite's own command is {repo_ratio:.2f}x "
        f"({_verdict(repo_ratio <= 1.3)}); with conformance off {r.wall(IN_REPO_OFF) / bare:.2f}x. Fastest runs, "
        "which shared-machine noise can only slow down, give the last column.",
        "",
        f"**What limits it.** Wall time is mostly interpreter start and imports common to every variant "
        f"(pytest and the plugins installed here, schemathesis' and hypothesis' among them; openai, vlmrun, "
        f"httpx, vcrpy): bare spends {r.session(BARE):.2f} s of its {bare:.2f} s inside pytest's session. "
        f"Ours spends {r.session(COPY) - r.session(BARE):+.2f} s more there (temp copy). A cProfile of the "
        "temp-copy run without the embedded server puts the harness's own share at about 0.3 s: loading the "
        "API description once (~0.12 s; canonical matching needs its defaults, so conformance off does not "
        "save it), loading the 22 cassettes (~0.07 s, mostly YAML), `configure_vcr` per test (~0.05 s) and "
        "conformance checks (~0.04 s). Measured directly in this run, as differences of fastest runs: the "
        "embedded reference server (our default `vlmrun_base_url`, started once per session although replay "
        f"never reaches it) {_delta(server)}, conformance {_delta(conformance)}, and the project's "
        f"`tests/conftest.py` (it imports schemathesis for the property tests) {_delta(conftest)}, in repo "
        "against the temp copy. Each variant is a few ~6 s processes on a shared 2-core machine: separate "
        "full runs while writing this put the in-repo median ratio anywhere from 0.97x to 1.34x, so "
        "differences under ~0.3 s are noise (marked so above) and the goal verdict, not the breakdown, is the "
        "robust result.",
        "",
    ]
    return lines


def _bundle_md(b: BundleResults) -> list[str]:
    s = b.seconds
    vcrpy_load = s[VCRPY_LOAD]
    size_share = b.ours_yaml_bytes / b.vcrpy_bytes
    load_ratio = s[OURS_LOAD] / vcrpy_load
    cold_ratio = s[COLD_LOAD] / vcrpy_load
    lines = [
        "### 3. A cassette with a 1 MiB inline bundle",
        "",
        f"One interaction whose request carries a bundle built with `build_bundle` (SKILL.md + 1 MiB of random "
        f"bytes, stored): {b.bundle_bytes:,} zip bytes, {b.base64_chars:,} base64 characters, a "
        f"{b.body_bytes:,}-byte request body. Saved with our persister (`save_interactions`: YAML + blob) and "
        "with vcrpy's `FilesystemPersister` + YAML serializer; every load below is checked to give back the "
        f"recorded body byte for byte. Times: median of {b.repeats} interleaved samples of ~0.1 s batches.",
        "",
        "| | ours | vcrpy | ours / vcrpy |",
        "|---|---:|---:|---:|",
        f"| cassette file bytes | {b.ours_yaml_bytes:,} | {b.vcrpy_bytes:,} | {size_share:.2%} |",
        f"| blob bytes (once per bundle, shared by every cassette under the same `cassettes/`) "
        f"| {b.ours_blob_bytes:,} | – | {(b.ours_yaml_bytes + b.ours_blob_bytes) / b.vcrpy_bytes:.1%} with it |",
        f"| load ms: `load_cassette`, bundle already verified in this process | {s[OURS_LOAD] * 1e3:.2f} "
        f"| {vcrpy_load * 1e3:.2f} | {load_ratio:.2f}x |",
        f"| load ms: {COLD_LOAD} (blob read, verified, base64-encoded) | {s[COLD_LOAD] * 1e3:.2f} "
        f"| {vcrpy_load * 1e3:.2f} | {cold_ratio:.2f}x |",
        f"| save ms (ours: atomic write + fsync, blob already present) | {s[OURS_SAVE] * 1e3:.2f} "
        f"| {s[VCRPY_SAVE] * 1e3:.2f} | {s[OURS_SAVE] / s[VCRPY_SAVE]:.2f}x |",
        "",
        f"**Goals: cassette ≤ 5% of vcrpy's: {_verdict(size_share <= 0.05)} ({size_share:.2%}). Load ≤ 0.5x "
        f"vcrpy's: {_verdict(cold_ratio <= 0.5)} on the first load of a bundle in a process ({cold_ratio:.2f}x), "
        f"{_verdict(load_ratio <= 0.5)} on every later one ({load_ratio:.2f}x).**",
        "",
        "Stages of a first load, each timed alone the same way (ms, share of our warm load):",
        "",
        "| stage | ms | share |",
        "|---|---:|---:|",
    ]
    whole = b.stages[OURS_LOAD]
    for name, value in b.stages.items():
        lines.append(f"| {name} | {value * 1e3:.2f} | {value / whole:.0%} |")
    lines += [
        "",
        "**What limits it.** vcrpy's load is libyaml scanning one 1.4 MB quoted scalar. Ours reads a "
        f"{b.ours_yaml_bytes / 1e3:.1f} KB YAML file and splices the bundle's base64 into the small serialised "
        "body (base64 needs no JSON escaping, so the bytes are identical). The first load of a bundle in a "
        "process also reads the blob, verifies it against its name (`zip_digest`) and base64-encodes it; the "
        "verified base64 is then kept per process, keyed by (blob path, size, mtime_ns), so every later "
        "cassette that references the bundle skips those stages. The two changes came from an earlier run of "
        "this benchmark, when `json.dumps` of the restored 1.4 MB body was the largest stage (1.01x vcrpy).",
        "",
    ]
    return lines


def _miss_md(m: MissResults) -> list[str]:
    lines = [
        "### 4. How long a replay miss takes to fail",
        "",
        "A cassette of three recorded interactions (vlmrun's `GET /health` and two completions with skills) "
        "under `vcr.use_cassette(..., record_mode='none')` with `configure_vcr`; the call asks for a skill "
        "version never recorded. Seconds from the call to the exception (checked to be or to wrap vcrpy's "
        "`CannotOverwriteExistingCassetteException`). *first* is the first miss of the client (lazy imports "
        "inside openai included); *warm* is the median of 5 more. openai 1.x runs in an overlay environment: "
        f"`{m.overlay_command}`.",
        "",
        "| openai | client | max_retries | first miss s | warm miss s | exception raised |",
        "|---|---|---:|---:|---:|---|",
    ]
    ours_worst = 0.0
    for env in m.envs:
        for row in env["rows"]:
            warm = f"{median(row['warm_s']):.4f}" if row["warm_s"] else "– (1 run)"
            lines.append(
                f"| {env['openai']} (httpx {env['httpx']}) | {row['client']} | {row['max_retries']} "
                f"| {row['cold_s']:.4f} | {warm} | `{row['exception']}` |"
            )
            if row["max_retries"] == 0:
                ours_worst = max(ours_worst, row["cold_s"], *row["warm_s"])
    report = ", ".join(f"{env['report_ms']:.1f} ms (openai {env['openai']})" for env in m.envs)
    lines += [
        "",
        f"The plugin's miss report (`miss_from_vcr`, naming the differing fields) adds {report}.",
        "",
        f"**Goal, ours < 1 s: {_verdict(ours_worst < 1.0)}** (slowest miss of ours, first misses included: "
        f"{ours_worst:.3f} s).",
        "",
        "**What limits it.** With `max_retries=0` a miss is one trip through the client into vcrpy's stub, "
        "a scan of the few recorded requests and the exception's closest-match search; openai 1.x wraps it in "
        "`APIConnectionError` without retrying, openai 3.x lets vcrpy's exception through. The first miss "
        "includes the client's one-off work: on openai 1.x the first `client.chat` access imports the whole "
        "`openai.resources` package (~230 modules; cProfile), which is most of its first miss. vlmrun's default "
        "`max_retries=5` turns the same miss into openai's exponential "
        "backoff (0.5 s doubling to the 8 s cap, with jitter) before the error surfaces, which is why the "
        "harness builds every client with `max_retries=0`.",
        "",
    ]
    return lines


def to_markdown(results: RecordingResults) -> str:
    versions = ", ".join(f"{k} {v}" for k, v in results.versions.items())
    lines = [
        "## Recording and replay (against vcrpy and pytest-recording)",
        "",
        f"Versions: {versions}. Ratios are measured side by side in this run; absolute figures move with the "
        "shared machine's load.",
        "",
        *_matching_md(results.matching),
        *_replay_md(results.replay),
        *_bundle_md(results.bundle),
        *_miss_md(results.miss),
    ]
    return "\n".join(lines)


# -- the miss child -------------------------------------------------------------------------------


def _child_main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_recording")
    parser.add_argument("what", choices=("miss-child",))
    parser.add_argument("--contrast", action="store_true", help="also time vlmrun's default-retries client once")
    args = parser.parse_args(argv)
    print(json.dumps(miss_child(contrast=args.contrast)))
    return 0


if __name__ == "__main__":
    raise SystemExit(_child_main(sys.argv[1:]))
