"""Breaking changes between two API descriptions, under oasdiff's rule ids and levels.

There is no Python oasdiff, so this is a focused re-implementation: direction-aware schema
comparison (narrowing a request or widening a response breaks clients), the rules that
matter for this API, oasdiff's output shapes, a waiver file, and a link from each change
to the recorded traffic that exercises it.

    from harness.compat import load_description, diff, exercised_by
    changes = diff(load_description("HEAD~1:openapi/vlmrun-agent.yaml"), load_description("openapi/vlmrun-agent.yaml"))
"""

from __future__ import annotations

from harness.compat.exposure import Document, exercised_by, snapshot_documents
from harness.compat.formats import FORMATS, Report, render
from harness.compat.load import Description, load_description
from harness.compat.operations import diff, diff_documents
from harness.compat.rules import RULES, Change, Level, Rule
from harness.compat.waivers import Waiver, apply_waivers, load_waivers

__all__ = [
    "FORMATS",
    "RULES",
    "Change",
    "Description",
    "Document",
    "Level",
    "Report",
    "Rule",
    "Waiver",
    "apply_waivers",
    "diff",
    "diff_documents",
    "exercised_by",
    "load_description",
    "load_waivers",
    "render",
    "snapshot_documents",
]
