"""Replay lookups by key: VLM Run requests found through an index, not a scan.

vcrpy's `Cassette._responses` runs every matcher on every recorded request for every
lookup, so a cassette of N calls replays in N² matcher calls (4,002,000 for 2,000 calls).
For a VLM Run request the match is key equality (method, path, query, canonical body), so
the recorded requests are indexed by key once, as they are loaded or recorded, and a lookup
is a dictionary access. vcrpy's semantics stay: the candidates come in recording order and
`play_response` still plays each once unless `allow_playback_repeats`. Other requests go
through vcrpy's own scan, untouched.

Long requests: a recorded `303 See Other` makes the GET of its `Location` a poll, one
logical call with the request that was answered 303. Polls of one job replay its recorded
polls in order (its `202`s, then the result), so a client that stops early simply leaves
the rest unplayed. Once all are played, a poll is answered with the recorded result again,
as the live result URL is ("can be reloaded without triggering a new request",
https://modal.com/docs/guide/webhook-timeouts): a client polling more than the recording
did still passes. A recording that ends before the result has nothing to repeat: such a
poll is a miss, and the cassette needs recording again.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping
from typing import Any
from urllib.parse import urljoin

from harness.recording.interaction import Interaction, request_bytes
from harness.recording.matcher import RequestKey, get_key, request_key
from harness.recording.scope import Scope

_INSTALLED = "_vlmrun_harness_index"
_RECENT = 64  # live requests whose key is kept: a test's calls in flight, not its history
_SEE_OTHER = 303
_RESULT = (200, 201)  # with a body: a poll's result (vlmrun/client/long_request.py `is_result_status`)


class KeyIndex:
    """Stands in for one cassette's `_responses`: (index, response) of every recorded match."""

    def __init__(self, cassette: Any, scope: Scope) -> None:
        self.cassette = cassette
        self.scope = scope
        self.by_key: defaultdict[RequestKey, list[int]] = defaultdict(list)
        self.polls: set[RequestKey] = set()
        """Keys of the GETs a recorded 303 points at."""
        self.indexed = 0
        self.recent: dict[tuple[str, str, bytes], RequestKey] = {}
        self.by_body: dict[bytes, int] = {}
        """The first recorded request with each body, by its bytes: where a live body sent byte for byte
        is found (the recorded bytes objects themselves, each hashed once; an int per entry, not a list,
        so that indexing 10,000 calls does not wake the cyclic collector)."""

    def _catch_up(self) -> None:
        data = self.cassette.data
        for index in range(self.indexed, len(data)):
            stored, response = data[index]
            if self.scope.owns(stored):
                self.by_key[request_key(stored)].append(index)
                if body := request_bytes(stored):
                    self.by_body.setdefault(body, index)
                if (location := _see_other(response)) is not None:
                    self.polls.add(get_key(urljoin(str(stored.uri), location)))
        self.indexed = len(data)

    def _key(self, request: Any) -> RequestKey | None:
        seen = (str(request.method), str(request.uri), request_bytes(request))
        key = self.recent.get(seen)
        if key is None:
            # vcrpy asks for each live request two or three times (can it play? then play): the
            # filters (a deep copy, our scrubbing) run once per distinct request, not per ask.
            filtered = self.cassette._before_record_request(request)
            if filtered is None:
                return None
            key = self._as_recorded(filtered) or request_key(filtered)
            if len(self.recent) >= _RECENT:
                self.recent.clear()
            self.recent[seen] = key
        return key

    def _as_recorded(self, filtered: Any) -> RequestKey | None:
        """The key of a recorded request this one repeats byte for byte (method, URI, body), known
        since the load: a key is a function of those bytes, so its canonical form is not computed again."""
        self._catch_up()
        index = self.by_body.get(request_bytes(filtered))
        if index is None:
            return None
        stored = self.cassette.data[index][0]
        same = str(stored.uri) == str(filtered.uri) and str(stored.method).upper() == str(filtered.method).upper()
        return request_key(stored) if same else None  # the same body sent elsewhere: its own key is computed

    def __call__(self, request: Any) -> Iterator[tuple[int, Any]]:
        cassette = self.cassette
        if not self.scope.owns(request):
            yield from type(cassette)._responses(cassette, request)
            return
        key = self._key(request)
        if key is None:
            return
        self._catch_up()
        for index in self.by_key.get(key, ()):
            yield index, cassette.data[index][1]

    def result_again(self, request: Any) -> int | None:
        """The index of a poll's recorded result to answer again: every recorded poll of it played."""
        if str(request.method).upper() != "GET":
            return None  # a poll is a GET (`get_key`): nothing else needs its key for this
        if not self.scope.owns(request) or (key := self._key(request)) is None:
            return None
        self._catch_up()
        found = self.by_key.get(key, ())
        if key not in self.polls or not found or any(self.cassette.play_counts[i] == 0 for i in found):
            return None
        last = found[-1]
        result = Interaction.from_vcr(self.cassette.data[last][0], self.cassette.data[last][1]).response
        return last if result.status in _RESULT and result.body else None


def _see_other(response: Mapping[str, Any]) -> str | None:
    """The `Location` of a recorded `303 See Other`, else None."""
    status = response.get("status")
    if not isinstance(status, Mapping) or status.get("code") != _SEE_OTHER:
        return None
    for name, value in (response.get("headers") or {}).items():
        if str(name).lower() == "location":
            first = value[0] if isinstance(value, list | tuple) and value else value
            return str(first) if first else None
    return None


def install(cassette: Any, scope: Scope) -> None:
    """Give a loaded vcrpy cassette key lookups (once; instance attributes, vcrpy untouched)."""
    if getattr(cassette, _INSTALLED, False) or not hasattr(cassette, "data"):
        return
    index = KeyIndex(cassette, scope)
    cassette._responses = index
    can_play: Callable[[Any], bool] = cassette.can_play_response_for
    play: Callable[[Any], Any] = cassette.play_response

    def again(request: Any) -> int | None:
        # Only where vcrpy itself would replay: never while recording afresh (polls go live then).
        replaying = cassette.rewound and str(getattr(cassette.record_mode, "value", cassette.record_mode)) != "all"
        return index.result_again(request) if replaying else None

    def can_play_response_for(request: Any) -> bool:
        return bool(can_play(request)) or again(request) is not None

    def play_response(request: Any) -> Any:
        last = again(request)
        if last is None:
            return play(request)
        cassette.play_counts[last] += 1
        return cassette.data[last][1]

    cassette.can_play_response_for = can_play_response_for
    cassette.play_response = play_response
    setattr(cassette, _INSTALLED, True)
