"""Hostile inline bundles: each one a `BundleError` naming the entry, and memory stays bounded.

Already covered in tests/bundles/test_decode.py (not repeated here): `../x`-style zip-slip,
absolute and drive-letter paths, backslashes, NUL in names, a symlink to /etc/passwd,
duplicates, encryption, bzip2, a 50 MB ratio bomb (refused before inflation), caps with
small limits, lying headers, not-a-zip and truncated zips, the base64 variants (padding,
whitespace, newline, URL-safe alphabet), the empty string, missing or nested SKILL.md,
broken frontmatter YAML, and a nested zip kept as an opaque file. This module adds the
variants below and the peak-memory measurement.

Nested zips: allowed, as opaque files. Only the outer archive is inflated, so an inner
bomb costs its compressed size; the API treats bundle files as data, and refusing every
`.zip` would break skills that ship archives as resources.
"""

from __future__ import annotations

import base64
import gzip
import json
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path
from typing import Any

import pytest

from harness.bundles import decode_bundle
from harness.errors import BundleError
from tests.hardening._zips import (
    SKILL,
    SKILL_MD,
    MiB,
    alias_bomb_skill_md,
    b64,
    many_mib_entries,
    overlapping_entries,
    patch_sizes,
    raw_zip,
    symlink,
    zeros_entry,
)


def refused(data: Any) -> BundleError:
    with pytest.raises(BundleError) as info:
        decode_bundle(data)
    return info.value


@pytest.mark.parametrize(
    "name", ["..", "a/..", "skills/../../../etc/cron.d/evil", "/", "//server/share/x", "\\\\server\\share\\x"]
)
def test_more_escaping_names_are_refused_naming_the_entry(name: str) -> None:
    error = refused(b64(raw_zip([SKILL, (name, b"x")])))
    assert (error.code, error.entry) == ("unsafe_path", name)
    assert repr(name) in str(error)


@pytest.mark.parametrize(
    ("entry", "target"),
    [("SKILL.md", b"../../../etc/passwd"), ("assets/", b"/"), ("assets/data.csv", b"../../../../root/.ssh/id_rsa")],
)
def test_symlinks_are_refused_whatever_their_name_or_target(entry: str, target: bytes) -> None:
    files: list[tuple[str | zipfile.ZipInfo, bytes]] = [] if entry == "SKILL.md" else [SKILL]
    error = refused(b64(raw_zip([*files, symlink(entry, target)])))
    assert (error.code, error.entry) == ("symlink", entry)


def test_a_bomb_of_many_small_entries_is_refused_from_its_declared_total() -> None:
    # 101 entries of 1 MiB: each under the ratio threshold, together over the 100 MiB cap.
    error = refused(b64(many_mib_entries(101)))
    assert error.code == "too_large_uncompressed"
    assert "over the limit of 104857600" in str(error)


def test_a_declared_gigabyte_is_refused_from_the_central_directory() -> None:
    data = patch_sizes(raw_zip([SKILL, ("big.bin", b"x" * 10)]), "big.bin", usize=1 << 30)
    error = refused(b64(data))
    assert (error.code, error.entry) == ("too_large_uncompressed", "big.bin")


def test_overlapping_entries_are_refused_not_inflated_again_and_again() -> None:
    error = refused(b64(overlapping_entries(30)))
    assert error.code in {"corrupt", "duplicate_entry"}
    assert error.entry is not None
    assert error.entry in str(error)


def test_a_nested_zip_bomb_is_an_opaque_file() -> None:
    inner = zeros_entry("bomb.bin", 40)  # 40 MiB inside, about 40 KiB on the wire
    bundle = decode_bundle(b64(raw_zip([SKILL, ("assets/inner.zip", inner)])))
    assert bundle.files["assets/inner.zip"] == inner
    assert [m.size for m in bundle.manifest()] == [len(SKILL_MD), len(inner)]


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        (gzip.compress(b"not a zip"), "not_a_zip"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "not_a_zip"),
        (b"PK\x03\x04" + bytes(range(200)), "not_a_zip"),
        (raw_zip([]), "missing_skill_md"),  # a valid, empty archive
        (raw_zip([(zipfile.ZipInfo("only/"), b""), (zipfile.ZipInfo("dirs/"), b"")]), "missing_skill_md"),
        (raw_zip([("SKILL.md", b"")]), "no_frontmatter"),
    ],
    ids=["gzip", "pdf", "zip-magic-then-garbage", "empty-zip", "folders-only", "empty-skill-md"],
)
def test_archives_that_hold_no_skill(raw: bytes, code: str) -> None:
    assert refused(b64(raw)).code == code


@pytest.mark.parametrize(
    ("data", "needle"),
    [
        (base64.encodebytes(raw_zip([SKILL])).decode(), "line break"),  # MIME: wrapped at 76 columns
        ("data:application/zip;base64," + b64(raw_zip([SKILL])), "invalid character ':'"),
        (b64(raw_zip([SKILL])) + "\n", "line break"),
    ],
    ids=["mime-wrapped", "data-url", "trailing-newline"],
)
def test_more_base64_variants_are_refused_with_the_offset(data: str, needle: str) -> None:
    error = refused(data)
    assert error.code == "invalid_base64"
    assert needle in str(error)
    assert "offset" in str(error)


@pytest.mark.parametrize("value", [None, 42, b"UEsFBgAAAAAAAAAAAAAAAAAAAAAAAA==", ["UEsFBg=="]])
def test_non_strings_are_refused(value: Any) -> None:
    assert refused(value).code == "invalid_base64"


@pytest.mark.parametrize(
    ("skill_md", "code"),
    [
        (b"---\nname: x\ndescription: d\n", "no_frontmatter"),  # never closed
        (b"---\n- name\n- description\n---\n", "frontmatter_not_mapping"),
        (b"---\nname: 12\ndescription: d\n---\n", "missing_name"),
        (b"---\nname: x\n\tdescription: d\n---\n", "invalid_yaml"),  # a tab indent
        (b"---\nname: !!python/object/apply:os.system [echo]\ndescription: d\n---\n", "invalid_yaml"),
    ],
    ids=["unclosed", "list", "int-name", "tab", "python-tag"],
)
def test_more_broken_frontmatter(skill_md: bytes, code: str) -> None:
    error = refused(b64(raw_zip([("SKILL.md", skill_md)])))
    assert (error.code, error.entry) == (code, "SKILL.md")


def test_a_yaml_alias_bomb_in_the_frontmatter_gets_a_short_message() -> None:
    # Found by this test: the message used the full repr of `name`, 9**9 strings (gigabytes).
    error = refused(b64(raw_zip([("SKILL.md", alias_bomb_skill_md())])))
    assert (error.code, error.entry) == ("missing_name", "SKILL.md")
    assert len(str(error)) < 500


def test_a_100_mb_string_is_refused_from_its_length() -> None:
    error = refused("A" * 100_000_000)
    assert error.code == "too_large"
    assert "100000000 base64 characters" in str(error)


# -- peak memory -----------------------------------------------------------------------------

# Bound: the caps allow 100 MiB of inflated files while the decoded zip is held (at most
# 52.7 MB, from the 70,254,592-character cap), plus one transient entry copy (up to 50 MiB):
# about 210 MB in the worst case; base64 decoding alone peaks at its ASCII copy plus the
# zip (~123 MB at the cap). 300 MB leaves room for allocator slack; a bomb that inflates,
# or a message that expands an alias bomb, needs gigabytes and cannot pass.
CEILING = 300 * 1000 * 1000

_MEASURE = textwrap.dedent(
    """
    import json, pathlib, resource, sys
    from harness.bundles import decode_bundle
    from harness.errors import BundleError

    def status(key):
        try:
            with open("/proc/self/status") as fh:
                return next(int(l.split()[1]) * 1024 for l in fh if l.startswith(key + ":"))
        except OSError:  # no procfs: the peak so far (kB on Linux, bytes on macOS), never reset
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            return peak if sys.platform == "darwin" else peak * 1024

    def reset_peak():  # Linux >= 4.0: VmHWM restarts from the current RSS
        try:
            with open("/proc/self/clear_refs", "w") as fh:
                fh.write("5")
            return True
        except OSError:
            return False

    cases = {p.stem: p.read_text() for p in sorted(pathlib.Path(sys.argv[1]).glob("*.b64"))}
    cases["b64_100MB"] = "A" * 100_000_000
    cases["b64_at_the_cap_not_a_zip"] = "A" * 70_254_592
    decode_bundle(cases.pop("warm-up"))  # imports and caches do not count
    for name, data in cases.items():
        reset = reset_peak()
        base = status("VmRSS")
        try:
            decode_bundle(data)
            outcome = "ok"
        except BundleError as exc:
            outcome = exc.code
        print(json.dumps({"case": name, "outcome": outcome, "peak": status("VmHWM") - base, "reset": reset}))
    """
)

EXPECTED = {
    "ratio_bomb_40MiB": "compression_ratio",
    "declared_1GiB": "too_large_uncompressed",
    "total_101x1MiB": "too_large_uncompressed",
    "largest_accepted_99x1MiB": "ok",
    "lying_header_64MiB": "corrupt",
    "overlapping_entries": "corrupt",
    "nested_bomb": "ok",
    "yaml_alias_bomb": "missing_name",
    "b64_100MB": "too_large",
    "b64_at_the_cap_not_a_zip": "not_a_zip",
}


def _write_cases(folder: Path) -> None:
    lying = patch_sizes(raw_zip([SKILL, ("lie.bin", bytes(64 * MiB))], zipfile.ZIP_DEFLATED), "lie.bin", usize=1000)
    cases = {
        "warm-up": raw_zip([SKILL]),
        "ratio_bomb_40MiB": zeros_entry("bomb.bin", 40),
        "declared_1GiB": patch_sizes(raw_zip([SKILL, ("big.bin", b"x" * 10)]), "big.bin", usize=1 << 30),
        "total_101x1MiB": many_mib_entries(101),
        "largest_accepted_99x1MiB": many_mib_entries(99),
        "lying_header_64MiB": lying,
        "overlapping_entries": overlapping_entries(30),
        "nested_bomb": raw_zip([SKILL, ("assets/inner.zip", zeros_entry("bomb.bin", 40))]),
        "yaml_alias_bomb": raw_zip([("SKILL.md", alias_bomb_skill_md())]),
    }
    for name, data in cases.items():
        (folder / f"{name}.b64").write_text(b64(data))


def test_peak_memory_of_hostile_bundles_stays_bounded(tmp_path: Path, record_property: Any) -> None:
    """Decode each bomb in a fresh interpreter and read its peak RSS above the baseline."""
    _write_cases(tmp_path)
    proc = subprocess.run(
        [sys.executable, "-c", _MEASURE, str(tmp_path)], capture_output=True, text=True, timeout=120, check=False
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    rows = {row["case"]: row for row in map(json.loads, proc.stdout.splitlines())}
    assert {name: row["outcome"] for name, row in rows.items()} == EXPECTED
    for name, row in rows.items():
        record_property(f"peak_rss_mb[{name}]", round(row["peak"] / 1e6, 1))
        assert row["peak"] < CEILING, f"{name}: {row['peak'] / 1e6:.0f} MB above the baseline"
    # The measurement sees real allocations: the largest bundle the caps allow inflates ~99 MiB.
    assert rows["largest_accepted_99x1MiB"]["peak"] > 90 * MiB
    print("peak RSS above baseline (MB):", {n: round(r["peak"] / 1e6, 1) for n, r in rows.items()})
