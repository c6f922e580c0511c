"""Harness defaults on a vcrpy `VCR` object: one place, called from the pytest hook.

pytest-recording builds a `VCR` per test and calls `pytest_recording_configure(config, vcr)`
before `use_cassette(**vcr_config)`, so these are defaults: a user's `vcr_config` or
marker kwargs still override them (vcrpy's own precedence).
"""

from __future__ import annotations

from typing import Any

from harness.recording.matcher import MATCH_ON, MATCHER_NAME, REQUEST_MATCHER_NAME, vlmrun_body, vlmrun_request
from harness.recording.scrub import scrub_vcr_request, scrub_vcr_response


def configure_vcr(vcr: Any, *, rewrite: bool = False) -> None:
    """`rewrite`: `--record-mode=rewrite` was given (and turned into `all` so nothing is deleted)."""
    from harness.recording.persister import HarnessPersister

    vcr.register_matcher(REQUEST_MATCHER_NAME, vlmrun_request)
    vcr.register_matcher(MATCHER_NAME, vlmrun_body)  # for users composing their own `match_on`
    vcr.match_on = MATCH_ON
    vcr.before_record_request = scrub_vcr_request
    vcr.before_record_response = scrub_vcr_response
    vcr.decode_compressed_response = True
    # Keep pytest-recording's extra cassettes (`@pytest.mark.vcr("other.yaml")`) working.
    extra = list(getattr(vcr.persister, "extra_paths", []) or [])
    persister = HarnessPersister.with_extra_paths(extra) if extra else HarnessPersister
    if rewrite and vcr.record_mode == "all":  # not a marker's own record_mode: that one wins
        # pytest-recording's rewrite: new_episodes over nothing loaded, minus its up-front delete.
        vcr.record_mode = "new_episodes"
        persister = persister.rewriting()
    vcr.register_persister(persister)
