"""Skill management on the reference server: create a skill, update it (a new version), download it.

The description's `createSkill`, `updateSkill` and `downloadSkill`, without HTTP. Bodies are
judged by the description first (422 in FastAPI's shape), then acted on; the new revisions
go into the process's `Registry`, where `latest` moves to each one and every older version
still resolves by its pin or its id.

Where a skill's zip comes from: `source` (the zip itself, kept byte for byte: the
description's Assumption, since the Files API behind `file_id` is not modelled, so a
`file_id` is always unknown here: 404), `prompt` (SKILL.md and schema.json written from the
prompt and `json_schema`, deterministically), or `session_id`, a chat this server answered
(its messages become the prompt). Downloads answer a `data:` URL holding the zip: the
reference server has no storage to presign.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

import yaml

from harness.bundles import BundleLimits, canonical_digest, decode_bundle
from harness.bundles.skill import parse_schema_json
from harness.caches import LockedLRU
from harness.contract import Contract, Loc
from harness.errors import BundleError
from harness.models import InlineSkillSource, SkillCreateRequest, SkillUpdateRequest
from harness.models.skills import CREATE_SOURCE_MESSAGE, UPDATE_SOURCE_MESSAGE
from harness.reference.completions import Rejected, bundle_violation, validated
from harness.reference.registry import Registry, SkillRevision, new_version, revision_id
from harness.wire import SOURCE_DATA, iter_bundle_slots

SESSION_CHARS = 32 * 1024 * 1024
"""Characters of chat text remembered for `create` with `session_id`; the oldest chat goes first."""
_DESCRIPTION_CHARS = 200
_CREATE_PATH = "/v1/skills/create"  # the operations' paths as `app` routes them: wire's bundle slots follow them
_UPDATE_PATH = "/v1/skills/{skill_id}/update"
_SOURCE_DATA: Loc = SOURCE_DATA


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class _Content:
    """A skill's files as they will be stored, and what they say about themselves."""

    files: Mapping[str, bytes]
    name: str
    description: str
    schema: dict[str, Any] | None = None
    zip_bytes: bytes | None = field(default=None, repr=False)


class SkillAdmin:
    """Create, update and download against one registry (the process's state)."""

    def __init__(
        self,
        registry: Registry,
        contract: Contract,
        limits: BundleLimits,
        *,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self._registry, self._contract, self._limits = registry, contract, limits
        self._clock = clock or utc_now
        self._sessions: LockedLRU[str, str] = LockedLRU(SESSION_CHARS, getsizeof=lambda text: len(text) + 1)

    def remember_session(self, session_id: str, messages: Sequence[Any]) -> None:
        """A chat this server answered, so that `create` can make a skill of it."""
        self._sessions.put(session_id, transcript(messages))

    def create(self, body: Any) -> dict[str, Any]:
        """The new skill's first revision (`SkillCreateResponse`), or `Rejected`."""
        request = validated(
            SkillCreateRequest,
            body,
            self._contract,
            "SkillCreateRequest",
            bundles=_bundle_slots(body, _CREATE_PATH),
            limits=self._limits,
            combinator_message=CREATE_SOURCE_MESSAGE,
        )
        content = self._create_content(request)
        existing = self._registry.revisions(content.name)
        if existing:
            newest = existing[-1]
            raise Rejected(
                409,
                f"Skill {content.name!r} already exists (latest version {newest.version!r}, id {newest.id!r}): "
                f"POST /v1/skills/{newest.id}/update makes a new version of it",
            )
        rev = self._revision(content, previous=None, is_public=bool(request.is_public))
        return rev.info()

    def update(self, skill_id: str, body: Any) -> dict[str, Any]:
        """A new newest revision of the skill `skill_id` names (`SkillInfo`), or `Rejected`/`SkillNotFound`."""
        request = validated(
            SkillUpdateRequest,
            body,
            self._contract,
            "SkillUpdateRequest",
            bundles=_bundle_slots(body, _UPDATE_PATH),
            limits=self._limits,
            combinator_message=UPDATE_SOURCE_MESSAGE,
        )
        named = self._registry.resolve(skill_id=skill_id)
        latest = self._registry.revisions(named.name)[-1]
        if request.file_id is not None:
            raise _file_not_found(request.file_id)
        if request.source is not None:
            content = replace(self._uploaded(request.source), name=latest.name)
        else:
            content = _Content(latest.files, latest.name, latest.description, latest.schema, latest.zip_bytes)
        if request.description is not None:
            content = replace(content, description=request.description)
        return self._revision(content, previous=latest.version, is_public=latest.is_public).info()

    def download(self, skill_id: str) -> dict[str, Any]:
        """`SkillDownloadResponse` for the revision `skill_id` names, or `SkillNotFound`."""
        zip_bytes = self._registry.resolve(skill_id=skill_id).bundle()
        return {"download_url": "data:application/zip;base64," + base64.b64encode(zip_bytes).decode("ascii")}

    # -- where the files come from -------------------------------------------------------------

    def _create_content(self, request: SkillCreateRequest) -> _Content:
        if request.file_id is not None:
            raise _file_not_found(request.file_id)
        if request.source is not None:
            uploaded = self._uploaded(request.source)
            return replace(
                uploaded,
                name=request.name if request.name is not None else uploaded.name,
                description=request.description if request.description is not None else uploaded.description,
            )
        if request.prompt is not None:
            return _written(request.prompt, request.name, request.description, request.json_schema, seed=request.prompt)
        session_id = str(request.session_id)
        chat = self._sessions.get(session_id)
        if chat is None:
            raise Rejected(
                404,
                f"Session not found: session_id {session_id!r} is no chat this server answered (or no longer keeps)",
            )
        return _written(chat, request.name, request.description, None, seed=session_id)

    def _uploaded(self, source: InlineSkillSource) -> _Content:
        try:
            bundle = decode_bundle(source.data, limits=self._limits)
        except BundleError as exc:
            raise Rejected(422, [bundle_violation(_SOURCE_DATA, exc).as_detail()]) from exc
        zip_bytes = base64.b64decode(source.data)
        return _Content(bundle.files, bundle.skill.name, bundle.skill.description, bundle.schema, zip_bytes)

    # -- the new revision ----------------------------------------------------------------------

    def _revision(self, content: _Content, *, previous: str | None, is_public: bool) -> SkillRevision:
        now = self._clock().astimezone(UTC)
        digest = canonical_digest(content.files)
        taken = {rev.version for rev in self._registry.revisions(content.name)}
        version = new_version(content.name, digest, previous, now.strftime("%Y%m%d"))
        salt = 0
        while version in taken:  # the 8-hex hash met an older version's: practically never
            salt += 1
            version = new_version(content.name, digest, f"{previous}#{salt}", now.strftime("%Y%m%d"))
        rev = SkillRevision(
            id=revision_id(content.name, version),
            name=content.name,
            description=content.description,
            version=version,
            files=content.files,
            digest=digest,
            schema=content.schema,
            created=now.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),  # microseconds: revisions made in one second still order
            is_public=is_public,
            zip_bytes=content.zip_bytes,
        )
        self._registry.append(rev)
        return rev


def _bundle_slots(body: Any, path: str) -> dict[Loc, Any]:
    """Where a create or update body holds a zip's base64 (wire's rule for `path`), for bundle-worded 422s."""
    return {slot.loc: slot.data for slot in iter_bundle_slots(body, path)}


def _file_not_found(file_id: str) -> Rejected:
    return Rejected(
        404,
        f"File not found: file_id {file_id!r} (the reference server has no Files API: send the zip itself "
        "as 'source': {'data': '<base64 zip>'})",
    )


def _written(text: str, name: str | None, description: str | None, json_schema: Any, *, seed: str) -> _Content:
    """What the server writes for `prompt` and `session_id`: SKILL.md (and schema.json) from the text.

    The docs say an LLM writes them and picks a missing name and description; here the name
    comes from `seed` (the prompt, or the session: each chat its own skill) and the description
    from the text's first line, so the same request always gives the same skill.
    """
    name = name if name is not None else f"skill-{hashlib.sha256(seed.encode()).hexdigest()[:8]}"
    if description is None:
        first = next((line.strip() for line in text.splitlines() if line.strip()), "")
        description = first[:_DESCRIPTION_CHARS] or "A skill written from a prompt"
    front = yaml.safe_dump({"name": name, "description": description}, allow_unicode=True, sort_keys=False)
    files = {"SKILL.md": f"---\n{front}---\n{text}\n".encode()}
    schema: dict[str, Any] | None = None
    if json_schema is not None:
        files["schema.json"] = json.dumps(json_schema, indent=2, sort_keys=True, ensure_ascii=False).encode()
        try:
            schema = parse_schema_json(files["schema.json"])
        except BundleError:
            schema = None  # kept as sent; answers are then plain text, not shaped by it
    return _Content(files, name, description, schema)


def transcript(messages: Sequence[Any]) -> str:
    """A chat's text, one `role: text` line per message (text parts only)."""
    lines = []
    for message in messages:
        if not isinstance(message, Mapping):
            continue
        content = message.get("content")
        if isinstance(content, list):
            content = " ".join(p["text"] for p in content if isinstance(p, Mapping) and isinstance(p.get("text"), str))
        if isinstance(content, str) and content:
            lines.append(f"{message.get('role', 'user')}: {content}")
    return "\n".join(lines)
