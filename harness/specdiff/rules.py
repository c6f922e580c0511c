"""Rule ids, default levels and messages, keyed to oasdiff's catalogue (`checker/rules.go`).

Ids and levels are oasdiff's so a report reads the same as `oasdiff breaking` and a team can
move between the two. Schema rules exist per direction and subject (`request-body-…`,
`request-property-…`, `request-parameter-…`, `response-body-…`, `response-property-…`); the
table below generates exactly the combinations oasdiff defines and a few of our own, each
marked `OURS` with the reason. Deliberate level changes are marked `DEVIATION`.

Every id here is emitted somewhere and fires alone in `tests/specdiff/rule_ids.yaml`; an id
nothing emits is removed rather than kept.
"""

from __future__ import annotations

import enum
import json
import string
from dataclasses import dataclass
from typing import Any


class Level(enum.IntEnum):
    """Ordered so `--fail-on` is a comparison."""

    INFO = 1
    WARN = 2
    ERR = 3


@dataclass(frozen=True)
class Rule:
    id: str
    level: Level
    template: str
    ours: bool = False

    @property
    def fields(self) -> frozenset[str]:
        """The names the message template needs (`{subject}`, `{old}`…)."""
        return frozenset(name for _, name, _, _ in string.Formatter().parse(self.template) if name)


@dataclass(frozen=True)
class Change:
    """One difference between two descriptions, located for people (`path`) and machines.

    `json_path` is the instance path in the body (`skills[*].skill_version`, "" for the whole
    body) or None when the change is not about a body (parameters, endpoints); `direction`
    says which side of the exchange it concerns.
    """

    id: str
    level: Level
    operation: str
    path: str
    text: str
    json_path: str | None
    direction: str
    waived: str | None = None

    @property
    def breaking(self) -> bool:
        return self.level >= Level.WARN


ERR, WARN, INFO = Level.ERR, Level.WARN, Level.INFO

# Subjects: b = body (the root schema), p = property (below the root), a = parameter.
_SUBJECTS = {"b": "body", "p": "property", "a": "parameter"}

# suffix: (request level, request subjects, response level, response subjects, template)
_SCHEMA: dict[str, tuple[Level | None, str, Level | None, str, str]] = {
    "type-changed": (ERR, "bpa", ERR, "bp", "{subject} type/format changed from {old} to {new}"),
    "type-generalized": (INFO, "bpa", None, "", "{subject} type/format was widened from {old} to {new}"),
    "type-specialized": (None, "", INFO, "bp", "{subject} type/format was narrowed from {old} to {new}"),
    "became-nullable": (INFO, "bpa", ERR, "bp", "{subject} became nullable"),
    "became-not-nullable": (ERR, "bpa", INFO, "bp", "{subject} became not nullable"),
    "became-enum": (ERR, "bpa", None, "", "{subject} was restricted to a list of enum values"),
    "enum-value-removed": (ERR, "bpa", INFO, "p", "removed the enum value {value} from {subject}"),
    "enum-value-added": (INFO, "pa", WARN, "p", "added the new enum value {value} to {subject}"),
    "const-added": (ERR, "bp", INFO, "bp", "{subject} const value {new} was set"),
    "const-changed": (ERR, "bp", ERR, "bp", "{subject} const value changed from {old} to {new}"),
    "const-removed": (INFO, "bp", ERR, "bp", "{subject} const value {old} was removed"),
    "default-value-added": (INFO, "bpa", INFO, "bp", "{subject} default value {new} was added"),
    # DEVIATION: oasdiff rates request default changes INFO. A changed or dropped request
    # default silently changes what every client that omits the field gets (e.g.
    # `skill_version: latest` resolving to another revision), so it is WARN here.
    "default-value-changed": (WARN, "bpa", INFO, "bp", "{subject} default value changed from {old} to {new}"),
    "default-value-removed": (WARN, "bpa", INFO, "bp", "{subject} default value {old} was removed"),
    "pattern-added": (ERR, "pa", INFO, "p", "added the pattern {new} to {subject}"),
    "pattern-changed": (WARN, "pa", WARN, "p", "changed the pattern of {subject} from {old} to {new}"),
    "pattern-removed": (INFO, "pa", ERR, "p", "removed the pattern {old} from {subject}"),
    "max-length-set": (ERR, "bpa", None, "", "{subject} maxLength was set to {new}"),
    "max-length-decreased": (ERR, "bpa", None, "", "{subject} maxLength was decreased from {old} to {new}"),
    "max-length-increased": (INFO, "bpa", ERR, "bp", "{subject} maxLength was increased from {old} to {new}"),
    "max-length-unset": (None, "", ERR, "bp", "{subject} maxLength {old} was unset"),
    "min-length-increased": (ERR, "bpa", None, "", "{subject} minLength was increased from {old} to {new}"),
    "min-length-decreased": (INFO, "bpa", ERR, "bp", "{subject} minLength was decreased from {old} to {new}"),
    "max-set": (ERR, "bpa", None, "", "{subject} max was set to {new}"),
    "max-decreased": (ERR, "bpa", None, "", "{subject} max was decreased from {old} to {new}"),
    "max-increased": (INFO, "bpa", ERR, "bp", "{subject} max was increased from {old} to {new}"),
    "min-set": (ERR, "bpa", None, "", "{subject} min was set to {new}"),
    "min-increased": (ERR, "bpa", None, "", "{subject} min was increased from {old} to {new}"),
    "min-decreased": (INFO, "bpa", ERR, "bp", "{subject} min was decreased from {old} to {new}"),
    "min-items-set": (ERR, "bpa", None, "", "{subject} minItems was set to {new}"),
    "min-items-increased": (ERR, "bpa", None, "", "{subject} minItems was increased from {old} to {new}"),
    "min-items-decreased": (INFO, "pa", ERR, "bp", "{subject} minItems was decreased from {old} to {new}"),
    "min-items-unset": (None, "", ERR, "bp", "{subject} minItems {old} was unset"),
    "max-items-set": (ERR, "bp", None, "", "{subject} maxItems was set to {new}"),
    "max-items-decreased": (ERR, "bpa", None, "", "{subject} maxItems was decreased from {old} to {new}"),
    "max-items-increased": (INFO, "bpa", ERR, "bp", "{subject} maxItems was increased from {old} to {new}"),
    "one-of-added": (INFO, "bp", ERR, "bp", "added {value} to {subject} `oneOf` list"),
    "one-of-removed": (ERR, "bp", INFO, "bp", "removed {value} from {subject} `oneOf` list"),
    "any-of-added": (INFO, "bp", ERR, "bp", "added {value} to {subject} `anyOf` list"),
    "any-of-removed": (ERR, "bp", INFO, "bp", "removed {value} from {subject} `anyOf` list"),
    "discriminator-added": (INFO, "bp", INFO, "bp", "added a discriminator to {subject}"),
    "discriminator-removed": (INFO, "bp", INFO, "bp", "removed the discriminator from {subject}"),
    "discriminator-property-name-changed": (
        INFO,
        "bp",
        INFO,
        "bp",
        "the discriminator property name of {subject} changed from {old} to {new}",
    ),
    "discriminator-mapping-added": (INFO, "bp", INFO, "bp", "added {value} discriminator mapping keys to {subject}"),
    "discriminator-mapping-deleted": (
        INFO,
        "bp",
        INFO,
        "bp",
        "removed {value} discriminator mapping keys from {subject}",
    ),
    "discriminator-mapping-changed": (
        INFO,
        "bp",
        INFO,
        "bp",
        "mapped value for discriminator key {value} of {subject} changed from {old} to {new}",
    ),
}

# OURS: oasdiff has no rule for a response enum dropped altogether (the server may now send
# any value: the same risk as `response-property-enum-value-added`, so the same level).
# OURS: a request enum replaced by a pattern would otherwise read as the pattern added (ERR),
# the enum's removal being harmless there. It narrows only if the pattern rejects a former
# value (ERR, naming it); one every former value matches widens what clients may send (INFO),
# as an open set of model ids replacing their list does. One finding for the pair either way.
# OURS: oasdiff has no `additionalProperties` rules. Forbidding unknown keys in a request
# rejects what clients may send (like its ERR `request-property-unevaluated-properties-added`);
# allowing them in a response lets the server send keys a strict client refuses.
_OURS: dict[str, tuple[Level | None, str, Level | None, str, str]] = {
    "enum-removed": (None, "", WARN, "p", "{subject} is no longer restricted to a list of enum values"),
    "enum-replaced-by-pattern": (
        INFO,
        "pa",
        None,
        "",
        "{subject} was widened from a list of enum values to the pattern {new}, which every former value matches",
    ),
    "enum-value-rejected-by-pattern": (
        ERR,
        "pa",
        None,
        "",
        "{subject} was changed from a list of enum values to the pattern {new}, which rejects the former value {value}",
    ),
    "additional-properties-disallowed": (ERR, "bp", INFO, "bp", "{subject} no longer allows additional properties"),
    "additional-properties-allowed": (INFO, "bp", WARN, "bp", "{subject} now allows additional properties"),
}

# OURS within the generated table: oasdiff has no breaking check for maxItems on a request
# (set, decreased, increased) nor for a response's maxItems rising or a request property's
# minItems falling; they mirror its maxLength/minItems rules at the same levels.
_OURS_IDS = frozenset(
    {
        "request-body-max-items-set",
        "request-body-max-items-decreased",
        "request-body-max-items-increased",
        "request-property-max-items-set",
        "request-property-max-items-decreased",
        "request-property-max-items-increased",
        "request-property-min-items-decreased",
        "response-body-max-items-increased",
        "response-property-max-items-increased",
    }
)

# oasdiff names a few body-level rules differently.
_ALIASES = {"response-body-enum-value-removed": "response-mediatype-enum-value-removed"}

_EXPLICIT: list[tuple[str, Level, str]] = [
    ("new-required-request-property", ERR, "added the new required request property {prop}"),
    (
        "new-required-request-property-with-default",
        ERR,
        "added the new required request property {prop} with a default value",
    ),
    ("new-optional-request-property", INFO, "added the new optional request property {prop}"),
    ("request-property-removed", WARN, "removed the request property {prop}"),
    ("request-property-became-required", ERR, "the request property {prop} became required"),
    (
        "request-property-became-required-with-default",
        ERR,
        "the request property {prop} with a default value became required",
    ),
    ("request-property-became-optional", INFO, "the request property {prop} became optional"),
    ("response-required-property-removed", ERR, "removed the required property {prop} from the response{status}"),
    ("response-optional-property-removed", WARN, "removed the optional property {prop} from the response{status}"),
    ("response-property-became-optional", ERR, "the response property {prop} became optional{status}"),
    ("response-property-became-required", INFO, "the response property {prop} became required{status}"),
    ("response-required-property-added", INFO, "added the required property {prop} to the response{status}"),
    ("response-optional-property-added", INFO, "added the optional property {prop} to the response{status}"),
    ("response-mediatype-enum-value-removed", INFO, "removed the enum value {value} from {subject}"),
    ("new-required-request-parameter", ERR, "added the new required {param_in} request parameter {param}"),
    ("new-optional-request-parameter", INFO, "added the new optional {param_in} request parameter {param}"),
    ("new-request-path-parameter", ERR, "added the new path request parameter {param}"),
    ("request-parameter-removed", WARN, "deleted the {param_in} request parameter {param}"),
    ("request-parameter-became-required", ERR, "the {param_in} request parameter {param} became required"),
    ("request-parameter-became-optional", INFO, "the {param_in} request parameter {param} became optional"),
    ("request-body-added-required", ERR, "added required request body"),
    ("request-body-added-optional", INFO, "added optional request body"),
    ("request-body-removed", ERR, "removed the request body"),
    ("request-body-became-required", ERR, "request body became required"),
    ("request-body-became-optional", INFO, "request body became optional"),
    ("request-body-media-type-removed", ERR, "removed the media type {media} from the request body"),
    ("request-body-media-type-added", INFO, "added the media type {media} to the request body"),
    ("request-body-media-type-schema-added", ERR, "added a schema to the request body media type {media}"),
    ("request-body-media-type-schema-removed", INFO, "removed the schema of the request body media type {media}"),
    ("response-success-status-removed", ERR, "removed the success response with the status {status_code}"),
    ("response-non-success-status-removed", INFO, "removed the non-success response with the status {status_code}"),
    ("response-success-status-added", INFO, "added the success response with the status {status_code}"),
    ("response-non-success-status-added", INFO, "added the non-success response with the status {status_code}"),
    (
        "response-media-type-removed",
        ERR,
        "removed the media type {media} for the response with the status {status_code}",
    ),
    ("response-media-type-added", INFO, "added the media type {media} for the response with the status {status_code}"),
    ("response-body-media-type-schema-removed", ERR, "removed the schema of the response media type {media}{status}"),
    ("response-body-media-type-schema-added", INFO, "added a schema to the response media type {media}{status}"),
    ("api-path-removed-without-deprecation", ERR, "api path removed without deprecation"),
    ("api-path-removed-with-deprecation", INFO, "api path removed with deprecation"),
    ("api-removed-without-deprecation", ERR, "api removed without deprecation"),
    ("api-removed-with-deprecation", INFO, "api removed with deprecation"),
    ("endpoint-added", INFO, "endpoint added"),
    ("endpoint-deprecated", INFO, "endpoint deprecated"),
    ("endpoint-reactivated", INFO, "endpoint reactivated"),
]


def _build() -> dict[str, Rule]:
    rules: dict[str, Rule] = {}
    for table, ours in ((_SCHEMA, False), (_OURS, True)):
        for suffix, (req_level, req_subjects, resp_level, resp_subjects, template) in table.items():
            for direction, level, subjects in (
                ("request", req_level, req_subjects),
                ("response", resp_level, resp_subjects),
            ):
                if level is None:
                    continue
                for letter in subjects:
                    rule_id = f"{direction}-{_SUBJECTS[letter]}-{suffix}"
                    rule_id = _ALIASES.get(rule_id, rule_id)
                    rules.setdefault(rule_id, Rule(rule_id, level, template, ours or rule_id in _OURS_IDS))
    for rule_id, level, template in _EXPLICIT:
        rules[rule_id] = Rule(rule_id, level, template)
    return rules


RULES: dict[str, Rule] = _build()


def schema_rule(suffix: str, direction: str, subject: str) -> str | None:
    """The id for a schema check at this subject, or None when the change is harmless there.

    Subjects oasdiff has no id for fall back to the property rule (a parameter's const, a
    body's pattern), which carries the same level.
    """
    spec = _SCHEMA.get(suffix) or _OURS[suffix]
    level = spec[0] if direction == "request" else spec[2]
    if level is None:
        return None
    rule_id = _ALIASES.get(f"{direction}-{subject}-{suffix}", f"{direction}-{subject}-{suffix}")
    return rule_id if rule_id in RULES else f"{direction}-property-{suffix}"


def show(value: Any) -> str:
    """A value as oasdiff prints it in messages: quoted."""
    if isinstance(value, str):
        return f"'{value}'"
    return f"'{json.dumps(value, sort_keys=True, default=str)}'"


def make_change(
    rule_id: str,
    *,
    operation: str,
    path: str,
    json_path: str | None,
    direction: str,
    **fields: str,
) -> Change:
    """A change with the rule's level and its message filled in.

    A field the template needs and the caller did not pass is a bug at the emit site: it
    raises here rather than print a message with a hole in it.
    """
    rule = RULES[rule_id]
    if missing := rule.fields - fields.keys():
        raise TypeError(f"rule {rule_id!r} needs the message field(s) {', '.join(sorted(missing))}")
    text = rule.template.format_map(fields)
    return Change(rule_id, rule.level, operation, path, text, json_path, direction)
