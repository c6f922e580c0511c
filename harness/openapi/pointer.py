"""JSON pointers (RFC 6901) and `$ref`s inside one document.

A `$ref` is a URI: its fragment is percent-decoded first (RFC 3986), then split on `/`,
and each token has `~1` turned into `/` and `~0` into `~`, in that order, so a key that
holds `/` or `~` (every path of `paths`) can be named. References to other files are
not followed here: `specdiff.load` bundles them into the document first.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote

from harness.errors import DescriptionError

MAX_REF_HOPS = 64


class RefError(DescriptionError):
    """A `$ref` or pointer that does not resolve, leaves the document, or loops."""


def unescape(token: str) -> str:
    """`~1` -> `/` then `~0` -> `~` (the other order would turn `~01` into `/`)."""
    return token.replace("~1", "/").replace("~0", "~")


def escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def pointer_to(*tokens: str | int) -> str:
    """`#/paths/~1v1~1skills/get` for ("paths", "/v1/skills", "get")."""
    return "#" + "".join(f"/{escape(str(t))}" for t in tokens)


def tokens(fragment: str) -> list[str]:
    """The unescaped tokens of a fragment (`/a/b~1c` or `#/a/b~1c`, percent-encoded or not)."""
    text = unquote(fragment.removeprefix("#"))
    return [unescape(part) for part in text.split("/")[1:]] if text else []


def resolve_pointer(document: Any, fragment: str, *, ref: str | None = None) -> Any:
    """The node at a fragment; `RefError` names the token that is not there."""
    node = document
    for part in tokens(fragment):
        if isinstance(node, Mapping) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            raise RefError(f"$ref {ref if ref is not None else '#' + fragment!r} does not resolve (no {part!r})")
    return node


def resolve_ref(document: Any, ref: str) -> Any:
    """The node a local `$ref` (`#/components/schemas/X`) names."""
    if not ref.startswith("#"):
        raise RefError(f"$ref {ref!r} is not a reference inside the document")
    return resolve_pointer(document, ref[1:], ref=ref)


def ref_of(node: Any) -> str | None:
    ref = node.get("$ref") if isinstance(node, Mapping) else None
    return ref if isinstance(ref, str) else None


def ref_chain(document: Any, node: Any) -> tuple[Any, list[Mapping[str, Any]]]:
    """The node a chain of `$ref`s ends at, and each `$ref` holder passed through, outermost first.

    A chain that comes back to a reference it passed (`A -> B -> A`), or is longer than
    `MAX_REF_HOPS`, is a `RefError` rather than a hang."""
    holders: list[Mapping[str, Any]] = []
    seen: set[str] = set()
    while (ref := ref_of(node)) is not None:
        if ref in seen or len(holders) >= MAX_REF_HOPS:
            raise RefError(f"$ref chain too long or circular at {ref!r}")
        seen.add(ref)
        holders.append(node)
        node = resolve_ref(document, ref)
    return node, holders


def deref(document: Any, node: Any) -> Any:
    """`node` with its `$ref` chain followed (a node without one is returned as it is)."""
    return ref_chain(document, node)[0]


def ref_name(ref: str | None) -> str | None:
    """The last token of a reference, unescaped: `#/components/schemas/A~1B` names `A/B`."""
    if not ref:
        return None
    found = tokens(ref.partition("#")[2].rstrip("/"))
    return found[-1] if found else None
