"""Compare two descriptions operation by operation: endpoints, parameters, request bodies,
responses; schemas are handed to `compare.py` with the direction set."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from harness.specdiff.compare import Walk, compare_schemas
from harness.specdiff.load import Description
from harness.specdiff.rules import Change, show
from harness.specdiff.schemas import Resolver
from harness.specdiff.sites import Sink, Site

METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
_PARAM = re.compile(r"\{[^}]*\}")


@dataclass(frozen=True)
class _Operation:
    name: str  # "POST /v1/openai/chat/completions"
    path: str  # "/v1/skills/{skill_id}"
    node: Mapping[str, Any]
    parameters: dict[tuple[str, str], Mapping[str, Any]]


def diff(base: Description, revision: Description) -> list[Change]:
    """Every change from `base` to `revision`, most severe first."""
    return diff_documents(base.document, revision.document)


def diff_documents(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[Change]:
    walk = Walk(Resolver(old), Resolver(new), Sink())
    old_paths, new_paths = _paths(old, walk.old), _paths(new, walk.new)
    for key, ops in old_paths.items():
        if key not in new_paths:
            for op in ops.values():
                dep = "with" if op.node.get("deprecated") else "without"
                walk.sink.rule(f"api-path-removed-{dep}-deprecation", _endpoint(op.name))
            continue
        for method, op in ops.items():
            if method not in new_paths[key]:
                dep = "with" if op.node.get("deprecated") else "without"
                walk.sink.rule(f"api-removed-{dep}-deprecation", _endpoint(op.name))
            else:
                _operation(op, new_paths[key][method], walk)
    for key, ops in new_paths.items():
        for method, op in ops.items():
            if method not in old_paths.get(key, {}):
                walk.sink.rule("endpoint-added", _endpoint(op.name))
    return sorted(walk.sink.changes, key=lambda c: (-c.level, c.operation, c.path, c.id, c.text))


def _endpoint(name: str) -> Site:
    return Site("request", name, "endpoint", "endpoint")


def _paths(doc: Mapping[str, Any], resolver: Resolver) -> dict[str, dict[str, _Operation]]:
    """Operations by path template with parameter names blanked (`/skills/{}`), as oasdiff
    matches them, so renaming a path parameter is not a removed endpoint."""
    out: dict[str, dict[str, _Operation]] = {}
    for path, raw_item in (doc.get("paths") or {}).items():
        item, _ = resolver.deref(raw_item)
        if not isinstance(item, Mapping):
            continue
        shared = _parameters(item.get("parameters"), resolver)
        ops = out.setdefault(_PARAM.sub("{}", str(path)), {})
        for method in METHODS:
            node, _ = resolver.deref(item.get(method))
            if isinstance(node, Mapping):
                params = {**shared, **_parameters(node.get("parameters"), resolver)}
                ops[method] = _Operation(f"{method.upper()} {path}", str(path), node, params)
    return out


def _parameters(raw: Any, resolver: Resolver) -> dict[tuple[str, str], Mapping[str, Any]]:
    out: dict[tuple[str, str], Mapping[str, Any]] = {}
    for item in raw or []:
        param, _ = resolver.deref(item)
        if isinstance(param, Mapping) and "name" in param and "in" in param:
            name = str(param["name"]).lower() if param["in"] == "header" else str(param["name"])
            out[(str(param["in"]), name)] = param
    return out


def _operation(old: _Operation, new: _Operation, walk: Walk) -> None:
    if bool(old.node.get("deprecated")) != bool(new.node.get("deprecated")):
        rule = "endpoint-deprecated" if new.node.get("deprecated") else "endpoint-reactivated"
        walk.sink.rule(rule, _endpoint(new.name))
    _compare_parameters(old, new, walk)
    _request_body(old.node.get("requestBody"), new.node.get("requestBody"), new.name, walk)
    _responses(_mapping(old.node.get("responses")), _mapping(new.node.get("responses")), new.name, walk)


def _compare_parameters(old: _Operation, new: _Operation, walk: Walk) -> None:
    old_parameters = _renamed_path_parameters(old, new)
    for key in sorted(old_parameters.keys() | new.parameters.keys()):
        where, name = key
        site = Site("request", new.name, f"{where}: {name}", "parameter", param_in=where, param=name)
        before, after = old_parameters.get(key), new.parameters.get(key)
        if after is None:
            walk.sink.rule("request-parameter-removed", site)
        elif before is None:
            if where == "path":
                walk.sink.rule("new-request-path-parameter", site)
            else:
                rule = "new-required-request-parameter" if after.get("required") else "new-optional-request-parameter"
                walk.sink.rule(rule, site)
        else:
            if bool(before.get("required")) != bool(after.get("required")):
                rule = (
                    "request-parameter-became-required"
                    if after.get("required")
                    else "request-parameter-became-optional"
                )
                walk.sink.rule(rule, site)
            compare_schemas(_param_schema(before), _param_schema(after), site, walk)


def _renamed_path_parameters(old: _Operation, new: _Operation) -> dict[tuple[str, str], Mapping[str, Any]]:
    """The old operation's parameters with path parameters under their new names: the URL is
    the same whatever a template variable is called, so `{id}` -> `{skill_id}` changes nothing
    (oasdiff pairs them by position too)."""
    renamed = dict(zip(_template_names(old.path), _template_names(new.path), strict=False))
    return {
        ((where, renamed.get(name, name)) if where == "path" else (where, name)): param
        for (where, name), param in old.parameters.items()
    }


def _template_names(path: str) -> list[str]:
    return [variable[1:-1] for variable in _PARAM.findall(path)]


def _param_schema(param: Mapping[str, Any]) -> Any:
    if "schema" in param:
        return param["schema"]
    for media in (param.get("content") or {}).values():
        if isinstance(media, Mapping) and "schema" in media:
            return media["schema"]
    return {}


def _request_body(old_raw: Any, new_raw: Any, operation: str, walk: Walk) -> None:
    old, _ = walk.old.deref(old_raw)
    new, _ = walk.new.deref(new_raw)
    site = Site("request", operation, "request body", "body")
    if not isinstance(old, Mapping) and not isinstance(new, Mapping):
        return
    if not isinstance(old, Mapping):
        walk.sink.rule("request-body-added-required" if new.get("required") else "request-body-added-optional", site)
        return
    if not isinstance(new, Mapping):
        walk.sink.rule("request-body-removed", site)
        return
    if bool(old.get("required")) != bool(new.get("required")):
        walk.sink.rule("request-body-became-required" if new.get("required") else "request-body-became-optional", site)
    old_content, new_content = _content(old), _content(new)
    for media in sorted(old_content.keys() | new_content.keys()):
        at = Site("request", operation, f"request body {media}", "body")
        if media not in new_content:
            walk.sink.rule("request-body-media-type-removed", at, media=show(media))
        elif media not in old_content:
            walk.sink.rule("request-body-media-type-added", at, media=show(media))
        else:
            _media_schema(old_content[media], new_content[media], site, at, media, walk)


def _responses(old: Mapping[str, Any], new: Mapping[str, Any], operation: str, walk: Walk) -> None:
    for status in sorted({str(k) for k in old} | {str(k) for k in new}):
        site = Site("response", operation, f"response {status}", "body", status=status)
        success = "success" if status.startswith("2") else "non-success"
        before = _lookup(old, status, walk.old)
        after = _lookup(new, status, walk.new)
        if after is None:
            walk.sink.rule(f"response-{success}-status-removed", site)
            continue
        if before is None:
            walk.sink.rule(f"response-{success}-status-added", site)
            continue
        old_content, new_content = _content(before), _content(after)
        for media in sorted(old_content.keys() | new_content.keys()):
            at = Site("response", operation, f"response {status} {media}", "body", status=status)
            if media not in new_content:
                walk.sink.rule("response-media-type-removed", at, media=show(media))
            elif media not in old_content:
                walk.sink.rule("response-media-type-added", at, media=show(media))
            else:
                _media_schema(old_content[media], new_content[media], at, at, media, walk)


def _lookup(responses: Mapping[str, Any], status: str, resolver: Resolver) -> Mapping[str, Any] | None:
    for key, value in responses.items():
        if str(key) == status:
            node, _ = resolver.deref(value)
            return node if isinstance(node, Mapping) else {}
    return None


def _content(holder: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    content = _mapping(holder.get("content"))
    return {str(k).lower(): v for k, v in content.items() if isinstance(v, Mapping)}


def _media_schema(old: Mapping[str, Any], new: Mapping[str, Any], site: Site, at: Site, media: str, walk: Walk) -> None:
    prefix = "request-body" if site.direction == "request" else "response-body"
    if "schema" in old and "schema" not in new:
        walk.sink.rule(f"{prefix}-media-type-schema-removed", at, media=show(media))
    elif "schema" in new and "schema" not in old:
        walk.sink.rule(f"{prefix}-media-type-schema-added", at, media=show(media))
    elif "schema" in old:
        compare_schemas(old["schema"], new["schema"], site, walk)


def _mapping(value: Any) -> Mapping[str, Any]:
    """`responses` or `content` as written, or empty when it is not a mapping: the diff does
    not validate, and a malformed part says nothing rather than crash the comparison."""
    return value if isinstance(value, Mapping) else {}
