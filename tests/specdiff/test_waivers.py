"""Waivers: matching (exact and glob), unused ones reported, malformed files named by entry."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.errors import UsageError
from harness.specdiff import Change, Level, apply_waivers, load_waivers
from harness.specdiff.waivers import Waiver

CHAT = "POST /v1/openai/chat/completions"


def _change(
    rule: str = "response-property-became-optional", path: str = "response 200 application/json: usage"
) -> Change:
    return Change(rule, Level.ERR, CHAT, path, "text", "usage", "response")


def _waiver(operation: str = CHAT, path: str = "response 200 application/json: usage", index: int = 0) -> Waiver:
    return Waiver("response-property-became-optional", operation, path, "accepted", index)


@pytest.mark.parametrize(
    ("operation", "path", "matches"),
    [
        (CHAT, "response 200 application/json: usage", True),
        ("post /v1/openai/chat/completions", "response 200 application/json: usage", True),
        (CHAT, "response 200 application/json: *", True),
        ("* /v1/openai/*", "response 200 *: usage", True),
        (CHAT, "response 200 application/json: usage.*", False),
        ("GET /v1/openai/chat/completions", "response 200 application/json: usage", False),
        (CHAT, "response 200 application/json: Usage", False),
    ],
)
def test_matching(operation: str, path: str, matches: bool) -> None:
    assert _waiver(operation, path).matches(_change()) is matches


def test_array_steps_are_literal_in_patterns() -> None:
    change = _change(path="response 200 application/json: choices[*].message.content")
    assert _waiver(path="response 200 application/json: choices[*].message.content").matches(change)
    assert _waiver(path="response 200 application/json: choices[*].*").matches(change)
    # `[*]` is not a character class: it does not match one character
    assert not _waiver(path="response 200 application/json: choices[*]").matches(
        _change(path="response 200 application/json: choices*")
    )


def test_apply_marks_waived_and_reports_unused() -> None:
    used, unused = _waiver(index=0), _waiver(path="response 200 application/json: id", index=1)
    changes, left = apply_waivers([_change(), _change(path="response 200 application/json: model")], [used, unused])
    assert [c.waived for c in changes] == ["accepted", None]
    assert left == [unused]


def test_a_valid_file_loads(tmp_path: Path) -> None:
    path = tmp_path / "waivers.yaml"
    path.write_text(
        "version: 1\n"
        "waivers:\n"
        "  - id: response-property-became-optional\n"
        f"    operation: {CHAT}\n"
        '    path: "response 200 application/json: usage"\n'
        "    reason: usage may be null; our client checks\n"
    )
    (waiver,) = load_waivers(path)
    assert waiver.reason == "usage may be null; our client checks"
    assert waiver.matches(_change())


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "version: 1\nwaivers:\n  - id: response-property-became-optional\n    operation: X\n    path: p\n",
            r"waivers\[0\]: needs a reason",
        ),
        (
            "version: 1\nwaivers:\n  - {id: response-property-became-optional, operation: X, path: p, reason: r}\n"
            "  - {id: response-property-became-optional, operation: X, path: p, reason: '  '}\n",
            r"waivers\[1\]: needs a reason",
        ),
        (
            "version: 1\nwaivers:\n  - {id: response-property-became-optional, operation: X, path: p, reason: r,"
            " why: x}\n",
            r"waivers\[0\]: unknown key\(s\) why",
        ),
        (
            "version: 1\nwaivers:\n  - {id: response-property-became-optional, path: p, reason: r}\n",
            r"waivers\[0\]: needs a non-empty `operation`",
        ),
        ("version: 1\nwaivers:\n  - just a string\n", r"waivers\[0\]: each waiver is a mapping"),
        ("version: 2\nwaivers: []\n", "unsupported waiver file version 2"),
        ("waivers: []\n", "unsupported waiver file version None"),
        ("version: 1\nwaivers: {a: b}\n", "`waivers` must be a list"),
        ("version: 1\nwaivers: [\n", "not valid YAML"),
        ("- a\n", "a mapping with `version: 1`"),
    ],
)
def test_malformed_files_name_the_file_and_entry(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "waivers.yaml"
    path.write_text(text)
    with pytest.raises(UsageError, match=message) as info:
        load_waivers(path)
    assert str(path) in str(info.value)


@pytest.mark.parametrize(
    ("rule_id", "hint"),
    [
        ("response-property-became-optinal", "did you mean 'response-property-became-optional'?"),
        ("endpoint-add", "did you mean 'endpoint-added'?"),
        ("property-became-optional", "did you mean 'request-property-became-optional' or "
         "'response-property-became-optional'?"),
        ("no-such-rule", "use the id `harness diff` reports for the change (e.g. in `--format json`)"),
    ],
)  # fmt: skip
def test_an_unknown_rule_id_names_the_closest_ones(tmp_path: Path, rule_id: str, hint: str) -> None:
    path = tmp_path / "waivers.yaml"
    path.write_text(f"version: 1\nwaivers:\n  - {{id: {rule_id}, operation: X, path: p, reason: r}}\n")
    with pytest.raises(UsageError) as info:
        load_waivers(path)
    assert str(info.value) == f"{path}: waivers[0]: unknown rule id {rule_id!r}; {hint}"


def test_a_missing_waiver_file(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="waiver file not found"):
        load_waivers(tmp_path / "nope.yaml")


def test_the_waiver_file_is_read_with_the_harness_yaml_loader(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`harness.yaml_load` is the one place that picks a YAML loader."""
    from harness import yaml_load
    from harness.specdiff import waivers

    read: list[str] = []

    def spy(text: str | bytes) -> object:
        read.append(str(text))
        return yaml_load.load_yaml(text)

    monkeypatch.setattr(waivers, "load_yaml", spy)
    path = tmp_path / "w.yaml"
    path.write_text("version: 1\nwaivers: []\n")
    assert load_waivers(path) == []
    assert read == ["version: 1\nwaivers: []\n"]
