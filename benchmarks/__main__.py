"""`python -m benchmarks [P1 … P7 | F1 | G1 | properties]`: side-by-side benchmarks against the peers.

With no name (or `all`) every benchmark runs and `benchmarks/RESULTS.md` is rewritten;
naming some prints their sections and writes only with `--output`, so a quick check never
clobbers the full report. Each section carries its reproducing command and peer versions,
and the report opens with the machine and a summary of every figure against its goal,
because the machine is shared and only ratios measured in the same run are comparable.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from benchmarks import (
    bench_bundle,
    bench_digest,
    bench_gate,
    bench_guest,
    bench_matching,
    bench_miss,
    bench_properties,
    bench_replay,
    bench_scale,
    bench_servers,
    bench_startup,
)
from benchmarks.common import REPRODUCE, Headline, compile_for_children, log, version

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
ORDER = ("P1", "P2", "P3", "P4", "P5", "P6", "P7", "S1", "F1", "G1", "properties")
ALIASES = {
    "digest": ("P4",),
    "recording": ("P1", "P2", "P3", "P7"),
    "gate": ("P5",),
    "servers": ("P6",),
    "startup": ("F1",),
    "guest": ("G1",),
    "scale": ("S1",),
}
TITLES = {
    "P1": "matching at 1,000 interactions: ours vs vcrpy body vs cassetter",
    "P2": "scenario-suite replay: ours vs bare pytest-recording",
    "P3": "1 MiB inline bundle cassette: ours vs vcrpy vs cassetter",
    "P4": "bundle digest vs raw inflate + sha256",
    "P5": "harness check vs schemathesis alone",
    "P6": "reference server vs Prism mock",
    "P7": "replay miss to failure, openai 3.x and 1.x",
    "S1": "replay and load at any size: ours vs vcrpy body vs cassetter",
    "F1": "pytest start-up with the package installed",
    "G1": "pytest-recording's own suite with and without the harness",
    "properties": "property tests in-process vs loopback (supports P5)",
}
PACKAGES = (
    *("vcrpy", "pytest-recording", "pytest", "pyyaml", "schemathesis", "hypothesis", "jsonschema-rs"),
    *("starlette", "uvicorn", "h11", "httpx", "openai", "vlmrun"),
)
Section = tuple[str, list[Headline]]


def _machine() -> str:
    load = " / ".join(f"{x:.2f}" for x in os.getloadavg())
    return (
        f"{platform.platform()}, {platform.machine()}, {os.cpu_count()} cores (os.cpu_count()), Python "
        f"{platform.python_version()} ({platform.python_implementation()}); load average at start {load}. The "
        "machine was shared with other engineers' test runs while this ran: compare ratios measured in the "
        "same run, not absolute figures."
    )


def _runners(args: argparse.Namespace, workdir: Path) -> dict[str, Callable[[], Section]]:
    def p1() -> Section:
        r = bench_matching.run(workdir / "p1", lookups=args.lookups, repeats=args.match_repeats)
        return bench_matching.to_markdown(r), bench_matching.headlines(r)

    def p2() -> Section:
        r = bench_replay.run(workdir / "p2", runs=args.replay_runs)
        return bench_replay.to_markdown(r), bench_replay.headlines(r)

    def p3() -> Section:
        r = bench_bundle.run(workdir / "p3", repeats=args.bundle_repeats)
        return bench_bundle.to_markdown(r), bench_bundle.headlines(r)

    def p4() -> Section:
        r = bench_digest.run(repeats=args.digest_repeats)
        return bench_digest.to_markdown(r), bench_digest.headlines(r)

    def p5() -> Section:
        r = bench_gate.run(repeats=args.gate_repeats)
        return bench_gate.to_markdown(r), bench_gate.headlines(r)

    def p6() -> Section:
        r = bench_servers.run(requests=args.requests, repeats=args.server_repeats)
        return bench_servers.to_markdown(r), bench_servers.headlines(r)

    def p7() -> Section:
        r = bench_miss.run(contrast=not args.no_retry_contrast)
        return bench_miss.to_markdown(r), bench_miss.headlines(r)

    def s1() -> Section:
        r = bench_scale.run(workdir / "s1", large=args.scale_large, budget_s=args.scale_budget)
        return bench_scale.to_markdown(r), bench_scale.headlines(r)

    def f1() -> Section:
        r = bench_startup.run(workdir / "f1", rounds=args.startup_rounds)
        return bench_startup.to_markdown(r), bench_startup.headlines(r)

    def g1() -> Section:
        r = bench_guest.run(workdir / "g1")
        return bench_guest.to_markdown(r), bench_guest.headlines(r)

    def properties() -> Section:
        r = bench_properties.run(max_examples=args.examples, repeats=args.property_repeats)
        return bench_properties.to_markdown(r), []

    return {
        **{"P1": p1, "P2": p2, "P3": p3, "P4": p4, "P5": p5, "P6": p6, "P7": p7},
        **{"S1": s1, "F1": f1, "G1": g1, "properties": properties},
    }


def summary(headlines: list[Headline]) -> list[str]:
    lines = [
        "## Summary",
        "",
        "Each figure with its ratio against the peer measured in the same run; goals from the README (P2, P3 "
        "load vs vcrpy, P7), the good-citizen issue (F1, G1), the replay-at-any-size issue (P1's 300x, P3's "
        "first load, P5, S1) or from DESIGN's aim of being ahead of every peer.",
        "",
        "| | what | goal | figure | ratio (same run) | goal met? | reproduce |",
        "|---|---|---|---|---|---|---|",
    ]
    lines += [
        f"| {h.bench} | {h.what} | {h.goal} | {h.figure} | {h.ratio} | {h.status} | {h.command} |" for h in headlines
    ]
    return [*lines, ""]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description="Side-by-side benchmarks.")
    choices = ("all", *ORDER, *ALIASES)
    parser.add_argument("which", nargs="*", default=["all"], help=f"benchmarks to run: {', '.join(choices)}")
    parser.add_argument("--output", type=Path, default=None, help="report file (default: RESULTS.md for all)")
    parser.add_argument("--lookups", type=int, default=100, help="P1: lookups per pass, 3/4 hits (default 100)")
    parser.add_argument("--match-repeats", type=int, default=3, help="P1: passes per matcher (default 3)")
    parser.add_argument("--replay-runs", type=int, default=4, help="P2: pytest runs per variant (default 4)")
    parser.add_argument("--bundle-repeats", type=int, default=7, help="P3: samples per load (default 7)")
    parser.add_argument("--digest-repeats", type=int, default=9, help="P4: samples per digest (default 9)")
    parser.add_argument("--gate-repeats", type=int, default=2, help="P5: runs per variant (default 2)")
    parser.add_argument("--requests", type=int, default=700, help="P6: requests per sample (default 700)")
    parser.add_argument("--server-repeats", type=int, default=3, help="P6: samples per variant (default 3)")
    parser.add_argument(
        "--no-retry-contrast", action="store_true", help="P7: skip the ~15 s miss through vlmrun's default retries"
    )
    parser.add_argument(
        "--startup-rounds", type=int, default=15, help="F1: interleaved pytest runs per environment (default 15)"
    )
    parser.add_argument("--scale-large", type=int, default=2000, help="S1: calls in the large end-to-end test")
    parser.add_argument("--scale-budget", type=float, default=4.0, help="S1: seconds of peer lookups per pass")
    parser.add_argument("--examples", type=int, default=100, help="properties: max_examples (default 100)")
    parser.add_argument("--property-repeats", type=int, default=3, help="properties: passes per mode (default 3)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    names: list[str] = []
    for word in args.which:
        if word not in ("all", *ORDER, *ALIASES):
            parser.error(f"unknown benchmark {word!r}; choose from all, {', '.join((*ORDER, *ALIASES))}")
        names += ORDER if word == "all" else ALIASES.get(word, (word,))
    selected = [n for n in ORDER if n in names]
    words = sys.argv[1:] if argv is None else list(argv)
    started, machine = time.perf_counter(), _machine()
    sections: list[str] = []
    headlines: list[Headline] = []
    log("compiling bytecode for the child processes (benchmarks.common.clean_env)…")
    compile_for_children()
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        runners = _runners(args, Path(tmp))
        for name in selected:
            log(f"{name}: {TITLES[name]}…")
            text, found = runners[name]()
            sections.append(text.rstrip("\n") + "\n")
            headlines += found
    load = " / ".join(f"{x:.2f}" for x in os.getloadavg())
    packages = ", ".join(f"{n} {version(n)}" for n in PACKAGES)
    report = [
        "# Benchmarks",
        "",
        f"- Date: {datetime.datetime.now(datetime.UTC).strftime('%Y-%m-%d %H:%M UTC')}",
        f"- Machine: {machine}",
        f"- Project environment: {packages}. Peers outside it (versions in each section): cassetter (P1, P3, "
        "isolated uv environment), Prism (P6, npm), openai 1.109.1 (P7, uv overlay), the F1 environments "
        "(isolated uv environments pinned to uv.lock), the G1 environments (pytest-recording's sdist, isolated "
        "uv environments).",
        "- Child processes cache bytecode in `.bench-peers/pycache` (filled for the standard library, this "
        "environment and the harness before the first benchmark), as a user's environment does: pip compiles on "
        "install and Python caches on import. This machine sets `PYTHONDONTWRITEBYTECODE`, under which every "
        "child would compile every module it imports, and each timed pytest start would time the compiler "
        "(about 1.5 s of a zero-call replay's 2.5-3 s here, measured when this was changed).",
        f"- Reproduce everything: `{REPRODUCE}{' ' + ' '.join(words) if words else ''}`; each section names "
        "its own command.",
        "",
        *(summary(headlines) if headlines else []),
        *sections,
        f"Total wall time {time.perf_counter() - started:.0f} s; load average at end {load}.",
        "",
    ]
    output = args.output or (RESULTS if selected == list(ORDER) else None)
    text = "\n".join(report)
    if output is None:
        print(text)
    else:
        output.write_text(text, encoding="utf-8")
        log(f"wrote {output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
