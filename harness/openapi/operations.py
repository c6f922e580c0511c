"""Which operation, response and media type of a description an exchange meets.

Path templates match the whole path or a suffix of it (traffic through a proxy prefix,
`/proxy/v1/skills/abc`); a template documenting the method wins, then the longest, then
the most literal. A status resolves exactly, then by its range (`2XX`), then `default`
(OpenAPI 3.1, Responses Object). A media type resolves exactly, then `type/*`, then `*/*`,
its parameters (`; charset=utf-8`) ignored.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

HTTP_METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")
_PARAMETER = re.compile(r"\{([^{}/]+)\}")


@dataclass(frozen=True)
class OperationMatch:
    """The path template a request path meets, and the path parameters it carries (decoded)."""

    template: str
    path_params: dict[str, str]


@functools.lru_cache(maxsize=1024)
def _template_regex(template: str) -> re.Pattern[str]:
    # Kept: building the pattern (escape, join, `re`'s own cache lookup) cost more than matching it,
    # once per template per judged interaction.
    parts = _PARAMETER.split(template)
    body = "".join(re.escape(p) if i % 2 == 0 else f"(?P<p{i // 2}>[^/]+)" for i, p in enumerate(parts))
    return re.compile(f"(?:/.*)?{body}")


def match_path(paths: Mapping[str, Any], method: str, path: str) -> OperationMatch | None:
    """The template of `paths` that `path` (or a suffix of it) meets, best first (see module doc)."""
    best: tuple[tuple[int, int, int], OperationMatch] | None = None
    for template, item in paths.items():
        found = _template_regex(template).fullmatch(path)
        if found is None:
            continue
        names = _PARAMETER.findall(template)
        documented = isinstance(item, Mapping) and method.lower() in item
        rank = (int(documented), template.count("/"), len(_PARAMETER.sub("", template)))
        if best is None or rank > best[0]:
            params = {n: unquote(found.group(f"p{i}")) for i, n in enumerate(names)}
            best = (rank, OperationMatch(template, params))
    return None if best is None else best[1]


def documented_methods(item: Mapping[str, Any]) -> list[str]:
    """`["GET", "POST"]`: the operations a path item documents, in the specification's order."""
    return [m.upper() for m in HTTP_METHODS if m in item]


def response_key(responses: Mapping[Any, Any], status: int | str) -> str | None:
    """The key of `responses` that documents `status`: exact, then `2XX`, then `default`."""
    keys = {str(k).upper(): str(k) for k in responses}
    code = str(status)
    for candidate in (code, f"{code[:1]}XX", "DEFAULT"):
        if candidate in keys:
            return keys[candidate]
    return None


def pick_media(content: Mapping[str, Any], content_type: str | None) -> str | None:
    """The documented media type for a Content-Type (exact, then `type/*`, `*/*`), parameters stripped."""
    media = (content_type or "").split(";")[0].strip().lower()
    exact = [k for k in content if k.lower() == media]
    wild = [k for k in content if k == "*/*" or (k.endswith("/*") and media.startswith(k.lower()[:-1]))]
    return next(iter(exact + wild), None) if media else None


def is_json_media(media: str) -> bool:
    media = media.lower()
    return media == "application/json" or media.endswith("+json")


def request_media(content: Mapping[str, Any], content_type: str | None) -> str | None:
    """The documented media type of a request body; without a Content-Type, the JSON one."""
    if content_type:
        return pick_media(content, content_type)
    return next((k for k in content if is_json_media(k)), None)


_PARSERS: dict[str, tuple[str, Callable[[str], Any], str]] = {
    "integer": (r"-?[0-9]{1,4000}", int, "an integer"),
    "number": (r"-?[0-9]{1,4000}(\.[0-9]+)?([eE][-+]?[0-9]+)?", float, "a number"),
    "boolean": ("true|false", lambda raw: raw == "true", "true or false"),
}


def parameter_value(raw: str, schema: Mapping[str, Any]) -> Any:
    """A query or path value as the type its schema declares (strings stay as given).

    Raises ValueError naming what was expected when the text is not of that type."""
    declared = schema.get("type", "string")
    kind = next((t for t in ([declared] if isinstance(declared, str) else declared) if t != "null"), "string")
    pattern, parse, label = _PARSERS.get(kind, (".*", str, "a string"))
    if not re.fullmatch(pattern, raw, re.DOTALL):
        raise ValueError(f"Expected {label}, got {raw[:60]!r}")
    return parse(raw)
