"""Bundle digest throughput: `digest_b64` against the least work that gives the same digest.

Every recorded request is matched by bundle digest, so the uncached path runs once per
distinct bundle and the cached path once per request. The question is what the safety
checks and canonicalisation cost over the minimum: base64-decode, inflate or copy each
entry, sha256 each entry, hash the sorted lines. Both baselines are checked to produce the
same digest as ours, so all columns do the same work on the same bytes.
"""

from __future__ import annotations

import base64
import hashlib
import io
import random
import struct
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from statistics import median

from benchmarks.common import SEED, Headline, KiB, MiB, time_side_by_side, verdict
from harness.bundles import build_bundle, canonical_digest, digest_b64, encode_bundle, read_zip_entries
from harness.bundles.decode import decode_base64
from harness.bundles.digest import clear_digest_cache
from harness.docs_examples import inline_bundle

_EOCD = struct.Struct("<4s4H2LH")  # end of central directory
_CDIR = struct.Struct("<4s6H3L5H2L")  # central directory file header
_LOCAL = struct.Struct("<4s5H3L2H")  # local file header

Timed = Callable[[], object]


# -- inputs -------------------------------------------------------------------------


@dataclass(frozen=True)
class Input:
    name: str
    what: str
    data: str
    entries: int
    uncompressed: int


def _text(rng: random.Random, size: int) -> bytes:
    """Word-like printable text (lines of pseudo-random words), so deflate behaves as on prose/code."""
    vocab = ["".join(rng.choices("abcdefghijklmnopqrstuvwxyz_0123456789", k=rng.randint(2, 10))) for _ in range(2000)]
    out = bytearray()
    while len(out) < size:
        out += (" ".join(rng.choices(vocab, k=rng.randint(4, 14))) + "\n").encode()
    return bytes(out[:size])


def make_inputs() -> list[Input]:
    """The brief's three shapes; the 1 MiB ones in both zip methods."""
    rng = random.Random(SEED)
    text_files = {f"resources/doc_{i:02d}.md": _text(rng, 20 * KiB) for i in range(50)}
    text_files["SKILL.md"] = b"---\nname: bench-text\ndescription: fifty text files\n---\nbody\n"
    blob = {"SKILL.md": b"---\nname: bench-blob\ndescription: one random file\n---\n", "blob.bin": rng.randbytes(MiB)}
    docs = inline_bundle()
    out = [Input("docs inline", "SKILL.md + schema.json, stored", docs, 2, sum(map(len, _entries(docs).values())))]
    for label, files in (("50 text files", text_files), ("1 random file", blob)):
        for method in ("stored", "deflated"):
            data = encode_bundle(build_bundle(files, compression=method))
            size = sum(len(v) for v in files.values())
            out.append(
                Input(f"{label}, {method}", f"{len(files)} entries, {size / MiB:.2f} MiB", data, len(files), size)
            )
    return out


def _entries(data: str) -> dict[str, bytes]:
    return read_zip_entries(decode_base64(data))


# -- the three implementations ------------------------------------------------------------


def ours_uncached(data: str) -> str:
    clear_digest_cache()
    return digest_b64(data)


def _final(lines: list[tuple[bytes, str]]) -> str:
    outer = hashlib.sha256()
    for path, hexdigest in sorted(lines):
        outer.update(hexdigest.encode("ascii") + b"  " + path + b"\n")
    return "sha256:" + outer.hexdigest()


def raw_offsets(data: str) -> str:
    """The floor: no validation, entries located from the central directory with struct.

    Assumes a well-formed archive without zip64 or an archive comment (what
    `build_bundle` writes); a real server could not.
    """
    raw = base64.b64decode(data)
    view = memoryview(raw)
    _, _, _, _, count, _, cd_offset, _ = _EOCD.unpack_from(raw, len(raw) - _EOCD.size)
    lines: list[tuple[bytes, str]] = []
    pos = cd_offset
    for _ in range(count):
        head = _CDIR.unpack_from(raw, pos)
        method, csize, name_len, extra_len, comment_len, local = (
            head[4],
            head[8],
            head[10],
            head[11],
            head[12],
            head[16],
        )
        path = raw[pos + _CDIR.size : pos + _CDIR.size + name_len]
        pos += _CDIR.size + name_len + extra_len + comment_len
        lhead = _LOCAL.unpack_from(raw, local)
        start = local + _LOCAL.size + lhead[9] + lhead[10]
        chunk = view[start : start + csize]
        if method == zipfile.ZIP_DEFLATED:
            inflater = zlib.decompressobj(-15)
            content = inflater.decompress(chunk) + inflater.flush()
        else:
            content = bytes(chunk)
        lines.append((path, hashlib.sha256(content).hexdigest()))
    return _final(lines)


def raw_zipfile(data: str) -> str:
    """The obvious stdlib version: zipfile reads (with its CRC check), no safety checks."""
    lines: list[tuple[bytes, str]] = []
    with zipfile.ZipFile(io.BytesIO(base64.b64decode(data))) as zf:
        for info in zf.infolist():
            lines.append((info.filename.encode(), hashlib.sha256(zf.read(info)).hexdigest()))
    return _final(lines)


# -- measuring ----------------------------------------------------------------------------


@dataclass
class Row:
    input: Input
    seconds: dict[str, float]

    def mb_s(self, column: str) -> float:
        return len(self.input.data) / self.seconds[column] / 1e6


@dataclass
class Stages:
    """Where one uncached call spends its time, stage by stage (public pieces timed alone)."""

    input: Input
    seconds: dict[str, float]


@dataclass
class DigestResults:
    repeats: int
    rows: list[Row] = field(default_factory=list)
    stages: list[Stages] = field(default_factory=list)


KEY = "cache key: sha256 of the text"
B64 = "↳ base64.b64decode(validate=True)"
WHOLE = "digest_b64 uncached, whole"


def _stages(item: Input, *, repeats: int, sample_s: float) -> Stages:
    data = item.data
    raw = decode_base64(data)
    files = read_zip_entries(raw)
    funcs: dict[str, Timed] = {
        KEY: lambda: hashlib.sha256(data.encode("utf-8", "surrogatepass")).digest(),
        "decode_base64": lambda: decode_base64(data),
        B64: lambda: base64.b64decode(data, validate=True),
        "read_zip_entries": lambda: read_zip_entries(raw),
        "canonical_digest": lambda: canonical_digest(files),
        WHOLE: lambda: ours_uncached(data),
    }
    return Stages(item, time_side_by_side(funcs, repeats=repeats, sample_s=sample_s))


def _row(item: Input, *, repeats: int, sample_s: float) -> Row:
    data = item.data
    expected = ours_uncached(data)
    for check in (raw_offsets, raw_zipfile):
        if check(data) != expected:
            raise AssertionError(f"{check.__name__} disagrees with digest_b64 on {item.name}")
    funcs: dict[str, Timed] = {
        "ours": lambda: ours_uncached(data),
        "raw offsets": lambda: raw_offsets(data),
        "raw zipfile": lambda: raw_zipfile(data),
    }
    seconds = time_side_by_side(funcs, repeats=repeats, sample_s=sample_s)
    # "ours" clears the cache, so the cached path gets its own pass after one priming call.
    clear_digest_cache()
    digest_b64(data)
    seconds.update(time_side_by_side({"ours cached": lambda: digest_b64(data)}, repeats=repeats, sample_s=sample_s))
    return Row(item, seconds)


def run(*, repeats: int = 9, sample_s: float = 0.05) -> DigestResults:
    """Measure every input; stage breakdowns for the ~1 MiB ones."""
    results = DigestResults(repeats=repeats)
    for item in make_inputs():
        results.rows.append(_row(item, repeats=repeats, sample_s=sample_s))
        if item.uncompressed >= MiB // 2:
            results.stages.append(_stages(item, repeats=repeats, sample_s=sample_s))
    return results


# -- reporting ----------------------------------------------------------------------------


def to_markdown(results: DigestResults) -> str:
    lines = [
        "## P4. Bundle canonical digest (`digest_b64`) against raw inflate + sha256",
        "",
        "Reproduce: `uv run --frozen python -m benchmarks P4`. Peer: the least work that gives the same "
        "digest (no library does this job), on the same bytes in the same run.",
        "",
        f"Median of {results.repeats} interleaved samples, each a batch of calls lasting about 50 ms. "
        "MB/s is 10^6 characters of base64 input per second. *ours* = `digest_b64` with the cache cleared "
        "before each call (the clear, about 0.3 µs, is inside the timing); *raw offsets* = `base64.b64decode` "
        "+ entries found from the central directory with `struct` (no zipfile) + `zlib.decompressobj(-15)` "
        "or a plain copy + `sha256` per entry + final hash; "
        "*raw zipfile* = the same through `zipfile.ZipFile.read` (adds zipfile's CRC-32 check). Both raw "
        "versions produce the same digest as ours, checked before timing.",
        "",
        "| bundle | base64 chars | ours ms | ours MB/s | raw offsets MB/s | raw zipfile MB/s | ours / raw offsets "
        "| ours / raw zipfile | cached µs | cached MB/s |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in results.rows:
        s = row.seconds
        lines.append(
            f"| {row.input.name} ({row.input.what}) | {len(row.input.data):,} | {s['ours'] * 1e3:.3f} "
            f"| {row.mb_s('ours'):.0f} | {row.mb_s('raw offsets'):.0f} | {row.mb_s('raw zipfile'):.0f} "
            f"| {s['ours'] / s['raw offsets']:.2f}x | {s['ours'] / s['raw zipfile']:.2f}x "
            f"| {s['ours cached'] * 1e6:.1f} | {row.mb_s('ours cached'):.0f} |"
        )
    if results.stages:
        lines += [
            "",
            "Where the uncached time goes on the ~1 MiB bundles: ms per stage (share of the whole call), each "
            "stage timed alone with the same method; ↳ rows are parts of `decode_base64`.",
            "",
            "| stage | " + " | ".join(st.input.name for st in results.stages) + " |",
            "|---|" + "---:|" * len(results.stages),
        ]
        for name in results.stages[0].seconds:
            cells = [
                f"{st.seconds[name] * 1e3:.2f} ({st.seconds[name] / st.seconds[WHOLE]:.0%})" for st in results.stages
            ]
            lines.append(f"| {name} | " + " | ".join(cells) + " |")
    lines += ["", *_notes(results)]
    return "\n".join(lines) + "\n"


GOAL = 1.5


def big_ratio(results: DigestResults) -> float:
    """Median of ours / raw offsets over the ~1 MiB bundles: the safety checks' price."""
    return median(
        r.seconds["ours"] / r.seconds["raw offsets"] for r in results.rows if r.input.uncompressed >= MiB // 2
    )


def headlines(results: DigestResults) -> list[Headline]:
    ratio = big_ratio(results)
    big = [r for r in results.rows if r.input.uncompressed >= MiB // 2]
    return [
        Headline(
            "P4",
            "bundle digest, ~1 MiB bundles, uncached",
            f"≤ {GOAL}x raw inflate + sha256",
            f"{min(r.mb_s('ours') for r in big):.0f}–{max(r.mb_s('ours') for r in big):.0f} MB/s of base64",
            f"{ratio:.2f}x the raw floor (median of 4 bundles)",
            ratio <= GOAL,
        )
    ]


def _notes(results: DigestResults) -> list[str]:
    """What limits the figures, with this run's numbers."""
    big = {r.input.name: r for r in results.rows if r.input.uncompressed >= MiB // 2}
    if not big or not results.stages:
        return []
    ratios = [r.seconds["ours"] / r.seconds["raw offsets"] for r in big.values()]

    def share(name: str) -> str:
        return f"{median(st.seconds[name] / st.seconds[WHOLE] for st in results.stages):.0%}"

    small = results.rows[0]
    ratio = big_ratio(results)
    return [
        f"**Goal, ≤ {GOAL}x the floor on ~1 MiB bundles: {verdict(ratio <= GOAL)} ({ratio:.2f}x, median).**",
        "",
        f"**What limits it.** On the ~1 MiB bundles ours is {min(ratios):.1f}-{max(ratios):.1f}x the floor. The "
        "floor itself is mostly `binascii.a2b_base64` (a few hundred MB/s on CPython 3.11; "
        f"{share(B64)} of ours, median over those bundles) plus inflate for deflated entries. A first run "
        "found a second full pass over the text (an alphabet regex, ~40% of ours, 2.7-3.0x the floor); it now "
        "runs only after a decode error, to word the message, since `b64decode(validate=True)` already refuses "
        f"every character it looked for. What remains over the floor: the cache key, a sha256 of the whole text "
        f"({share(KEY)}), the canonical-padding check, and zipfile reading (chunked copies, CRC-32).",
        "",
        f"The docs bundle ({len(small.input.data)} characters) is all fixed cost: "
        f"{small.seconds['ours'] * 1e6:.0f} µs, mostly `zipfile.ZipFile` setup and per-entry opens in "
        "`read_zip_entries` (cProfile), so its ratio to the struct-offsets floor is large but its absolute cost "
        "is not. The cached path is one sha256 of the text plus an LRU lookup: bounded by OpenSSL's sha256 on "
        "the encoded text, whatever the zip holds.",
    ]
