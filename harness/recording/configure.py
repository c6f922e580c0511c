"""The harness's rules on a vcrpy `VCR`, composed over the user's final configuration.

pytest-recording builds a `VCR` per test, calls `pytest_recording_configure(config, vcr)`,
then `use_cassette(**vcr_config, **marker kwargs)`. Setting our own `match_on`, filters or
persister on the VCR would be overridden by a user's `vcr_config` (and would override theirs
for every API). Instead the VCR's `get_merged_config` is wrapped: whatever the user's hooks,
config and markers produced stays as it is, and on top of it

- every matcher first asks whether the two requests are VLM Run's (`scope.Scope`): if both
  are, the canonical key decides; if one is, they differ; otherwise the user's matcher runs;
- `before_record_request` scrubs VLM Run requests after the user's filters (so a live
  request matches its scrubbed recording);
- the persister is wrapped (`persister.ScopedPersister`), which leaves other cassettes alone.
"""

from __future__ import annotations

import contextlib
import functools
from typing import Any

from harness.recording.load_cache import LoadCache
from harness.recording.matcher import MATCHER_NAME, REQUEST_MATCHER_NAME, request_key, vlmrun_body, vlmrun_request
from harness.recording.persister import ScopedPersister
from harness.recording.rewrite import RewriteGuard
from harness.recording.scope import Scope, marked
from harness.recording.scrub import scrub_vcr_request
from harness.recording.seams import Matcher, RequestFilter

_WRAPPED = "_vlmrun_harness_scoped"
_FILTERED = "_vlmrun_harness_filtered"


def scoped_matcher(matcher: Matcher, scope: Scope) -> Matcher:
    @functools.wraps(matcher)
    def match(live: Any, recorded: Any) -> Any:
        mine, theirs = scope.owns(live), scope.owns(recorded)
        if not (mine or theirs):
            return matcher(live, recorded)
        if mine != theirs:
            raise AssertionError("only one of the two requests is VLM Run's")
        if request_key(live) != request_key(recorded):
            raise AssertionError("method, path, query or canonical body differ")
        return True

    return match


def scrubbing(before: RequestFilter, scope: Scope) -> RequestFilter:
    def before_record_request(request: Any) -> Any:
        if marked(request) is True or getattr(request, _FILTERED, False):
            # Loaded from a harness cassette (filtered and scrubbed when it was recorded), or this
            # hook's own output: vcrpy hands a lookup's filtered copy back to it (`request in self`),
            # and the deep copy and the scrubbing were most of a replayed call's cost.
            return request
        request = before(request)
        if request is not None and scope.owns(request):
            scrub_vcr_request(request)
            with contextlib.suppress(AttributeError):
                setattr(request, _FILTERED, True)  # VLM Run's only: other APIs' filters run as vcrpy runs them
        return request

    return before_record_request


def scoped_config(
    config: dict[str, Any],
    scope: Scope,
    guard: RewriteGuard | None = None,
    *,
    vlmrun_test: bool = False,
    cache: LoadCache | None = None,
) -> dict[str, Any]:
    """vcrpy's merged cassette config with the harness's rules added for VLM Run traffic only."""
    out = dict(config)
    out["match_on"] = [scoped_matcher(m, scope) for m in config["match_on"]]
    out["before_record_request"] = scrubbing(config["before_record_request"], scope)
    out["persister"] = ScopedPersister(config["persister"], scope, guard, vlmrun_test, cache)
    return out


def configure_vcr(
    vcr: Any,
    scope: Scope,
    guard: RewriteGuard | None = None,
    *,
    vlmrun_test: bool = False,
    cache: LoadCache | None = None,
) -> None:
    """Wrap `vcr.get_merged_config` (once) so every cassette it opens gets `scoped_config`.

    `cache`: keep VLM Run cassettes' loads between runs there (`load_cache.LoadCache`)."""
    if getattr(vcr, _WRAPPED, False):
        return
    # By name, for a `match_on` that wants canonical bodies on another API too.
    vcr.register_matcher(MATCHER_NAME, vlmrun_body)
    vcr.register_matcher(REQUEST_MATCHER_NAME, vlmrun_request)
    original = vcr.get_merged_config

    def get_merged_config(**kwargs: Any) -> dict[str, Any]:
        return scoped_config(original(**kwargs), scope, guard, vlmrun_test=vlmrun_test, cache=cache)

    vcr.get_merged_config = get_merged_config
    setattr(vcr, _WRAPPED, True)
