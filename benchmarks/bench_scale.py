"""S1: replay and load at any size: ours beside vcrpy's body matcher and cassetter, in the same run.

Three questions, each measured side by side:

1. One cassette of N distinct chat completions (N = 10 … 10,000): how long it takes to load
   and what one replay lookup costs, replaying the N calls in recording order. *ours* is the
   plugin's path (`configure_vcr` with a `Scope` and a `LoadCache`, the `ScopedPersister` over
   vcrpy's filesystem persister, `lookup.install` on the loaded cassette, vcrpy's stub calls
   per request), with the load cache filled by one load before the passes, as a suite's
   second and later runs find it; *ours, first run* the same with the load cache emptied
   before each pass (PyYAML, the recorded requests' keys and the cache's write); *vcrpy
   body* the same cassette in vcrpy's own format with `match_on=(method, scheme, host, port,
   path, query, body)`; *cassetter json_body* its own format and matcher (as P1). vcrpy and
   cassetter scan, so their lookups are timed on a sample spread over the cassette, bounded
   in time (see `sample_positions`).
2. Suites of 1, 100 and 1,000 cassettes of 5 calls: loading all of them, as a suite's tests
   do; ours with each cassette's load cache filled beforehand, and once with it empty.
3. The issue's scenario end to end: one pytest test making N chat completions through
   openai-python, recorded against the embedded reference server, then replayed offline,
   with pytest's cache (so the load cache) on after one untimed warm-up run, and with
   `-p no:cacheprovider` (no load cache: a first run, or CI without a kept cache); each run
   a fresh pytest process timed as the user waits, minus a zero-call run. Twice: as a user
   installs the harness (F1's environment with our wheel and openai: the goals), and in this
   project's environment (every extra and dev tool: for information).

`python -m benchmarks.bench_scale` runs it alone and prints the section; with matplotlib
importable (`uv run --frozen --with matplotlib python -m benchmarks.bench_scale`) it also
draws `benchmarks/scale.png`.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import pickle
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from statistics import median

from benchmarks.bench_matching import (
    scope_for_bench,
)
from benchmarks.bench_startup import CACHE as STARTUP_CACHE
from benchmarks.bench_startup import CORE_OAI, ENVS, build_wheel, write_requirements
from benchmarks.common import (
    Traffic,
    body_bytes,
    find_uv,
    log,
    make_interaction,
)
from benchmarks.peer_envs import PeerChild, cassetter_python
from benchmarks.scale_e2e import (
    E2E_LARGE,
    E2E_SMALL,
    PROJECT_ENV,
    PYTEST_TIMEOUT,
    USER_INSTALL,
    measure_e2e,
)
from benchmarks.scale_report import (
    to_markdown,
)
from benchmarks.scale_sizes import (
    PEER_BUDGET_S,
    SCALE_CHILD,
    SCALE_PNG,
    SIZES,
    SUITE_CALLS,
    SUITES,
    ScaleResults,
    measure_size,
    measure_suites,
)
from benchmarks.scale_tables import (
    headlines,
    plot,
)
from harness.canonical import canonicalize
from harness.matrix.stacks import build_env
from harness.recording.load_cache import code_fingerprint

__all__ = ["headlines", "main", "run", "to_markdown"]


def run(
    workdir: Path,
    *,
    sizes: Sequence[int] = SIZES,
    suites: Sequence[int] = SUITES,
    small: int = E2E_SMALL,
    large: int = E2E_LARGE,
    budget_s: float = PEER_BUDGET_S,
    plot_path: Path | None = SCALE_PNG,
    project_env: bool = True,
) -> ScaleResults:
    """`project_env`: also run part 3 in this project's environment (for information)."""
    started, load_start = time.perf_counter(), _load_average()
    workdir.mkdir(parents=True, exist_ok=True)
    traffic = Traffic()
    count = max(max(sizes), max(suites) * SUITE_CALLS)
    log(f"  S1: generating {count:,} distinct chat completions")
    bodies = [body_bytes(traffic.body(i)) for i in range(count)]
    recorded = [make_interaction(i, body, traffic.response(i)) for i, body in enumerate(bodies)]
    canonicalize(json.loads(bodies[0]))  # one-off: loading the API description for the defaults
    scope = scope_for_bench()
    fingerprint_s = _fingerprint_s()
    with PeerChild(cassetter_python(), SCALE_CHILD, timeout=PYTEST_TIMEOUT) as child:
        cassetter = str(child.call("version")["version"])
        size_results = [measure_size(workdir, n, bodies, recorded, child, scope, budget_s) for n in sorted(sizes)]
        suite_results = measure_suites(workdir, recorded, child, scope, suites)
    del recorded
    gc.collect()
    e2e = measure_e2e(workdir / "user", small, large, user_install(), USER_INSTALL)
    project = measure_e2e(workdir / "project", small, large, Path(sys.executable), PROJECT_ENV) if project_env else None
    results = ScaleResults(
        size_results,
        suite_results,
        e2e,
        sum(map(len, bodies[: max(sizes)])) / max(sizes),
        cassetter,
        budget_s,
        fingerprint_s,
        e2e_project=project,
    )
    results.plot = plot(results, plot_path) if plot_path is not None else "not drawn (no path given)"
    results.seconds = time.perf_counter() - started
    results.load_start, results.load_end = load_start, _load_average()
    return results


def user_install() -> Path:
    """The Python of F1's *with harness + openai* environment (our wheel, core), built or reused under .bench-peers."""
    uv = find_uv()
    log("  S1: the user's environment (our wheel, core, with openai; uv build, .bench-peers/)")
    write_requirements(uv, build_wheel(uv))
    return build_env(ENVS[CORE_OAI], STARTUP_CACHE, uv=uv)


def _fingerprint_s(repeats: int = 5) -> float:
    """What a session's first cache lookup adds once: hashing the harness's sources (then kept in-process)."""
    seconds = []
    for _ in range(repeats):
        code_fingerprint.cache_clear()
        start = time.perf_counter()
        code_fingerprint()
        seconds.append(time.perf_counter() - start)
    return median(seconds)


def _load_average() -> str:
    return " / ".join(f"{x:.2f}" for x in os.getloadavg())


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_scale", description=__doc__.split("\n")[0])
    parser.add_argument("--large", type=int, default=E2E_LARGE, help=f"end-to-end large N (default {E2E_LARGE})")
    parser.add_argument("--small", type=int, default=E2E_SMALL, help=f"end-to-end small N (default {E2E_SMALL})")
    parser.add_argument(
        "--sizes", type=int, nargs="+", default=list(SIZES), help="cassette sizes of part 1 (default 10 … 10,000)"
    )
    parser.add_argument(
        "--suites", type=int, nargs="+", default=list(SUITES), help="suite sizes of part 2 (default 1 100 1,000)"
    )
    parser.add_argument("--budget", type=float, default=PEER_BUDGET_S, help="seconds of peer lookups per pass")
    parser.add_argument("--no-plot", action="store_true", help="do not draw benchmarks/scale.png")
    parser.add_argument(
        "--no-project-env", action="store_true", help="part 3 as a user installs the harness only (not also here)"
    )
    parser.add_argument("--keep", type=Path, default=None, help="keep the cassettes and test folders here")
    parser.add_argument("--save", type=Path, default=None, help="also pickle the results to this file")
    parser.add_argument("--load", type=Path, default=None, help="render pickled results instead of running")
    args = parser.parse_args(argv)
    if args.load is not None:
        loaded: ScaleResults = pickle.loads(args.load.read_bytes())  # our own file, written by --save
        if not args.no_plot:
            loaded.plot = plot(loaded, SCALE_PNG)
        print(to_markdown(loaded))
        return 0
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp:
        workdir = args.keep or Path(tmp)
        results = run(
            workdir,
            sizes=args.sizes,
            suites=args.suites,
            small=args.small,
            large=args.large,
            budget_s=args.budget,
            plot_path=None if args.no_plot else SCALE_PNG,
            project_env=not args.no_project_env,
        )
    if args.save is not None:
        args.save.write_bytes(pickle.dumps(results))
    print(to_markdown(results))
    log(f"S1: {results.seconds:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
