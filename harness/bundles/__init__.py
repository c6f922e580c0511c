"""Inline skill bundles: deterministic build, strict decode, content digest."""

from __future__ import annotations

from harness.bundles.build import (
    build_bundle,
    build_bundle_from_directory,
    bundle_b64_from_directory,
    encode_bundle,
)
from harness.bundles.decode import (
    DEFAULT_LIMITS,
    Bundle,
    BundleLimits,
    ManifestEntry,
    decode_bundle,
    read_zip_entries,
)
from harness.bundles.digest import digest_b64
from harness.bundles.file_digest import canonical_digest
from harness.bundles.skill import SkillMd, parse_skill_md

__all__ = [
    "DEFAULT_LIMITS",
    "Bundle",
    "BundleLimits",
    "ManifestEntry",
    "SkillMd",
    "build_bundle",
    "build_bundle_from_directory",
    "bundle_b64_from_directory",
    "canonical_digest",
    "decode_bundle",
    "digest_b64",
    "encode_bundle",
    "parse_skill_md",
    "read_zip_entries",
]
