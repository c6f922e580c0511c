"""Breaking changes between two API descriptions, under oasdiff's rule ids and levels.

There is no Python oasdiff, so this is a focused re-implementation: direction-aware schema
comparison (narrowing a request or widening a response breaks clients), the rules that
matter for this API, oasdiff's output shapes, a waiver file, and a link from each change
to the recorded traffic that exercises it.

    from harness.specdiff import load_description, diff, exercised_by
    changes = diff(load_description("HEAD~1:openapi/vlmrun-agent.yaml"), load_description("openapi/vlmrun-agent.yaml"))
"""

from __future__ import annotations

from harness.specdiff.exposure import Document, exercised_by, snapshot_documents
from harness.specdiff.formats import FORMATS, DiffReport, render
from harness.specdiff.load import Description, load_description
from harness.specdiff.operations import diff, diff_documents
from harness.specdiff.rules import RULES, Change, Level, Rule
from harness.specdiff.waivers import Waiver, apply_waivers, load_waivers

__all__ = [
    "FORMATS",
    "RULES",
    "Change",
    "Description",
    "DiffReport",
    "Document",
    "Level",
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
