"""The reference server with long requests on, served on loopback for the probe's `303` call.

The live API answers a completion that outlasts its gateway `303 See Other`, and the client
must poll `GET Location` until a `200` (`harness.reference.long_requests`). The probe makes
one such call per stack against this server, in another process; what the client did is
judged from both sides: what `create()` returned or raised (the probe's report) and what
this server answered on the completions path, in order (`POST 303`, `GET 202`, …), with the
content of the result it served, which a client that polls must return.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from harness.contract import COMPLETIONS_PATH, load_contract
from harness.reference.app import ServerConfig, create_app
from harness.reference.server import serve_in_thread
from harness.settings import API_PREFIX

POLLS = 2
"""`202`s before the result: one more than a client that takes the first answer can get past."""
EXAMPLE = "single"
"""The seed example the call sends (a skill reference: nothing to upload first)."""


@dataclass(frozen=True)
class Seen:
    """What the server answered on the completions path for one stack's call."""

    exchanges: tuple[str, ...] = ()
    """`METHOD STATUS` in order, e.g. `POST 303`, `GET 202`, `GET 202`, `GET 200`."""
    result: str | None = None
    """The content of the completion a poll was answered with, if one was."""

    @property
    def gets(self) -> int:
        return sum(1 for e in self.exchanges if e.startswith("GET "))


class _Log:
    """The exchanges noted since the last `take`, shared by the server's thread and the caller."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.exchanges: list[str] = []
        self.result: str | None = None

    def exchange(self, method: str, status: int) -> None:
        with self.lock:
            self.exchanges.append(f"{method} {status}")

    def served(self, body: bytes) -> None:
        with self.lock:
            self.result = _content(body)

    def take(self) -> Seen:
        with self.lock:
            seen = Seen(tuple(self.exchanges), self.result)
            self.exchanges, self.result = [], None
        return seen


class _Recorder:
    """ASGI middleware noting each completions exchange (other paths, e.g. `/v1/health`, pass unnoted).

    Each is noted before its message goes out (an empty body is complete with its headers), so
    once the client has its answer, `take` sees it.
    """

    def __init__(self, app: ASGIApp, log: _Log) -> None:
        self.app = app
        self.log = log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != COMPLETIONS_PATH:
            await self.app(scope, receive, send)
            return
        result, body = False, bytearray()

        async def noting(message: Message) -> None:
            nonlocal result
            if message["type"] == "http.response.start":
                self.log.exchange(scope["method"], message["status"])
                result = scope["method"] == "GET" and message["status"] == 200
            elif message["type"] == "http.response.body" and result:
                body.extend(message.get("body", b""))
                if not message.get("more_body", False):
                    self.log.served(bytes(body))
            await send(message)

        await self.app(scope, receive, noting)


def _content(body: bytes) -> str | None:
    try:
        content = json.loads(body)["choices"][0]["message"]["content"]
    except (ValueError, LookupError, TypeError):
        return None
    return content if isinstance(content, str) else None


@dataclass(frozen=True)
class LongRequestServer:
    url: str
    """The base URL the probe's clients get (with `/v1`)."""
    log: _Log

    def request(self) -> dict[str, Any]:
        """The probe's `long_request` input."""
        return {"base_url": self.url, "example": EXAMPLE, "polls": POLLS}

    def take(self) -> Seen:
        """What was answered since the last take (one stack's call)."""
        return self.log.take()


@contextmanager
def long_request_server(api_key: str) -> Iterator[LongRequestServer]:
    """The packaged description's reference server, seeded, answering completions `303` then `POLLS` `202`s."""
    app = create_app(config=ServerConfig(api_key=api_key, long_requests=POLLS), contract=load_contract())
    log = _Log()
    app.add_middleware(_Recorder, log=log)
    with serve_in_thread(app) as running:
        yield LongRequestServer(f"{running.url}{API_PREFIX}", log)
