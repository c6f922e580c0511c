"""Typed pydantic models of the API description's `components.schemas`.

They mirror `openapi/vlmrun-agent.yaml` for typed access; `harness.contract` judges
bodies. `COMPONENTS` maps each schema name to its model (or union) so that code and tests
can walk the description and the models side by side. Every model is a `WireModel`:
`.to_wire()` dumps it back to the JSON it was validated from.
"""

from __future__ import annotations

from typing import Any, Final

from harness.models._base import WireModel
from harness.models.request import (
    AudioUrlPart,
    ChatCompletionRequest,
    ContentPart,
    FileUrlPart,
    ImageUrlPart,
    InputFilePart,
    JSONModeResponseFormat,
    JSONSchemaResponseFormat,
    MediaUrl,
    Message,
    ResponseFormat,
    TextPart,
    TextResponseFormat,
    ToolCall,
    ToolCallFunction,
    VideoUrlPart,
)
from harness.models.response import (
    DONE,
    ChatCompletion,
    ChatCompletionChunk,
    ChatCompletionEvent,
    Choice,
    ChoiceMessage,
    ChunkChoice,
    ChunkDelta,
    ErrorDetail,
    Health,
    HTTPValidationError,
    Usage,
    ValidationErrorItem,
)
from harness.models.skills import (
    LATEST,
    AgentSkill,
    InlineSkill,
    InlineSkillSource,
    SkillInfo,
    SkillLookupRequest,
    SkillReference,
)

COMPONENTS: Final[dict[str, Any]] = {
    "Health": Health,
    "ErrorDetail": ErrorDetail,
    "HTTPValidationError": HTTPValidationError,
    "ValidationError": ValidationErrorItem,
    "ChatCompletionRequest": ChatCompletionRequest,
    "Message": Message,
    "ToolCall": ToolCall,
    "ContentPart": ContentPart,
    "TextPart": TextPart,
    "MediaUrl": MediaUrl,
    "ImageUrlPart": ImageUrlPart,
    "VideoUrlPart": VideoUrlPart,
    "AudioUrlPart": AudioUrlPart,
    "FileUrlPart": FileUrlPart,
    "InputFilePart": InputFilePart,
    "JSONSchemaResponseFormat": JSONSchemaResponseFormat,
    "JSONModeResponseFormat": JSONModeResponseFormat,
    "TextResponseFormat": TextResponseFormat,
    "AgentSkill": AgentSkill,
    "SkillReference": SkillReference,
    "InlineSkill": InlineSkill,
    "InlineSkillSource": InlineSkillSource,
    "SkillLookupRequest": SkillLookupRequest,
    "SkillInfo": SkillInfo,
    "ChatCompletion": ChatCompletion,
    "Choice": Choice,
    "Usage": Usage,
    "ChatCompletionEvent": ChatCompletionEvent,
    "ChatCompletionChunk": ChatCompletionChunk,
}
"""Schema name in the description -> the model (a class, or an annotated union)."""

# request
__all__ = [
    "AudioUrlPart",
    "ChatCompletionRequest",
    "ContentPart",
    "FileUrlPart",
    "ImageUrlPart",
    "InputFilePart",
    "JSONModeResponseFormat",
    "JSONSchemaResponseFormat",
    "MediaUrl",
    "Message",
    "ResponseFormat",
    "TextPart",
    "TextResponseFormat",
    "ToolCall",
    "ToolCallFunction",
    "VideoUrlPart",
]
# skills
__all__ += [
    "LATEST",
    "AgentSkill",
    "InlineSkill",
    "InlineSkillSource",
    "SkillInfo",
    "SkillLookupRequest",
    "SkillReference",
]
# responses
__all__ += [
    "DONE",
    "ChatCompletion",
    "ChatCompletionChunk",
    "ChatCompletionEvent",
    "Choice",
    "ChoiceMessage",
    "ChunkChoice",
    "ChunkDelta",
    "ErrorDetail",
    "HTTPValidationError",
    "Health",
    "Usage",
    "ValidationErrorItem",
]
# registry and base
__all__ += ["COMPONENTS", "WireModel"]
