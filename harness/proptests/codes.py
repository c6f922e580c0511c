"""What each schemathesis check code means, in one line a reader can act on.

schemathesis 4.32.5 names a failure by code and title (`ST105 Undocumented Content-Type`);
the gate adds what the code means for this API, so a CI log says what broke without a trip
to `schemathesis explain`. Every code of the installed schemathesis' `FAILURE_CLASSES`
is here (tests/proptests/test_codes.py checks it).
"""

from __future__ import annotations

MEANINGS: dict[str, str] = {
    "ST101": "the server answered 5xx: it crashed on a request it should have handled or rejected with a 4xx",
    "ST102": "5xx for a body sent with an undeclared Content-Type: reject unknown media types with 415 or 400",
    "ST103": "the status is not among the responses the description lists for this operation",
    "ST104": "the response has no Content-Type, though the description documents a media type for its status",
    "ST105": "the response's Content-Type is none of the media types the description documents for its status",
    "ST106": "a Content-Type (the response's or the description's) is not a valid type/subtype",
    "ST107": "a response header the description requires for this status is missing",
    "ST108": "the response body (or a header) does not validate against the description's schema",
    "ST109": "the body is not valid JSON, though its Content-Type says JSON (or it has none)",
    "ST110": "the body cannot be parsed as its Content-Type says",
    "ST111": "a discriminator value in the response matches no schema in the description's mapping",
    "ST112": "the response took longer than the response time limit (10 s with --checks all)",
    "ST113": "a GraphQL errors entry reports a field that failed on the server",
    "ST114": "a GraphQL field declared non-nullable came back null",
    "ST115": "the GraphQL response is not a JSON object",
    "ST201": "a request the description forbids was not rejected with a 4xx: the server must refuse it",
    "ST202": "a request the description allows was rejected: the server or the description is too strict",
    "ST203": "a request without a required header (e.g. Authorization) was accepted",
    "ST204": "a method the description does not declare got a status other than 405 (or 405 with no Allow header)",
    "ST205": "the Allow header of an OPTIONS answer lists other methods than the description declares",
    "ST206": "a valid GraphQL query was rejected",
    "ST301": "a resource is still served after a successful DELETE removed it",
    "ST302": "404 for a resource that an earlier successful request created",
    "ST401": "the operation answered without credentials, or with invalid ones, though the description requires them",
    "ST402": "one user's object was returned to another user who should not see it",
    "ST901": "a custom check (a `@schemathesis.check` hook) failed",
}


def meaning(code: str) -> str:
    return MEANINGS.get(code, f"see `schemathesis explain {code}`")
