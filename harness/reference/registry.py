"""The reference server's skill registry: named skills with dated revisions.

Resolution follows docs.vlm.run/skills/reference: `skill_id` first (a revision's UUID, or
a name), then `skill_name`; `latest` is the newest revision, any other version must match
a revision exactly. Unknown skills and unknown pins raise `SkillNotFound` naming both.

On disk a registry is a folder of skills. A skill folder either holds revision folders
named `YYYYMMDD-<hash>` (each with SKILL.md) or is itself a revision (SKILL.md at its
top); a bare revision gets the version `<date>-<digest[:8]>`, the date taken from a
`skill_version`/`version` frontmatter value of that shape or else 19800101 (the fixed zip
epoch), so the same files always give the same version. Anything else in a registry folder
is a mistake, refused in one line naming the folder: a skill silently left out would
surface as a 404 far from its cause.

A team's skills are served beside the seeded ones; a team skill named like a seeded one
replaces it, every revision: their folder is the truth for their skill, and mixing two
sources' revisions would make `latest` depend on dates nobody chose together.

Skills created or updated over HTTP (`skill_admin`) are `append`ed: each new revision is
the newest of its name whatever its date, so `latest` moves to it and every older version
still resolves by its pin or its id. They live as long as the process.
"""

from __future__ import annotations

import hashlib
import os
import re
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.bundles import build_bundle, canonical_digest, parse_skill_md
from harness.bundles.build import collect_directory
from harness.bundles.skill import parse_schema_json
from harness.errors import BundleError, UsageError
from harness.wire import LATEST, effective_version

VERSION_RE = re.compile(r"^(\d{8})-([0-9a-z]{3,40})$")
_NAMESPACE = uuid.UUID("6f1c3c2e-52d4-4d0a-9d1e-3b0f7f2a9a10")
SEED_DIR = Path(__file__).resolve().parent / "skills"


class SkillNotFound(LookupError):
    """No revision matches: the message names the skill and the version asked for."""


@dataclass(frozen=True)
class SkillRevision:
    id: str
    name: str
    description: str
    version: str
    files: Mapping[str, bytes] = field(repr=False)
    digest: str
    schema: dict[str, Any] | None = field(default=None, repr=False)
    folder: Path | None = field(default=None, compare=False)
    """Where it was read from (None: built in code): named when two revisions clash."""
    created: str | None = None
    """When it was created (RFC 3339, UTC); None: midnight of its version's date."""
    is_public: bool = True
    zip_bytes: bytes | None = field(default=None, repr=False, compare=False)
    """The zip exactly as uploaded; None: built from `files` (deterministically)."""

    @property
    def created_at(self) -> str:
        if self.created is not None:
            return self.created
        day = self.version[:8]
        return f"{day[:4]}-{day[4:6]}-{day[6:8]}T00:00:00Z"

    def info(self) -> dict[str, Any]:
        """The `SkillInfo` wire shape."""
        return {
            "id": self.id,
            "name": self.name,
            "description": self.description,
            "skill_version": self.version,
            "skill_uri": f"skills/{self.name}/{self.version}",
            "status": "completed",
            "is_public": self.is_public,
            "created_at": self.created_at,
            "updated_at": self.created_at,
        }

    def bundle(self) -> bytes:
        return self.zip_bytes if self.zip_bytes is not None else build_bundle(self.files)


class Registry:
    """Skills by name, each with revisions ordered oldest to newest."""

    def __init__(self, revisions: Iterable[SkillRevision] = ()) -> None:
        self._by_name: dict[str, list[SkillRevision]] = {}
        self._by_id: dict[str, SkillRevision] = {}
        for rev in revisions:
            self.add(rev)

    def add(self, rev: SkillRevision) -> None:
        """A revision read from disk: its name's revisions stay ordered by version (date first)."""
        revs = self._by_name.setdefault(rev.name, [])
        for other in revs:
            if other.version == rev.version:
                where = f": {other.folder} and {rev.folder}" if other.folder and rev.folder else ""
                raise UsageError(f"Skill {rev.name!r} has two revisions named {rev.version!r}{where}")
        revs.append(rev)
        revs.sort(key=lambda r: r.version)
        self._by_id[rev.id] = rev

    def append(self, rev: SkillRevision) -> None:
        """A revision made now (create, update): the newest of its name, whatever its version's date."""
        revs = self._by_name.setdefault(rev.name, [])
        if rev.id in self._by_id or any(other.version == rev.version for other in revs):
            raise ValueError(f"Skill {rev.name!r} already has a revision {rev.version!r}")
        revs.append(rev)
        self._by_id[rev.id] = rev

    def revisions(self, name: str) -> list[SkillRevision]:
        """Every revision of the skill `name`, oldest first (none: an unknown name)."""
        return list(self._by_name.get(name, ()))

    @classmethod
    def from_dirs(cls, *dirs: str | os.PathLike[str]) -> Registry:
        registry = cls()
        for d in dirs:
            for rev in load_dir(Path(d)):
                registry.add(rev)
        return registry

    @classmethod
    def seeded(cls, *extra_dirs: str | os.PathLike[str]) -> Registry:
        """The docs' skills (invoice-extraction, line-item-validation, patient-referral) and a team's.

        A skill in `extra_dirs` named like a seeded one replaces it (see the module docstring).
        """
        team = [rev for d in extra_dirs for rev in load_dir(Path(d))]
        names = {rev.name for rev in team}
        return cls([*(rev for rev in load_dir(SEED_DIR) if rev.name not in names), *team])

    def all(self) -> list[SkillRevision]:
        return [rev for revs in self._by_name.values() for rev in revs]

    def latest(self) -> list[SkillRevision]:
        return [revs[-1] for revs in self._by_name.values()]

    def resolve(
        self, *, skill_id: str | None = None, skill_name: str | None = None, version: str = LATEST
    ) -> SkillRevision:
        """The revision a skill reference means; `skill_id` takes precedence over `skill_name`."""
        if skill_id:
            rev = self._by_id.get(skill_id)
            if rev is not None:
                if version not in (LATEST, rev.version):
                    raise SkillNotFound(
                        f"Skill id {skill_id!r} is revision {rev.version!r} of {rev.name!r}, not version {version!r}"
                    )
                return rev
            return self._by_name_version(skill_id, version, via="skill_id")
        if skill_name:
            return self._by_name_version(skill_name, version, via="skill_name")
        raise SkillNotFound("Neither skill_id nor skill_name was given")

    def _by_name_version(self, name: str, version: str, *, via: str) -> SkillRevision:
        revs = self._by_name.get(name)
        if not revs:
            raise SkillNotFound(f"Skill not found: {via} {name!r} matches no skill id or name")
        if version == LATEST:
            return revs[-1]
        for rev in revs:
            if rev.version == version:
                return rev
        known = ", ".join(r.version for r in revs)
        raise SkillNotFound(f"Skill {name!r} has no version {version!r} (known versions: {known})")


def revision_id(name: str, version: str) -> str:
    """A revision's id: a UUID derived from its name and version, so the same revision keeps its id."""
    return str(uuid.uuid5(_NAMESPACE, f"{name}@{version}"))


def new_version(name: str, digest: str, previous: str | None, day: str) -> str:
    """`YYYYMMDD-<hash>` for a revision made on `day` (`YYYYMMDD`).

    The docs give the shape only (docs.vlm.run/skills/usage/version-pinning); the hash here
    covers the content digest and the version before, so the same files sent again make a
    new version, not a clash with an older one.
    """
    seed = f"{name}\n{previous or ''}\n{digest}".encode()
    return f"{day}-{hashlib.sha256(seed).hexdigest()[:8]}"


def load_dir(root: Path) -> list[SkillRevision]:
    """Every revision under a registry folder (see the module docstring for the layout)."""
    if not root.is_dir():
        raise UsageError(f"Skills folder {root} does not exist or is not a folder")
    revisions: list[SkillRevision] = []
    for skill_dir in _folders(root):
        if (skill_dir / "SKILL.md").is_file():
            revisions.append(load_revision(skill_dir, version=None))
            continue
        rev_dirs = _folders(skill_dir)
        strays = [p.name for p in rev_dirs if not VERSION_RE.match(p.name)]
        if strays or not rev_dirs:
            found = f" (found {', '.join(strays)})" if strays else ""
            raise UsageError(
                f"Skill folder {skill_dir} is not a valid skill: it needs a SKILL.md, or revision folders "
                f"named YYYYMMDD-<hash> that each hold one{found}"
            )
        revisions.extend(load_revision(rev_dir, version=rev_dir.name) for rev_dir in rev_dirs)
    return revisions


def _folders(parent: Path) -> list[Path]:
    return sorted(p for p in parent.iterdir() if p.is_dir() and not p.name.startswith("."))


def load_revision(folder: Path, *, version: str | None) -> SkillRevision:
    if not (folder / "SKILL.md").is_file():
        raise UsageError(f"Skill folder {folder} is not a valid skill: it has no SKILL.md")
    try:
        files = collect_directory(folder)
        meta = parse_skill_md(files["SKILL.md"])
        schema = parse_schema_json(files["schema.json"]) if "schema.json" in files else None
    except BundleError as exc:
        raise UsageError(f"Skill folder {folder} is not a valid skill: {_one_line(str(exc))}") from exc
    digest = canonical_digest(files)
    if version is None:
        declared = str(effective_version(meta.frontmatter))  # `latest` when neither is set: not of that shape
        match = VERSION_RE.match(declared)
        version = declared if match else f"19800101-{digest.split(':', 1)[1][:8]}"
    return SkillRevision(
        id=revision_id(meta.name, version),
        name=meta.name,
        description=meta.description,
        version=version,
        files=files,
        digest=digest,
        schema=schema,
        folder=folder,
    )


def _one_line(text: str) -> str:
    """Bundle messages may show an example over several lines; a usage error is one."""
    return " ".join(line.strip() for line in text.splitlines() if line.strip())
