"""Keyword-level checks on one schema pair: types, nullability, enum, const, default,
pattern, lengths, bounds, item counts, discriminator, additionalProperties.

Each check only says what changed (set, removed, increased…); `Sink.schema` turns that into
the rule for the direction, so "maxLength decreased" is ERR in a request (clients' values
may now be refused) and harmless in a response.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from harness.openapi.validation import pattern_matcher
from harness.specdiff.rules import show
from harness.specdiff.schemas import View, canonical, enum_values, type_label, widens
from harness.specdiff.sites import Sink, Site

_MISSING = object()


def compare_keywords(
    o: View, n: View, site: Site, sink: Sink, *, values: bool = True, annotations: bool = True
) -> None:
    """All keyword checks. `values=False` skips those compared branch by branch when one side
    is a union (types, enum, const, bounds); `annotations=False` skips those compared at
    the union itself (nullability, default, discriminator)."""
    if values:
        _types(o, n, site, sink)
        _enum_const(o, n, site, sink)
        _pattern(o, n, site, sink)
        _bounds(o, n, site, sink)
        _additional(o, n, site, sink)
    if annotations:
        _nullable(o, n, site, sink)
        _default(o, n, site, sink)
        _discriminator(o.raw.get("discriminator"), n.raw.get("discriminator"), site, sink)


def _types(o: View, n: View, site: Site, sink: Sink) -> None:
    of, nf = o.raw.get("format"), n.raw.get("format")
    if o.types == n.types and of == nf:
        return
    old, new = show(type_label(o.types, of)), show(type_label(n.types, nf))
    if site.direction == "request":
        wider = widens(o.types, n.types) and (nf is None or nf == of)
        sink.schema("type-generalized" if wider else "type-changed", site, old=old, new=new)
    else:
        narrower = n.types is not None and widens(n.types, o.types) and (of is None or nf == of)
        sink.schema("type-specialized" if narrower else "type-changed", site, old=old, new=new)


def _nullable(o: View, n: View, site: Site, sink: Sink) -> None:
    if not (o.typed and n.typed) or o.nullable == n.nullable:
        return
    sink.schema("became-nullable" if n.nullable else "became-not-nullable", site)


def _enum_const(o: View, n: View, site: Site, sink: Sink) -> None:
    oc, nc = o.raw.get("const", _MISSING), n.raw.get("const", _MISSING)
    oe, ne = enum_values(o), enum_values(n)
    if oc is not _MISSING and nc is not _MISSING:
        if canonical(oc) != canonical(nc):
            sink.schema("const-changed", site, old=show(oc), new=show(nc))
        return
    if oc is _MISSING and nc is not _MISSING and oe is None:
        if nc is not None:
            sink.schema("const-added", site, new=show(nc))
        return
    if nc is _MISSING and oc is not _MISSING and ne is None:
        if oc is not None:
            sink.schema("const-removed", site, old=show(oc))
        return
    if oc is not _MISSING:
        oe = {} if oc is None else {canonical(oc): oc}
    if nc is not _MISSING:
        ne = {} if nc is None else {canonical(nc): nc}
    if oe is None and ne is None:
        return
    if oe is None:
        sink.schema("became-enum", site)
    elif ne is None:
        sink.schema("enum-removed", site)
    else:
        for key in sorted(oe.keys() - ne.keys()):
            sink.schema("enum-value-removed", site, value=show(oe[key]))
        for key in sorted(ne.keys() - oe.keys()):
            sink.schema("enum-value-added", site, value=show(ne[key]))


def _default(o: View, n: View, site: Site, sink: Sink) -> None:
    od, nd = o.raw.get("default", _MISSING), n.raw.get("default", _MISSING)
    if od is _MISSING and nd is _MISSING:
        return
    if od is _MISSING:
        sink.schema("default-value-added", site, new=show(nd))
    elif nd is _MISSING:
        sink.schema("default-value-removed", site, old=show(od))
    elif canonical(od) != canonical(nd):
        sink.schema("default-value-changed", site, old=show(od), new=show(nd))


def _pattern(o: View, n: View, site: Site, sink: Sink) -> None:
    op, np_ = o.raw.get("pattern"), n.raw.get("pattern")
    if op == np_:
        return
    if op is None:
        former = enum_values(o)
        if site.direction == "request" and former is not None and enum_values(n) is None:
            _enum_to_pattern(list(former.values()), np_, site, sink)
            return
        sink.schema("pattern-added", site, new=show(np_))
    elif np_ is None:
        sink.schema("pattern-removed", site, old=show(op))
    else:
        sink.schema("pattern-changed", site, old=show(op), new=show(np_))


def _enum_to_pattern(former: list[Any], pattern: Any, site: Site, sink: Sink) -> None:
    """A request enum replaced by a pattern narrows only if the pattern rejects a value the
    enum allowed (named, the first in the enum's order); one that admits them all widens.
    The enum's removal is harmless in a request, so this is the one finding for the pair."""
    matches = pattern_matcher(pattern)
    if matches is None:  # not a regex the validator can run: nothing is proved, assume the worst
        sink.schema("pattern-added", site, new=show(pattern))
        return
    rejected = [value for value in former if not matches(value)]
    if rejected:
        sink.schema("enum-value-rejected-by-pattern", site, new=show(pattern), value=show(rejected[0]))
    else:
        sink.schema("enum-replaced-by-pattern", site, new=show(pattern))


def _number(raw: Mapping[str, Any], key: str) -> float | None:
    value = raw.get(key)
    return value if isinstance(value, int | float) and not isinstance(value, bool) else None


def _bounds(o: View, n: View, site: Site, sink: Sink) -> None:
    for key, stem in (("maxLength", "max-length"), ("maximum", "max"), ("maxItems", "max-items")):
        _upper(_number(o.raw, key), _number(n.raw, key), stem, site, sink)
    for key, stem in (("minLength", "min-length"), ("minimum", "min"), ("minItems", "min-items")):
        _lower(_number(o.raw, key), _number(n.raw, key), stem, site, sink)


def _text(value: float | None) -> str:
    return show("none") if value is None else show(value)


def _upper(old: float | None, new: float | None, stem: str, site: Site, sink: Sink) -> None:
    """An upper bound: lowering or setting it narrows, raising or dropping it widens."""
    if old == new:
        return
    fields = {"old": _text(old), "new": _text(new)}
    if old is None:
        sink.schema(f"{stem}-set", site, **fields)
    elif new is None:
        unset = f"{stem}-unset"
        sink.schema(unset if stem == "max-length" else f"{stem}-increased", site, **fields)
    elif new < old:
        sink.schema(f"{stem}-decreased", site, **fields)
    else:
        sink.schema(f"{stem}-increased", site, **fields)


def _lower(old: float | None, new: float | None, stem: str, site: Site, sink: Sink) -> None:
    """A lower bound: raising or setting it narrows, lowering or dropping it widens."""
    if old == new:
        return
    fields = {"old": _text(old), "new": _text(new)}
    if old is None:
        has_set = stem in ("min", "min-items")
        sink.schema(f"{stem}-set" if has_set else f"{stem}-increased", site, **fields)
    elif new is None:
        sink.schema(f"{stem}-unset" if stem == "min-items" else f"{stem}-decreased", site, **fields)
    elif new > old:
        sink.schema(f"{stem}-increased", site, **fields)
    else:
        sink.schema(f"{stem}-decreased", site, **fields)


def _discriminator(od: Any, nd: Any, site: Site, sink: Sink) -> None:
    if not isinstance(od, Mapping) and not isinstance(nd, Mapping):
        return
    if not isinstance(od, Mapping):
        sink.schema("discriminator-added", site)
        return
    if not isinstance(nd, Mapping):
        sink.schema("discriminator-removed", site)
        return
    if od.get("propertyName") != nd.get("propertyName"):
        old, new = show(od.get("propertyName")), show(nd.get("propertyName"))
        sink.schema("discriminator-property-name-changed", site, old=old, new=new)
    om, nm = _mapping(od), _mapping(nd)
    if added := sorted(nm.keys() - om.keys()):
        sink.schema("discriminator-mapping-added", site, value=show(added))
    if deleted := sorted(om.keys() - nm.keys()):
        sink.schema("discriminator-mapping-deleted", site, value=show(deleted))
    for key in sorted(om.keys() & nm.keys()):
        if om[key] != nm[key]:
            sink.schema("discriminator-mapping-changed", site, value=show(key), old=show(om[key]), new=show(nm[key]))


def _mapping(discriminator: Mapping[str, Any]) -> Mapping[str, Any]:
    """A discriminator's `mapping`; one that is not a mapping maps nothing (the diff does not validate)."""
    mapping = discriminator.get("mapping")
    return mapping if isinstance(mapping, Mapping) else {}


def forbids_extra(raw: Mapping[str, Any]) -> bool:
    extra = raw.get("additionalProperties", True)
    return extra is False or extra == {"not": {}}


def _additional(o: View, n: View, site: Site, sink: Sink) -> None:
    if "additionalProperties" not in o.raw and "additionalProperties" not in n.raw:
        return
    before, after = forbids_extra(o.raw), forbids_extra(n.raw)
    if after and not before:
        sink.schema("additional-properties-disallowed", site)
    elif before and not after:
        sink.schema("additional-properties-allowed", site)
