"""Response bodies: completions, stream events, health and FastAPI-style errors.

These are what the harness reads back from a server (live or replayed), so they are open
like the request: an extra key a server adds is kept and dumped back, and the judgement
on whether the extra is acceptable stays with the description.
"""

from __future__ import annotations

from typing import Final, Literal

from pydantic import Field

from harness.models._base import JsonInt, JsonNumber, Omittable, OpenModel

DONE: Final = "[DONE]"
"""The `data:` of the SSE event that ends a stream (not JSON; openai-python stops on it)."""

FinishReason = Literal["stop", "length", "tool_calls", "content_filter"]


class Health(OpenModel):
    status: str


class ErrorDetail(OpenModel):
    """401/404 bodies: FastAPI's `{"detail": "..."}`, which the SDKs show to the user."""

    detail: str


class ValidationErrorItem(OpenModel):
    """One item of a 422 `detail` (the description's `ValidationError`, renamed so it does
    not shadow `pydantic.ValidationError`)."""

    loc: list[str | JsonInt]
    msg: str
    type: str


class HTTPValidationError(OpenModel):
    detail: list[ValidationErrorItem]


class Usage(OpenModel):
    """Token counts; `credits_used` / `credits` are VLM extensions the CLI reads."""

    prompt_tokens: JsonInt = Field(ge=0)
    completion_tokens: JsonInt = Field(ge=0)
    total_tokens: JsonInt = Field(ge=0)
    credits_used: JsonNumber | None = None
    credits: JsonNumber | None = None


class ChoiceMessage(OpenModel):
    """The assistant's answer; `content` is required but may be null."""

    role: Literal["assistant"]
    content: str | None


class Choice(OpenModel):
    index: JsonInt = Field(ge=0)
    message: ChoiceMessage
    finish_reason: FinishReason | None


class ChatCompletion(OpenModel):
    """OpenAI `chat.completion` plus `session_id`; `usage` must be present but may be null."""

    id: str
    object: Literal["chat.completion"]
    created: JsonInt
    model: str
    choices: list[Choice] = Field(min_length=1)
    usage: Usage | None
    session_id: str
    system_fingerprint: str | None = None


class ChunkDelta(OpenModel):
    role: Omittable[Literal["assistant"]] = None
    content: str | None = None


class ChunkChoice(OpenModel):
    index: JsonInt = Field(ge=0)
    delta: ChunkDelta
    finish_reason: FinishReason | None = None


class ChatCompletionChunk(OpenModel):
    """One streamed piece; the first usually carries `session_id`, the last `usage`."""

    id: str
    object: Literal["chat.completion.chunk"]
    created: JsonInt
    model: str
    session_id: Omittable[str] = None
    choices: list[ChunkChoice]
    usage: Usage | None = None


class ChatCompletionEvent(OpenModel):
    """One server-sent event of a streamed completion.

    `data` stays the raw string because the description types it so (a chunk's JSON or
    the non-JSON `[DONE]`); `parse()` turns it into what it carries.
    """

    event: Omittable[str] = None
    id: Omittable[str] = None
    data: str

    @property
    def is_done(self) -> bool:
        return self.data == DONE

    def parse(self) -> ChatCompletionChunk | Literal["[DONE]"]:
        """The chunk, or `DONE`; pydantic's `ValidationError` if `data` is neither."""
        if self.data == DONE:
            return DONE
        return ChatCompletionChunk.model_validate_json(self.data)
