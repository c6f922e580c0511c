"""The chat completions request body (`POST /v1/openai/chat/completions`).

Everything here is open (unknown keys are kept) because the description leaves these
objects open: OpenAI clients send fields this API ignores, and a dump must give back what
was sent. Defaults are the description's `default`s, so reading an absent key gives the
value the server applies; `to_wire()` still leaves it out. Enumerations, patterns and bounds
are `Judged`: a body a wider description in use has accepted keeps its values (see `_base`).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Self

from pydantic import Field, StringConstraints, model_validator

from harness.models._base import JsonInt, JsonNumber, Judged, Omittable, OpenModel, UriStr
from harness.models.skills import AgentSkill

Role = Literal["system", "developer", "user", "assistant", "tool"]
MODEL_PATTERN = r"^vlmrun-orion-[0-9]+(:[a-z0-9][a-z0-9._-]*)?$"
"""The description's `model` pattern: an open set of ids (the API adds models), not an enum."""
OrionModel = Annotated[str, StringConstraints(pattern=MODEL_PATTERN)]
Toolset = Literal["core", "document", "image", "image-gen", "video", "viz", "web", "world-gen"]
ImageDetail = Literal["auto", "low", "high"]


class TextPart(OpenModel):
    type: Literal["text"]
    text: str


class MediaUrl(OpenModel):
    """An http(s) or `data:` URL; the description's `format: uri` means it needs a scheme."""

    url: UriStr
    detail: Omittable[Judged[ImageDetail]] = None


class ImageUrlPart(OpenModel):
    type: Literal["image_url"]
    image_url: MediaUrl


class VideoUrlPart(OpenModel):
    type: Literal["video_url"]
    video_url: MediaUrl


class AudioUrlPart(OpenModel):
    type: Literal["audio_url"]
    audio_url: MediaUrl


class FileUrlPart(OpenModel):
    type: Literal["file_url"]
    file_url: MediaUrl


class InputFilePart(OpenModel):
    """Unlike `file_url` parts, `file_url` here is a bare string, not a `MediaUrl`."""

    type: Literal["input_file"]
    file_id: Omittable[str] = None
    file_url: Omittable[UriStr] = None

    @model_validator(mode="after")
    def _needs_a_file(self) -> Self:
        if self.file_id is None and self.file_url is None:
            raise ValueError("An input_file part needs 'file_id' or 'file_url'")
        return self


ContentPart = Annotated[
    TextPart | ImageUrlPart | VideoUrlPart | AudioUrlPart | FileUrlPart | InputFilePart,
    Field(discriminator="type"),
]


class ToolCallFunction(OpenModel):
    name: str
    arguments: str


class ToolCall(OpenModel):
    id: str
    type: str
    function: ToolCallFunction


class Message(OpenModel):
    """`content` is text, a list of parts, or null (assistant turns with tool calls)."""

    role: Judged[Role]
    content: str | list[ContentPart] | None = None
    name: str | None = None
    tool_call_id: str | None = None
    tool_calls: list[ToolCall] | None = None


class JSONSchemaResponseFormat(OpenModel):
    """Fireworks-style: the JSON Schema sits at `schema`, not at OpenAI's `json_schema.schema`.

    The attribute is `schema_` (pydantic's `BaseModel.schema` is taken); on the wire, in
    `model_validate` and in the constructor it is `schema`.
    """

    type: Literal["json_schema"]
    schema_: dict[str, Any] = Field(alias="schema")
    name: Omittable[str] = None
    strict: Omittable[bool] = None


class JSONModeResponseFormat(OpenModel):
    type: Literal["json_object"]
    schema_: dict[str, Any] | None = Field(default=None, alias="schema")


class TextResponseFormat(OpenModel):
    type: Literal["text"]


ResponseFormat = Annotated[
    JSONSchemaResponseFormat | JSONModeResponseFormat | TextResponseFormat,
    Field(discriminator="type"),
]


class ChatCompletionRequest(OpenModel):
    """The request; `skills` mixes referenced and inline skills, each resolved on its own."""

    messages: list[Message] = Field(min_length=1)
    id: str | None = None
    model: Judged[OrionModel] = "vlmrun-orion-1:auto"
    max_tokens: Judged[JsonInt] = Field(default=32768, ge=1)
    n: Judged[JsonInt | None] = Field(default=1, ge=1)
    temperature: Judged[JsonNumber] = Field(default=0, ge=0, le=2)
    top_p: Judged[JsonNumber] = Field(default=1, ge=0, le=1)
    top_k: JsonInt | None = None
    logprobs: JsonInt | None = None
    stream: bool = False
    preview: bool | None = None
    response_format: ResponseFormat | None = None
    session_id: str | None = None
    metadata: dict[str, Any] | None = None
    skills: list[AgentSkill] | None = None
    toolsets: list[Judged[Toolset]] | None = None
    models: list[str] | None = None
