"""Where in the description a recorded value is described: schema nodes with their JSON pointers.

`Contract.deref` answers what a node means; a proposed correction must also say *where* to
write it. Each step here keeps the pointer of the node it reached (`#/components/schemas/Choice`),
following `$ref`s to the node that owns the content, so a correction edits the component
once instead of an inline copy. `jsonpath` turns a pointer into the RFC 9535 JSONPath that
an Overlay 1.0 action targets.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from jsonpath.serialize import canonical_string

from harness.contract import Contract, Loc
from harness.openapi.pointer import RefError, escape, ref_chain, ref_of, tokens

Node = tuple[Any, str]
"""A node of the description and its pointer (`#/paths/~1v1~1skills/get`)."""

_SHORTHAND = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_BRANCHES = ("oneOf", "anyOf", "allOf")


def child(at: str, *parts: str | int) -> str:
    """`at` extended by tokens; `%` is percent-encoded since a fragment is read percent-decoded."""
    return at + "".join(f"/{escape(str(p)).replace('%', '%25')}" for p in parts)


def follow(contract: Contract, node: Any, at: str) -> Node:
    """The node a `$ref` chain ends at, with its pointer (the node itself when it has no `$ref`)."""
    try:
        target, holders = ref_chain(contract.document, node)
    except RefError as exc:
        raise RefError(f"API description {contract.source}: {exc}") from None
    return target, (ref_of(holders[-1]) or at) if holders else at


def branches(contract: Contract, node: Mapping[str, Any], at: str) -> list[Node]:
    """The `oneOf`, `anyOf` and `allOf` branches of a schema, references followed."""
    out = []
    for key in _BRANCHES:
        for index, raw in enumerate(node.get(key) or []):
            found = follow(contract, raw, child(at, key, index))
            if isinstance(found[0], Mapping):
                out.append(found)
    return out


def chosen_branches(contract: Contract, node: Mapping[str, Any], at: str, instance: Any) -> list[Node]:
    """The branches an object is in: those whose `type` const is its `type`, else all of them."""
    found = branches(contract, node, at)
    given = instance.get("type") if isinstance(instance, Mapping) else None
    return [b for b in found if _type_const(b[0]) == given] or found


def _type_const(schema: Mapping[str, Any]) -> Any:
    declared = (schema.get("properties") or {}).get("type")
    return declared.get("const") if isinstance(declared, Mapping) else None


def properties(contract: Contract, node: Mapping[str, Any], at: str, instance: Any) -> dict[str, Node]:
    """The properties a schema gives an object: its own, then those of the branches it is in (which win)."""
    props = {name: (sub, child(at, "properties", name)) for name, sub in (node.get("properties") or {}).items()}
    for branch, branch_at in chosen_branches(contract, node, at, instance):
        props.update(properties(contract, branch, branch_at, instance))
    return props


def property_nodes(contract: Contract, node: Mapping[str, Any], at: str, instance: Any, name: str) -> list[Node]:
    """Every schema that describes property `name` of an object: the schema's own and its branches'."""
    own = (node.get("properties") or {}).get(name)
    found = [] if own is None else [(own, child(at, "properties", name))]
    for branch, branch_at in chosen_branches(contract, node, at, instance):
        found += property_nodes(contract, branch, branch_at, instance, name)
    extra = node.get("additionalProperties")
    if not found and isinstance(extra, Mapping):
        found.append((extra, child(at, "additionalProperties")))
    return found


def _object_like(node: Mapping[str, Any]) -> bool:
    declared = node.get("type")
    types = [declared] if isinstance(declared, str) else declared if isinstance(declared, list) else []
    return "properties" in node or "object" in types


def owner(contract: Contract, node: Mapping[str, Any], at: str, instance: Any) -> str:
    """The pointer of the schema a new property of `instance` belongs in.

    The schema itself when it describes an object; else, for a `oneOf`/`anyOf` (`usage:
    oneOf: [Usage, null]`), the object branch the instance is in, so the component grows;
    else the schema itself (an `allOf`'s own `properties` extend only it)."""
    if _object_like(node) or not (node.get("oneOf") or node.get("anyOf")):
        return at
    for branch, branch_at in chosen_branches(contract, node, at, instance):
        if _object_like(branch) or branch.get("oneOf") or branch.get("anyOf"):
            return owner(contract, branch, branch_at, instance)
    return at


def items(contract: Contract, node: Mapping[str, Any], at: str) -> Node | None:
    """The schema of an array's items: its own `items`, else the first branch's."""
    if "items" in node:
        return node["items"], child(at, "items")
    for branch, branch_at in branches(contract, node, at):
        if "items" in branch:
            return branch["items"], child(branch_at, "items")
    return None


def locate(contract: Contract, node: Any, at: str, instance: Any, loc: Loc) -> list[Node]:
    """Every schema node that describes the value at `loc` of `instance`, references followed."""
    node, at = follow(contract, node, at)
    if not loc:
        return [(node, at)]
    if not isinstance(node, Mapping):
        return []
    part, rest = loc[0], loc[1:]
    if isinstance(part, int) and isinstance(instance, list) and 0 <= part < len(instance):
        found = items(contract, node, at)
        return [] if found is None else locate(contract, *found, instance[part], rest)
    if isinstance(part, str) and isinstance(instance, Mapping):
        nodes = property_nodes(contract, node, at, instance, part)
        return [hit for sub, sub_at in nodes for hit in locate(contract, sub, sub_at, instance.get(part), rest)]
    return []


def enum_holder(contract: Contract, node: Any, at: str, allowed: tuple[Any, ...]) -> str | None:
    """The pointer of the schema, or of the branch of it, whose `enum` is exactly `allowed`."""
    node, at = follow(contract, node, at)
    if not isinstance(node, Mapping):
        return None
    if isinstance(node.get("enum"), list) and _same(node["enum"], allowed):
        return at
    for branch, branch_at in branches(contract, node, at):
        found = enum_holder(contract, branch, branch_at, allowed)
        if found is not None:
            return found
    return None


def _same(values: list[Any], allowed: tuple[Any, ...]) -> bool:
    return sorted(map(_key, values)) == sorted(map(_key, allowed))


def _key(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def path_item_at(contract: Contract, template: str) -> Node:
    return follow(contract, (contract.document.get("paths") or {}).get(template), child("#", "paths", template))


def operation_at(contract: Contract, template: str, method: str) -> Node | None:
    """The operation object of a path template and method, with its pointer."""
    item, at = path_item_at(contract, template)
    op = item.get(method.lower()) if isinstance(item, Mapping) else None
    return (op, child(at, method.lower())) if isinstance(op, Mapping) else None


def parameters_at(contract: Contract, template: str, method: str) -> dict[tuple[str, str], Node]:
    """The parameters of an operation by (in, name): the path item's, overridden by the operation's."""
    item, item_at = path_item_at(contract, template)
    found = operation_at(contract, template, method)
    out: dict[tuple[str, str], Node] = {}
    for holder, at in [(item, item_at), *([found] if found else [])]:
        raw = holder.get("parameters") if isinstance(holder, Mapping) else None
        for index, param in enumerate(raw or []):
            node, node_at = follow(contract, param, child(at, "parameters", index))
            if isinstance(node, Mapping) and "name" in node and "in" in node:
                out[(str(node["in"]), str(node["name"]))] = (node, node_at)
    return out


def data_schema_at(contract: Contract, event: Node, data: Any) -> Node | None:
    """The `contentSchema` that applies to an event's data (`Contract.event_data_schema`), with its pointer."""
    chosen = contract.event_data_schema(event[0], data)
    if chosen is None:
        return None
    node, at = follow(contract, *event)
    props = node.get("properties") or {} if isinstance(node, Mapping) else {}
    data_node, data_at = follow(contract, props.get("data"), child(at, "properties", "data"))
    candidates = [(data_node, data_at)]
    if isinstance(data_node, Mapping):
        for key in ("oneOf", "anyOf"):
            candidates += [follow(contract, b, child(data_at, key, i)) for i, b in enumerate(data_node.get(key) or [])]
    for branch, branch_at in candidates:
        if isinstance(branch, Mapping) and branch.get("contentSchema") is chosen:
            return chosen, child(branch_at, "contentSchema")
    return None


def response_at(contract: Contract, template: str, method: str, key: str) -> Node | None:
    """The response object documented under `key` (`200`, `2XX`, `default`), references followed."""
    found = operation_at(contract, template, method)
    if found is None:
        return None
    op, at = found
    for name, raw in (op.get("responses") or {}).items():
        if str(name) == key:
            response, response_at_ = follow(contract, raw, child(at, "responses", str(name)))
            return (response, response_at_) if isinstance(response, Mapping) else None
    return None


def jsonpath(document: Any, pointer: str) -> str:
    """The RFC 9535 JSONPath of a pointer: `$.components.schemas.Choice`, `$.paths['/v1/x'].post`.

    Names are written in shorthand when RFC 9535 allows it and quoted otherwise (escaped as
    python-jsonpath, which applies the overlay, writes them); a token that indexes an array
    is written as an index."""
    out, node = "$", document
    for token in tokens(pointer):
        if isinstance(node, list) and token.isdigit():
            out += f"[{token}]"
            node = node[int(token)] if int(token) < len(node) else None
            continue
        out += f".{token}" if _SHORTHAND.fullmatch(token) else f"[{canonical_string(token)}]"
        node = node.get(token) if isinstance(node, Mapping) else None
    return out
