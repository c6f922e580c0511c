"""Schemathesis CLI hooks module (`SCHEMATHESIS_HOOKS=harness.proptests.hooks`)."""

from __future__ import annotations

from harness.proptests.strategies import register

register()
