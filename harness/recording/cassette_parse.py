"""A cassette document as vcrpy pairs: plain vcrpy, format 1 or format 2, with errors naming the spot.

Split from `cassette_io` (files in and out): this module only turns a parsed document into
vcrpy requests and response dicts, restoring the exact bytes of VLM Run interactions and
saying which file, interaction and field is wrong when it cannot.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from vcr.request import Request

from harness.errors import CassetteError
from harness.recording import vcr_format
from harness.recording.blobs import BlobStore
from harness.recording.cassette_file import HARNESS_FORMAT as FORMAT_1
from harness.recording.cassette_file import (
    Malformed,
    decode_headers,
    decode_interaction,
    interaction_parts,
    require,
    unique_pairs,
)
from harness.recording.cassette_yaml import load_yaml
from harness.recording.interaction import Interaction
from harness.recording.scope import mark
from harness.recording.seams import BlobStorage

VCR_VERSION = 1
FORMAT = vcr_format.FORMAT
KEY = vcr_format.KEY
_FORMAT_1_HEAD = b"# VLM Run skills harness cassette"


@dataclass
class Loaded:
    """One cassette file as vcrpy pairs; `owned[i]`: interaction i is VLM Run's."""

    path: Path
    requests: list[Any] = field(default_factory=list)
    responses: list[dict[str, Any]] = field(default_factory=list)
    owned: list[bool] = field(default_factory=list)
    metadata: dict[str, Any] = field(default_factory=dict)
    harness: bool = False

    @property
    def recording(self) -> dict[str, Any]:
        """What the harness stamped on the recording (format, description hash, …)."""
        found = self.metadata.get(KEY)
        return found if isinstance(found, dict) else {}

    def interactions(self) -> list[Interaction]:
        pairs = zip(self.requests, self.responses, self.owned, strict=True)
        return [Interaction.from_vcr(rq, rs, i, vlmrun=own) for i, (rq, rs, own) in enumerate(pairs)]


def is_harness_document(data: bytes) -> bool:
    """Written by the harness (format 1 or 2): decided on bytes, so other cassettes cost one scan."""
    return data.lstrip().startswith(_FORMAT_1_HEAD) or KEY.encode() in data


def parse_text(path: Path, data: bytes, json_file: bool) -> Any:
    try:
        if json_file:
            return json.loads(data, object_pairs_hook=unique_pairs)
        return load_yaml(data)
    except yaml.MarkedYAMLError as exc:
        mark_ = exc.problem_mark
        where = f" (line {mark_.line + 1}, column {mark_.column + 1})" if mark_ is not None else ""
        raise CassetteError(f"Cassette {path} is not valid YAML{where}: {exc.problem or exc}") from None
    except (yaml.YAMLError, ValueError, RecursionError) as exc:
        raise CassetteError(f"Cassette {path} is not valid {'JSON' if json_file else 'YAML'}: {exc}") from None


def _pair(node: Any, blobs: BlobStorage, index: int) -> tuple[Any, dict[str, Any], bool]:
    """A vcrpy (request, response) from a stored interaction; marked ones get their exact bytes back."""
    req, res, status, code = interaction_parts(node)
    body = req.get("body")
    if body is not None and not isinstance(body, str | bytes):
        raise Malformed(f"request body must be a string, not {type(body).__name__}")
    headers = decode_headers(req.get("headers"), "request")
    request = Request(
        str(require(req, "method", "request")).upper(), str(require(req, "uri", "request")), body, headers
    )
    res_body = res.get("body")
    string = res_body.get("string") if isinstance(res_body, dict) else res_body
    if string is not None and not isinstance(string, str | bytes):
        raise Malformed(f"response body 'string' must be a string, not {type(string).__name__}")
    response: dict[str, Any] = {
        **{k: v for k, v in res.items() if k not in ("status", "headers", "body")},
        "status": {"code": code, "message": str(status.get("message") or "")},
        "headers": decode_headers(res.get("headers"), "response"),
        "body": {"string": string.encode("utf-8") if isinstance(string, str) else string},
    }
    owned = vcr_format.is_stored_pair(response)
    if KEY in response and not owned:
        raise Malformed(f"response {KEY!r} must be a mapping")
    if owned:
        try:
            vcr_format.decode_pair(request, response, functools.partial(blobs.b64, index=index))
        except ValueError as exc:
            raise Malformed(str(exc)) from None
    return mark(request, owned), response, owned


def _format_1(document: dict[str, Any], path: Path) -> Loaded:
    meta = document.get("harness")
    if not isinstance(meta, dict):
        raise CassetteError(f"Cassette {path}: 'harness' must be a mapping")
    found = meta.get("format")
    if found != FORMAT_1 or isinstance(found, bool):
        if found is not None and (isinstance(found, bool) or not isinstance(found, int) or found < FORMAT_1):
            raise CassetteError(
                f"Cassette {path} has an unknown harness.format {found!r} (this harness reads formats "
                f"{FORMAT_1} and {FORMAT}): restore the file from version control or re-record it"
            )
        raise CassetteError(
            f"Cassette {path} was written by a newer harness (harness.format {found!r}; this one reads "
            f"formats {FORMAT_1} and {FORMAT}): upgrade vlmrun-skills-harness or re-record it"
        )
    blobs = BlobStore(path)
    loaded = Loaded(path, metadata={**document.get("metadata", {}), KEY: {**meta, "format": FORMAT_1}}, harness=True)
    for index, node in enumerate(document["interactions"]):
        try:
            interaction = decode_interaction(node, index, functools.partial(blobs.b64, index=index))
        except (Malformed, TypeError, AttributeError, KeyError) as exc:
            raise CassetteError(f"Cassette {path}: interaction {index}: {exc}") from None
        req, res = interaction.request, interaction.response
        request = Request(req.method, req.uri, req.body or None, {k: list(v) for k, v in req.headers.items()})
        loaded.requests.append(mark(request, True))
        loaded.responses.append(
            {
                "status": {"code": res.status, "message": res.reason},
                "headers": {k: list(v) for k, v in res.headers.items()},
                "body": {"string": res.body},
            }
        )
        loaded.owned.append(True)
    return loaded


def _check_format(recording: Any, path: Path) -> None:
    if not isinstance(recording, dict):
        raise CassetteError(f"Cassette {path}: {KEY!r} must be a mapping")
    found = recording.get("format")
    if found == FORMAT and not isinstance(found, bool):
        return
    newer = isinstance(found, int) and not isinstance(found, bool) and found > FORMAT
    if newer:
        raise CassetteError(
            f"Cassette {path} was written by a newer harness (format {found!r}; this one reads formats "
            f"{FORMAT_1} and {FORMAT}): upgrade vlmrun-skills-harness or re-record it"
        )
    raise CassetteError(
        f"Cassette {path} has an unknown {KEY}.format {found!r} (this harness writes format {FORMAT}): "
        "restore the file from version control or re-record it"
    )


def parse_document(document: Any, path: Path) -> Loaded:
    """Any cassette document (plain vcrpy, format 1 or 2) as vcrpy pairs, with errors naming the spot."""
    if not isinstance(document, dict):
        raise CassetteError(f"Cassette {path}: the top level must be a mapping, not {type(document).__name__}")
    if document.get("version", VCR_VERSION) != VCR_VERSION:
        raise CassetteError(f"Cassette {path}: unsupported vcrpy cassette version {document['version']!r}")
    metadata, nodes = document.get("metadata") or {}, document.get("interactions")
    if not isinstance(nodes, list) or not isinstance(metadata, dict):
        what = "has no 'interactions' list" if not isinstance(nodes, list) else "'metadata' must be a mapping"
        raise CassetteError(f"Cassette {path} {what}")
    if "harness" in document:
        return _format_1(document, path)
    if KEY in document:
        _check_format(document[KEY], path)
        metadata = {**metadata, KEY: document[KEY]}  # in memory, vcrpy keeps it with the cassette's metadata
    loaded = Loaded(path, metadata=dict(metadata), harness=KEY in document)
    blobs = BlobStore(path)
    for index, node in enumerate(nodes):
        try:
            request, response, owned = _pair(node, blobs, index)
        except (Malformed, TypeError, AttributeError, KeyError) as exc:
            raise CassetteError(f"Cassette {path}: interaction {index}: {exc}") from None
        loaded.requests.append(request)
        loaded.responses.append(response)
        loaded.owned.append(owned)
    return loaded
