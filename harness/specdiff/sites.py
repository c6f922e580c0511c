"""Where a change is (operation, location, instance path) and the sink that collects them."""

from __future__ import annotations

from dataclasses import dataclass, replace

from harness.specdiff.rules import Change, make_change, schema_rule, show


@dataclass(frozen=True)
class Site:
    """A place in a request or response: `prefix` names the body or parameter
    ("request body", "response 200 application/json", "query: limit"), `segments` the
    instance path below it, `branch` the oneOf/anyOf branches taken to get here."""

    direction: str
    operation: str
    prefix: str
    root_subject: str  # "body" | "parameter"
    status: str = ""
    param_in: str = ""
    param: str = ""
    segments: tuple[str, ...] = ()
    branch: tuple[str, ...] = ()

    def child(self, segment: str) -> Site:
        return replace(self, segments=(*self.segments, segment))

    def in_branch(self, label: str) -> Site:
        return replace(self, branch=(*self.branch, label))

    @property
    def json_path(self) -> str | None:
        """`skills[*].skill_version`; None for parameters and endpoints (not in a body)."""
        if self.root_subject in ("parameter", "endpoint"):
            return None
        out = ""
        for seg in self.segments:
            out += seg if seg == "[*]" or not out else f".{seg}"
        return out

    @property
    def location(self) -> str:
        inner = ""
        for seg in self.segments:
            inner += seg if seg == "[*]" or not inner else f".{seg}"
        return f"{self.prefix}: {inner}" if inner else self.prefix

    @property
    def subject(self) -> str:
        return "property" if self.segments else self.root_subject

    def subject_phrase(self) -> str:
        if self.segments:
            return f"the {self.direction} property {show(self.location.split(': ', 1)[1])}"
        if self.root_subject == "parameter":
            return f"the {self.param_in} request parameter {show(self.param)}"
        return f"the {self.direction} body"

    @property
    def status_phrase(self) -> str:
        return f" for the status {self.status}" if self.status else ""

    def message_fields(self) -> dict[str, str]:
        """What a rule's message may name about this place, and only what it has."""
        fields = {} if self.root_subject == "endpoint" else {"subject": self.subject_phrase()}
        if self.segments:
            fields["prop"] = show(self.location.split(": ", 1)[1])
        if self.status:
            fields["status"] = self.status_phrase
            fields["status_code"] = show(self.status)
        if self.root_subject == "parameter":
            fields["param_in"] = self.param_in
            fields["param"] = show(self.param)
        return fields


class Sink:
    """Collects changes once each (two branches can report the same fact)."""

    def __init__(self) -> None:
        self.changes: list[Change] = []
        self._seen: set[tuple[str, str, str, str]] = set()

    def add(self, change: Change) -> None:
        key = (change.id, change.operation, change.path, change.text)
        if key not in self._seen:
            self._seen.add(key)
            self.changes.append(change)

    def rule(self, rule_id: str, site: Site, **fields: str) -> None:
        """An explicitly named rule at `site`, its message told only what `site` knows (a
        property, a status, a parameter): a template asking for more fails loudly."""
        change = make_change(
            rule_id,
            operation=site.operation,
            path=site.location,
            json_path=site.json_path,
            direction=site.direction,
            **site.message_fields(),
            **fields,
        )
        self.add(_with_branch(change, site))

    def schema(self, suffix: str, site: Site, **fields: str) -> None:
        """A schema check (`type-changed`, `enum-value-removed`…), named for the subject and
        direction; nothing when the change is harmless in this direction."""
        rule_id = schema_rule(suffix, site.direction, site.subject)
        if rule_id is None:
            return
        change = make_change(
            rule_id,
            operation=site.operation,
            path=site.location,
            json_path=site.json_path,
            direction=site.direction,
            subject=site.subject_phrase(),
            **fields,
        )
        self.add(_with_branch(replace(change, text=change.text + site.status_phrase), site))


def _with_branch(change: Change, site: Site) -> Change:
    if not site.branch:
        return change
    return replace(change, text=f"{change.text} (in {' > '.join(site.branch)})")
