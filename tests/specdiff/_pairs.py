"""Description pairs built from the real description with one mutation each."""

from __future__ import annotations

import copy
import functools
from collections.abc import Callable
from typing import Any

import yaml

from harness.specdiff import Change, Level, diff_documents
from harness.contract import default_description_path

Doc = dict[str, Any]
Mutation = Callable[[Doc], object]
CHAT = "POST /v1/openai/chat/completions"


@functools.cache
def _real() -> Doc:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    document: Doc = yaml.load(default_description_path().read_text(), Loader=loader)
    return document


def real() -> Doc:
    """A fresh deep copy of the packaged description."""
    return copy.deepcopy(_real())


def mutated(*mutations: Mutation) -> Doc:
    doc = real()
    for mutation in mutations:
        mutation(doc)
    return doc


def schema(doc: Doc, name: str) -> Doc:
    found: Doc = doc["components"]["schemas"][name]
    return found


def prop(doc: Doc, schema_name: str, name: str) -> Doc:
    found: Doc = schema(doc, schema_name)["properties"][name]
    return found


def run(old: Doc, new: Doc) -> list[Change]:
    return diff_documents(old, new)


def facts(changes: list[Change]) -> set[tuple[str, str, str, str]]:
    return {(c.id, c.level.name, c.operation, c.path) for c in changes}


def breaking(changes: list[Change]) -> list[Change]:
    return [c for c in changes if c.level >= Level.WARN]
