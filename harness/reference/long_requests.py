"""Long requests as the live gateway answers them: `303 See Other`, then polls of `Location`.

A chat completion that outlasts the gateway's idle timeout (~150 s) is answered `303` with
a `Location`; the job keeps running and the client polls `GET Location` with its bearer key
until a `200` carries the `ChatCompletion` (vlm-run/vlmrun-python-sdk
`vlmrun/client/long_request.py`). The gateway is Modal's, whose result URL is "the original
URL with a special query parameter" (https://modal.com/docs/guide/webhook-timeouts), so a
poll is a GET on the completions path with `__modal_function_call_id` (Assumption: VLM Run
documents neither the path nor the parameter's name; Modal's clients show this one).

`harness serve --long-requests POLLS` turns every non-streaming completion the server would
answer `200` into a `303` at once: the answer is computed, kept in a per-process job table,
and served after POLLS `202`s. Errors (401/404/422) stay immediate, as a gateway passes on
answers that come before its timeout; streams are never turned into polls (the SDK only
follows a 303 for non-streaming `create`). Polls of an unknown (or evicted) job are `404`.

One job is always there, finished, with or without long requests: the description's example
id (`EXAMPLE_JOB`), so a fuzzer that polls it (schemathesis' examples phase) reaches a result,
as it reaches the seeded skills; no other id can be guessed. The live API would answer 404.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from harness.caches import LockedLRU
from harness.contract import COMPLETIONS_PATH
from harness.header_names import RESOLVED_HEADER
from harness.reference.completions import CREATED
from harness.settings import POLL_PARAM

JOB_TABLE_SIZE = 1000  # jobs kept per process; the least recently polled goes first (then 404)
_JOB_PREFIX = "fc-"  # Modal's function-call ids
EXAMPLE_JOB = "fc-0123456789abcdef01234567"  # the description's example (tests/reference/test_long_requests.py)
EXAMPLE_RESULT = {
    "id": "chatcmpl-0123456789abcdef01234567",
    "object": "chat.completion",
    "created": CREATED,
    "model": "vlmrun-orion-1:auto",
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "Done."}, "finish_reason": "stop"}],
    "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    "session_id": "01234567-89ab-4def-8123-456789abcdef",
}

Handler = Callable[[Request], Coroutine[Any, Any, Response]]


@dataclass
class _Job:
    body: bytes
    headers: dict[str, str]
    pending: int
    """`202`s still to answer before the result."""


class JobTable:
    """Finished answers waiting to be polled for: bounded (least recently polled goes first), thread-safe."""

    def __init__(self, polls: int, *, size: int = JOB_TABLE_SIZE) -> None:
        self.polls = polls
        self._jobs: LockedLRU[str, _Job] = LockedLRU(size)
        self._count = threading.Lock()  # a poll's read-and-lower of `pending`

    def start(self, body: bytes, headers: dict[str, str]) -> str:
        job_id = _JOB_PREFIX + secrets.token_hex(12)
        self._jobs.put(job_id, _Job(body, headers, self.polls))
        return job_id

    def poll(self, job_id: str) -> _Job | None:
        """The job, its pending count already lowered by this poll (`pending < 0`: the result is due)."""
        job = self._jobs.get(job_id)
        if job is not None:
            with self._count:
                job.pending -= 1
        return job

    def __len__(self) -> int:
        return len(self._jobs)


def completions_route(complete: Handler, guard: Callable[[Handler], Handler], *, long_requests: int | None) -> Route:
    """The completions path: POST completes (a `303` under long requests), GET polls; both behind `guard` (the key).

    The poll operation exists whatever `long_requests` is: the description declares it, so a
    server without long requests answers it too (`404`: no such job, but `EXAMPLE_JOB`).
    """
    table = JobTable(long_requests) if long_requests is not None else None

    async def handle(request: Request) -> Response:
        if request.method != "POST":
            return _poll(request, table)
        response = await complete(request)
        if table is None or response.status_code != 200 or response.media_type != JSONResponse.media_type:
            return response  # an error, or a stream: answered at once
        kept = {RESOLVED_HEADER: response.headers[RESOLVED_HEADER]} if RESOLVED_HEADER in response.headers else {}
        job_id = table.start(bytes(response.body), kept)
        return Response(status_code=303, headers={"location": f"{request.url.path}?{POLL_PARAM}={job_id}"})

    return Route(COMPLETIONS_PATH, guard(handle), methods=["GET", "POST"])


_MISSING = {"msg": "Field required", "type": "missing"}
_EMPTY = {"msg": "String should have at least 1 character", "type": "string_too_short"}


def _poll(request: Request, table: JobTable | None) -> Response:
    job_id = request.query_params.get(POLL_PARAM)
    if not job_id:
        why = _MISSING if job_id is None else _EMPTY
        return JSONResponse({"detail": [{"loc": ["query", POLL_PARAM], **why}]}, status_code=422)
    if job_id == EXAMPLE_JOB:
        return JSONResponse(EXAMPLE_RESULT)
    job = table.poll(job_id) if table is not None else None
    if job is None:
        return JSONResponse({"detail": f"No long request {job_id!r}: unknown, or no longer kept"}, status_code=404)
    if job.pending >= 0:
        return Response(status_code=202)
    return Response(job.body, media_type=JSONResponse.media_type, headers=job.headers)
