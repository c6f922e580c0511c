"""Cassette files in and out: every format the harness reads, the one it writes, atomically.

Reads plain vcrpy cassettes (YAML or JSON), format 2 (vcrpy's shape with VLM Run bodies
readable, `vcr_format`) and format 1 (the harness's earlier structured layout, read through
`cassette_file`, rewritten as format 2 by `harness cassettes migrate`). Writes format 2 for
any cassette holding VLM Run traffic: blobs first, so no reference ever dangles, then the
file through a temp file and a rename. A cassette holding none is never written here.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import io
import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from vcr.persisters.filesystem import CassetteNotFoundError
from vcr.request import Request

from harness.contract import load_contract
from harness.errors import CassetteError
from harness.files import atomic_writer
from harness.recording import vcr_format
from harness.recording.blobs import BlobStore
from harness.recording.cassette_file import Malformed
from harness.recording.cassette_parse import KEY, VCR_VERSION, Loaded, is_harness_document, parse_document, parse_text
from harness.recording.cassette_yaml import dump_document
from harness.recording.interaction import Interaction
from harness.recording.load_cache import LoadCache
from harness.recording.stamp import recording_metadata

__all__ = [
    "CassetteFile",
    "CassetteNotFoundError",
    "Loaded",
    "is_harness_document",
    "load_file",
    "read_cassette",
    "save_interactions",
    "write_pairs",
]


PathLike = str | os.PathLike[str]
Pair = tuple[Any, dict[str, Any]]


def load_file(
    path: PathLike, *, data: bytes | None = None, json_file: bool | None = None, cache: LoadCache | None = None
) -> Loaded:
    """A cassette file in any format; vcrpy's CassetteNotFoundError when it is absent or empty.

    `cache`: where a YAML cassette's load and its recorded requests' keys may be kept (replay)."""
    path = Path(path)
    if data is None:
        try:
            data = path.read_bytes()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise CassetteNotFoundError(f"Cassette {path} does not exist") from None
        except OSError as exc:
            raise CassetteError(f"Cannot read cassette {path}: {exc.strerror}") from exc
    if not data.strip():
        raise CassetteNotFoundError(f"Cassette {path} is empty")
    json_file = path.suffix.lower() == ".json" if json_file is None else json_file
    with _cyclic_gc_paused():
        if cache is not None and not json_file:
            return _load_cached(cache, path, data)
        document = parse_text(path, data, json_file)
        if document is None:  # comments only
            raise CassetteNotFoundError(f"Cassette {path} is empty")
        return parse_document(document, path)


@contextlib.contextmanager
def _cyclic_gc_paused() -> Iterator[None]:
    """A load builds hundreds of thousands of containers and frees none in cycles, yet each batch
    of them makes Python's cyclic collector walk the whole heap again: pausing it takes a
    10,000-call cassette's first load from 6.6 s to 2.8 s (measured while writing this; S1 in
    benchmarks/RESULTS.md has the load at every size)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _load_cached(cache: LoadCache, path: Path, data: bytes) -> Loaded:
    """`load_file` through the load cache: the same `Loaded`, with the recorded requests' keys set."""
    content = hashlib.sha256(data).hexdigest()
    contract = load_contract().sha256  # the keys are canonical under the description in use
    loaded = cache.read(path, content, contract)
    if loaded is None:
        document = parse_text(path, data, False)
        if document is None:
            raise CassetteNotFoundError(f"Cassette {path} is empty")
        loaded = parse_document(document, path)
        if loaded.harness:
            cache.write(path, content, data, loaded, contract)
    cache.note_load(path, content, contract, len(loaded.requests))
    return loaded


@dataclass(frozen=True)
class CassetteFile:
    """A cassette read outside vcrpy: the recording stamp, vcrpy metadata and the interactions."""

    path: Path
    metadata: dict[str, Any]
    interactions: list[Interaction]
    user_metadata: dict[str, Any] = field(default_factory=dict)


def read_cassette(path: PathLike) -> CassetteFile:
    """A cassette for code outside vcrpy (verify, the gate): a missing one is a CassetteError too."""
    try:
        loaded = load_file(path)
    except CassetteNotFoundError as exc:
        raise CassetteError(str(exc) or f"Cassette {path} does not exist") from None
    user = {k: v for k, v in loaded.metadata.items() if k != KEY}
    return CassetteFile(loaded.path, loaded.recording, loaded.interactions(), user)


# -- writing -----------------------------------------------------------------------------------


def _plain_node(request: Any, response: Mapping[str, Any]) -> dict[str, Any]:
    """An interaction exactly as vcrpy's serializer writes it."""
    from vcr.serializers import compat

    return {
        "request": compat.convert_to_unicode(request._to_dict()),
        "response": compat.convert_to_unicode(copy_response(response)),
    }


def copy_response(response: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(response)
    if isinstance(out.get("body"), dict):
        out["body"] = dict(out["body"])
    return out


def document_for(
    pairs: Sequence[Pair],
    owned: Sequence[bool],
    metadata: Mapping[str, Any] | None,
    stash: dict[str, bytes],
    *,
    embedded: str | None = None,
) -> dict[str, Any]:
    """The format 2 document: VLM Run interactions in their stored form, the others as vcrpy has them.

    `embedded`: the origin of this session's embedded reference server, written as a fixed one.
    """
    metadata = dict(metadata or {})
    previous = metadata.pop(KEY, None)
    mine = [(rq, rs) for (rq, rs), own in zip(pairs, owned, strict=True) if own]
    # Loaded interactions carry the mark; a save with no fresh ones describes the old recording.
    loaded_only = bool(mine) and all(getattr(rq, "_vlmrun_harness_owned", None) is True for rq, _ in mine)
    nodes = []
    for index, ((rq, rs), own) in enumerate(zip(pairs, owned, strict=True)):
        try:
            nodes.append(vcr_format.encode_pair(rq, rs, stash, embedded=embedded) if own else _plain_node(rq, rs))
        except (AttributeError, KeyError, TypeError, ValueError) as exc:
            raise Malformed(
                f"interaction {index} is not a vcrpy request/response ({type(exc).__name__}: {exc})"
            ) from exc
    stored = [node for node, own in zip(nodes, owned, strict=True) if own]
    stamp = recording_metadata(
        [n["request"]["uri"] for n in stored], [rs for _, rs in mine], previous if loaded_only else None
    )
    # The stamp is a top-level key, not vcrpy's `metadata`: pytest-recording 0.14.1 cannot load a
    # cassette that has `metadata` (its CombinedPersister unpacks two values), plain vcrpy ignores it.
    document: dict[str, Any] = {"version": VCR_VERSION, KEY: stamp}
    if metadata:
        document["metadata"] = metadata
    document["interactions"] = nodes
    return document


def _serialized(document: Mapping[str, Any], serializer: Any) -> bytes:
    if serializer is None or str(getattr(serializer, "__name__", "")).endswith("yamlserializer"):
        buffer = io.BytesIO()
        dump_document(document, buffer)
        return buffer.getvalue()
    return str(serializer.serialize(dict(document))).encode("utf-8")


def _unchanged(path: Path, document: Mapping[str, Any], serializer: Any) -> bool:
    """Re-recording the same calls gives the same file: only the time of the recording would differ."""
    try:
        old = path.read_bytes()
        previous = load_file(path, data=old, json_file=_is_json(serializer)).recording
    except (OSError, CassetteError, CassetteNotFoundError):
        return False
    stamp = document.get(KEY)
    if not isinstance(stamp, dict) or "recorded_at" not in previous:
        return False
    same_time = {**document, KEY: {**stamp, "recorded_at": previous["recorded_at"]}}
    return _serialized(same_time, serializer) == old


def _is_json(serializer: Any) -> bool:
    return str(getattr(serializer, "__name__", "")).endswith("jsonserializer")


def write_document(path: Path, document: Mapping[str, Any], stash: Mapping[str, bytes], serializer: Any) -> None:
    """Blobs, then the cassette, each atomically; `serializer` None or vcrpy's YAML one: our layout.

    A cassette whose content would change only in `recorded_at` is left as it is, byte for byte."""
    blobs = BlobStore(path)
    for digest, zip_bytes in stash.items():
        blobs.put(digest, zip_bytes)
    try:
        data = _serialized(document, serializer)
        if path.is_file() and _unchanged(path, document, serializer):
            return
        with atomic_writer(path) as stream:
            stream.write(data)
    except OSError as exc:
        raise CassetteError(f"Cannot write cassette {path}: {exc.strerror or exc}") from exc
    except (yaml.YAMLError, TypeError, ValueError) as exc:
        raise CassetteError(f"Cannot write cassette {path}: {exc}") from exc


def write_pairs(
    path: PathLike,
    pairs: Sequence[Pair],
    owned: Sequence[bool],
    *,
    metadata: Mapping[str, Any] | None = None,
    serializer: Any = None,
    embedded: str | None = None,
) -> Path:
    path = Path(path)
    stash: dict[str, bytes] = {}
    try:
        document = document_for(pairs, owned, metadata, stash, embedded=embedded)
    except Malformed as exc:
        raise CassetteError(f"Cannot save cassette {path}: {exc}") from exc.__cause__
    write_document(path, document, stash, serializer)
    return path


def to_vcr(interaction: Interaction) -> Pair:
    req, res = interaction.request, interaction.response
    request = Request(req.method, req.uri, req.body or None, {k: list(v) for k, v in req.headers.items()})
    response = {
        "status": {"code": res.status, "message": res.reason},
        "headers": {k: list(v) for k, v in res.headers.items()},
        "body": {"string": res.body},
    }
    return request, response


def save_interactions(
    path: PathLike, interactions: Sequence[Interaction], *, user_metadata: Mapping[str, Any] | None = None
) -> Path:
    """Write interactions as a format 2 cassette (those with `vlmrun=False` as vcrpy writes them)."""
    return write_pairs(
        path, [to_vcr(i) for i in interactions], [i.vlmrun for i in interactions], metadata=user_metadata
    )
