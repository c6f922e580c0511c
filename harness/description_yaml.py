"""A description written back as YAML: the accepted-description file and temporary copies.

`harness check --accept` and `harness init` both write the file a project accepts, and a
second accept of the same description must change no byte, so its form is defined once here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import yaml

__all__ = ["ACCEPTED_HEADER", "accepted_yaml", "description_yaml"]

ACCEPTED_HEADER = (
    "The API description this project last accepted, written by `harness check --accept`.\n"
    "`harness check` diffs the description in use against it: review a change here like code."
)


def description_yaml(document: Mapping[str, Any], *, header: str = "") -> str:
    """The document as YAML, in its own key order; `header` is written first, as comment lines."""
    comment = "".join(f"# {line}\n".replace("# \n", "#\n") for line in header.splitlines())
    body = yaml.safe_dump(dict(document), sort_keys=False, allow_unicode=True, width=120)
    return comment + body


def accepted_yaml(document: Mapping[str, Any]) -> str:
    """What the accepted-description file holds for `document`."""
    return description_yaml(document, header=ACCEPTED_HEADER)
