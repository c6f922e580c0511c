"""What every benchmark shares: interleaved timing, realistic traffic, vcrpy's format, child processes.

Kept in one place so each benchmark module holds only its own question, and so the
methodology (interleaved repeats, medians with their spread, peers measured in the same
run) is written once.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import random
import shutil
import subprocess
import sys
import sysconfig
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from statistics import median
from typing import Any, TypeVar

from vcr.persisters.filesystem import FilesystemPersister
from vcr.request import Request
from vcr.serializers import yamlserializer

from harness.docs_examples import MODEL, PINNED_VERSION, WIRE_FORMS, seed_examples
from harness.recording.cassette_file import compact_json
from harness.recording.cassette_io import to_vcr
from harness.recording.interaction import Interaction, RecordedRequest, RecordedResponse

ROOT = Path(__file__).resolve().parent.parent
SEED = 20260224
KiB = 1024
MiB = 1024 * KiB
BASE_URL = "http://127.0.0.1:33337/v1"
COMPLETIONS_URI = f"{BASE_URL}/openai/chat/completions"
REPRODUCE = "uv run --frozen python -m benchmarks"
PYCACHE = ROOT / ".bench-peers" / "pycache"
T = TypeVar("T")


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def version(name: str) -> str:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def verdict(met: bool) -> str:
    return "met" if met else "missed"


@dataclass(frozen=True)
class Headline:
    """One row of the summary table at the top of RESULTS.md (and the README's Measured section)."""

    bench: str  # "P1"
    what: str
    goal: str
    figure: str
    ratio: str
    met: bool | None  # None: no goal, reported for information

    @property
    def status(self) -> str:
        return "–" if self.met is None else verdict(self.met)

    @property
    def command(self) -> str:
        return f"`{REPRODUCE} {self.bench}`"


# -- timing -------------------------------------------------------------------------------------


def rotated(items: Sequence[T], rep: int) -> list[T]:
    """`items` started at position `rep`: interleaved repeats so no variant always runs first."""
    k = rep % len(items)
    return [*items[k:], *items[:k]]


Batch = Callable[[int], float]
"""Runs its operation n times and returns the seconds that took (possibly in another process)."""


def local_batch(func: Callable[[], object]) -> Batch:
    def batch(n: int) -> float:
        start = time.perf_counter()
        for _ in range(n):
            func()
        return time.perf_counter() - start

    return batch


def time_batches(batches: Mapping[str, Batch], *, repeats: int, sample_s: float) -> dict[str, list[float]]:
    """Seconds per call of each operation, one sample per repeat, samples interleaved.

    Each sample is a batch sized from a warm-up to last about ``sample_s``; the order of the
    operations rotates between repeats so shared-machine noise hits all alike.
    """
    loops: dict[str, int] = {}
    for name, batch in batches.items():
        batch(1)  # warm-up
        once = max(batch(1), 1e-7)
        loops[name] = max(1, round(sample_s / once))
    samples: dict[str, list[float]] = {name: [] for name in batches}
    for rep in range(repeats):
        for name in rotated(list(batches), rep):
            samples[name].append(batches[name](loops[name]) / loops[name])
    return samples


def time_side_by_side(funcs: Mapping[str, Callable[[], object]], *, repeats: int, sample_s: float) -> dict[str, float]:
    """Median seconds per call of each in-process function (see `time_batches`)."""
    samples = time_batches({k: local_batch(f) for k, f in funcs.items()}, repeats=repeats, sample_s=sample_s)
    return {name: median(values) for name, values in samples.items()}


def spread(values: Sequence[float], scale: float = 1.0, digits: int = 2) -> str:
    """`median (min–max)` of samples, scaled (e.g. 1e3 for ms)."""
    v = [x * scale for x in values]
    return f"{median(v):.{digits}f} ({min(v):.{digits}f}–{max(v):.{digits}f})"


# -- realistic traffic --------------------------------------------------------------------------


def request_headers(length: int, *, authorization: str = "<redacted>") -> dict[str, list[str]]:
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
LIVE_KEY = "Bearer sk-bench-0123456789abcdef"


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


def body_bytes(body: Mapping[str, Any]) -> bytes:
    return compact_json(body).encode()


def make_interaction(index: int, body: bytes, response: bytes) -> Interaction:
    request = RecordedRequest("POST", COMPLETIONS_URI, request_headers(len(body)), body)
    return Interaction(request, RecordedResponse(200, "OK", dict(RESPONSE_HEADERS), response), index)


def live_headers(body: bytes) -> dict[str, str]:
    """The headers of a live request, real-looking key included (each recorder scrubs it its own way)."""
    return {k: v[0] for k, v in request_headers(len(body), authorization=LIVE_KEY).items()}


def live_request(body: bytes) -> Request:
    """A request as vcrpy's httpx stub builds it."""
    return Request("POST", COMPLETIONS_URI, body, live_headers(body))


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


def peer_interaction(interaction: Interaction) -> dict[str, Any]:
    """An interaction as JSON for a peer's child process (bodies as latin-1 text, byte for byte)."""
    request, response = interaction.request, interaction.response
    return {
        "method": request.method,
        "uri": request.uri,
        "headers": {**request.headers, "authorization": [LIVE_KEY]},  # the peer scrubs it itself
        "body": request.body.decode("latin-1"),
        "status": response.status,
        "response_headers": response.headers,
        "response_body": response.body.decode("latin-1"),
    }


# -- child processes ----------------------------------------------------------------------------


def clean_env() -> dict[str, str]:
    """This environment minus what would point a child at a server, key or plugin set of ours.

    Children cache bytecode, as a user's environment does (pip compiles on install, Python caches
    on import): the benchmark machine sets `PYTHONDONTWRITEBYTECODE`, under which every child
    would compile every module it imports from source, and a start-up figure would time the
    compiler. The cache lives under `.bench-peers/pycache`, out of the tree and the venv; the
    first child to import a module pays its compile once per machine."""
    drop = {"VLMRUN_BASE_URL", "VLMRUN_API_KEY", "PYTEST_ADDOPTS", "PYTEST_PLUGINS", "PYTHONDONTWRITEBYTECODE"}
    env = {k: v for k, v in os.environ.items() if k not in drop}
    env["PYTHONPYCACHEPREFIX"] = str(PYCACHE)
    return env


def compile_for_children() -> None:
    """Fill the children's bytecode cache (`clean_env`) for the standard library, this environment and
    the project, so no timed child compiles a module (pytest still rewrites its plugins' and tests'
    asserts on its first run: benchmarks timing pytest runs one untimed run of each command first)."""
    paths = sorted({sysconfig.get_paths()["stdlib"], sysconfig.get_paths()["purelib"], str(ROOT / "harness")})
    command = [sys.executable, "-m", "compileall", "-q", "-j", "0", *paths]
    subprocess.run(command, env=clean_env(), capture_output=True, check=False, timeout=600)


def find_uv() -> str:
    found = os.environ.get("UV") or shutil.which("uv")
    if not found:
        raise RuntimeError("uv not found ($UV unset and no uv on PATH): the peers and overlays are built with uv")
    return found


def json_child(command: list[str], *, timeout: float = 600.0, cwd: Path = ROOT) -> dict[str, Any]:
    """Run a child that prints one JSON object as its last stdout line; that object."""
    proc = subprocess.run(
        command, cwd=cwd, capture_output=True, text=True, check=False, env=clean_env(), timeout=timeout
    )
    lines = proc.stdout.strip().splitlines()
    if proc.returncode != 0 or not lines:
        raise RuntimeError(f"{' '.join(command)} failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(lines[-1])
    return result
