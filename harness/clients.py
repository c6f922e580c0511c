"""SDK clients pointed at a VLM Run base URL, set up for recording and replay.

Every client is built with `max_retries=0`: a replay miss must fail at once, not turn
into 13-15 s of backoff (openai 1.x wraps the miss in `APIConnectionError` and retries it
the 5 times vlmrun asks for).
"""

from __future__ import annotations

import os
from typing import Any

from harness.extras import missing_extra
from harness.settings import BASE_URL_ENV, LOCAL_API_KEY, resolve_api_key

NO_KEY = "vlmrun-api-key-not-set"
"""Sent to a live server when no key is configured: replay needs none, and recording gets a 401 that names it."""


def external_base_url(option: str | None) -> str | None:
    """`--vlmrun-base-url`, else $VLMRUN_BASE_URL, normalised without a trailing slash.

    A trailing slash would give `/v1//openai/...`, which no path matcher matches.
    """
    url = option or os.environ.get(BASE_URL_ENV) or None
    return url.rstrip("/") if url else None


def api_key(option: str | None, base_url_option: str | None) -> str:
    """`--vlmrun-api-key`, else $VLMRUN_API_KEY, else the embedded server's local key (or, for a
    live server, `NO_KEY`)."""
    local = None if external_base_url(base_url_option) else LOCAL_API_KEY
    key = resolve_api_key(option, local=local)
    return key.value if key else NO_KEY


def make_vlmrun_client(base_url: str, key: str) -> Any:
    try:
        from vlmrun.client import VLMRun
    except ImportError as exc:
        raise missing_extra("vlmrun", "the vlmrun_client fixture", modules=["vlmrun"]) from exc
    return VLMRun(api_key=key, base_url=base_url, max_retries=0)


def make_openai_client(base_url: str, key: str, *, asynchronous: bool) -> Any:
    try:
        import openai
    except ImportError as exc:
        raise missing_extra("vlmrun", "the openai client fixture", modules=["openai"]) from exc
    cls = openai.AsyncOpenAI if asynchronous else openai.OpenAI
    return cls(api_key=key, base_url=f"{base_url}/openai", max_retries=0)
