"""The description in use as a file: its own when it has no overlay, else a copy that lives as long as the step."""

from __future__ import annotations

from pathlib import Path

import yaml

from harness.contract import DescriptionChoice, default_description_path, load_contract
from harness.description_yaml import description_yaml
from harness.gate.description_file import description_file, own_file

OVERLAY = {
    "overlay": "1.0.0",
    "info": {"title": "t", "version": "1"},
    "actions": [{"target": "$.info", "update": {"title": "Ours — with an overlay"}}],
}


def test_a_description_without_overlays_is_read_from_its_own_file() -> None:
    contract = load_contract()
    assert own_file(contract) == default_description_path()
    with description_file(contract) as path:
        assert path == default_description_path()


def test_with_overlays_a_temporary_copy_holds_exactly_the_composed_document(tmp_path: Path) -> None:
    overlay = tmp_path / "overlay.yaml"
    overlay.write_text(yaml.safe_dump(OVERLAY))
    contract = DescriptionChoice(overlays=(overlay,)).load()
    assert own_file(contract) is None
    with description_file(contract) as path:
        assert yaml.safe_load(path.read_text(encoding="utf-8")) == contract.document
        assert "Ours — with an overlay" in path.read_text(encoding="utf-8")  # unicode kept as it is
    assert not path.exists()


def test_a_header_is_written_as_comment_lines(tmp_path: Path) -> None:
    text = description_yaml(load_contract().document, header="first line\n\nthird line")
    assert text.startswith("# first line\n#\n# third line\nopenapi: 3.1.0\n")
