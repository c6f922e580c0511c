from __future__ import annotations

from pathlib import Path

import pytest

from harness.errors import UsageError
from harness.reference.registry import Registry, SkillNotFound, load_dir

SKILL_MD = "---\nname: {name}\ndescription: Does {name} things\n{extra}---\n# {name}\n"


def _skill(folder: Path, name: str, extra: str = "") -> Path:
    folder.mkdir(parents=True)
    (folder / "SKILL.md").write_text(SKILL_MD.format(name=name, extra=extra))
    return folder


def test_seeded_registry_has_the_docs_skills() -> None:
    reg = Registry.seeded()
    assert sorted({r.name for r in reg.all()}) == ["invoice-extraction", "line-item-validation", "patient-referral"]
    assert [r.version for r in reg.all() if r.name == "patient-referral"] == ["20260219-abc123", "20260408-9c3a43f5"]
    assert all(r.schema is not None for r in reg.all())


def test_extra_skills_dir_with_versions_and_bare_folders(tmp_path: Path) -> None:
    _skill(tmp_path / "receipts" / "20260101-aaaa1111", "receipts")
    _skill(tmp_path / "receipts" / "20260301-bbbb2222", "receipts")
    _skill(tmp_path / "bare", "bare")
    _skill(tmp_path / "declared", "declared", extra="skill_version: 20260505-cafe01\n")
    reg = Registry.seeded(tmp_path)
    assert reg.resolve(skill_name="receipts").version == "20260301-bbbb2222"
    assert reg.resolve(skill_name="receipts", version="20260101-aaaa1111").version == "20260101-aaaa1111"
    bare = reg.resolve(skill_id="bare")
    assert bare.version.startswith("19800101-")
    assert Registry.from_dirs(tmp_path).resolve(skill_name="bare").version == bare.version  # same files, same version
    assert reg.resolve(skill_name="declared").version == "20260505-cafe01"


def test_revision_ids_are_stable_uuids_that_resolve() -> None:
    first, second = Registry.seeded(), Registry.seeded()
    rev = first.resolve(skill_name="invoice-extraction")
    assert second.resolve(skill_name="invoice-extraction").id == rev.id
    assert first.resolve(skill_id=rev.id) is rev


def test_skill_id_wins_over_skill_name() -> None:
    reg = Registry.seeded()
    assert reg.resolve(skill_id="patient-referral", skill_name="invoice-extraction").name == "patient-referral"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"skill_name": "nope"}, "skill_name 'nope'"),
        ({"skill_id": "nope"}, "skill_id 'nope'"),
        ({"skill_name": "patient-referral", "version": "1"}, "no version '1'"),
        ({}, "Neither skill_id nor skill_name"),
    ],
)
def test_unknown_references_name_what_was_asked(kwargs: dict[str, str], message: str) -> None:
    with pytest.raises(SkillNotFound, match=message):
        Registry.seeded().resolve(**kwargs)


def test_bad_skill_folders_are_usage_errors_naming_the_folder(tmp_path: Path) -> None:
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "SKILL.md").write_text("no frontmatter here\n")
    with pytest.raises(UsageError, match="broken"):
        load_dir(tmp_path)
    with pytest.raises(UsageError, match="does not exist"):
        load_dir(tmp_path / "missing")


def test_duplicate_revisions_are_refused(tmp_path: Path) -> None:
    _skill(tmp_path / "a" / "20260101-aaaa1111", "twin")
    _skill(tmp_path / "b" / "20260101-aaaa1111", "twin")
    with pytest.raises(UsageError, match="two revisions"):
        Registry.from_dirs(tmp_path)


def test_revision_bundles_are_real_bundles() -> None:
    from harness.bundles import decode_bundle, encode_bundle

    rev = Registry.seeded().resolve(skill_name="invoice-extraction")
    assert decode_bundle(encode_bundle(rev.bundle())).digest == rev.digest
