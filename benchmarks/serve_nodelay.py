"""`harness serve` with the recommended one-line fix applied from outside: a TCP-protocol socket.

`harness.reference.server._bind` creates `socket.socket(AF_INET, SOCK_STREAM)`, whose
`proto` is 0, so asyncio's `_set_nodelay` (which requires `proto == IPPROTO_TCP`) skips
every accepted connection. uvicorn then writes a response's headers and body as two
segments under Nagle's algorithm, and the body waits for the client's delayed ACK (~40 ms
per request on a kept-alive connection). This module measures the fix without editing
harness/: it replaces `_bind` with the same function plus `IPPROTO_TCP`, then runs
`harness serve` unchanged. Run as `python -m benchmarks.serve_nodelay --port 0 --api-key K`.
"""

from __future__ import annotations

import socket
import sys

import harness.reference.server as reference_server
from harness.cli import main
from harness.errors import UsageError


def bind_tcp(host: str, port: int) -> socket.socket:
    """`_bind` as shipped, with the protocol given explicitly (the whole proposed change)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise UsageError(f"Cannot listen on {host}:{port}: {exc.strerror}; pick another --port") from exc
    sock.listen(128)
    return sock


if __name__ == "__main__":
    reference_server._bind = bind_tcp
    sys.exit(main(["serve", *sys.argv[1:]]))
