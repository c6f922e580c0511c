"""vcrpy persister for harness cassettes, plus plain load/save functions for code without vcrpy.

vcrpy's `FilesystemPersister` writes bodies as escaped strings, inlines every skill bundle
and truncates the file before writing, so an interrupted run can lose a cassette. This one
writes the structured format of `cassette_file` atomically, stores bundles once in the blob
store, scrubs again on the way out, and stamps each cassette with what it was recorded
against (description hash, harness and client versions, server origin, time).
"""

from __future__ import annotations

import functools
import importlib
import importlib.metadata
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar, cast
from urllib.parse import urlsplit

import yaml
from vcr.persisters.filesystem import CassetteNotFoundError
from vcr.request import Request

from harness.contract import load_contract
from harness.errors import CassetteError, DescriptionError
from harness.files import atomic_writer
from harness.headers import REFERENCE_HEADER
from harness.recording.blobs import BlobStore
from harness.recording.cassette_file import (
    HARNESS_FORMAT,
    VCR_VERSION,
    CassetteFile,
    Malformed,
    decode_interaction,
    dump_document,
    encode_interaction,
    load_yaml,
)
from harness.recording.interaction import Interaction

__all__ = [
    "CassetteFile",
    "CassetteNotFoundError",
    "HarnessPersister",
    "load_interactions",
    "read_cassette",
    "recording_metadata",
    "save_interactions",
]

HARNESS_KEYS = (
    "format",
    "description_sha256",
    "harness_version",
    "recorded_against",
    "server",
    "client_stack",
    "recorded_at",
)
# Facts about the recording itself: kept when a save adds nothing new (e.g. drop_unused_requests).
RECORDING_KEYS = HARNESS_KEYS[1:]
CLIENT_PACKAGES = ("vlmrun", "openai", "httpx", "httpx2")

PathLike = str | os.PathLike[str]
_LOADED = "_harness_loaded"


# -- loading -----------------------------------------------------------------------------------


def _read_document(path: Path) -> Any:
    """The parsed YAML; CassetteNotFoundError when absent or empty, so vcrpy records it afresh."""
    try:
        data = path.read_bytes()
    except (FileNotFoundError, IsADirectoryError):
        raise CassetteNotFoundError(f"Cassette {path} does not exist") from None
    except OSError as exc:
        raise CassetteError(f"Cannot read cassette {path}: {exc.strerror}") from exc
    if not data.strip():
        raise CassetteNotFoundError(f"Cassette {path} is empty")
    try:
        document = load_yaml(data)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
        raise CassetteError(f"Cassette {path} is not valid YAML{where}: {exc.problem or exc}") from None
    except yaml.YAMLError as exc:
        raise CassetteError(f"Cassette {path} is not valid YAML: {exc}") from None
    if document is None:  # comments only
        raise CassetteNotFoundError(f"Cassette {path} is empty")
    return document


def _parse(document: Any, path: Path) -> CassetteFile:
    if not isinstance(document, dict):
        raise CassetteError(f"Cassette {path}: the top level must be a mapping, not {type(document).__name__}")
    if document.get("version", VCR_VERSION) != VCR_VERSION:
        raise CassetteError(f"Cassette {path}: unsupported vcrpy cassette version {document['version']!r}")
    metadata = document.get("harness", {})  # absent in a plain vcrpy cassette, which loads too
    if not isinstance(metadata, dict):
        raise CassetteError(f"Cassette {path}: 'harness' must be a mapping")
    found = metadata.get("format")
    if "harness" in document and (found != HARNESS_FORMAT or isinstance(found, bool)):  # True == 1
        if found is not None and (isinstance(found, bool) or not isinstance(found, int) or found < HARNESS_FORMAT):
            # Not "newer": a hand edit or a bad merge. Saying "upgrade" would send the user the wrong way.
            raise CassetteError(
                f"Cassette {path} has an unknown harness.format {found!r} (this harness reads format "
                f"{HARNESS_FORMAT}): restore the file from version control or re-record it"
            )
        raise CassetteError(
            f"Cassette {path} was written by a newer harness (harness.format {found!r}; "
            f"this one reads format {HARNESS_FORMAT}): upgrade vlmrun-skills-harness or re-record it"
        )
    user_metadata = document.get("metadata") or {}
    nodes = document.get("interactions")
    if not isinstance(nodes, list) or not isinstance(user_metadata, dict):
        what = "has no 'interactions' list" if not isinstance(nodes, list) else "'metadata' must be a mapping"
        raise CassetteError(f"Cassette {path} {what}")
    blobs = BlobStore(path)
    interactions = []
    for index, node in enumerate(nodes):
        try:
            interactions.append(decode_interaction(node, index, functools.partial(blobs.b64, index=index)))
        except (Malformed, TypeError, AttributeError, KeyError) as exc:
            raise CassetteError(f"Cassette {path}: interaction {index}: {exc}") from None
    return CassetteFile(path, metadata, interactions, user_metadata)


def load_interactions(path: PathLike) -> CassetteFile:
    """Load a cassette, bundles restored; vcrpy's CassetteNotFoundError when it is absent or empty."""
    path = Path(path)
    return _parse(_read_document(path), path)


def read_cassette(path: PathLike) -> CassetteFile:
    """`load_interactions` for code outside vcrpy: a missing or empty cassette is a CassetteError too."""
    try:
        return load_interactions(path)
    except CassetteNotFoundError as exc:
        raise CassetteError(str(exc) or f"Cassette {path} does not exist") from None


# -- saving ------------------------------------------------------------------------------------


@functools.cache
def _client_stack() -> tuple[tuple[str, str], ...]:
    found = []
    for name in CLIENT_PACKAGES:
        try:
            found.append((name, importlib.metadata.version(name)))
        except importlib.metadata.PackageNotFoundError:
            continue
    return tuple(found)


def _origin(uri: str) -> str | None:
    """scheme://host[:port], never userinfo, path or query."""
    parts = urlsplit(uri)
    host = parts.hostname
    if not parts.scheme or not host:
        return None
    try:
        port = parts.port
    except ValueError:
        port = None
    host = f"[{host}]" if ":" in host else host
    return f"{parts.scheme}://{host}" + (f":{port}" if port is not None else "")


def _server(interactions: Sequence[Interaction]) -> str | None:
    """What answered: the embedded reference server names itself in a response header."""
    for interaction in interactions:
        for name, values in interaction.response.headers.items():
            if name.lower() == REFERENCE_HEADER and values:
                return values[0]
    return None


def recording_metadata(
    interactions: Sequence[Interaction], previous: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The `harness` mapping for a save; `previous` recording facts win when nothing new was recorded."""
    try:
        description: str | None = load_contract().sha256
    except DescriptionError:
        description = None
    fresh: dict[str, Any] = {
        "format": HARNESS_FORMAT,
        "description_sha256": description,
        # Imported by name: the package root sits above `recording` in the layering (tests/test_architecture.py).
        "harness_version": importlib.import_module("harness").__version__,
        "recorded_against": _origin(interactions[0].request.uri) if interactions else None,
        "server": _server(interactions),
        "client_stack": dict(_client_stack()),
        "recorded_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    if previous:
        fresh.update({key: previous[key] for key in RECORDING_KEYS if key in previous})
    return {key: value for key, value in fresh.items() if value is not None}


def save_interactions(
    path: PathLike,
    interactions: Sequence[Interaction],
    *,
    user_metadata: Mapping[str, Any] | None = None,
    previous: Mapping[str, Any] | None = None,
) -> Path:
    """Write a cassette atomically: blobs first (so no reference ever dangles), then the YAML.

    Pass the cassette's loaded `harness` mapping as `previous` when nothing new was recorded.
    """
    path = Path(path)
    stash: dict[str, bytes] = {}
    nodes = [encode_interaction(interaction, stash) for interaction in interactions]
    document: dict[str, Any] = {"version": VCR_VERSION, "harness": recording_metadata(interactions, previous)}
    if user_metadata:
        document["metadata"] = dict(user_metadata)
    document["interactions"] = nodes
    blobs = BlobStore(path)
    for digest, zip_bytes in stash.items():
        blobs.put(digest, zip_bytes)
    try:
        with atomic_writer(path) as stream:
            dump_document(document, stream)
    except OSError as exc:
        raise CassetteError(f"Cannot write cassette {path}: {exc.strerror or exc}") from exc
    except yaml.YAMLError as exc:
        raise CassetteError(f"Cannot write cassette {path}: {exc}") from exc
    return path


# -- vcrpy -------------------------------------------------------------------------------------


def _request_bytes(request: Any) -> bytes:
    body = getattr(request, "body_bytes", request.body)  # body_bytes joins file and iterator bodies
    if body is None:
        return b""
    return body.encode() if isinstance(body, str) else bytes(body)


def from_vcr(request: Any, response: Mapping[str, Any], index: int) -> Interaction:
    interaction = Interaction.from_vcr(request, response, index)
    return replace(interaction, request=replace(interaction.request, body=_request_bytes(request)))


def to_vcr(interaction: Interaction) -> tuple[Request, dict[str, Any]]:
    req, res = interaction.request, interaction.response
    request = Request(req.method, req.uri, req.body, {k: list(v) for k, v in req.headers.items()})
    setattr(request, _LOADED, True)  # survives vcrpy's hooks and deep copies; new recordings lack it
    response = {
        "status": {"code": res.status, "message": res.reason},
        "headers": {k: list(v) for k, v in res.headers.items()},
        "body": {"string": res.body},
    }
    return request, response


class HarnessPersister:
    """Register with `vcr.register_persister(HarnessPersister)`; vcrpy's `serializer` is not used."""

    extra_paths: ClassVar[tuple[str, ...]] = ()
    skip_main: ClassVar[bool] = False

    @classmethod
    def with_extra_paths(cls, paths: Iterable[str]) -> type[HarnessPersister]:
        """pytest-recording's extra cassettes (`@pytest.mark.vcr("shared.yaml")`): loaded too, never written."""
        return cast("type[HarnessPersister]", type(cls.__name__, (cls,), {"extra_paths": tuple(paths)}))

    @classmethod
    def rewriting(cls) -> type[HarnessPersister]:
        """Never loads the test's own cassette (it is being recorded again) but keeps it on disk until saved."""
        return cast("type[HarnessPersister]", type(cls.__name__, (cls,), {"skip_main": True}))

    @classmethod
    def load_cassette(cls, cassette_path: PathLike, serializer: Any = None) -> tuple[Any, ...]:
        loaded: list[CassetteFile] = []
        main_path = [] if cls.skip_main else [os.fspath(cassette_path)]
        for path in dict.fromkeys([*main_path, *cls.extra_paths]):
            try:
                loaded.append(load_interactions(path))
            except CassetteNotFoundError:
                continue
        if not loaded:
            raise CassetteNotFoundError(f"Cassette {cassette_path} does not exist")
        pairs = [to_vcr(i) for cassette in loaded for i in cassette.interactions]
        requests, responses = [p[0] for p in pairs], [p[1] for p in pairs]
        main = loaded[0] if loaded[0].path == Path(cassette_path) else None
        metadata = {**main.user_metadata, **main.metadata} if main else {}
        return (requests, responses, metadata) if metadata else (requests, responses)

    @staticmethod
    def save_cassette(cassette_path: PathLike, cassette_dict: Mapping[str, Any], serializer: Any = None) -> None:
        pairs = zip(cassette_dict.get("requests", []), cassette_dict.get("responses", []), strict=True)
        interactions = []
        for index, (request, response) in enumerate(pairs):
            try:
                interactions.append(from_vcr(request, response, index))
            except (AttributeError, TypeError, ValueError) as exc:
                raise CassetteError(
                    f"Cannot save cassette {cassette_path}: interaction {index} is not a vcrpy request/response: {exc}"
                ) from exc
        metadata = cassette_dict.get("metadata") or {}
        user_metadata = {k: v for k, v in metadata.items() if k not in HARNESS_KEYS}
        # vcrpy also saves when only metadata changed or unused interactions were dropped: then
        # every request is one it loaded, and the cassette still describes the old recording.
        loaded_only = bool(interactions) and all(getattr(r, _LOADED, False) for r in cassette_dict["requests"])
        previous = {k: metadata[k] for k in RECORDING_KEYS if k in metadata} if loaded_only else None
        save_interactions(cassette_path, interactions, user_metadata=user_metadata, previous=previous)
