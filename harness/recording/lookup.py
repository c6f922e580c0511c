"""Replay lookups by key: VLM Run requests found through an index, not a scan.

vcrpy's `Cassette._responses` runs every matcher on every recorded request for every
lookup, so a cassette of N calls replays in N² matcher calls (4,002,000 for 2,000 calls).
For a VLM Run request the match is key equality (method, path, query, canonical body), so
the recorded requests are indexed by key once, as they are loaded or recorded, and a lookup
is a dictionary access. vcrpy's semantics stay: the candidates come in recording order and
`play_response` still plays each once unless `allow_playback_repeats`. Other requests go
through vcrpy's own scan, untouched.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from typing import Any

from harness.recording.interaction import request_bytes
from harness.recording.matcher import request_key
from harness.recording.scope import Scope

_INSTALLED = "_vlmrun_harness_index"
_RECENT = 64  # live requests whose key is kept: a test's calls in flight, not its history


class KeyIndex:
    """Stands in for one cassette's `_responses`: (index, response) of every recorded match."""

    def __init__(self, cassette: Any, scope: Scope) -> None:
        self.cassette = cassette
        self.scope = scope
        self.by_key: defaultdict[tuple[Any, ...], list[int]] = defaultdict(list)
        self.indexed = 0
        self.recent: dict[tuple[str, str, bytes], tuple[Any, ...]] = {}

    def _catch_up(self) -> None:
        data = self.cassette.data
        for index in range(self.indexed, len(data)):
            stored = data[index][0]
            if self.scope.owns(stored):
                self.by_key[request_key(stored)].append(index)
        self.indexed = len(data)

    def __call__(self, request: Any) -> Iterator[tuple[int, Any]]:
        cassette = self.cassette
        if not self.scope.owns(request):
            yield from type(cassette)._responses(cassette, request)
            return
        seen = (str(request.method), str(request.uri), request_bytes(request))
        key = self.recent.get(seen)
        if key is None:
            # vcrpy asks for each live request two or three times (can it play? then play): the
            # filters (a deep copy, our scrubbing) run once per distinct request, not per ask.
            filtered = cassette._before_record_request(request)
            if filtered is None:
                return
            key = request_key(filtered)
            if len(self.recent) >= _RECENT:
                self.recent.clear()
            self.recent[seen] = key
        self._catch_up()
        for index in self.by_key.get(key, ()):
            yield index, cassette.data[index][1]


def install(cassette: Any, scope: Scope) -> None:
    """Give a loaded vcrpy cassette key lookups (once; an instance attribute, vcrpy untouched)."""
    if getattr(cassette, _INSTALLED, False) or not hasattr(cassette, "data"):
        return
    cassette._responses = KeyIndex(cassette, scope)
    setattr(cassette, _INSTALLED, True)
