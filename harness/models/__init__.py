"""Typed pydantic models of the request bodies the API description defines.

They mirror `openapi/vlmrun-agent.yaml` for typed access; `harness.contract` judges
bodies first. The reference server validates each accepted body into them and works on
the typed form. Only requests are modelled: nothing in the harness reads a response
through a model, and a model nothing uses is a second source of truth. `COMPONENTS` maps
each modelled schema name to its model (or union) so that code and tests can walk the
description and the models side by side. Every model is a `WireModel`: `.to_wire()` dumps
it back to the JSON it was validated from.
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
from harness.models.skills import (
    AgentSkill,
    InlineSkill,
    InlineSkillSource,
    SkillCreateRequest,
    SkillLookupRequest,
    SkillReference,
    SkillUpdateRequest,
)

COMPONENTS: Final[dict[str, Any]] = {
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
    "SkillCreateRequest": SkillCreateRequest,
    "SkillUpdateRequest": SkillUpdateRequest,
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
    "AgentSkill",
    "InlineSkill",
    "InlineSkillSource",
    "SkillCreateRequest",
    "SkillLookupRequest",
    "SkillReference",
    "SkillUpdateRequest",
]
# registry and base
__all__ += ["COMPONENTS", "WireModel"]
