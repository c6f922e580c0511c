"""Walk two schemas side by side, direction aware.

Request side: the client sends, the new description judges, so narrowing breaks clients.
Response side: the server sends what the new description allows, so widening breaks them.
The walk follows properties, `items`, `additionalProperties`, `contentSchema` and
oneOf/anyOf branches (matched by discriminator value, `const` properties, `$ref` name, own
const or type, then position), with a depth limit and a guard against `$ref` cycles.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from harness.openapi.pointer import ref_name
from harness.specdiff.constraints import compare_keywords, forbids_extra
from harness.specdiff.schemas import Resolver, View, branch_keys, branch_label, view
from harness.specdiff.sites import Sink, Site

MAX_DEPTH = 48


@dataclass(frozen=True)
class Walk:
    old: Resolver
    new: Resolver
    sink: Sink


def compare_schemas(old: Any, new: Any, site: Site, walk: Walk) -> None:
    _compare(old, new, site, walk, 0, frozenset())


def _compare(
    old: Any, new: Any, site: Site, walk: Walk, depth: int, seen: frozenset[tuple[str, str]], wrapped: bool = False
) -> None:
    """`wrapped`: one side is a plain schema standing in as a union's branch; nullability and
    defaults were compared at the union, not again against the branch."""
    if depth > MAX_DEPTH:
        return
    o, n = view(old, walk.old), view(new, walk.new)
    if o.ref or n.ref:
        key = (o.ref or "", n.ref or "")
        if key in seen:  # a cycle: this pair is already being compared further up
            return
        seen = seen | {key}

    def recurse(a: Any, b: Any, at: Site) -> None:
        _compare(a, b, at, walk, depth + 1, seen)

    if o.alternatives or n.alternatives:
        typed_o, typed_n = _typed_union(o, walk.old), _typed_union(n, walk.new)
        compare_keywords(typed_o, typed_n, site, walk.sink, values=False, annotations=not wrapped)
        kind = "oneOf" if (o.one_of if o.alternatives else n.one_of) else "anyOf"
        old_branches = _branches(o, kind, old)
        new_branches = _branches(n, kind, new)
        one_sided = not (o.alternatives and n.alternatives)

        def recurse_branch(a: Any, b: Any, at: Site) -> None:
            _compare(a, b, at, walk, depth + 1, seen, wrapped=one_sided)

        _match_branches(kind, old_branches, new_branches, o, n, site, walk, recurse_branch)
        return
    compare_keywords(o, n, site, walk.sink, annotations=not wrapped)
    _properties(o, n, site, walk, recurse)
    if "items" in o.raw or "items" in n.raw:
        recurse(o.raw.get("items", {}), n.raw.get("items", {}), site.child("[*]"))
    oa, na = o.raw.get("additionalProperties"), n.raw.get("additionalProperties")
    if (isinstance(oa, Mapping) or isinstance(na, Mapping)) and not (forbids_extra(o.raw) or forbids_extra(n.raw)):
        recurse(oa if isinstance(oa, Mapping) else {}, na if isinstance(na, Mapping) else {}, site.child("*"))
    if "contentSchema" in o.raw and "contentSchema" in n.raw:
        recurse(o.raw["contentSchema"], n.raw["contentSchema"], site)
    for kind in ("oneOf", "anyOf"):
        _match_branches(kind, getattr(o, _ATTR[kind]), getattr(n, _ATTR[kind]), o, n, site, walk, recurse)


_ATTR = {"oneOf": "one_of", "anyOf": "any_of"}


def _branches(v: View, kind: str, node: Any) -> list[Any]:
    """A union's branches of `kind`; a plain schema compared with a union is its one branch."""
    if v.alternatives:
        return list(getattr(v, _ATTR[kind]) or getattr(v, _ATTR["anyOf" if kind == "oneOf" else "oneOf"]))
    return [node]


def _typed_union(v: View, resolver: Resolver) -> View:
    """A union whose branches all name their types admits null only through a null branch,
    so adding or dropping that branch changes nullability like `type: [X, "null"]` does."""
    if v.typed or not v.alternatives:
        return v
    if all(view(branch, resolver).typed for branch in (*v.one_of, *v.any_of)):
        return replace(v, typed=True)
    return v


def _properties(o: View, n: View, site: Site, walk: Walk, recurse: Any) -> None:
    sink = walk.sink
    op, np_ = _named(o.raw.get("properties")), _named(n.raw.get("properties"))
    oreq, nreq = _names(o.raw.get("required")), _names(n.raw.get("required"))
    request = site.direction == "request"
    for name in sorted(set(op) | set(np_) | oreq | nreq, key=str):
        at = site.child(str(name))
        in_old, in_new = name in op or name in oreq, name in np_ or name in nreq
        was, now = name in oreq, name in nreq
        if in_old and not in_new:
            if request:
                sink.rule("request-property-removed", at)
            else:
                sink.rule("response-required-property-removed" if was else "response-optional-property-removed", at)
            continue
        with_default = "-with-default" if name in np_ and "default" in view(np_[name], walk.new).raw else ""
        if in_new and not in_old:
            if request and now:
                sink.rule("new-required-request-property" + with_default, at)
            elif request:
                sink.rule("new-optional-request-property", at)
            else:
                sink.rule("response-required-property-added" if now else "response-optional-property-added", at)
            continue
        if was != now:
            if request and now:
                sink.rule("request-property-became-required" + with_default, at)
            elif request:
                sink.rule("request-property-became-optional", at)
            else:
                sink.rule("response-property-became-required" if now else "response-property-became-optional", at)
        recurse(op.get(name, {}), np_.get(name, {}), at)


def _named(properties: Any) -> Mapping[str, Any]:
    """`properties` as written, or none when it is not a mapping (the diff does not validate)."""
    return properties if isinstance(properties, Mapping) else {}


def _names(required: Any) -> set[Any]:
    """`required` as written, or none when it is not a list (a string is not a list of names)."""
    return {name for name in required if isinstance(name, str | int)} if isinstance(required, list) else set()


def _match_branches(
    kind: str,
    old: list[Any],
    new: list[Any],
    o: View,
    n: View,
    site: Site,
    walk: Walk,
    recurse: Any,
) -> None:
    """Pair branches across versions; unpaired ones were removed or added."""
    if not old and not new:
        return
    old_views = [view(b, walk.old) for b in old]
    new_views = [view(b, walk.new) for b in new]
    old_disc, new_disc = o.raw.get("discriminator"), n.raw.get("discriminator")
    old_keys = [branch_keys(v, old_disc, _mapping_by_ref(old_disc)) for v in old_views]
    new_keys = [branch_keys(v, new_disc, _mapping_by_ref(new_disc)) for v in new_views]
    pairs: dict[int, int] = {}
    for stage in range(len(old_keys[0]) if old_keys else 0):
        free_new = [j for j in range(len(new)) if j not in pairs.values()]
        free_old = [i for i in range(len(old)) if i not in pairs]
        by_key: dict[Any, list[int]] = {}
        for j in free_new:
            if new_keys[j][stage] is not None:
                by_key.setdefault(new_keys[j][stage], []).append(j)
        old_count: dict[Any, int] = {}
        for i in free_old:
            old_count[old_keys[i][stage]] = old_count.get(old_keys[i][stage], 0) + 1
        for i in free_old:
            key = old_keys[i][stage]
            if key is not None and old_count[key] == 1 and len(by_key.get(key, [])) == 1:
                pairs[i] = by_key[key][0]
    rest_old = [i for i in range(len(old)) if i not in pairs]
    rest_new = [j for j in range(len(new)) if j not in pairs.values()]
    if len(rest_old) == len(rest_new):  # the same number left over: assume edited in place
        pairs.update(zip(rest_old, rest_new, strict=True))
        rest_old, rest_new = [], []
    stem = "one-of" if kind == "oneOf" else "any-of"
    for i, j in sorted(pairs.items()):
        label = f"{kind} {branch_label(new_views[j], j)}"
        recurse(old[i], new[j], site.in_branch(label))
    for i in rest_old:
        walk.sink.schema(f"{stem}-removed", site, value=f"'{branch_label(old_views[i], i)}'")
    for j in rest_new:
        walk.sink.schema(f"{stem}-added", site, value=f"'{branch_label(new_views[j], j)}'")


def _mapping_by_ref(disc: Any) -> dict[str, str]:
    if not isinstance(disc, Mapping) or not isinstance(disc.get("mapping"), Mapping):
        return {}
    by_ref = {str(ref): str(key) for key, ref in disc["mapping"].items()}
    return {**{ref_name(ref) or ref: key for ref, key in by_ref.items()}, **by_ref}
