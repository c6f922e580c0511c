"""What each cell of the matrix is expected to do, and why.

Every cell whose client exists is expected to work: the body is sent once to
`/v1/openai/chat/completions`, the description accepts it, the reference server answers
200 resolving the same revisions as for the vlmrun dict form of the call, and it
canonicalizes equal to that form.
The exceptions are known failures of real client stacks, each a rule on what the probe
found in the stack (versions and features), never on the stack's name, so a new stack is
judged by the same rules. A known failure must fail the way its rule says (client error
matching `error`, or rejected by the API with `status`); failing any other way is a FAIL,
and working anyway is reported as an unexpected pass (the rule may be stale).

Long requests (one call per stack to a server answering `303 See Other`, then `202`s, then
the result) have rules of their own, matched on what the client made of it (`LONG_OUTCOMES`).
No released stack polls, so today every stack is a known failure there; one that returns
the result shows as an unexpected pass: improved, and the rule is due for a bound.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from harness.wire import is_inline

KWARG_PATHS = ("vlmrun-dict", "vlmrun-objects", "vlmrun-objects-helper")
# What a client made of a `303` (evaluate.long_request_cell): polled and returned the result;
# followed it and returned an empty or unparsed body (or raised parsing it); raised; anything else.
RESULT, EMPTY, RAISED, OTHER = "result", "empty", "raised", "other"
LONG_OUTCOMES = (RESULT, EMPTY, RAISED, OTHER)
LAST_NON_POLLING_VLMRUN = (0, 9, 2)  # the newest release on PyPI; its SDK has no long_request.py


@dataclass(frozen=True)
class Facts:
    """What a rule can look at: the probe's versions and features, and the example's skills."""

    versions: Mapping[str, str | None]
    features: Mapping[str, bool]
    path: str
    skills: tuple[Mapping[str, Any], ...]

    def version(self, package: str) -> tuple[int, ...]:
        return parse_version(self.versions.get(package))

    @property
    def has_inline(self) -> bool:
        return any(is_inline(s) for s in self.skills)


@dataclass(frozen=True)
class KnownFailure:
    name: str
    applies: Callable[[Facts], bool]
    reason: Callable[[Facts], str]
    error: str | None = None
    """Regex the client's `Type: message` must match (the call fails before sending)."""
    status: int | None = None
    """Or: the body is sent and the API rejects it with this status."""
    outcome: str | None = None
    """Or (long requests): what the client made of the `303`, one of `LONG_OUTCOMES`."""

    def matches(self, error: str | None, status: int | None, outcome: str | None = None) -> bool:
        if self.outcome is not None:
            return outcome == self.outcome
        if self.error is not None:
            return error is not None and re.search(self.error, error) is not None
        return status == self.status


@dataclass(frozen=True)
class Expectation:
    works: bool
    rule: KnownFailure | None = None
    reason: str = ""


def parse_version(text: str | None) -> tuple[int, ...]:
    """`2.17.0rc1` -> (2, 17, 0); absent -> ()."""
    if not text:
        return ()
    return tuple(int(m) for m in re.findall(r"\d+", text.split("+")[0])[:3])


RULES = (
    KnownFailure(
        "no-skills-kwarg",
        lambda f: f.path in KWARG_PATHS and not f.features.get("skills_kwarg", False),
        lambda f: (
            f"vlmrun {f.versions.get('vlmrun')}: `agent.completions` is openai's own `create`, which has no "
            "`skills=` keyword (vlmrun 0.5.12 added it); pass `extra_body={'skills': [...]}`"
        ),
        error=r"^TypeError: .*unexpected keyword argument 'skills'",
    ),
    KnownFailure(
        "objects-need-openai-2.17",
        lambda f: f.path == "vlmrun-objects" and f.version("openai") < (2, 17),
        lambda f: (
            f"openai {f.versions.get('openai')} (< 2.17) serializes the body with json.dumps, which cannot "
            "serialize AgentSkill objects; use dicts (`to_wire_dicts`)"
        ),
        error=r"^TypeError: Object of type AgentSkill is not JSON serializable",
    ),
)


LONG_REQUEST_RULES = (
    KnownFailure(
        "no-long-request-polling",
        lambda f: f.path == "openai-dict" or f.version("vlmrun") <= LAST_NON_POLLING_VLMRUN,
        lambda f: (
            f"openai {f.versions.get('openai')}"
            + ("" if f.path == "openai-dict" else f" (under vlmrun {f.versions.get('vlmrun')}, which does not poll)")
            + " follows the 303 with a GET (httpx follows redirects) and returns the first 202's empty body "
            "as the result, without an error; poll `Location` until a 200 yourself"
        ),
        outcome=EMPTY,
    ),
)


def expectation(facts: Facts, rules: tuple[KnownFailure, ...] = RULES) -> Expectation:
    """The first rule that applies makes the cell a known failure; none: it must work."""
    for rule in rules:
        if rule.applies(facts):
            return Expectation(works=False, rule=rule, reason=rule.reason(facts))
    return Expectation(works=True)
