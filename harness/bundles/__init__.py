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
from harness.bundles.digest import canonical_digest, digest_b64
from harness.bundles.skill import SkillInfo, parse_skill_md

__all__ = [
    "DEFAULT_LIMITS",
    "Bundle",
    "BundleLimits",
    "ManifestEntry",
    "SkillInfo",
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
