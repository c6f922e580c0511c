"""Judge what a probe captured: the description, the reference server and the canonical form.

Each captured body is validated against the description's request schema, posted as is to
the embedded reference server (in process) for its status and the skill revisions it
resolved, and canonicalized against the reference form of the same call (the vlmrun dict
form, `harness.docs_examples.dict_form`, with the same model and messages). A cell records all
of that, what it was expected to do (`expect.py`) and the verdict. Each stack's long-request
call (`long_requests.py`) becomes a `LongRequestCell`, judged by what the client returned and
what the server answered.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from starlette.testclient import TestClient

from harness.canonical import canonical_diff, canonicalize
from harness.contract import Contract, load_contract
from harness.docs_examples import MODEL, SeedExample, dict_form
from harness.header_names import RESOLVED_HEADER
from harness.matrix.expect import (
    EMPTY,
    LONG_REQUEST_RULES,
    OTHER,
    RAISED,
    RESULT,
    Expectation,
    Facts,
    expectation,
)
from harness.matrix.long_requests import POLLS, Seen
from harness.reference.app import ServerConfig, create_app

ENDPOINT = "/v1/openai/chat/completions"
REQUEST_SCHEMA = "ChatCompletionRequest"
_KEY = "matrix-reference-key"

OK, KNOWN, FAIL, UNEXPECTED_PASS, NA = "ok", "known failure", "FAIL", "unexpected pass", "n/a"
VERDICTS = (OK, KNOWN, FAIL, UNEXPECTED_PASS, NA)
# A client that raised one of these after a GET failed parsing what the poll answered.
PARSE_ERROR = re.compile(r"^(JSONDecodeError|ValidationError|APIResponseValidationError)\b")


@dataclass(frozen=True)
class Cell:
    """One stack x example x client path."""

    stack: str
    example: str
    path: str
    outcome: str
    """`sent`, `error` (the client failed before sending) or `n/a` (the stack lacks this client)."""
    body: str | None = None
    request_path: str | None = None
    requests: int = 0
    error: str | None = None
    violations: tuple[str, ...] = ()
    valid: bool | None = None
    status: int | None = None
    resolved: tuple[str, ...] = ()
    canonical_equal: bool | None = None
    canonical_diff: tuple[str, ...] = ()
    problems: tuple[str, ...] = ()
    """Why the cell does not work (empty when it does)."""
    expected: str = "works"
    """`works`, `known failure` or `n/a`."""
    rule: str = ""
    """The known-failure rule that applies (`expect.RULES`), if any."""
    reason: str = ""
    verdict: str = NA


@dataclass(frozen=True)
class LongRequestCell:
    """One stack's call, through its normal path, to a server answering `303`, then `POLLS` `202`s."""

    stack: str
    example: str
    path: str | None
    """None when the stack has no client (n/a)."""
    polls: int
    outcome: str
    """`expect.LONG_OUTCOMES`, or `n/a`."""
    detail: str = ""
    """The outcome in words."""
    exchanges: tuple[str, ...] = ()
    """What the server answered on the completions path, in order (`POST 303`, `GET 202`, …)."""
    gets: int = 0
    returned: str | None = None
    """What `create()` returned: type and a short repr."""
    error: str | None = None
    expected: str = "works"
    rule: str = ""
    reason: str = ""
    verdict: str = NA


@dataclass(frozen=True)
class StackRun:
    """A stack as it was built and probed."""

    name: str
    summary: str
    requirements: tuple[str, ...]
    overrides: tuple[str, ...]
    versions: Mapping[str, str | None]
    features: Mapping[str, bool]


@dataclass(frozen=True)
class MatrixResult:
    generated: str
    python: str
    harness_version: str
    description_sha256: str
    paths: tuple[str, ...]
    stacks: tuple[StackRun, ...]
    cells: tuple[Cell, ...] = field(default=())
    long_requests: tuple[LongRequestCell, ...] = field(default=())

    @property
    def failed(self) -> bool:
        verdicts = [c.verdict for c in self.cells] + [c.verdict for c in self.long_requests]
        return FAIL in verdicts

    def long_request(self, stack: str) -> LongRequestCell | None:
        return next((c for c in self.long_requests if c.stack == stack), None)

    def counts(self, stack: str) -> dict[str, int]:
        counts = dict.fromkeys(VERDICTS, 0)
        for cell in self.cells:
            if cell.stack == stack:
                counts[cell.verdict] += 1
        return counts


def reference_body(example: SeedExample) -> dict[str, Any]:
    """The call every path should amount to: the vlmrun dict form."""
    return {"model": MODEL, "messages": example.messages, "skills": [dict_form(s) for s in example.skills]}


def probe_payload(examples: list[SeedExample]) -> dict[str, Any]:
    """What the probe reads on stdin (the helper's path is added by the runner)."""
    return {
        "model": MODEL,
        "base_path": "/v1",
        "examples": [
            {
                "name": e.name,
                "messages": e.messages,
                "skills": [dict(s) for s in e.skills],
                "dict_form": [dict_form(s) for s in e.skills],
            }
            for e in examples
        ],
    }


class Evaluator:
    """Holds the description and an in-process reference server for one matrix run."""

    def __init__(self, client: TestClient, contract: Contract, examples: list[SeedExample]) -> None:
        self.client = client
        self.contract = contract
        self.examples = {e.name: e for e in examples}
        self._resolved: dict[str, tuple[int, tuple[str, ...]]] = {}

    def cells(self, stack: str, report: Mapping[str, Any]) -> list[Cell]:
        versions, features = report.get("versions", {}), report.get("features", {})
        out = []
        for raw in report.get("cells", []):
            example = self.examples[raw["example"]]
            facts = Facts(versions=versions, features=features, path=raw["path"], skills=example.skills)
            out.append(self.cell(stack, example, raw, expectation(facts)))
        return out

    def cell(self, stack: str, example: SeedExample, raw: Mapping[str, Any], expect: Expectation) -> Cell:
        base = {"stack": stack, "example": example.name, "path": raw["path"]}
        if raw["outcome"] == "n/a":
            return Cell(**base, outcome="n/a", expected="n/a", verdict=NA)
        posts = raw.get("posts") or []
        error = raw.get("error")
        judged: dict[str, Any] = {}
        problems: list[str] = []
        if posts:
            judged = self._judge(example, posts[0]["body"])
            problems += judged.pop("problems")
            if len(posts) > 1:
                problems.append(f"sent {len(posts)} requests for one call")
            if posts[0]["path"].split("?")[0] != ENDPOINT:
                problems.append(f"sent to {posts[0]['path']}, not {ENDPOINT}")
        else:
            problems.append("nothing sent")
        if error:
            problems.append(f"client error: {error}")
        works = not problems
        if expect.works:
            verdict = OK if works else FAIL
        elif works:
            verdict = UNEXPECTED_PASS
        else:
            assert expect.rule is not None
            verdict = KNOWN if expect.rule.matches(error, judged.get("status")) else FAIL
        return Cell(
            **base,
            outcome="sent" if posts else "error",
            body=posts[0]["body"] if posts else None,
            request_path=posts[0]["path"] if posts else None,
            requests=len(posts),
            error=error,
            **judged,
            problems=tuple(problems),
            expected="works" if expect.works else "known failure",
            rule=expect.rule.name if expect.rule else "",
            reason=expect.reason,
            verdict=verdict,
        )

    def long_request(self, stack: str, report: Mapping[str, Any], seen: Seen) -> LongRequestCell | None:
        """The stack's long-request call (None when the probe was not asked for one)."""
        raw = report.get("long_request")
        if raw is None:
            return None
        base = {"stack": stack, "example": raw["example"], "path": raw["path"], "polls": POLLS}
        if raw["path"] is None:
            return LongRequestCell(**base, outcome=NA, expected=NA, verdict=NA)
        facts = Facts(
            versions=report.get("versions", {}),
            features=report.get("features", {}),
            path=raw["path"],
            skills=self.examples[raw["example"]].skills,
        )
        expect = expectation(facts, LONG_REQUEST_RULES)
        outcome, detail = long_request_outcome(raw, seen)
        if expect.works:
            verdict = OK if outcome == RESULT else FAIL
        elif outcome == RESULT:
            verdict = UNEXPECTED_PASS
        else:
            assert expect.rule is not None
            verdict = KNOWN if expect.rule.matches(raw.get("error"), None, outcome) else FAIL
        return LongRequestCell(
            **base,
            outcome=outcome,
            detail=detail,
            exchanges=seen.exchanges,
            gets=seen.gets,
            returned=raw.get("returned"),
            error=raw.get("error"),
            expected="works" if expect.works else "known failure",
            rule=expect.rule.name if expect.rule else "",
            reason=expect.reason,
            verdict=verdict,
        )

    def _post(self, text: str) -> tuple[int, tuple[str, ...]]:
        response = self.client.post(ENDPOINT, content=text.encode(), headers={"content-type": "application/json"})
        header = response.headers.get(RESOLVED_HEADER)
        return response.status_code, tuple(unquote(header).split(",")) if header else ()

    def _reference(self, example: SeedExample) -> tuple[int, tuple[str, ...]]:
        """What the reference form of the same call resolves to (revisions, not `latest`)."""
        if example.name not in self._resolved:
            self._resolved[example.name] = self._post(json.dumps(reference_body(example)))
        return self._resolved[example.name]

    def _judge(self, example: SeedExample, text: str) -> dict[str, Any]:
        problems: list[str] = []
        try:
            body = json.loads(text)
        except ValueError as exc:
            return {"valid": False, "violations": (f"<body>: not JSON: {exc}",), "problems": ["body is not JSON"]}
        violations = tuple(f"{v.path}: {v.msg}" for v in self.contract.violations(REQUEST_SCHEMA, body))
        if violations:
            problems.append("the description rejects the body")
        status, resolved = self._post(text)
        want_status, want_resolved = self._reference(example)
        if status != 200:
            problems.append(f"reference server answered {status}")
        elif (status, resolved) != (want_status, want_resolved):
            problems.append(f"resolved {', '.join(resolved)}, the vlmrun dict form {', '.join(want_resolved)}")
        got, want = canonicalize(body, self.contract), canonicalize(reference_body(example), self.contract)
        diff = tuple(f"{p}: {a!r} != {b!r}"[:300] for p, a, b in canonical_diff(got.body, want.body))
        if got.key != want.key:
            problems.append("canonical form differs from the vlmrun dict form")
        return {
            "valid": not violations,
            "violations": violations,
            "status": status,
            "resolved": resolved,
            "canonical_equal": got.key == want.key,
            "canonical_diff": diff,
            "problems": problems,
        }


def long_request_outcome(raw: Mapping[str, Any], seen: Seen) -> tuple[str, str]:
    """What the client made of the `303` (`expect.LONG_OUTCOMES`), and that in words."""
    error, content, returned = raw.get("error"), raw.get("content"), raw.get("returned")
    gets = "a GET" if seen.gets == 1 else f"{seen.gets} GETs"
    followed = f"followed the 303 with {gets}"
    if error:
        kind = error.split(":", 1)[0]
        if seen.gets and PARSE_ERROR.search(error):
            return EMPTY, f"{followed}, then raised {kind} parsing the answer"
        return RAISED, f"raised {kind}" + (f" after {gets}" if seen.gets else "")
    if content is not None and seen.result is not None and content == seen.result:
        return RESULT, f"polled ({gets}) and returned the completion"
    if seen.gets and content is None:
        return EMPTY, f"{followed} and returned {returned} for the completion"
    if content is None:
        return OTHER, f"returned {returned} without polling"
    return OTHER, "returned a completion other than the one the poll answered"


@contextmanager
def evaluator(examples: list[SeedExample]) -> Iterator[Evaluator]:
    """An evaluator with the packaged description and a fresh in-process reference server."""
    contract = load_contract()
    app = create_app(config=ServerConfig(api_key=_KEY), contract=contract)
    with TestClient(app, headers={"authorization": f"Bearer {_KEY}"}) as client:
        yield Evaluator(client, contract, examples)
