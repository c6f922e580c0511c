"""`harness matrix`: what each real client stack sends for the docs' seed examples.

`stacks` builds each stack's isolated environment with uv; `probe` (standalone, run inside
that environment) captures the wire bodies; `evaluate` judges them against the description,
the reference server and the canonical form, with the expectations of `expect`; `report`
writes the table. `run.run_matrix` ties them together.
"""
