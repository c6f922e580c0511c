"""`python -m benchmarks [digest|properties|recording]`: run side-by-side benchmarks, write RESULTS.md.

The full run overwrites `benchmarks/RESULTS.md`; running one benchmark prints its table
and writes only when `--output` is given, so a quick check never clobbers the full report.
Figures come with the machine, versions and load average, because the machine is shared
and only the ratios measured in the same run are meant to be compared.
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import importlib.metadata
import os
import platform
import ssl
import sys
import time
import zlib
from collections.abc import Sequence
from pathlib import Path

from benchmarks import bench_digest, bench_properties, bench_recording

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
PACKAGES = (
    "schemathesis",
    "hypothesis",
    "jsonschema-rs",
    "starlette",
    "uvicorn",
    "requests",
    "vcrpy",
    "pytest-recording",
    "pytest",
    "pyyaml",
    "openai",
    "vlmrun",
    "httpx",
)


def _version(name: str) -> str:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def environment(command: str) -> str:
    """Enough to tell whether two RESULTS.md files are comparable at all."""
    load = " / ".join(f"{x:.2f}" for x in os.getloadavg())
    packages = ", ".join(f"{name} {_version(name)}" for name in PACKAGES)
    return "\n".join(
        [
            f"- Date: {datetime.datetime.now(datetime.UTC).strftime('%Y-%m-%d %H:%M UTC')}",
            f"- Machine: {platform.platform()}, {platform.machine()}, os.cpu_count()={os.cpu_count()}, "
            f"load average at start {load} (shared machine: compare ratios, not absolute figures)",
            f"- Python {platform.python_version()} ({platform.python_implementation()}), zlib "
            f"{zlib.ZLIB_RUNTIME_VERSION}, {ssl.OPENSSL_VERSION} (hashlib: {hashlib.sha256().name})",
            f"- Packages: {packages}",
            f"- Reproduce: `{command}`",
        ]
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks", description="Side-by-side benchmarks; see benchmarks/RESULTS.md."
    )
    parser.add_argument("which", nargs="?", choices=("all", "digest", "properties", "recording"), default="all")
    parser.add_argument(
        "--output", type=Path, default=None, help="where to write the report (default: RESULTS.md for 'all')"
    )
    parser.add_argument("--digest-repeats", type=int, default=9, help="samples per digest measurement (default 9)")
    parser.add_argument("--examples", type=int, default=100, help="max_examples per operation (default 100)")
    parser.add_argument("--property-repeats", type=int, default=3, help="passes per property mode (default 3)")
    parser.add_argument("--lookups", type=int, default=100, help="lookups per matching pass, 3/4 hits (default 100)")
    parser.add_argument("--match-repeats", type=int, default=2, help="passes per matcher set (default 2)")
    parser.add_argument("--replay-runs", type=int, default=4, help="pytest runs per replay variant (default 4)")
    parser.add_argument(
        "--no-retry-contrast",
        action="store_true",
        help="skip the one ~15 s miss through vlmrun's default max_retries=5 on openai 1.x",
    )
    args = parser.parse_args(argv)

    words = ["uv run python -m benchmarks", *(sys.argv[1:] if argv is None else argv)]
    command = " ".join(words)
    sections = ["# Benchmarks", "", environment(command), ""]
    started = time.perf_counter()
    if args.which in ("all", "digest"):
        print("digest benchmark…", file=sys.stderr, flush=True)
        sections.append(bench_digest.to_markdown(bench_digest.run(repeats=args.digest_repeats)))
    if args.which in ("all", "properties"):
        print("property-test benchmark…", file=sys.stderr, flush=True)
        result = bench_properties.run(max_examples=args.examples, repeats=args.property_repeats)
        sections.append(bench_properties.to_markdown(result))
    if args.which in ("all", "recording"):
        print("recording benchmark…", file=sys.stderr, flush=True)
        recording = bench_recording.run(
            lookups=args.lookups,
            match_repeats=args.match_repeats,
            replay_runs=args.replay_runs,
            contrast=not args.no_retry_contrast,
        )
        sections.append(bench_recording.to_markdown(recording))
    load = " / ".join(f"{x:.2f}" for x in os.getloadavg())
    sections.append(f"Total wall time {time.perf_counter() - started:.0f} s; load average at end {load}.\n")
    report = "\n".join(sections)
    output = args.output or (RESULTS if args.which == "all" else None)
    if output is None:
        print(report)
    else:
        output.write_text(report, encoding="utf-8")
        print(f"wrote {output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
