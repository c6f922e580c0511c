"""The API description, loaded once: what the description says, and the bytes it was read from.

Everything that judges a body (the reference server, replay-time conformance, drift
reports) goes through a `Contract`, so the description in `openapi/` stays the single
source of truth. What OpenAPI means (references, validation, operations, streams) is
`harness.openapi`'s; this adds where the description comes from and its hash.
"""

from __future__ import annotations

import functools
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from harness.errors import DescriptionError
from harness.extras import missing_extra
from harness.openapi.document import OpenAPIDocument
from harness.openapi.overlay import apply_overlay
from harness.openapi.validation import OPENAPI_FORMATS
from harness.openapi.violations import Loc, Violation, unicode_violations
from harness.yaml_load import load_yaml

__all__ = [
    "COMPLETIONS_PATH",
    "DescriptionChoice",
    "DESCRIPTION_FILENAME",
    "OPENAPI_FORMATS",
    "Contract",
    "Loc",
    "Violation",
    "default_description_path",
    "description_in_use",
    "load_contract",
    "unicode_violations",
    "use_description",
]

DESCRIPTION_FILENAME = "vlmrun-agent.yaml"
COMPLETIONS_PATH = "/v1/openai/chat/completions"


def default_description_path() -> Path:
    """The packaged description (wheel) or the repository's `openapi/` (source checkout)."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "openapi" / DESCRIPTION_FILENAME, here.parent / "openapi" / DESCRIPTION_FILENAME):
        if candidate.is_file():
            return candidate
    raise DescriptionError(f"API description {DESCRIPTION_FILENAME} not found next to the package ({here})")


class Contract(OpenAPIDocument):
    """A loaded description: its document (validators, operations: `OpenAPIDocument`) and its bytes' hash."""

    def __init__(self, document: dict[str, Any], *, source: str, sha256: str) -> None:
        super().__init__(document, source=source)
        self.sha256 = sha256

    @classmethod
    def from_path(cls, path: str | os.PathLike[str]) -> Contract:
        p = Path(path)
        try:
            raw = p.read_bytes()
        except OSError as exc:
            raise DescriptionError(f"Cannot read API description {p}: {exc.strerror}") from exc
        return cls.from_bytes(raw, source=str(p))

    @classmethod
    def from_bytes(cls, raw: bytes, *, source: str) -> Contract:
        try:
            document = load_yaml(raw)
        except yaml.YAMLError as exc:
            raise DescriptionError(f"API description {source} is not valid YAML/JSON: {_one_line(exc)}") from exc
        if not isinstance(document, dict) or "paths" not in document or "components" not in document:
            raise DescriptionError(f"API description {source} has no 'paths'/'components': is it an OpenAPI document?")
        _status_keys_as_strings(document)
        return cls(document, source=source, sha256=hashlib.sha256(raw).hexdigest())

    def check(self) -> None:
        """Validate the document itself with openapi-spec-validator (the `gate` extra)."""
        try:
            from openapi_spec_validator import validate
            from openapi_spec_validator.validation.exceptions import OpenAPIValidationError
        except ImportError as exc:
            raise missing_extra("gate", "validating the API description", modules=["openapi_spec_validator"]) from exc

        try:
            validate(self.document)
        except OpenAPIValidationError as exc:
            where = "/".join(str(p) for p in exc.path) or "<root>"
            raise DescriptionError(f"API description {self.source} is invalid at {where}: {exc.message}") from exc


def _one_line(exc: yaml.YAMLError) -> str:
    """PyYAML's message spans lines (problem, then a caret under the text): one line for users."""
    return "; ".join(line.strip() for line in str(exc).splitlines() if line.strip() and line.strip() != "^")


def _status_keys_as_strings(document: dict[str, Any]) -> None:
    """`200:` unquoted in YAML is the integer 200; OpenAPI means the string, and overlays target `['200']`."""
    for item in (document.get("paths") or {}).values():
        for op in item.values() if isinstance(item, dict) else ():
            responses = op.get("responses") if isinstance(op, dict) else None
            if isinstance(responses, dict) and any(not isinstance(k, str) for k in responses):
                op["responses"] = {str(k): v for k, v in responses.items()}


@dataclass(frozen=True)
class DescriptionChoice:
    """Which description is in use: a file (None: the packaged one) and the overlays applied to it, in order."""

    path: Path | None = None
    overlays: tuple[Path, ...] = ()

    def load(self) -> Contract:
        return _load(self.path and str(self.path), tuple(str(o) for o in self.overlays))


_ACTIVE = DescriptionChoice()


def use_description(choice: DescriptionChoice) -> Contract:
    """Make `choice` the description everything judges by in this process; loaded now, so errors surface early.

    The pytest plugin and the CLI call this once, from the flags and the project's configuration;
    every `load_contract()` without a path then answers with it (conformance, canonical defaults,
    the embedded server, verify, the gate). Each pytest-xdist worker configures itself the same way.
    """
    global _ACTIVE
    contract = choice.load()
    _ACTIVE = choice
    return contract


def description_in_use() -> DescriptionChoice:
    """The choice `load_contract()` answers with now (to put back after an in-process run)."""
    return _ACTIVE


def load_contract(path: str | None = None) -> Contract:
    """The description at `path`, else the one in use (`use_description`; default: the packaged one)."""
    if path is not None:
        return _load(path, ())
    return _ACTIVE.load()


@functools.cache
def _load(path: str | None, overlays: tuple[str, ...]) -> Contract:
    base = Contract.from_path(path or default_description_path())
    if not overlays:
        return base
    document: dict[str, Any] = base.document
    digest = hashlib.sha256(base.sha256.encode())
    for overlay_path in overlays:
        try:
            raw = Path(overlay_path).read_bytes()
        except OSError as exc:
            raise DescriptionError(f"Cannot read overlay {overlay_path}: {exc.strerror}") from exc
        try:
            overlay = load_yaml(raw)
        except yaml.YAMLError as exc:
            raise DescriptionError(f"Overlay {overlay_path} is not valid YAML/JSON: {_one_line(exc)}") from exc
        document = apply_overlay(document, overlay, source=overlay_path)
        digest.update(b"\0overlay\0" + raw)
    source = " + ".join([base.source, *overlays])
    return Contract(document, source=source, sha256=digest.hexdigest())
