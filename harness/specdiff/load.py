"""Read an API description from a file, a git revision (`REV:path`) or a URL.

References into other files are bundled into the document under `x-harness-external`, so
everything downstream sees local `#/...` references only; every local reference is checked
here, so a broken description fails at load time naming the file, not deep in the diff.
"""

from __future__ import annotations

import copy
import json
import posixpath
import re
import subprocess
from collections.abc import Iterator, MutableMapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import yaml

from harness.errors import DescriptionError, UsageError
from harness.openapi.pointer import RefError, escape, ref_name
from harness.openapi.pointer import resolve_pointer as _resolve_pointer
from harness.yaml_load import load_yaml

_GIT_SPEC = re.compile(r"^(?P<rev>[^:]{2,}):(?P<path>.+)$")
EXTERNAL = "x-harness-external"
TIMEOUT_SECONDS = 15.0


@dataclass(frozen=True)
class Description:
    """A loaded description: `label` is what the user passed; `file` is where annotations
    point (a path, or the path inside a git revision; None for URLs)."""

    label: str
    document: dict[str, Any]
    file: str | None


@dataclass(frozen=True)
class _Source:
    kind: str  # "file" | "git" | "url"
    where: str
    rev: str = ""
    cwd: str = "."

    @property
    def label(self) -> str:
        return f"{self.rev}:{self.where}" if self.kind == "git" else self.where

    def sibling(self, ref_file: str) -> _Source:
        if self.kind == "url" or ref_file.startswith(("http://", "https://")):
            return _Source("url", urljoin(self.where, ref_file), cwd=self.cwd)
        if self.kind == "git":
            return _Source(
                "git", posixpath.normpath(posixpath.join(posixpath.dirname(self.where), ref_file)), self.rev, self.cwd
            )
        return _Source("file", str(Path(self.where).parent / ref_file), cwd=self.cwd)

    def read(self) -> str:
        if self.kind == "url":
            return _read_url(self.where)
        if self.kind == "git":
            return _read_git(self.rev, self.where, Path(self.cwd))
        path = Path(self.cwd) / self.where
        try:
            return path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise UsageError(f"no such description file: {self.where}") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise DescriptionError(f"{self.where}: cannot read: {exc}") from None


def load_description(spec: str | Path, *, cwd: Path | None = None) -> Description:
    """`spec` is a path, `REV:path` (read with `git show` in `cwd`) or an http(s) URL."""
    source = _source(str(spec), cwd or Path.cwd())
    document = _parse(source.read(), source.label)
    if "openapi" not in document:
        kind = "Swagger 2.0 is not supported" if "swagger" in document else "no `openapi` field"
        raise DescriptionError(f"{source.label}: not an OpenAPI 3 description ({kind})")
    if not isinstance(document.get("paths", {}), dict):
        raise DescriptionError(f"{source.label}: `paths` is not a mapping")
    _Bundler(source, document).run()
    return Description(source.label, document, None if source.kind == "url" else source.where)


def _source(spec: str, cwd: Path) -> _Source:
    if spec.startswith(("http://", "https://")):
        return _Source("url", spec, cwd=str(cwd))
    if (cwd / spec).is_file():
        return _Source("file", spec, cwd=str(cwd))
    match = _GIT_SPEC.match(spec)
    if match and not (cwd / spec).exists():
        return _Source("git", match["path"], match["rev"], str(cwd))
    raise UsageError(f"no such description file: {spec} (a git revision is written REV:path, e.g. HEAD~1:openapi.yaml)")


def _read_git(rev: str, path: str, cwd: Path) -> str:
    try:
        done = subprocess.run(["git", "show", f"{rev}:{path}"], cwd=cwd, capture_output=True, timeout=60, check=False)
    except FileNotFoundError:
        raise UsageError(f"cannot read {rev}:{path}: git is not installed") from None
    except subprocess.TimeoutExpired:
        raise UsageError(f"cannot read {rev}:{path}: `git show` timed out") from None
    if done.returncode != 0:
        reason = done.stderr.decode(errors="replace").strip().splitlines()
        raise UsageError(f"cannot read {path} at git revision {rev!r}: {reason[0] if reason else 'git show failed'}")
    try:
        return done.stdout.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DescriptionError(f"{rev}:{path}: not UTF-8 text: {exc}") from None


def _read_url(url: str) -> str:
    import httpx

    try:
        response = httpx.get(url, timeout=TIMEOUT_SECONDS, follow_redirects=True)
    except httpx.HTTPError as exc:
        raise UsageError(f"cannot fetch {url}: {type(exc).__name__}: {exc}") from None
    if response.status_code != 200:
        raise UsageError(f"cannot fetch {url}: HTTP {response.status_code}")
    return response.text


def _parse(text: str, label: str) -> dict[str, Any]:
    try:
        data = json.loads(text) if text.lstrip().startswith("{") else load_yaml(text)
    except json.JSONDecodeError as exc:
        try:  # a YAML flow mapping also starts with "{"
            data = load_yaml(text)
        except yaml.YAMLError:
            where = f"at line {exc.lineno}, column {exc.colno}"
            raise DescriptionError(f"{label}: not valid JSON: {exc.msg} {where}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        raise DescriptionError(f"{label}: not valid YAML: {getattr(exc, 'problem', None) or exc}{where}") from None
    if not isinstance(data, dict):
        raise DescriptionError(f"{label}: not an OpenAPI description (the top level is not a mapping)")
    return data


def resolve_pointer(document: Any, fragment: str, *, label: str, ref: str) -> Any:
    """The node at a JSON pointer fragment (`/components/schemas/X`) of the file `label` names."""
    try:
        return _resolve_pointer(document, fragment, ref=ref)
    except RefError as exc:
        raise DescriptionError(f"{label}: {exc}") from None


def _refs(node: Any) -> Iterator[MutableMapping[str, Any]]:
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if isinstance(item.get("$ref"), str):
                yield item
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


class _Bundler:
    """Copies every node another file references into the root document, once."""

    def __init__(self, source: _Source, document: dict[str, Any]) -> None:
        self.root_source, self.root = source, document
        self.documents: dict[_Source, dict[str, Any]] = {source: document}
        self.imported: dict[tuple[_Source, str], str] = {}

    def run(self) -> None:
        self._rewrite(list(_refs(self.root)), self.root_source)

    def _rewrite(self, holders: list[MutableMapping[str, Any]], source: _Source) -> None:
        for holder in holders:
            ref: str = holder["$ref"]
            file_part, _, fragment = ref.partition("#")
            if not file_part and source == self.root_source:
                resolve_pointer(self.root, fragment, label=source.label, ref=ref)
                continue
            target = source.sibling(file_part) if file_part else source
            holder["$ref"] = self._import(target, fragment, ref, source)

    def _import(self, source: _Source, fragment: str, ref: str, referrer: _Source) -> str:
        key = (source, fragment)
        if key in self.imported:
            return self.imported[key]
        if source not in self.documents:
            try:
                self.documents[source] = _parse(source.read(), source.label)
            except UsageError as exc:
                raise DescriptionError(f"{referrer.label}: $ref {ref!r}: {exc}") from None
        node = copy.deepcopy(resolve_pointer(self.documents[source], fragment, label=source.label, ref=ref))
        name = ref_name(f"#{fragment}") or Path(source.where).stem
        slots = self.root.setdefault(EXTERNAL, {})
        slot = str(len(slots))
        slots[slot] = {name: node}
        local = f"#/{EXTERNAL}/{slot}/{escape(name)}"
        self.imported[key] = local
        self._rewrite(list(_refs(node)), source)
        return local
