"""The embedded reference server: an ASGI app that answers like the API does.

It is a faithful stand-in, not a mock that says yes: bodies are validated with the
description's own schemas, bundles are decoded and checked, skills resolve through a
versioned registry that create and update add to (`skill_admin`), and errors use the API's
shapes (401/404/409 `{"detail": str}`, 422 FastAPI `{"detail": [{loc, msg, type}]}`, unknown
routes and methods `{"detail": "Not Found"}` / `{"detail": "Method Not Allowed"}` as
FastAPI answers them). Property tests run against it must find nothing.
"""

from __future__ import annotations

import hmac
import json
import re
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Coroutine
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from sse_starlette import EventSourceResponse, ServerSentEvent
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from harness.bundles import DEFAULT_LIMITS, BundleLimits
from harness.contract import Contract, load_contract, unicode_violations
from harness.header_names import REFERENCE_HEADER, RESOLVED_HEADER
from harness.models import SkillLookupRequest
from harness.reference.completions import Rejected, chunks, completion, plan_completion, validated
from harness.reference.long_requests import completions_route
from harness.reference.registry import Registry, SkillNotFound
from harness.reference.skill_admin import SkillAdmin
from harness.settings import LOCAL_API_KEY

_IDENTITY = b"vlmrun-skills-harness reference server"
MAX_BODY_BYTES = 128 * 1024 * 1024
MAX_DEPTH = 64  # Assumption: the API's limit is undocumented; deeper bodies are hostile, not requests
JOURNAL_SIZE = 1000  # completion id -> skills resolved, for tests that only see SDK objects
_INT_RE = re.compile(r"^-?[0-9]{1,4000}$")

Handler = Callable[[Request], Coroutine[Any, Any, Response]]


@dataclass(frozen=True)
class ServerConfig:
    api_key: str = LOCAL_API_KEY
    limits: BundleLimits = DEFAULT_LIMITS
    max_body_bytes: int = MAX_BODY_BYTES
    long_requests: int | None = None  # POLLS: answer completions 303, then POLLS 202s (long_requests.py)


def create_app(
    *, config: ServerConfig | None = None, registry: Registry | None = None, contract: Contract | None = None
) -> Starlette:
    cfg = config or ServerConfig()
    reg = registry or Registry.seeded()
    spec = contract or load_contract()
    journal: OrderedDict[str, list[str]] = OrderedDict()
    admin = SkillAdmin(reg, spec, cfg.limits)

    def authed(handler: Handler) -> Handler:
        async def wrapper(request: Request) -> Response:
            header = request.headers.get("authorization", "")
            scheme, _, token = header.partition(" ")
            if scheme.lower() != "bearer" or not hmac.compare_digest(token.strip().encode(), cfg.api_key.encode()):
                why = "Missing API key" if not header else "Invalid API key"
                return JSONResponse(
                    {"detail": f"{why}: send 'Authorization: Bearer <VLMRUN_API_KEY>'"},
                    status_code=401,
                    headers={"www-authenticate": "Bearer"},
                )
            return await handler(request)

        return wrapper

    async def read_json(request: Request) -> Any:
        raw = bytearray()
        async for chunk in request.stream():
            raw += chunk
            if len(raw) > cfg.max_body_bytes:
                raise Rejected(422, [_detail(["body"], f"Request body over {cfg.max_body_bytes} bytes", "too_large")])
        try:
            value = json.loads(raw)
        # ValueError, not only JSONDecodeError: an integer over 4,300 digits fails int() inside
        # json.loads (CPython's int_max_str_digits), and that must be a 422 too, not a 500.
        except (ValueError, RecursionError) as exc:
            raise Rejected(422, [_detail(["body"], f"JSON decode error: {exc}", "json_invalid")]) from exc
        if _too_deep(value, MAX_DEPTH):
            raise Rejected(422, [_detail(["body"], f"JSON nested deeper than {MAX_DEPTH} levels", "too_deep")])
        # Lone surrogates only come from `\uD800`-style escapes (UTF-8 cannot hold them), so the
        # walk runs only when the bytes hold one, or hold NUL (json.loads also reads UTF-16/32,
        # where escapes are spread over NULs; valid UTF-8 JSON never has one). Answers echo
        # fields (model, session_id) and could not be encoded: refuse them, naming the field.
        suspect = b"\\ud" in raw or b"\\uD" in raw or b"\x00" in raw
        if suspect and (bad := unicode_violations(value)):
            raise Rejected(422, [v.as_detail() for v in bad])
        return value

    async def health(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def chat_completions(request: Request) -> Response:
        try:
            body = await read_json(request)
            plan = plan_completion(body, spec, reg, cfg.limits)
        except Rejected as exc:
            return JSONResponse({"detail": exc.detail}, status_code=exc.status)
        headers = {RESOLVED_HEADER: quote(",".join(plan.labels), safe="@:,-._")}
        journal[plan.completion_id] = plan.labels
        while len(journal) > JOURNAL_SIZE:
            journal.popitem(last=False)
        admin.remember_session(plan.session_id, body["messages"])
        if plan.stream:
            events = chunks(plan)

            async def stream() -> AsyncIterator[ServerSentEvent]:
                for event in events:
                    yield ServerSentEvent(data=json.dumps(event, separators=(",", ":"), ensure_ascii=False))
                yield ServerSentEvent(data="[DONE]")

            return EventSourceResponse(stream(), headers=headers, ping=None, sep="\n")
        return JSONResponse(completion(plan), headers=headers)

    async def list_skills(request: Request) -> Response:
        try:
            query = _list_query(request)
        except Rejected as exc:
            return JSONResponse({"detail": exc.detail}, status_code=exc.status)
        revs = reg.latest() if query["grouped"] else reg.all()
        key = query["order_by"]
        revs.sort(
            key=lambda r: (r.name, r.created_at, r.version) if key == "name" else (r.created_at, r.version, r.name),
            reverse=query["descending"],
        )
        page = revs[query["offset"] : query["offset"] + query["limit"]]
        return JSONResponse([r.info() for r in page])

    async def lookup_skill(request: Request) -> Response:
        try:
            lookup = validated(SkillLookupRequest, await read_json(request), spec, "SkillLookupRequest")
            rev = reg.resolve(skill_id=lookup.id, skill_name=lookup.name, version=lookup.effective_version)
        except Rejected as exc:
            return JSONResponse({"detail": exc.detail}, status_code=exc.status)
        except SkillNotFound as exc:
            return JSONResponse({"detail": str(exc)}, status_code=404)
        return JSONResponse(rev.info())

    async def get_skill(request: Request) -> Response:
        try:
            rev = reg.resolve(skill_id=request.path_params["skill_id"])
        except SkillNotFound as exc:
            return JSONResponse({"detail": str(exc)}, status_code=404)
        return JSONResponse(rev.info())

    async def create_skill(request: Request) -> Response:
        try:
            return JSONResponse(admin.create(await read_json(request)))
        except Rejected as exc:
            return JSONResponse({"detail": exc.detail}, status_code=exc.status)

    async def update_skill(request: Request) -> Response:
        try:
            return JSONResponse(admin.update(request.path_params["skill_id"], await read_json(request)))
        except Rejected as exc:
            return JSONResponse({"detail": exc.detail}, status_code=exc.status)
        except SkillNotFound as exc:
            return JSONResponse({"detail": str(exc)}, status_code=404)

    async def download_skill(request: Request) -> Response:
        try:
            return JSONResponse(admin.download(request.path_params["skill_id"]))
        except SkillNotFound as exc:
            return JSONResponse({"detail": str(exc)}, status_code=404)

    routes = [
        Route("/v1/health", authed(health), methods=["GET"]),
        completions_route(chat_completions, authed, long_requests=cfg.long_requests),
        Route("/v1/skills", authed(list_skills), methods=["GET"]),
        Route("/v1/skills/lookup", authed(lookup_skill), methods=["POST"]),
        Route("/v1/skills/create", authed(create_skill), methods=["POST"]),
        Route("/v1/skills/{skill_id}", authed(get_skill), methods=["GET"]),
        Route("/v1/skills/{skill_id}/update", authed(update_skill), methods=["POST"]),
        Route("/v1/skills/{skill_id}/download", authed(download_skill), methods=["GET"]),
    ]
    app = Starlette(
        routes=routes,
        middleware=[Middleware(_IdentifyMiddleware)],
        exception_handlers={HTTPException: _http_error},
    )
    app.state.resolutions = journal
    return app


class _IdentifyMiddleware:
    """Marks every answer as the reference server's, so cassettes can say what they were recorded against."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_marked(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), (REFERENCE_HEADER.encode(), _IDENTITY)]
            await send(message)

        await self.app(scope, receive, send_marked)


async def _http_error(request: Request, exc: Exception) -> Response:
    """Routing's 404 and 405 as FastAPI writes them: `{"detail": "Not Found"}`, `Allow` kept."""
    if not isinstance(exc, HTTPException):  # only HTTPException is routed here
        raise exc
    return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)


def _too_deep(value: Any, limit: int) -> bool:
    """Iterative, so the check itself cannot hit the recursion limit."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            children: Any = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


def _detail(loc: list[str | int], msg: str, kind: str) -> dict[str, Any]:
    return {"loc": loc, "msg": msg, "type": kind}


def _list_query(request: Request) -> dict[str, Any]:
    """Strict query parsing: what the description declares, nothing coerced loosely."""
    q = request.query_params
    errors: list[dict[str, Any]] = []
    out: dict[str, Any] = {"limit": 25, "offset": 0, "order_by": "created_at", "descending": True, "grouped": False}

    def integer(name: str, low: int, high: int | None) -> None:
        if name not in q:
            return
        raw = q[name]
        if not _INT_RE.match(raw) or int(raw) < low or (high is not None and int(raw) > high):
            bound = f"an integer from {low} to {high}" if high is not None else f"an integer >= {low}"
            errors.append(_detail(["query", name], f"Input should be {bound}, got {raw!r}", "int_parsing"))
            return
        out[name] = int(raw)

    def boolean(name: str) -> None:
        if name not in q:
            return
        raw = q[name]
        if raw not in ("true", "false"):
            errors.append(_detail(["query", name], f"Input should be true or false, got {raw!r}", "bool_parsing"))
            return
        out[name] = raw == "true"

    integer("limit", 1, 1000)
    integer("offset", 0, None)
    boolean("descending")
    boolean("grouped")
    if "order_by" in q:
        if q["order_by"] not in ("created_at", "updated_at", "name"):
            errors.append(
                _detail(["query", "order_by"], "Input should be 'created_at', 'updated_at' or 'name'", "enum")
            )
        else:
            out["order_by"] = q["order_by"]
    if errors:
        raise Rejected(422, errors)
    return out
