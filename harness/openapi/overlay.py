"""OpenAPI Overlay 1.0: a team's corrections applied to a description they do not own.

An overlay is an ordered list of actions, each a JSONPath `target` (RFC 9535, evaluated
by python-jsonpath in strict mode) with an `update` to merge into every node it selects
or `remove: true`. Merging follows the specification and the tools that implement it:
objects merge recursively, arrays get the update's items appended, anything else is
replaced. Applying the actions is written here by hand: the one Python library that does
it (oas-patch) evaluates targets with a non-RFC JSONPath dialect and brings a CLI stack
(click, Jinja2, deepdiff, jsonschema) into every test environment that installs us.

Stricter than the specification in one way, on purpose: an action whose target selects
nothing is an error naming the action, because a correction that no longer applies is a
stale overlay, and a gate that silently ignores it would pass on a description nobody wrote.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from typing import Any

import jsonpath
from jsonpath.exceptions import JSONPathError

from harness.errors import DescriptionError

__all__ = ["OverlayError", "apply_overlay", "check_overlay"]

_VERSION = re.compile(r"^1\.0\.\d+$")
_ENV = jsonpath.JSONPathEnvironment(strict=True)
_FIELDS = frozenset({"target", "description", "update", "remove"})


class OverlayError(DescriptionError):
    """An overlay that is malformed or does not apply to the description it is given."""


def check_overlay(overlay: Any, *, source: str) -> list[Mapping[str, Any]]:
    """The overlay's actions, or `OverlayError` naming the first field that is wrong."""
    if not isinstance(overlay, Mapping):
        raise OverlayError(f"Overlay {source}: not a mapping (an Overlay 1.0 document starts with `overlay: 1.0.0`)")
    version = overlay.get("overlay")
    if not isinstance(version, str) or not _VERSION.match(version):
        raise OverlayError(f"Overlay {source}: `overlay` must be a 1.0.x version string such as 1.0.0, got {version!r}")
    info = overlay.get("info")
    if not isinstance(info, Mapping) or not all(isinstance(info.get(k), str) for k in ("title", "version")):
        raise OverlayError(f"Overlay {source}: `info` needs a `title` and a `version` (strings)")
    actions = overlay.get("actions")
    if not isinstance(actions, list) or not actions:
        raise OverlayError(f"Overlay {source}: `actions` must be a non-empty list")
    for index, action in enumerate(actions):
        where = f"Overlay {source}: actions[{index}]"
        if not isinstance(action, Mapping):
            raise OverlayError(f"{where} is not a mapping")
        unknown = sorted(k for k in action if k not in _FIELDS and not str(k).startswith("x-"))
        if unknown:
            raise OverlayError(f"{where} has unknown field(s) {', '.join(map(repr, unknown))}")
        target = action.get("target")
        if not isinstance(target, str) or not target.startswith("$"):
            raise OverlayError(f"{where}: `target` must be a JSONPath string starting with `$`")
        try:
            _ENV.compile(target)
        except JSONPathError as exc:
            first = str(exc).splitlines()[0]
            raise OverlayError(f"{where}: `target` {target!r} is not RFC 9535 JSONPath ({first})") from None
        remove = action.get("remove", False)
        if not isinstance(remove, bool):
            raise OverlayError(f"{where}: `remove` must be true or false")
        if remove == ("update" in action):
            raise OverlayError(f"{where}: give either `update` or `remove: true`")
    return list(actions)


def apply_overlay(document: Mapping[str, Any], overlay: Any, *, source: str) -> dict[str, Any]:
    """A copy of `document` with the overlay's actions applied in order (the input is not changed)."""
    actions = check_overlay(overlay, source=source)
    result: dict[str, Any] = copy.deepcopy(dict(document))
    for index, action in enumerate(actions):
        where = f"Overlay {source}: actions[{index}] (target {action['target']})"
        matches = list(_ENV.finditer(action["target"], result))
        if not matches:
            raise OverlayError(f"{where} selects nothing in the description: fix the target or remove the action")
        if action.get("remove", False):
            _remove(matches, where)
        else:
            for match in matches:
                _update(match, copy.deepcopy(action["update"]), where, result)
    return result


def _update(match: Any, update: Any, where: str, root: dict[str, Any]) -> None:
    node = match.obj
    if isinstance(node, dict):
        if not isinstance(update, Mapping):
            raise OverlayError(f"{where}: the target is an object, so `update` must be an object")
        _merge(node, update)
    elif isinstance(node, list):
        node.append(update)
    else:
        raise OverlayError(f"{where}: the target selects a {type(node).__name__}; select its parent object instead")


def _merge(target: dict[str, Any], update: Mapping[str, Any]) -> None:
    for key, value in update.items():
        current = target.get(key)
        if isinstance(current, dict) and isinstance(value, Mapping):
            _merge(current, value)
        elif isinstance(current, list) and isinstance(value, list):
            current.extend(value)
        else:
            target[key] = value


def _remove(matches: list[Any], where: str) -> None:
    # Array elements go last-first so that earlier indexes stay valid.
    keyed = []
    for match in matches:
        if match.parent is None:
            raise OverlayError(f"{where}: the root of the description cannot be removed")
        keyed.append((match.parent.obj, match.parts[-1]))
    for parent, key in sorted(keyed, key=lambda pk: pk[1] if isinstance(pk[1], int) else -1, reverse=True):
        if isinstance(parent, dict):
            parent.pop(key, None)
        elif isinstance(parent, list) and isinstance(key, int) and key < len(parent):
            del parent[key]
