from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest

from harness.bundles import build_bundle
from harness.errors import UsageError
from harness.reference.registry import (
    VERSION_RE,
    Registry,
    SkillNotFound,
    SkillRevision,
    load_dir,
    new_version,
    revision_id,
)

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


def test_a_team_skill_named_like_a_seeded_one_replaces_it(tmp_path: Path) -> None:
    """Every revision of it: `latest` is then the team's, whatever the seeded dates say."""
    _skill(tmp_path / "invoice-extraction" / "20250101-0000aaaa", "invoice-extraction")
    reg = Registry.seeded(tmp_path)
    assert [(r.name, r.version) for r in reg.all()] == [
        ("line-item-validation", "20260305-b7e2a913"),
        ("patient-referral", "20260219-abc123"),
        ("patient-referral", "20260408-9c3a43f5"),
        ("invoice-extraction", "20250101-0000aaaa"),
    ]
    assert reg.resolve(skill_name="invoice-extraction").folder == tmp_path / "invoice-extraction" / "20250101-0000aaaa"
    seeded_id = Registry.seeded().resolve(skill_name="invoice-extraction").id
    with pytest.raises(SkillNotFound):
        reg.resolve(skill_id=seeded_id, skill_name="nope")


def _malformed(root: Path, case: str) -> Path:
    if case == "no frontmatter":
        (_skill(root / "broken", "broken") / "SKILL.md").write_text("no frontmatter here\n")
        return root / "broken"
    if case == "no name":
        (_skill(root / "broken", "broken") / "SKILL.md").write_text("---\ndescription: x\n---\n")
        return root / "broken"
    if case == "bad schema":
        (_skill(root / "broken", "broken") / "schema.json").write_text("{not json")
        return root / "broken"
    if case == "stray folder":
        _skill(root / "broken" / "20260101-aaaa1111", "broken")
        (root / "broken" / "v2").mkdir()
        return root / "broken"
    if case == "empty folder":
        (root / "broken").mkdir()
        return root / "broken"
    (root / "broken" / "20260101-aaaa1111").mkdir(parents=True)  # a revision without SKILL.md
    return root / "broken" / "20260101-aaaa1111"


@pytest.mark.parametrize(
    ("case", "why"),
    [
        (
            "no frontmatter",
            "SKILL.md must start with YAML frontmatter at byte 0, e.g. --- name: my-skill "
            "description: What the skill does --- (entry 'SKILL.md')",
        ),
        (
            "no name",
            "SKILL.md frontmatter has no 'name': add `name: my-skill` between the --- lines (entry 'SKILL.md')",
        ),
        (
            "bad schema",
            "schema.json is not valid JSON: Expecting property name enclosed in double quotes: "
            "line 1 column 2 (char 1) (entry 'schema.json')",
        ),
        (
            "stray folder",
            "it needs a SKILL.md, or revision folders named YYYYMMDD-<hash> that each hold one (found v2)",
        ),
        ("empty folder", "it needs a SKILL.md, or revision folders named YYYYMMDD-<hash> that each hold one"),
        ("revision without SKILL.md", "it has no SKILL.md"),
    ],
)
def test_a_malformed_skill_folder_is_one_line_naming_it(case: str, why: str, tmp_path: Path) -> None:
    folder = _malformed(tmp_path, case)
    with pytest.raises(UsageError) as caught:
        Registry.seeded(tmp_path)
    assert str(caught.value) == f"Skill folder {folder} is not a valid skill: {why}"


def test_a_missing_skills_folder_is_named(tmp_path: Path) -> None:
    with pytest.raises(UsageError) as caught:
        load_dir(tmp_path / "missing")
    assert str(caught.value) == f"Skills folder {tmp_path / 'missing'} does not exist or is not a folder"


def test_duplicate_revisions_are_refused_naming_both_folders(tmp_path: Path) -> None:
    _skill(tmp_path / "a" / "20260101-aaaa1111", "twin")
    _skill(tmp_path / "b" / "20260101-aaaa1111", "twin")
    with pytest.raises(UsageError) as caught:
        Registry.from_dirs(tmp_path)
    assert str(caught.value) == (
        f"Skill 'twin' has two revisions named '20260101-aaaa1111': "
        f"{tmp_path / 'a' / '20260101-aaaa1111'} and {tmp_path / 'b' / '20260101-aaaa1111'}"
    )


def test_revision_bundles_are_real_bundles() -> None:
    from harness.bundles import decode_bundle, encode_bundle

    rev = Registry.seeded().resolve(skill_name="invoice-extraction")
    assert decode_bundle(encode_bundle(rev.bundle())).digest == rev.digest


def _made_now(of: SkillRevision, version: str) -> SkillRevision:
    return replace(of, id=revision_id(of.name, version), version=version, created="2026-01-01T00:00:00.000000Z")


def test_an_appended_revision_is_latest_whatever_its_date_and_older_pins_still_resolve() -> None:
    reg = Registry.seeded()
    newest = reg.resolve(skill_name="patient-referral")
    made = _made_now(newest, "20200101-00000001")  # dated before every seeded revision
    reg.append(made)
    assert reg.resolve(skill_name="patient-referral") is made
    assert reg.resolve(skill_name="patient-referral", version=newest.version) is newest
    assert reg.resolve(skill_id=newest.id) is newest
    assert [r.version for r in reg.revisions("patient-referral")] == [
        "20260219-abc123",
        "20260408-9c3a43f5",
        "20200101-00000001",
    ]
    assert made.info()["created_at"] == "2026-01-01T00:00:00.000000Z"
    with pytest.raises(ValueError, match=r"^Skill 'patient-referral' already has a revision '20200101-00000001'$"):
        reg.append(made)


def test_new_versions_are_dated_and_differ_with_the_version_before() -> None:
    digest = "sha256:" + "0" * 64
    first = new_version("demo", digest, None, "20261127")
    again = new_version("demo", digest, first, "20261127")
    assert first == new_version("demo", digest, None, "20261127")
    assert re.fullmatch(r"20261127-[0-9a-f]{8}", first)
    assert again != first
    assert VERSION_RE.match(first)


def test_an_uploaded_zip_is_served_as_uploaded() -> None:
    rev = Registry.seeded().resolve(skill_name="invoice-extraction")
    assert replace(rev, zip_bytes=b"PK exact bytes").bundle() == b"PK exact bytes"
    assert rev.bundle() == build_bundle(rev.files)
