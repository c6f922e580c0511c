"""Skills as the description defines them: `AgentSkill`, and the lookup, create and update bodies.

The two skill shapes are told apart by `type` alone, as the server must: a referenced
skill may leave `type` out (default `skill_reference`), so anything but `"inline"` is
read as a reference, and a misspelt `"inlne"` fails there with a `type` error instead of
matching nothing. Both shapes forbid unknown keys, but accept an explicit null for the
other shape's keys, because `AgentSkill(...).model_dump()` in the vlmrun SDK sends them.

Which version or bundle a skill means is `harness.wire`'s rule; the properties here hand
it what was sent and return its answer.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Self

from pydantic import BaseModel, Discriminator, Field, Tag, model_validator

from harness import wire
from harness.models._base import Base64Str, ClosedModel, Omittable, OpenModel

CREATE_SOURCE_MESSAGE = (
    "Provide exactly one of 'file_id' (with 'name' and 'description'), 'prompt', 'session_id' or 'source'"
)
UPDATE_SOURCE_MESSAGE = "Provide 'file_id' or 'source', not both"


def _sent(model: BaseModel, *names: str) -> dict[str, Any]:
    """The fields among `names` the caller set (a default read back is not "sent")."""
    return {name: getattr(model, name) for name in names if name in model.model_fields_set}


class InlineSkillSource(ClosedModel):
    """The payload of an inline skill: a base64 zip holding `SKILL.md` at its root.

    `type` and `media_type` have one allowed value each and may be left out (openai>=2.17
    sends only `{"data": ...}`), so they default to it.
    """

    type: Literal["base64"] = "base64"
    media_type: Literal["application/zip"] = "application/zip"
    data: Annotated[Base64Str, Field(min_length=1)]


class SkillReference(ClosedModel):
    """A server-stored skill, named by `skill_id` and/or `skill_name`.

    `skill_version` defaults to `"latest"` like in the description, so whether the caller
    pinned a version is read from `model_fields_set`; use `effective_version` for the
    revision the server resolves. `version` is the deprecated alias (no pydantic
    `deprecated=`, which would warn on every read, including ours).
    """

    type: Literal["skill_reference"] = "skill_reference"
    skill_id: str | None = Field(default=None, min_length=1)
    skill_name: str | None = Field(default=None, min_length=1)
    skill_version: str | None = Field(default=wire.LATEST, min_length=1)
    version: str | None = Field(default=None, min_length=1)
    name: None = None
    description: None = None
    source: None = None
    bundle: None = None

    @model_validator(mode="after")
    def _needs_an_identifier(self) -> Self:
        if self.skill_id is None and self.skill_name is None:
            raise ValueError(
                "A referenced skill needs 'skill_id' or 'skill_name' (a string); "
                "for an inline skill set type='inline' and 'source'"
            )
        return self

    @property
    def effective_version(self) -> str:
        """The revision the server resolves: `harness.wire.effective_version` of what was sent."""
        return str(wire.effective_version(_sent(self, "skill_version", "version")))


class InlineSkill(ClosedModel):
    """A skill sent with the request as a zip, not stored: the bundle is its version.

    `bundle` is the deprecated spelling of `source.data`; `effective_data` applies the
    SDK's precedence; either may be an explicit null (`model_dump()` sends the unused one
    as null) as long as the other carries the bundle. `skill_version` is tolerated (the
    vlmrun dict form sends `"latest"`) and ignored, and so is the deprecated `version` (vlmrun
    <= 0.5.10 sends it the same way); the reference-only keys accept null only.
    """

    type: Literal["inline"]
    name: str | None = None
    description: str | None = None
    source: InlineSkillSource | None = None
    bundle: Base64Str | None = None
    skill_version: str | None = None
    skill_id: None = None
    skill_name: None = None
    version: str | None = None

    @model_validator(mode="after")
    def _needs_a_payload(self) -> Self:
        if self.source is None and self.bundle is None:
            raise ValueError("An inline skill needs 'source' (with base64 'data') or the deprecated 'bundle'")
        return self

    @property
    def effective_data(self) -> str:
        """The base64 zip the server decodes: `harness.wire.effective_bundle` of what was sent."""
        data = wire.effective_bundle(self._payload())
        if data is None:  # only after model_construct(), which skips validation
            raise ValueError("InlineSkill has neither source nor bundle")
        return str(data)

    @property
    def data_path(self) -> tuple[str, ...]:
        """Where `effective_data` sits in the skill (`source.data`, or the deprecated `bundle`)."""
        return wire.effective_bundle_path(self._payload())

    def _payload(self) -> dict[str, Any]:
        source = {"data": self.source.data} if self.source is not None else None
        return {"source": source, "bundle": self.bundle}


def _skill_kind(value: Any) -> str:
    """The union's tag: inline, or else a reference (so `"inlne"` fails on `type`, not on shape)."""
    kind = wire.skill_kind(value) if isinstance(value, dict) else getattr(value, "type", None)
    return wire.INLINE if kind == wire.INLINE else wire.REFERENCE


AgentSkill = Annotated[
    Annotated[SkillReference, Tag(wire.REFERENCE)] | Annotated[InlineSkill, Tag(wire.INLINE)],
    Discriminator(_skill_kind),
]
"""One entry of `skills`: validate with `TypeAdapter(AgentSkill)` or inside a request."""


class SkillLookupRequest(OpenModel):
    """`POST /v1/skills/lookup`: by `id`, by `name`, or by `name` and a pinned version."""

    name: str | None = Field(default=None, min_length=1)
    id: str | None = Field(default=None, min_length=1)
    skill_version: str | None = Field(default=None, min_length=1)
    version: str | None = Field(default=None, min_length=1)

    @model_validator(mode="after")
    def _needs_an_identifier(self) -> Self:
        if self.name is None and self.id is None:
            raise ValueError("A skill lookup needs 'id' or 'name' (a string)")
        return self

    @property
    def effective_version(self) -> str:
        """The revision asked for: `harness.wire.effective_version` of what was sent."""
        return str(wire.effective_version(_sent(self, "skill_version", "version")))


_CREATE_SOURCES = ("file_id", "prompt", "session_id", "source")


class SkillCreateRequest(OpenModel):
    """`POST /v1/skills/create`: exactly one source of the new skill's zip.

    `file_id` (an uploaded zip; `name` and `description` required with it), `prompt` (with
    an optional `json_schema`), `session_id`, or `source`, the zip itself (the description's
    Assumption: the Files API behind `file_id` is not modelled). A null source is not given.
    """

    name: str | None = Field(default=None, min_length=1, max_length=255)
    description: str | None = None
    file_id: str | None = Field(default=None, min_length=1)
    prompt: str | None = Field(default=None, min_length=1)
    json_schema: dict[str, Any] | None = None
    session_id: str | None = Field(default=None, min_length=1)
    is_public: Omittable[bool] = False
    source: InlineSkillSource | None = None

    @model_validator(mode="after")
    def _exactly_one_source(self) -> Self:
        given = [name for name in _CREATE_SOURCES if getattr(self, name) is not None]
        if len(given) != 1:
            raise ValueError(CREATE_SOURCE_MESSAGE)
        if given == ["file_id"] and (self.name is None or self.description is None):
            raise ValueError(CREATE_SOURCE_MESSAGE)
        return self


class SkillUpdateRequest(OpenModel):
    """`POST /v1/skills/{skill_id}/update`: a new version, from a new zip (`file_id` or `source`) or not."""

    file_id: str | None = Field(default=None, min_length=1)
    description: str | None = None
    source: InlineSkillSource | None = None

    @model_validator(mode="after")
    def _one_zip_at_most(self) -> Self:
        if self.file_id is not None and self.source is not None:
            raise ValueError(UPDATE_SOURCE_MESSAGE)
        return self
