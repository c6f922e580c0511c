"""Cassette YAML: libyaml-speed reading and writing, refusing what the harness never writes.

Split from `cassette_file` (the format's meaning) so that module stays readable: this one is
only how bytes become YAML nodes and back.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import IO, TYPE_CHECKING, Any, NoReturn

import yaml

from harness.yaml_load import SafeLoader

__all__ = ["HEADER", "Flow", "dump_document", "load_yaml"]

HEADER = (
    "# VLM Run skills harness cassette: a vcrpy cassette, replayed by vcrpy with or without the harness.\n"
    "# VLM Run's keys and tokens are scrubbed before writing and never reach this file; JSON bodies are\n"
    "# indented for review (the harness replays them compact); inline skill bundles are stored once in\n"
    "# _blobs/ and referenced as $blob:sha256:<hex>.\n"
)

if TYPE_CHECKING:
    _BaseLoader = yaml.SafeLoader
    _BaseDumper = yaml.SafeDumper
else:  # libyaml when PyYAML was built with it: loads and dumps about 10x faster
    _BaseLoader = SafeLoader
    _BaseDumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
_MERGE_TAG = "tag:yaml.org,2002:merge"
_RESOLVED: dict[tuple[str, bool], str] = {}  # plain scalar -> tag; bounded, and a pure function of its key
_RESOLVED_LIMIT = 100_000


def _refuse(problem: str, mark: Any) -> NoReturn:
    raise yaml.constructor.ConstructorError(None, None, problem, mark)


class _Loader(_BaseLoader):
    """Safe loading that refuses what the harness never writes and YAML takes silently.

    A duplicate key (a bad merge of two recordings) drops a value without a word; an alias or
    merge key (`*a`, `<<`) lets kilobytes expand to gigabytes once bodies are serialised (a
    "billion laughs"). Each is a YAML error with line and column; no measurable cost.
    """

    def resolve(self, kind: type[yaml.Node], value: Any, implicit: tuple[bool, bool]) -> str:
        """PyYAML's resolver runs a regex table per plain scalar, a third of a load; header names and
        values repeat across interactions, so each distinct scalar is resolved once per process."""
        if kind is not yaml.ScalarNode or not implicit[0]:
            return str(super().resolve(kind, value, implicit))  # type: ignore[no-untyped-call]
        key = (value, implicit[1])
        found = _RESOLVED.get(key)
        if found is None:
            found = str(super().resolve(kind, value, implicit))  # type: ignore[no-untyped-call]
            if len(_RESOLVED) < _RESOLVED_LIMIT:
                _RESOLVED[key] = found
        return found

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        if node in self.constructed_objects:  # a node met twice is an alias
            _refuse("this node is used again through a YAML alias (*name): aliases are not allowed", node.start_mark)
        return super().construct_object(node, deep)

    def flatten_mapping(self, node: yaml.MappingNode) -> None:
        for key_node, _ in node.value:
            if key_node.tag == _MERGE_TAG:
                _refuse("YAML merge keys (<<) are not allowed in cassettes", key_node.start_mark)

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        mapping = super().construct_mapping(node, deep)
        if len(mapping) != len(node.value):  # the keys were just built: look them up
            seen: set[Any] = set()
            for key_node, _ in node.value:
                key = self.constructed_objects[key_node]
                if key in seen:
                    _refuse(f"found duplicate key {key!r}", key_node.start_mark)
                seen.add(key)
        return mapping


class Flow(list[str]):
    """Header values: one `name: [value]` line per header instead of a nested block."""


class _Dumper(_BaseDumper):
    def ignore_aliases(self, data: Any) -> bool:
        return True  # never write `&id001`/`*id001`: the loader refuses them


def _represent_str(dumper: yaml.SafeDumper, data: str) -> yaml.ScalarNode:
    # Literal blocks read far better for prompts and SKILL.md text; the emitter falls back to a
    # quoted scalar whenever a block could not hold the string exactly.
    literal = "\n" in data and not any(c in data for c in "\r\x85\u2028\u2029\ufeff")
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style="|" if literal else None)


def _represent_list(dumper: yaml.SafeDumper, data: list[Any]) -> yaml.SequenceNode:
    """Short lists of scalars (header values) on one line; anything else as a block.

    Decided by shape, not by class: a `Flow` made by another import of this module (pytester
    re-imports modules between runs) must come out the same."""
    flat = all(isinstance(v, str | int | float | bool) or v is None for v in data)
    return dumper.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=flat and len(data) <= 16)


_Dumper.add_representer(str, _represent_str)
_Dumper.add_representer(list, _represent_list)
_Dumper.add_multi_representer(list, _represent_list)


def dump_document(document: Mapping[str, Any], stream: IO[bytes]) -> None:
    stream.write(HEADER.encode())
    yaml.dump(
        document,
        stream,
        Dumper=_Dumper,
        encoding="utf-8",
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=False,
        width=1_000_000,  # long strings stay on one line: no `\` continuations in diffs
    )


def load_yaml(data: bytes) -> Any:
    return yaml.load(data, Loader=_Loader)
