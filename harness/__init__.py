"""VLM Run skills contract harness.

The package root stays cheap to import (a pytest plugin will load it in every run): it
exports the error hierarchy only. Everything else lives in its module: `harness.contract`,
`harness.bundles`, `harness.models`, `harness.canonical`, `harness.reference`.
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

__version__ = "0.1.0"

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
