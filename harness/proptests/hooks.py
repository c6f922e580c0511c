"""The bundle strategy as a schemathesis hooks module, for the stock schemathesis CLI.

JSON Schema cannot say "a zip holding a SKILL.md": `format: byte` on a bundle only says
base64, so the stock CLI's own values (`""`, base64 of random bytes) are rightly refused as
bundles and it reports a schema-valid request rejected (ST202), a false positive. Loading
this module makes every generated `format: byte` value a real skill bundle
(`harness.proptests.strategies`); a run against `harness serve` then finds nothing::

    SCHEMATHESIS_HOOKS=harness.proptests.hooks schemathesis run DESCRIPTION \\
        --url http://127.0.0.1:8765 -H "Authorization: Bearer harness-local-key"

schemathesis imports it by name, so it must run in the environment the harness is installed
in (`vlmrun-skills-harness[gate]` brings both). `hooks = "harness.proptests.hooks"` in a
`schemathesis.toml` does the same; `harness check` sets the variable itself (`runner.HOOKS_MODULE`).
"""

from __future__ import annotations

from harness.proptests.strategies import register

register()
