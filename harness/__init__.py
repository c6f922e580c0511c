"""VLM Run skills contract harness.

The package root stays cheap to import (a pytest plugin will load it in every run): it
exports the error hierarchy only. Everything else lives in its module: `harness.wire`,
`harness.contract`, `harness.bundles`, `harness.models`, `harness.canonical`, `harness.reference`.
"""

from __future__ import annotations

from harness.errors import (
    BundleError,
    CassetteError,
    CassetteMiss,
    ConformanceFailure,
    ContractFailure,
    DescriptionError,
    HarnessError,
    UsageError,
)
from harness.settings import harness_version as _harness_version

__version__ = _harness_version() or "0+unknown"

__all__ = [
    # errors: the harness cannot work
    "BundleError",
    "CassetteError",
    "DescriptionError",
    "HarnessError",
    "UsageError",
    # failures: the API drifted
    "CassetteMiss",
    "ConformanceFailure",
    "ContractFailure",
    # metadata
    "__version__",
]
