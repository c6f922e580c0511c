"""cassetter's side of S1, run by the cassetter environment's python (stdlib + cassetter only).

`peers/cassetter_child.py` (P1, P3) with three more operations, for cassettes of any size
and suites of many cassettes: `prepare_many` records several cassettes in one call,
`load_many` loads a list of cassettes as `use_cassette` does on entry (one per test), and
`match_sample` loads one cassette and times `match()` (what cassetter's httpx interceptor
calls per request) for a sample of lookups until a time budget is spent. Started with
`python -I`, so `peers/` is not on `sys.path`: the P1 child is loaded from its file.
"""

from __future__ import annotations

import importlib.util
import time
from pathlib import Path
from typing import Any

_P1_CHILD = Path(__file__).resolve().parent / "peers" / "cassetter_child.py"
_SPEC = importlib.util.spec_from_file_location("cassetter_child", _P1_CHILD)
if _SPEC is None or _SPEC.loader is None:
    raise ImportError(f"cannot load {_P1_CHILD}")
child: Any = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(child)


def prepare_many(items: list[dict[str, Any]]) -> dict[str, Any]:
    """Record each `{"path", "interactions"}` as its own cassette; their total size."""
    return {"bytes": sum(child.prepare(item["path"], item["interactions"])["bytes"] for item in items)}


def load_many(paths: list[str]) -> dict[str, Any]:
    """Load every cassette once, in order (a suite's worth of `use_cassette` entries)."""
    start = time.perf_counter()
    for path in paths:
        child._opened(path)
    return {"seconds": time.perf_counter() - start}


def match_sample(
    path: str, match_on: list[str], lookups: list[dict[str, Any]], budget_s: float, min_lookups: int
) -> dict[str, Any]:
    """Load, then time `match()` for the lookups in order until `budget_s` is spent (at least `min_lookups`)."""
    start = time.perf_counter()
    cassette = child._opened(path, match_on)
    load_s = time.perf_counter() - start
    seconds: list[float] = []
    verdicts: list[bool] = []
    spent = 0.0
    for lookup in lookups:
        if len(seconds) >= min_lookups and spent >= budget_s:
            break
        headers = {k: [v] for k, v in lookup["headers"].items()}
        body = child._bytes(lookup["body"])
        start = time.perf_counter()
        try:
            cassette.match(lookup["method"], lookup["uri"], headers, body)
            hit = True
        except child.cassetter.NoMatchError:
            hit = False
        took = time.perf_counter() - start
        seconds.append(took)
        verdicts.append(hit)
        spent += took
    return {"load_s": load_s, "seconds": seconds, "verdicts": verdicts}


child.OPS.update({"prepare_many": prepare_many, "load_many": load_many, "match_sample": match_sample})

if __name__ == "__main__":
    raise SystemExit(child.main())
