"""One canonical form of a chat-completions request.

Real clients send the same call in several wire forms (vlmrun's dict form with every
default, openai>=2.17's object form with only what the caller set, explicit nulls, legacy
aliases, any key order, bundles rebuilt with new timestamps). The canonical form is what
the server will act on, so equal meaning gives equal form and any change of skill, version
or bundle content gives a different one. Matching, snapshots and drift reports all use it.

Rules, applied recursively where they make sense:
- nulls are dropped (a null means "not given" on this API);
- top-level defaults documented in the description in use are filled in;
- a referenced skill gets `type: skill_reference` and `skill_version` (default `latest`),
  with the deprecated `version` folded in (`skill_version` wins when both are given);
- an inline skill gets `source.type`/`source.media_type` defaults, the deprecated `bundle`
  folded into `source.data` (`source.data` wins), `skill_version` and the deprecated
  `version` dropped (the bundle is the version), and the base64 payload replaced by the
  bundle's content digest;
- key order is irrelevant: the key is a hash of the sorted, compact JSON.

The skill kinds, defaults and alias folds are `harness.wire`'s; this module only applies them.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from harness.bundles import digest_b64
from harness.caches import LockedLRU
from harness.contract import Contract, load_contract
from harness.errors import BundleError
from harness.wire import REFERENCE, SOURCE_DEFAULTS, effective_bundle, effective_version, is_inline, is_reference

__all__ = [
    "CanonicalRequest",
    "bundle_token",
    "canonical_diff",
    "canonical_json",
    "canonical_skill",
    "canonicalize",
    "request_defaults",
]


@dataclass(frozen=True)
class CanonicalRequest:
    """A request body in canonical form, with its key computed once."""

    body: dict[str, Any]
    key: str

    @property
    def skills(self) -> list[dict[str, Any]]:
        skills = self.body.get("skills")
        return skills if isinstance(skills, list) else []


def canonical_json(value: Any) -> str:
    """Sorted, compact JSON: the text the canonical key is hashed from.

    It may hold lone surrogates (JSON `\\ud800` escapes decode to them), so it is hashed
    with `surrogatepass`: a body a client can send must never crash matching.
    """
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def canonicalize(body: Any, contract: Contract | None = None) -> CanonicalRequest:
    """The canonical form of a completions request body (any JSON value is accepted).

    Top-level defaults are those of `contract` (default: `load_contract()`, the description in
    use, a project's overlays applied), so a body and its explicit-defaults twin match under it.
    """
    if isinstance(body, Mapping):
        form: Any = _canonical_body(body, request_defaults(contract))
    else:
        form = _drop_nulls(body)
    key = hashlib.sha256(canonical_json(form).encode("utf-8", "surrogatepass")).hexdigest()
    return CanonicalRequest(body=form if isinstance(form, dict) else {"<body>": form}, key=key)


def bundle_token(data: Any) -> str:
    """The digest that stands for a bundle: content-based when it decodes, raw otherwise."""
    if not isinstance(data, str):
        return f"invalid:{canonical_json(data)}"
    try:
        return digest_b64(data)
    except BundleError:
        return "raw-sha256:" + hashlib.sha256(data.encode("utf-8", "surrogatepass")).hexdigest()


def canonical_skill(skill: Any) -> Any:
    if not isinstance(skill, Mapping):
        return _drop_nulls(skill)
    if is_inline(skill):
        out = {
            k: _drop_nulls(v)
            for k, v in skill.items()
            if v is not None and k not in ("skill_version", "version", "bundle", "source")
        }
        source = skill.get("source")
        rest = (
            {k: _drop_nulls(v) for k, v in source.items() if v is not None and k != "data"}
            if isinstance(source, Mapping)
            else {}
        )
        data = effective_bundle(skill)
        out["source"] = {**SOURCE_DEFAULTS, **rest, **({"digest": bundle_token(data)} if data is not None else {})}
        return out
    if not is_reference(skill):
        return _drop_nulls(dict(skill))
    out = {k: _drop_nulls(v) for k, v in skill.items() if v is not None and k not in ("version", "skill_version")}
    out["type"] = REFERENCE
    out["skill_version"] = _drop_nulls(effective_version(skill))
    return out


def _canonical_body(body: Mapping[str, Any], defaults: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in body.items():
        if value is None:
            continue
        if key == "skills" and isinstance(value, list):
            out[key] = [canonical_skill(s) for s in value]
        else:
            out[key] = _drop_nulls(value)
    for key, default in defaults.items():
        out.setdefault(key, default)
    return out


def _drop_nulls(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _drop_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_drop_nulls(v) for v in value]
    return value


_DEFAULTS: LockedLRU[Contract, Mapping[str, Any]] = LockedLRU(maxsize=16)


def request_defaults(contract: Contract | None = None) -> Mapping[str, Any]:
    """A description's top-level request defaults (default: the one in use), read once per description.

    Read from the description, not written here, so a changed default shows up.
    """
    spec = contract if contract is not None else load_contract()
    found = _DEFAULTS.get(spec)
    if found is None:
        props = spec.schema("ChatCompletionRequest").get("properties", {})
        found = {name: prop["default"] for name, prop in props.items() if isinstance(prop, dict) and "default" in prop}
        _DEFAULTS.put(spec, found)
    return found


def canonical_diff(a: Any, b: Any, path: str = "") -> Iterator[tuple[str, Any, Any]]:
    """The JSON paths where two canonical forms differ, with both values (`<absent>` if missing)."""
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        for key in sorted(set(a) | set(b)):
            sub = f"{path}.{key}" if path else str(key)
            if key not in a:
                yield sub, "<absent>", b[key]
            elif key not in b:
                yield sub, a[key], "<absent>"
            else:
                yield from canonical_diff(a[key], b[key], sub)
    elif isinstance(a, list) and isinstance(b, list):
        for i in range(max(len(a), len(b))):
            sub = f"{path}[{i}]"
            if i >= len(a):
                yield sub, "<absent>", b[i]
            elif i >= len(b):
                yield sub, a[i], "<absent>"
            else:
                yield from canonical_diff(a[i], b[i], sub)
    elif a != b or type(a) is not type(b):
        yield path or "<root>", a, b
