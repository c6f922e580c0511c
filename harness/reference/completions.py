"""What the reference server does with a chat-completions body, without HTTP.

Order of judgement mirrors a FastAPI server: schema validation (422), then the rules a
schema cannot state — inline bundles must decode into a safe zip with a valid SKILL.md
(422 naming `source.data` or `bundle`) — then skill resolution (404), then the answer.
The description judges first and writes the 422 details; the accepted body is then read
into the typed request (`harness.models`), and everything after works on that.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pydantic import ValidationError

from harness.bundles import DEFAULT_LIMITS, BundleLimits, decode_bundle
from harness.bundles.decode import decode_base64
from harness.canonical import canonicalize
from harness.contract import COMPLETIONS_PATH, Contract, Loc, Violation
from harness.errors import BundleError
from harness.models import (
    ChatCompletionRequest,
    InlineSkill,
    JSONModeResponseFormat,
    JSONSchemaResponseFormat,
    WireModel,
)
from harness.reference.registry import Registry, SkillNotFound
from harness.reference.schema_instances import structured_content, text_content
from harness.wire import iter_bundle_slots

CREATED = 1_767_225_600  # 2026-01-01T00:00:00Z: fixed so answers are reproducible
W = TypeVar("W", bound=WireModel)


@dataclass(frozen=True)
class Plan:
    """A valid request, its skills resolved: everything needed to answer it."""

    key: str
    model: str
    labels: list[str]
    schema: Mapping[str, Any] | None
    session_id: str
    prompt_tokens: int
    resolved: list[dict[str, str]] = field(default_factory=list)
    stream: bool = False

    @property
    def completion_id(self) -> str:
        return f"chatcmpl-{self.key[:24]}"


class Rejected(Exception):
    def __init__(self, status: int, detail: Any) -> None:
        self.status = status
        self.detail = detail
        super().__init__(detail)


_COMBINATORS = frozenset({"anyof", "not"})  # `harness.openapi.validation`'s types for `anyOf` and `not`


def validated(
    model: type[W],
    body: Any,
    contract: Contract,
    schema: str,
    *,
    bundles: Mapping[Loc, Any] | None = None,
    limits: BundleLimits = DEFAULT_LIMITS,
    combinator_message: str | None = None,
) -> W:
    """`body` judged by the description's `schema`, then read into `model`; `Rejected` (422) if refused.

    The description in use is the judge: the models mirror the packaged description, and a
    value a wider one allows (an overlay's new `model`) is kept as sent (`WireModel.from_accepted`).
    A body whose shape the models cannot hold at all still gets their refusal, in the same
    422 shape, because the server cannot act on what it cannot read.

    Two rewordings keep the 422s in the API's terms. A violation at one of `bundles`' places
    (loc -> the value sent there) that the bundle decoder refuses too is a bundle error,
    `type: bundle.<code>`, like every other (bad base64 fails `format: byte` first). A
    combinator failing at the top (`anyOf`, `not`: which keys go together) is worded by the
    caller, who knows what it means (`combinator_message`), instead of quoting the schema.
    """
    violations = contract.violations(schema, body)
    if violations:
        worded = [_bundle_worded(v, bundles or {}, limits) for v in violations]
        if combinator_message is not None:
            worded = [
                Violation((), combinator_message, "value_error") if not v.loc and v.type in _COMBINATORS else v
                for v in worded
            ]
        raise Rejected(422, [v.as_detail() for v in worded])
    try:
        return model.from_accepted(body)
    except ValidationError as exc:
        raise Rejected(422, model_details(exc)) from exc


def bundle_violation(loc: Loc, exc: BundleError) -> Violation:
    """A bundle the decoder refused, as a 422 item naming where it sat."""
    return Violation(loc, _bundle_message(exc), f"bundle.{exc.code}")


def _bundle_worded(violation: Violation, bundles: Mapping[Loc, Any], limits: BundleLimits) -> Violation:
    sent = bundles.get(violation.loc)
    if not isinstance(sent, str):
        return violation
    try:
        decode_base64(sent, limits=limits)
    except BundleError as exc:
        return bundle_violation(violation.loc, exc)
    return violation


def model_details(exc: ValidationError) -> list[dict[str, Any]]:
    """pydantic's errors as FastAPI writes them: `{loc: ["body", ...], msg, type}`."""
    return [{"loc": ["body", *err["loc"]], "msg": err["msg"], "type": err["type"]} for err in exc.errors()]


def plan_completion(body: Any, contract: Contract, registry: Registry, limits: BundleLimits) -> Plan:
    """Validate and resolve a body, or raise `Rejected` with the API's status and detail."""
    slots = {slot.loc: slot.data for slot in iter_bundle_slots(body, COMPLETIONS_PATH)}
    request = validated(ChatCompletionRequest, body, contract, "ChatCompletionRequest", bundles=slots, limits=limits)
    bundle_violations: list[Violation] = []
    labels: list[str] = []
    resolved: list[dict[str, str]] = []
    schema: Mapping[str, Any] | None = None
    for i, skill in enumerate(request.skills or []):
        if isinstance(skill, InlineSkill):
            loc: Loc = ("skills", i, *skill.data_path)
            try:
                bundle = decode_bundle(skill.effective_data, limits=limits)
            except BundleError as exc:
                bundle_violations.append(bundle_violation(loc, exc))
                continue
            name = skill.name or bundle.skill.name
            labels.append(f"{name}@inline:{bundle.digest.split(':', 1)[1][:12]}")
            resolved.append({"name": name, "version": "inline", "digest": bundle.digest})
            schema = schema or bundle.schema
            continue
        try:
            rev = registry.resolve(
                skill_id=skill.skill_id, skill_name=skill.skill_name, version=skill.effective_version
            )
        except SkillNotFound as exc:
            raise Rejected(404, f"{exc} (skills[{i}])") from exc
        labels.append(f"{rev.name}@{rev.version}")
        resolved.append({"name": rev.name, "version": rev.version, "id": rev.id})
        schema = schema or rev.schema
    if bundle_violations:
        raise Rejected(422, [v.as_detail() for v in bundle_violations])
    response_format = request.response_format
    if (
        isinstance(response_format, JSONSchemaResponseFormat | JSONModeResponseFormat)
        and response_format.schema_ is not None
    ):
        schema = response_format.schema_
    canonical = canonicalize({k: v for k, v in body.items() if k != "stream"}, contract)  # same answer streamed
    prompt_tokens = sum(len(str(m.get("content") or "")) // 4 + 1 for m in body["messages"])  # the text as sent
    return Plan(
        key=canonical.key,
        model=str(canonical.body.get("model", request.model)),  # the default of the description in use
        labels=labels,
        schema=schema,
        session_id=request.session_id or str(uuid.UUID(canonical.key[:32])),
        prompt_tokens=prompt_tokens,
        resolved=resolved,
        stream=request.stream,
    )


def _bundle_message(exc: BundleError) -> str:
    return f"Invalid skill bundle: {exc}"


def answer_text(plan: Plan) -> str:
    if plan.schema is not None:
        content = structured_content(plan.schema, plan.key)
        if content is not None:
            return content
    return text_content(plan.labels, plan.key)


def _usage(plan: Plan, content: str) -> dict[str, int]:
    completion_tokens = len(content) // 4 + 1
    return {
        "prompt_tokens": plan.prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": plan.prompt_tokens + completion_tokens,
    }


def completion(plan: Plan) -> dict[str, Any]:
    content = answer_text(plan)
    return {
        "id": plan.completion_id,
        "object": "chat.completion",
        "created": CREATED,
        "model": plan.model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
        "usage": _usage(plan, content),
        "session_id": plan.session_id,
    }


def chunks(plan: Plan, *, pieces: int = 4) -> list[dict[str, Any]]:
    """OpenAI-style chunks: a role chunk, the content in pieces, then a final chunk with usage."""
    content = answer_text(plan)
    base = {"id": plan.completion_id, "object": "chat.completion.chunk", "created": CREATED, "model": plan.model}
    step = max(1, -(-len(content) // pieces))
    out = [
        {
            **base,
            "session_id": plan.session_id,
            "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}],
        }
    ]
    for start in range(0, len(content), step):
        piece = content[start : start + step]
        out.append({**base, "choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": None}]})
    out.append(
        {**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}], "usage": _usage(plan, content)}
    )
    return out
