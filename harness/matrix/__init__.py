"""`harness matrix`: what each real client stack sends for the docs' seed examples.

`stacks` builds each stack's isolated environment with uv; `probe` (standalone, run inside
that environment) captures the wire bodies and makes one long-request call to
`long_requests`' server (`303 See Other`, then polls); `evaluate` judges them against the
description, the reference server and the canonical form, with the expectations of `expect`;
`report` writes the tables. `run.run_matrix` ties them together.
"""
