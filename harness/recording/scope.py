"""Which recorded traffic is VLM Run's: the only traffic the harness's rules touch.

A team's cassettes also hold GitHub, Stripe and their own services. Canonical matching,
scrubbing of VLM Run secrets, bundle blobs, conformance and `CassetteMiss` apply to a
request only when it is VLM Run's:

- a request to one of VLM Run's hosts (`api.vlm.run`, `agent.vlm.run`), any port;
- a request to an origin the session registered: `--vlmrun-base-url`/`$VLMRUN_BASE_URL`,
  or the embedded reference server once it runs;
- a request to a host the user listed (`--vlmrun-host`, ini `vlmrun_hosts`);
- a recorded request the harness marked as VLM Run's when it wrote the cassette (the port
  of an embedded server changes every session, so the mark, not the origin, decides).

Everything else is left to vcrpy, exactly as configured by the user.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

VLMRUN_HOSTS = frozenset({"api.vlm.run", "agent.vlm.run"})
_MARK = "_vlmrun_harness_owned"

Origin = tuple[str, int | None]


def origin_of(url: str) -> Origin | None:
    """(host, port) of a URL, lower-cased; None when it has no host."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    host = (parts.hostname or "").lower()
    if not host:
        return None
    if port is None:
        port = {"http": 80, "https": 443}.get(parts.scheme.lower())
    return host, port


def mark(request: Any, owned: bool) -> Any:
    """Record on a vcrpy request whether it is VLM Run's (the mark survives vcrpy's deep copies)."""
    with contextlib.suppress(AttributeError):
        setattr(request, _MARK, owned)
    return request


def marked(request: Any) -> bool | None:
    found = getattr(request, _MARK, None)
    return found if isinstance(found, bool) else None


@dataclass
class Scope:
    """The hosts and origins whose traffic is VLM Run's, for one pytest process."""

    hosts: frozenset[str] = VLMRUN_HOSTS
    origins: set[Origin] = field(default_factory=set)
    embedded: str | None = None
    """`http://127.0.0.1:PORT` of the session's embedded reference server, once it runs."""

    @classmethod
    def build(cls, extra_hosts: Iterable[str] = (), base_urls: Iterable[str | None] = ()) -> Scope:
        hosts = VLMRUN_HOSTS | {h.strip().lower() for h in extra_hosts if h and h.strip()}
        scope = cls(frozenset(hosts))
        for url in base_urls:
            if url:
                scope.add_base_url(url)
        return scope

    def add_base_url(self, url: str) -> None:
        found = origin_of(url)
        if found is not None:
            self.origins.add(found)

    def owns_url(self, url: str) -> bool:
        found = origin_of(url)
        return found is not None and (found[0] in self.hosts or found in self.origins)

    def owns(self, request: Any) -> bool:
        """A recorded request by its mark; a live one by its origin."""
        if request is None:
            return False
        found = marked(request)
        if found is not None:
            return found
        return self.owns_url(str(getattr(request, "uri", "")))
