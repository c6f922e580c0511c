"""Each thing the snapshots guard, broken on purpose: the committed snapshots must catch it.

Every case runs the real snapshot tests of this folder in a nested pytest session, with a
plugin that breaks one behaviour (an SDK renaming a key, changing the default version,
dropping a pin; the canonical form no longer folding `version`; bundles built the SDK's
non-deterministic way; junk files let into bundles), and asserts that the run fails with a
readable diff naming what changed (or, for a body the description does not allow, the
capture's own failure naming the field). Nothing is written: the nested run has no `--snapshot-update`.
"""

from __future__ import annotations

from pathlib import Path
from textwrap import dedent

import pytest

HERE = Path(__file__).resolve().parent

# name -> (plugin body run at configure time with `mp`, a MonkeyPatch; -k selection; expected diff lines)
MUTATIONS: dict[str, tuple[str, str, list[str]]] = {
    "skill-key-renamed": (
        """
        from vlmrun.client.types import AgentSkill
        dump = AgentSkill.model_dump
        def renamed(self, *args, **kwargs):
            out = dump(self, *args, **kwargs)
            if "skill_name" in out:
                out["skillName"] = out.pop("skill_name")
            return out
        mp.setattr(AgentSkill, "model_dump", renamed)
        """,
        "test_wire_body and single and vlmrun",
        # A body the description does not allow fails where it is captured, naming each field.
        [
            "*ConformanceFailure: POST /v1/openai/chat/completions: the captured request breaks the API description*",
            "  skills[[]0[]].skillName: Unknown field 'skillName' is not allowed here",
            "  skills[[]0[]]: Provide at least one of 'skill_id' or 'skill_name'",
        ],
    ),
    "default-version-changed": (
        """
        from vlmrun.client.types import AgentSkill
        mp.setattr(AgentSkill.model_fields["skill_version"], "default", "stable")
        AgentSkill.model_rebuild(force=True)
        mp.undo_hooks.append(lambda: AgentSkill.model_rebuild(force=True))
        """,
        "test_the_default_version_as_each_path_sends_it",
        ['*-*"skill_version": "latest"*', '*+*"skill_version": "stable"*'],
    ),
    "pin-dropped": (
        """
        from vlmrun.client.types import AgentSkill
        dump = AgentSkill.model_dump
        def unpinned(self, *args, **kwargs):
            out = dump(self, *args, **kwargs)
            out.pop("skill_version", None)
            return out
        mp.setattr(AgentSkill, "model_dump", unpinned)
        """,
        "test_wire_body and pinned and vlmrun-objects",
        ['*-*"skill_version": "20260219-abc123"*'],
    ),
    "alias-folding-broken": (
        """
        import harness.canonical as canonical
        mp.setattr(canonical, "effective_version", lambda skill: skill.get("skill_version") or "latest")
        """,
        "test_canonical_form and pinned",
        [
            "*every wire path must mean the same request*",
            "*legacy-aliases means skills[[]0[]].skill_version = 'latest', vlmrun-dict means '20260219-abc123'*",
        ],
    ),
    "bundle-not-deterministic": (
        """
        import base64
        import tests.snapshots.test_bundles as bundles
        from vlmrun.client.types import AgentSkill
        mp.setattr(bundles, "build_bundle_from_directory",
                   lambda d: base64.b64decode(AgentSkill.from_directory(d).source.data))
        """,
        "test_bundle_bytes_survive_touch_chmod_and_rebuild",
        ['*-*"sha256": "*', '*+*"sha256": "*'],
    ),
    "manifest-lets-junk-in": (
        """
        import harness.bundles.build as build
        mp.setattr(build, "is_junk", lambda rel_path: False)
        """,
        "test_junk_files_stay_out_of_the_manifest",
        ['*+*"path": "__pycache__/x.cpython-311.pyc"*'],  # dotfiles stay out anyway (collect_directory)
    ),
}


def _plugin(body: str) -> str:
    return (
        "import pytest\n\n"
        "class _MP(pytest.MonkeyPatch):\n"
        "    def __init__(self):\n"
        "        super().__init__()\n"
        "        self.undo_hooks = []\n"
        "    def undo(self):\n"
        "        super().undo()\n"
        "        for hook in self.undo_hooks:\n"
        "            hook()\n\n"
        "mp = _MP()\n\n"
        "def pytest_configure(config):\n"
        + "".join(f"    {line}\n" for line in dedent(body).strip().splitlines())
        + "\ndef pytest_unconfigure(config):\n    mp.undo()\n"
    )


@pytest.mark.parametrize("name", MUTATIONS)
def test_a_broken_behaviour_fails_a_snapshot_with_a_readable_diff(pytester: pytest.Pytester, name: str) -> None:
    body, selection, expected = MUTATIONS[name]
    pytester.makepyfile(mutation_plugin=_plugin(body))
    pytester.syspathinsert()
    result = pytester.runpytest_inprocess(
        str(HERE), "-p", "mutation_plugin", "-k", selection, "-p", "no:cacheprovider", "-p", "no:randomly", "-vv"
    )  # -vv: the whole snapshot diff, as a person reading it would ask for
    assert result.ret == pytest.ExitCode.TESTS_FAILED, result.stdout.str()[-3000:]
    result.stdout.fnmatch_lines(expected, consecutive=False)


def test_the_unbroken_selection_passes(pytester: pytest.Pytester) -> None:
    """The same nested runs pass without a mutation, so each failure above is the mutation's."""
    selection = " or ".join(f"({s})" for _, s, _ in MUTATIONS.values())
    result = pytester.runpytest_inprocess(str(HERE), "-k", selection, "-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()[-3000:]
