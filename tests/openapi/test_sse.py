"""Server-sent events as recorded bodies hold them (WHATWG HTML, "Parsing an event stream")."""

from __future__ import annotations

import pytest

from harness.openapi.sse import EventStream, parse_sse


def test_multi_line_data_joins_with_newlines() -> None:
    assert parse_sse(b"data: line one\ndata:line two\ndata\ndata:  indented\n\n") == EventStream(
        [{"data": "line one\nline two\n\n indented"}], False
    )


def test_comments_are_skipped_and_keep_alives_make_no_event() -> None:
    body = b": keep-alive\n\n: another\ndata: x\n: inside an event\ndata: y\n\n"
    assert parse_sse(body).events == [{"data": "x\ny"}]


def test_done_is_an_event_like_any_other() -> None:
    body = b'data: {"id":"c1"}\n\ndata: [DONE]\n\n'
    assert parse_sse(body) == EventStream([{"data": '{"id":"c1"}'}, {"data": "[DONE]"}], False)


@pytest.mark.parametrize("newline", ["\r\n", "\r", "\n"])
def test_every_line_ending(newline: str) -> None:
    body = f"event: chunk{newline}id: 7{newline}data: a{newline}data: b{newline}{newline}data: [DONE]{newline}{newline}"
    assert parse_sse(body.encode()) == EventStream(
        [{"data": "a\nb", "event": "chunk", "id": "7"}, {"data": "[DONE]"}], False
    )


def test_mixed_line_endings_and_a_leading_bom() -> None:
    body = "\ufeffdata: a\r\n\ndata: b\r\r".encode()
    assert parse_sse(body).events == [{"data": "a"}, {"data": "b"}]


def test_fields_belong_to_their_event_and_retry_is_not_kept() -> None:
    body = "retry: 100\nevent: first\nid: 1\ndata: a\n\nid: bad\0id\ndata: b\n\nid: 8\n\ndata: c\n\n"
    assert parse_sse(body).events == [{"data": "a", "event": "first", "id": "1"}, {"data": "b"}, {"data": "c"}]


def test_unknown_fields_and_a_field_without_colon() -> None:
    assert parse_sse("vendor: x\ndata\n\n").events == [{"data": ""}]


@pytest.mark.parametrize(
    ("body", "events"),
    [
        (b"data: a\n\ndata: cut", [{"data": "a"}]),  # the last line has no line break
        (b"data: a\n\ndata: cut\n", [{"data": "a"}]),  # a whole line, no blank line after it
        (b'data: {"id"', []),
    ],
)
def test_a_body_ending_inside_an_event_is_truncated(body: bytes, events: list[dict[str, str]]) -> None:
    assert parse_sse(body) == EventStream(events, True)


def test_a_complete_stream_and_an_empty_one_are_not_truncated() -> None:
    assert parse_sse(b"data: a\n\n") == EventStream([{"data": "a"}], False)
    assert parse_sse(b"") == EventStream([], False)
    assert parse_sse(b": only a comment\n") == EventStream([], False)


def test_invalid_utf8_is_replaced_not_raised() -> None:
    assert parse_sse(b"data: \xff\n\n").events == [{"data": "\ufffd"}]
