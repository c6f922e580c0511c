"""Inputs: files (YAML, JSON), external $refs, git revisions, URLs; errors name the input."""

from __future__ import annotations

import functools
import http.server
import json
import socket
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from harness.errors import DescriptionError, UsageError
from harness.specdiff import diff, load_description

MINIMAL = """
openapi: 3.1.0
info: {title: t, version: "1"}
paths:
  /things:
    get:
      responses:
        "200":
          description: ok
          content:
            application/json:
              schema: {$ref: "common.yaml#/Thing"}
"""
COMMON = """
Thing:
  type: object
  required: [id]
  properties:
    id: {type: string}
    parent: {$ref: "#/Thing"}
"""


def _write(folder: Path, **files: str) -> None:
    for name, text in files.items():
        (folder / name).write_text(text)


def test_yaml_and_json_files_load_the_same(tmp_path: Path) -> None:
    _write(tmp_path, **{"api.yaml": MINIMAL, "common.yaml": COMMON})
    doc = yaml.safe_load(MINIMAL)
    (tmp_path / "api.json").write_text(json.dumps(doc))
    a = load_description("api.yaml", cwd=tmp_path)
    b = load_description(tmp_path / "api.json")
    assert a.file == "api.yaml"
    assert diff(a, b) == []


def test_external_refs_are_bundled_and_diffed(tmp_path: Path) -> None:
    old, new = tmp_path / "old", tmp_path / "new"
    old.mkdir()
    new.mkdir()
    _write(old, **{"api.yaml": MINIMAL, "common.yaml": COMMON})
    _write(new, **{"api.yaml": MINIMAL, "common.yaml": COMMON.replace("required: [id]", "required: []")})
    changes = diff(load_description(old / "api.yaml"), load_description(new / "api.yaml"))
    assert [(c.id, c.path) for c in changes] == [
        ("response-property-became-optional", "response 200 application/json: id")
    ]


def test_circular_external_refs_terminate(tmp_path: Path) -> None:
    _write(
        tmp_path,
        **{
            "api.yaml": MINIMAL.replace("common.yaml#/Thing", "a.yaml#/A"),
            "a.yaml": "A: {type: object, properties: {b: {$ref: 'b.yaml#/B'}}}\n",
            "b.yaml": "B: {type: object, properties: {a: {$ref: 'a.yaml#/A'}}}\n",
        },
    )
    description = load_description(tmp_path / "api.yaml")
    assert diff(description, description) == []


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("openapi: 3.1.0\npaths: {\n", "not valid YAML"),
        ('{"openapi": "3.1.0", "paths": ', "not valid JSON"),
        ("- a\n- b\n", "top level is not a mapping"),
        ("swagger: '2.0'\npaths: {}\n", "Swagger 2.0 is not supported"),
        ("info: {title: t}\n", "no `openapi` field"),
        ("openapi: 3.1.0\npaths: {/x: {get: {responses: {'200': {$ref: '#/components/responses/Nope'}}}}}\n", "Nope"),
        (MINIMAL.replace("common.yaml", "missing.yaml"), "missing.yaml"),
    ],
)
def test_bad_descriptions_name_the_file_and_problem(tmp_path: Path, text: str, problem: str) -> None:
    (tmp_path / "bad.yaml").write_text(text)
    with pytest.raises(DescriptionError) as info:
        load_description(tmp_path / "bad.yaml")
    assert "bad.yaml" in str(info.value)
    assert problem in str(info.value)


def test_a_missing_file_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=r"no such description file: nope\.yaml"):
        load_description("nope.yaml", cwd=tmp_path)


def _git(repo: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.email=t@example.com", "-c", "user.name=t", "-c", "commit.gpgsign=false", *args],
        cwd=repo,
        check=True,
        capture_output=True,
    )


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    _git(tmp_path, "init", "-q")
    (tmp_path / "spec").mkdir()
    _write(tmp_path / "spec", **{"api.yaml": MINIMAL, "common.yaml": COMMON})
    _git(tmp_path, "add", ".")
    _git(tmp_path, "commit", "-q", "-m", "one")
    _write(tmp_path / "spec", **{"common.yaml": COMMON.replace("id: {type: string}", "id: {type: integer}")})
    _git(tmp_path, "commit", "-q", "-am", "two")
    return tmp_path


def test_git_revisions_are_read_with_their_external_refs(repo: Path) -> None:
    old = load_description("HEAD~1:spec/api.yaml", cwd=repo)
    new = load_description("HEAD:spec/api.yaml", cwd=repo)
    assert old.label == "HEAD~1:spec/api.yaml"
    assert old.file == "spec/api.yaml"
    assert [(c.id, c.json_path) for c in diff(old, new)] == [("response-property-type-changed", "id")]


def test_a_git_revision_against_the_working_tree(repo: Path) -> None:
    changes = diff(load_description("HEAD~1:spec/api.yaml", cwd=repo), load_description("spec/api.yaml", cwd=repo))
    assert len(changes) == 1


@pytest.mark.parametrize("spec", ["nope~3:spec/api.yaml", "HEAD:spec/missing.yaml"])
def test_a_bad_git_revision_is_a_usage_error_naming_it(repo: Path, spec: str) -> None:
    rev, path = spec.split(":")
    with pytest.raises(UsageError) as info:
        load_description(spec, cwd=repo)
    assert repr(rev) in str(info.value)
    assert path in str(info.value)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    _write(tmp_path, **{"api.yaml": MINIMAL, "common.yaml": COMMON})

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

    handler = functools.partial(Quiet, directory=str(tmp_path))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


def test_a_url_loads_with_relative_refs(server: str, tmp_path: Path) -> None:
    remote = load_description(f"{server}/api.yaml")
    assert remote.file is None
    assert diff(load_description(tmp_path / "api.yaml"), remote) == []


def test_url_errors_are_usage_errors(server: str) -> None:
    with pytest.raises(UsageError, match="HTTP 404"):
        load_description(f"{server}/missing.yaml")
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(UsageError, match=rf"cannot fetch http://127.0.0.1:{port}/api.yaml: ConnectError"):
        load_description(f"http://127.0.0.1:{port}/api.yaml")


def test_a_yaml_flow_mapping_is_not_mistaken_for_json(tmp_path: Path) -> None:
    (tmp_path / "flow.yaml").write_text("{openapi: 3.1.0, info: {title: t, version: '1'}, paths: {}}\n")
    assert load_description(tmp_path / "flow.yaml").document["paths"] == {}


def test_external_names_with_slash_and_tilde_are_bundled_escaped(tmp_path: Path) -> None:
    """RFC 6901: `~1` is `/` and `~0` is `~`; the bundled copy is named and referenced with both."""
    _write(
        tmp_path,
        **{
            "api.yaml": MINIMAL.replace("common.yaml#/Thing", "common.yaml#/things~1v~01"),
            "common.yaml": "things/v~1: {type: object, properties: {id: {type: string}}}\n",
        },
    )
    description = load_description(tmp_path / "api.yaml")
    schema = description.document["paths"]["/things"]["get"]["responses"]["200"]["content"]["application/json"]
    assert schema["schema"] == {"$ref": "#/x-harness-external/0/things~1v~01"}
    assert description.document["x-harness-external"] == {
        "0": {"things/v~1": {"type": "object", "properties": {"id": {"type": "string"}}}}
    }
    assert diff(description, description) == []
