"""S1's summary rows, tables and plot, from `ScaleResults`."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from benchmarks.common import (
    ROOT,
    Headline,
    log,
    spread,
)
from benchmarks.scale_e2e import (
    E2E_GROWTH_GOAL,
    E2E_REPLAY_GOAL,
    FASTEST,
    MEDIAN,
    PROJECT_ENV,
    SESSION,
    USER_INSTALL,
    E2EResults,
    Runs,
)
from benchmarks.scale_sizes import (
    CASSETTER,
    COLD,
    KINDS,
    OURS,
    SUITE_CALLS,
    TIMED,
    VCRPY,
    ScaleResults,
    SizeResult,
)
from harness.recording import matcher

REPRODUCE_S1 = "uv run --frozen python -m benchmarks S1"
REPRODUCE_PLOT = "uv run --frozen --with matplotlib python -m benchmarks.bench_scale"


def plot(results: ScaleResults, path: Path) -> str:
    """Draw per-lookup time and load time against N (log-log); skipped without matplotlib."""
    try:
        matplotlib: Any = importlib.import_module("matplotlib")
        matplotlib.use("Agg")
        pyplot: Any = importlib.import_module("matplotlib.pyplot")
    except ImportError:
        message = f"not drawn: matplotlib is not importable here (`{REPRODUCE_PLOT}` draws it)"
        log(f"  S1: plot {message}")
        return message
    figure, (left, right) = pyplot.subplots(1, 2, figsize=(10, 4))
    labels = {OURS: "ours (load cache filled)", COLD: COLD, VCRPY: VCRPY, CASSETTER: CASSETTER}
    styles = {OURS: ("o", "C0", "-"), COLD: ("D", "C0", "--"), VCRPY: ("s", "C1", "-"), CASSETTER: ("^", "C2", "-")}
    panels: list[tuple[Any, Sequence[str], Callable[[SizeResult, str], float]]] = [
        (left, KINDS, SizeResult.ms),
        (right, TIMED, SizeResult.load_s),
    ]
    for axes, kinds, value in panels:
        for kind in kinds:
            loaded = [s for s in results.sizes if s.ok(kind)]
            ns = [s.n for s in loaded]
            marker, color, line = styles[kind]
            axes.plot(
                ns, [value(s, kind) for s in loaded], marker=marker, color=color, linestyle=line, label=labels[kind]
            )
            failed = [s.n for s in results.sizes if not s.ok(kind)]
            if loaded and failed:
                note = f"{kind.split()[0]} cannot load {failed[0]:,}"
                axes.annotate(
                    note, (ns[-1], value(loaded[-1], kind)), textcoords="offset points", xytext=(6, -10), fontsize=7
                )
    left.set(xscale="log", yscale="log", xlabel="calls in the cassette (N)", ylabel="ms per replay lookup")
    left.set_title("replay lookup (mean over N calls in order)", fontsize=10)
    right.set(xscale="log", yscale="log", xlabel="calls in the cassette (N)", ylabel="s to load the cassette")
    right.set_title("cassette load", fontsize=10)
    for axes in (left, right):
        axes.grid(True, which="both", alpha=0.3)
        axes.legend(fontsize=8)
    figure.suptitle("S1: one cassette of N distinct chat completions (same run)", fontsize=11)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=100)
    pyplot.close(figure)
    log(f"  S1: plot written to {path}")
    try:
        return str(path.relative_to(ROOT))
    except ValueError:
        return str(path)


# -- reporting ----------------------------------------------------------------------------------


def _cassetter_at(r: ScaleResults, big: SizeResult, ratio: Callable[[SizeResult], float], unit: str) -> str:
    """`ratio` against cassetter at N, or at the largest N it could load when it cannot load N."""
    if big.ok(CASSETTER):
        return f"{ratio(big):.1f}x {unit}"
    loaded = [s for s in r.sizes if s.ok(CASSETTER)]
    at = f" ({ratio(loaded[-1]):.1f}x {unit} at {loaded[-1].n:,})" if loaded else ""
    return f"cassetter cannot load it{at}"


def headlines(r: ScaleResults) -> list[Headline]:
    big = r.size(max(s.n for s in r.sizes))
    base = r.size(min(s.n for s in r.sizes))
    suite = r.suites[-1]
    e = r.e2e
    ours = big.ms(OURS)
    return [
        Headline(
            "S1",
            f"replay lookup, one cassette of {base.n:,} to {big.n:,} calls",
            "ahead of cassetter at every size (flat with N)",
            f"{ours * 1e3:.0f} µs/lookup at {big.n:,} ({base.ms(OURS) * 1e3:.0f} µs at {base.n:,})",
            f"{big.ms(VCRPY) / ours:,.0f}x faster than vcrpy body at {big.n:,}; cassetter's time / ours "
            f"{versus_cassetter(r)}",
            not behind_cassetter(r),
        ),
        Headline(
            "S1",
            f"cassette load, {big.n:,} calls",
            "–",
            f"{big.load_s(OURS):.3f} s from the load cache, {big.load_s(COLD):.2f} s on a first run",
            f"{big.load_s(OURS) / big.load_s(VCRPY):.2f}x vcrpy's, "
            + _cassetter_at(r, big, lambda s: s.load_s(OURS) / s.load_s(CASSETTER), "cassetter's")
            + f"; first run {big.load_s(COLD) / big.load_s(VCRPY):.2f}x vcrpy's, "
            + _cassetter_at(r, big, lambda s: s.load_s(COLD) / s.load_s(CASSETTER), "cassetter's"),
            None,
        ),
        Headline(
            "S1",
            f"load a suite of {suite.cassettes:,} cassettes of {SUITE_CALLS} calls",
            "–",
            f"{suite.total_s(OURS):.2f} s from the load cache, {suite.total_s(COLD):.2f} s on a first run",
            f"{suite.total_s(OURS) / suite.total_s(VCRPY):.2f}x vcrpy's, "
            f"{suite.total_s(OURS) / suite.total_s(CASSETTER):.1f}x cassetter's; first run "
            f"{suite.total_s(COLD) / suite.total_s(VCRPY):.2f}x vcrpy's, "
            f"{suite.total_s(COLD) / suite.total_s(CASSETTER):.1f}x cassetter's",
            None,
        ),
        Headline(
            "S1",
            f"pytest replay per call, {e.large:,} vs {e.small} calls in one test, {USER_INSTALL}",
            f"≤ {E2E_GROWTH_GOAL}x",
            f"{e.per_call_ms(e.cached, e.large):.2f} ms/call ({e.per_call_ms(e.cached, e.small):.2f} at {e.small}), "
            "load cache on, fastest runs",
            f"{e.growth(e.cached):.2f}x ({e.growth(e.cached, MEDIAN):.2f}x medians, "
            f"{e.growth(e.cached, SESSION):.2f}x session times); first run / no cache "
            f"{e.growth(e.replay):.2f}x" + _in_project(r, lambda p: p.growth(p.cached)),
            e.growth(e.cached) <= E2E_GROWTH_GOAL,
        ),
        Headline(
            "S1",
            f"pytest replay vs recording, {e.large:,} calls, {USER_INSTALL}",
            f"≤ {E2E_REPLAY_GOAL}x",
            f"{e.seconds(e.cached, e.large):.1f} s replay with the load cache "
            f"({e.seconds(e.replay, e.large):.1f} s without), {e.seconds(e.record, e.large):.1f} s recording "
            "(fastest)",
            f"{e.replay_vs_record(e.cached):.2f}x wall ({e.net_replay_vs_record(e.cached):.2f}x per call net of "
            f"start-up); first run / no cache {e.replay_vs_record(e.replay):.2f}x "
            f"({e.net_replay_vs_record(e.replay):.2f}x)" + _in_project(r, lambda p: p.replay_vs_record(p.cached)),
            e.replay_vs_record(e.cached) <= E2E_REPLAY_GOAL,
        ),
    ]


def _in_project(r: ScaleResults, figure: Callable[[E2EResults], float]) -> str:
    """The same ratio in this project's environment, for information."""
    return f"; {PROJECT_ENV}: {figure(r.e2e_project):.2f}x" if r.e2e_project is not None else ""


def lookup_table(r: ScaleResults) -> list[str]:
    lines = [
        "| N | ours ms / lookup (all N timed) | ours first lookup ms | ours later lookups µs (median) "
        "| vcrpy body ms / lookup (timed) | cassetter ms / lookup (timed) | cassetter / ours | vcrpy / ours "
        "| vcrpy, all N in order (est.) |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for s in r.sizes:
        ours = s.ms(OURS)
        theirs = "cannot load | –"
        if s.ok(CASSETTER):
            theirs = f"{s.ms(CASSETTER):.2f} ({s.timed(CASSETTER)}) | {s.ms(CASSETTER) / ours:.1f}x"
        lines.append(
            f"| {s.n:,} | {spread(s.per_pass_ms(OURS), digits=3)} | {s.first_ms(OURS):.1f} "
            f"| {s.steady_us(OURS):.0f} | {s.ms(VCRPY):.2f} ({s.timed(VCRPY)}) "
            f"| {theirs} | {s.ms(VCRPY) / ours:,.1f}x "
            f"| {duration(s.ms(VCRPY) * s.n / 1e3)} |"
        )
    return lines


def duration(seconds: float) -> str:
    if seconds < 1:
        return f"{seconds * 1e3:.0f} ms"
    if seconds < 120:
        return f"{seconds:.1f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def _loads(s: SizeResult, kind: str) -> str:
    return spread([p.load_s for p in s.passes[kind]], digits=3)


def load_table(r: ScaleResults) -> list[str]:
    lines = [
        "| N | passes: ours / first run | ours load s | ours, first run s | vcrpy load s | cassetter load s "
        "| ours / vcrpy | first run / vcrpy | ours / cassetter | first run / cassetter "
        "| file MB: ours / vcrpy / cassetter |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for s in r.sizes:
        mb = " / ".join(f"{s.file_bytes[k] / 1e6:.2f}" for k in KINDS)
        theirs = _loads(s, CASSETTER) if s.ok(CASSETTER) else "cannot load"
        vs_cassetter = " | ".join(
            f"{s.load_s(k) / s.load_s(CASSETTER):.1f}x" if s.ok(CASSETTER) else "–" for k in (OURS, COLD)
        )
        lines.append(
            f"| {s.n:,} | {len(s.passes[OURS])} / {len(s.passes[COLD])} | {_loads(s, OURS)} | {_loads(s, COLD)} "
            f"| {_loads(s, VCRPY)} | {theirs} | {s.load_s(OURS) / s.load_s(VCRPY):.2f}x "
            f"| {s.load_s(COLD) / s.load_s(VCRPY):.2f}x | {vs_cassetter} | {mb} |"
        )
    return lines


def first_run_lookups(r: ScaleResults) -> list[str]:
    """What the first-run passes' lookups cost beside the warm ones (same passes, same timing)."""
    per_size = "; ".join(
        f"{s.n:,}: {s.ms(COLD) * 1e3:.0f} µs mean and {s.steady_us(COLD):.0f} µs median after the first "
        f"({s.ms(OURS) * 1e3:.0f} and {s.steady_us(OURS):.0f} µs warm)"
        for s in r.sizes
    )
    shared = [s.n for s in r.sizes if s.n <= matcher._CACHE_SIZE]
    lru = (
        f" Up to {matcher._CACHE_SIZE} calls (the matcher's cache of canonical bodies holds that many) a first "
        "run's lookups can be cheaper: computing the recorded keys at load leaves their canonical bodies in that "
        "cache, and a live request, byte-identical to its recording once scrubbed, finds its own there "
        f"(N = {', '.join(f'{n:,}' for n in shared)} here). Above that size none is found there: replayed in "
        "recording order, each live request comes after its recording's body has been evicted."
        if shared
        else ""
    )
    return [
        "**First-run lookups.** The lookup table is the warm load cache's; the first-run passes replayed the same "
        "N calls, timed the same way, and their lookups need no more work: the recorded requests' keys come with "
        "the load either way (read from the entry, or computed by the first run's load, which writes them "
        "there), so the first lookup only builds the index from them. Median of passes per N: "
        f"{per_size}.{lru}",
    ]


def suite_table(r: ScaleResults) -> list[str]:
    lines = [
        "| cassettes | repeats | ours s | ours, first run s | vcrpy s | cassetter s | ours ms / cassette "
        "| first run ms / cassette | ours / vcrpy | ours / cassetter | first run / vcrpy | first run / cassetter |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for s in r.suites:
        lines.append(
            f"| {s.cassettes:,} | {len(s.seconds[OURS])} | {spread(s.seconds[OURS], digits=3)} "
            f"| {spread(s.seconds[COLD], digits=3)} "
            f"| {spread(s.seconds[VCRPY], digits=3)} | {spread(s.seconds[CASSETTER], digits=3)} "
            f"| {s.total_s(OURS) / s.cassettes * 1e3:.2f} | {s.total_s(COLD) / s.cassettes * 1e3:.2f} "
            f"| {s.total_s(OURS) / s.total_s(VCRPY):.2f}x | {s.total_s(OURS) / s.total_s(CASSETTER):.1f}x "
            f"| {s.total_s(COLD) / s.total_s(VCRPY):.2f}x | {s.total_s(COLD) / s.total_s(CASSETTER):.1f}x |"
        )
    return lines


def _three(e: E2EResults, runs: Runs, n: int) -> str:
    return " / ".join(f"{e.per_call_ms(runs, n, how):.2f}" for how in (FASTEST, MEDIAN, SESSION))


E2E_ROWS = (
    ("record", "recording"),
    ("cached", "replay, load cache on"),
    ("replay", "replay, no load cache (first run, CI)"),
)
"""The end-to-end table's rows, per N: `E2EResults` attribute, label."""


def e2e_table(e: E2EResults) -> list[str]:
    lines = [
        "| run | calls in the test | cassette MB | runs | wall s, median (min–max) "
        "| ms / call: fastest / median / session | wall / recording: fastest / median |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for attribute, label in E2E_ROWS:
        runs: Runs = getattr(e, attribute)
        for n in (0, e.small, e.large):
            per_call = _three(e, runs, n) if n else "–"
            ratios = (
                " / ".join(f"{e.seconds(runs, n, h) / e.seconds(e.record, n, h):.2f}x" for h in (FASTEST, MEDIAN))
                if runs is not e.record
                else "–"
            )
            lines.append(
                f"| {label} | {n:,} | {e.cassette_bytes[n] / 1e6:.2f} | {len(runs[n])} "
                f"| {spread([x.wall_s for x in runs[n]])} | {per_call} | {ratios} |"
            )
    floor = e.per_call_ms(e.floor, e.large)
    lines += [
        "",
        f"Floor (`test_floor`: the same {e.large:,} calls through openai-python answered by an httpx "
        f"`MockTransport`, no recorder, no server): {spread([x.wall_s for x in e.floor[e.large]])} s wall, "
        f"{spread([x.wall_s for x in e.floor[0]])} s with zero calls, so **{floor:.2f} ms per call** (fastest "
        f"runs; {_three(e, e.floor, e.large)} fastest / median / session) is openai-python's own cost (building "
        "and validating the request, parsing the response); our replay adds "
        f"{e.per_call_ms(e.cached, e.large) - floor:.2f} ms per call to it at {e.large:,} calls with the load "
        f"cache, {e.per_call_ms(e.replay, e.large) - floor:.2f} ms without.",
    ]
    return lines


def behind_cassetter(r: ScaleResults) -> list[SizeResult]:
    """The sizes at which cassetter's lookup (mean, same sample) is faster than ours."""
    return [s for s in r.sizes if s.ok(CASSETTER) and s.ms(CASSETTER) <= s.ms(OURS)]


def versus_cassetter(r: ScaleResults) -> str:
    """cassetter's time / ours at every size, as `0.7x at 10, 4.1x at 100, …`."""
    parts = [f"{s.ms(CASSETTER) / s.ms(OURS):.1f}x at {s.n:,}" for s in r.sizes if s.ok(CASSETTER)]
    cannot = [f"{s.n:,}" for s in r.sizes if not s.ok(CASSETTER)]
    return ", ".join(parts) + (f"; it cannot load {', '.join(cannot)}" if cannot else "")
