"""Schemathesis CLI hooks module (`SCHEMATHESIS_HOOKS=harness.properties.hooks`)."""

from __future__ import annotations

from harness.properties.strategies import register

register()
