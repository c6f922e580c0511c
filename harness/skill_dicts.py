"""Skills as plain JSON dicts that every client stack can send.

Why: the vlmrun docs pass `AgentSkill` objects (`skills=[AgentSkill(...)]`). openai-python
before 2.17 (including 1.109.1, which `pip install vlmrun` gives) serializes the body with
`json.dumps` and fails with `TypeError: Object of type AgentSkill is not JSON serializable`;
2.17 and later send only the fields the caller set. Plain dicts in the vlmrun dict form
(every default explicit) work on every openai and vlmrun version, so send those:

    from harness.skill_dicts import to_wire_dicts
    client.agent.completions.create(model=..., messages=..., skills=to_wire_dicts(skills))
    # vlmrun < 0.5.12 has no `skills=` keyword: use `extra_body={"skills": to_wire_dicts(skills)}`

The documented import; the rules themselves live in `harness.wire`.
"""

from __future__ import annotations

from harness.wire import to_wire_dict, to_wire_dicts

__all__ = ["to_wire_dict", "to_wire_dicts"]
