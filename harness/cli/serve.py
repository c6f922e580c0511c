"""`harness serve`: the embedded reference server in the foreground.

It judges by the description in use and serves the project's skills beside the seeded
ones; both come from the flags, else from `[tool.vlmrun-harness]`.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from pathlib import Path
from typing import Any

from harness import settings
from harness.cli.common import TABLE_HINT, add_description_flags, existing_folders, port, use_description_of
from harness.project_config import load_project_config


def add(sub: Any) -> None:
    serve = sub.add_parser("serve", help="Run the embedded reference server.")
    host, default_port = settings.SERVE_HOST, settings.SERVE_PORT
    serve.add_argument("--host", default=host, help=f"Address to bind, IPv4 or IPv6 (default: {host}).")
    serve.add_argument(
        "--port",
        type=port,
        default=default_port,
        help=f"Port, 0 to 65535 (default: {default_port}; 0 picks a free one).",
    )
    serve.add_argument(
        "--api-key", default=None, help=f"Accepted bearer key (default: ${settings.API_KEY_ENV} or a local default)."
    )
    serve.add_argument(
        "--skills",
        action="append",
        type=Path,
        default=[],
        metavar="DIR",
        help=f"A folder of your skills, served beside the seeded ones; repeatable (default: `skills` in {TABLE_HINT}).",
    )
    serve.add_argument(
        "--long-requests",
        type=polls,
        default=None,
        metavar="POLLS",
        help="Answer every non-streaming chat completion `303 See Other`, as the API does past its ~150 s "
        "timeout: its Location answers 202 POLLS times, then the completion (default: answered at once).",
    )
    add_description_flags(serve)


def polls(text: str) -> int:
    """POLLS: how many `202`s a long request answers before its result."""
    if text.isascii() and text.isdigit():
        return int(text)
    raise argparse.ArgumentTypeError(f"{text} is not a number of polls: use 0 or more")


def run(args: argparse.Namespace) -> int:
    project = load_project_config()
    skills = existing_folders("--skills", args.skills, project.origin("skills"), project.skills)
    use_description_of(args, project)  # a missing file, a broken overlay or skill: before the port is taken
    from harness.reference.registry import Registry
    from harness.reference.server import bind, serve_forever

    registry = Registry.seeded(*skills)

    listener = bind(args.host, args.port)  # a bad --host or a busy port, before anything is built
    try:
        from harness.reference.app import ServerConfig, create_app

        key = settings.resolve_api_key(args.api_key, local=settings.LOCAL_API_KEY)
        config = ServerConfig(api_key=key.value, long_requests=args.long_requests)
        app = create_app(config=config, registry=registry)
    except BaseException:
        listener.close()
        raise

    def ready(url: str) -> None:
        print(f"harness reference server on {url}/v1 (Ctrl-C to stop)", flush=True)

    with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C is how a foreground server stops: a normal end
        serve_forever(app, listener, on_ready=ready, log=sys.stderr)
    return settings.EXIT_OK
