"""pytest plugin: wiring only (options -> fixtures -> harness modules).

Built beside pytest-recording: its `@pytest.mark.vcr`, `--record-mode` (default `none`),
`--block-network` and `vcr_config` are reused, never registered again. Ours are the
`--vlmrun-*` options, the `vlmrun` marker and the client fixtures. The recording side
(`pytest_vcr.RecordingGlue`) is registered only when pytest-recording is active, so
`-p no:recording` leaves nothing behind; snapshots need syrupy only when used. Heavy
imports stay inside functions: loading the plugin costs an unrelated test run nothing.

The project's own contract: its description, overlays and skills, each from the option, else
the ini file, else `[tool.vlmrun-harness]` (`harness.project_config`), else the default. The
description becomes the one in use once per process (so once per xdist worker); a mistake in
any of them is one line and exit 4, before a test runs.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from harness.errors import ConformanceWarning, HarnessError, UsageError
from harness.secrets import Secret, remember_secret
from harness.settings import API_PREFIX, resolve_api_key

__all__ = ["ConformanceWarning"]

CONFORMANCE_MODES = ("fail", "warn", "off")

SCOPE_KEY = pytest.StashKey[Any]()
REGISTRY_KEY = pytest.StashKey[Any]()
LONG_REQUESTS_KEY = pytest.StashKey["int | None"]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("vlmrun", "VLM Run contract harness")
    group.addoption(
        "--vlmrun-base-url",
        default=None,
        help="API base URL for the vlmrun fixtures, e.g. https://api.vlm.run/v1 "
        "(default: $VLMRUN_BASE_URL, else an embedded reference server on a free loopback port).",
    )
    group.addoption(
        "--vlmrun-api-key",
        default=None,
        help="API key for the vlmrun fixtures (default: $VLMRUN_API_KEY; a local key for the embedded server).",
    )
    group.addoption(
        "--vlmrun-conformance",
        choices=CONFORMANCE_MODES,
        default="fail",
        help="Validate every recorded VLM Run interaction against the API description: fail (default), warn or off.",
    )
    group.addoption(
        "--vlmrun-host",
        action="append",
        default=[],
        metavar="HOST",
        help="Another host whose traffic is VLM Run's (e.g. a proxy); repeatable. Also ini vlmrun_hosts.",
    )
    parser.addini(
        "vlmrun_hosts", "Hosts whose traffic is VLM Run's, besides api.vlm.run and agent.vlm.run.", "linelist"
    )
    table = "[tool.vlmrun-harness] in pyproject.toml"
    group.addoption(
        "--vlmrun-description",
        default=None,
        metavar="FILE",
        help="The API description everything judges by: conformance, matching, the embedded server "
        f"(default: ini vlmrun_description, then `description` in {table}, then the packaged one).",
    )
    group.addoption(
        "--vlmrun-overlay",
        action="append",
        default=[],
        metavar="FILE",
        help="An OpenAPI Overlay 1.0 file of corrections applied to the description, in order; repeatable "
        f"(default: ini vlmrun_overlays, then `overlays` in {table}).",
    )
    group.addoption(
        "--vlmrun-skills",
        action="append",
        default=[],
        metavar="DIR",
        help="A folder of your skills the embedded server serves beside the seeded ones; repeatable "
        f"(default: ini vlmrun_skills, then `skills` in {table}).",
    )
    group.addoption(
        "--vlmrun-long-requests",
        type=_polls_option,
        default=None,
        metavar="POLLS",
        help="The embedded server answers every non-streaming chat completion `303 See Other`; its Location "
        "answers 202 POLLS times, then the completion (default: ini vlmrun_long_requests, else answered at once).",
    )
    parser.addini(
        "vlmrun_long_requests", "POLLS: the embedded server's long requests (--vlmrun-long-requests).", "string"
    )
    parser.addini("vlmrun_description", "The API description everything judges by (a file).", "string")
    parser.addini("vlmrun_overlays", "OpenAPI Overlay 1.0 files applied to the description, in order.", "linelist")
    parser.addini("vlmrun_skills", "Folders of skills the embedded server serves beside the seeded ones.", "linelist")


def pytest_configure(config: pytest.Config) -> None:
    from harness.clients import external_base_url
    from harness.recording.scope import Scope

    config.addinivalue_line("markers", "vlmrun: the test calls VLM Run (its cassette gets the harness's rules).")
    try:
        project = _configure_project(config)
        config.stash[LONG_REQUESTS_KEY] = _long_requests(config)
    except HarnessError as exc:
        # One line, exit 4, before any test runs (a YAML error's own message spans several).
        raise pytest.UsageError(" ".join(line.strip() for line in str(exc).splitlines() if line.strip())) from None
    config.stash[REGISTRY_KEY] = project.registry
    hosts = [*config.getini("vlmrun_hosts"), *project.hosts, *config.getoption("--vlmrun-host")]
    scope = Scope.build(hosts, [external_base_url(config.getoption("--vlmrun-base-url"))])
    config.stash[SCOPE_KEY] = scope
    # The key the fixtures send is redacted wherever it shows up (a prompt, an echo), not only in headers.
    if key := resolve_api_key(config.getoption("--vlmrun-api-key")):
        remember_secret(key.value)
    if config.pluginmanager.has_plugin("recording"):
        from harness.pytest_vcr import RecordingGlue

        glue = RecordingGlue(config, scope)
        config.pluginmanager.register(glue, "vlmrun_harness_recording")


# -- the project's own contract ---------------------------------------------------------


@dataclass(frozen=True)
class _Project:
    hosts: tuple[str, ...]
    registry: Any  # harness.reference.registry.Registry, or None: the seeded skills only


@dataclass(frozen=True)
class _Setting:
    """One path setting as the user wrote it, where it came from, and where it points."""

    origin: str
    given: str
    path: Path

    def existing(self, *, folder: bool = False) -> Path:
        from harness.project_config import no_such_path

        if not (self.path.is_dir() if folder else self.path.is_file()):
            raise no_such_path(self.origin, self.given, self.path, folder=folder)
        return self.path


def _configure_project(config: pytest.Config) -> _Project:
    """Resolve the three settings, make the description the one in use, load the team's skills."""
    from harness.project_config import load_project_config

    table = load_project_config(config.rootpath)
    ini_root = config.inipath.parent if config.inipath else config.rootpath
    ini_description = config.getini("vlmrun_description")
    description = _first(
        _options(config, "--vlmrun-description", [config.getoption("--vlmrun-description") or ""]),
        _ini(config, "vlmrun_description", [ini_description] if ini_description else [], ini_root),
        _table(table.origin("description"), [table.description] if table.description else []),
    )
    overlays = _first(
        _options(config, "--vlmrun-overlay", config.getoption("--vlmrun-overlay")),
        _ini(config, "vlmrun_overlays", config.getini("vlmrun_overlays"), ini_root),
        _table(table.origin("overlays"), table.overlays),
    )
    skills = _first(
        _options(config, "--vlmrun-skills", config.getoption("--vlmrun-skills")),
        _ini(config, "vlmrun_skills", config.getini("vlmrun_skills"), ini_root),
        _table(table.origin("skills"), table.skills),
    )
    _use_description(config, description[0].existing() if description else None, tuple(o.existing() for o in overlays))
    registry = None
    if skills:
        from harness.reference.registry import Registry

        registry = Registry.seeded(*(s.existing(folder=True) for s in skills))
    return _Project(hosts=table.hosts, registry=registry)


def _options(config: pytest.Config, name: str, values: Sequence[str]) -> list[_Setting]:
    return [_Setting(name, v, config.rootpath / v) for v in values if v]


def _ini(config: pytest.Config, name: str, values: Sequence[str], root: Path) -> list[_Setting]:
    return [_Setting(f"{config.inipath or '-o'} {name}", v, root / v) for v in values if v]


def _table(origin: str, paths: Sequence[Path]) -> list[_Setting]:
    return [_Setting(origin, str(p), p) for p in paths]


def _first(*candidates: list[_Setting]) -> list[_Setting]:
    """The first source that sets anything: a setting comes whole from one place, never merged."""
    return next((c for c in candidates if c), [])


def _use_description(config: pytest.Config, path: Path | None, overlays: tuple[Path, ...]) -> None:
    if path is None and not overlays and "harness.contract" not in sys.modules:
        return  # the packaged description is the default in use: nothing to load before it is needed
    import harness.contract

    previous = harness.contract.description_in_use()  # restored at the end: pytester runs in-process
    harness.contract.use_description(harness.contract.DescriptionChoice(path, overlays))

    def restore() -> None:
        harness.contract.use_description(previous)

    config.add_cleanup(restore)


def _polls_option(text: str) -> int:
    """POLLS: how many `202`s a long request answers before its result."""
    if text.isascii() and text.isdigit():
        return int(text)
    raise argparse.ArgumentTypeError(f"{text} is not a number of polls: use 0 or more")


def _long_requests(config: pytest.Config) -> int | None:
    """`--vlmrun-long-requests`, else ini `vlmrun_long_requests`; None: completions answered at once."""
    given: int | None = config.getoption("--vlmrun-long-requests")
    if given is not None:
        return given
    raw = str(config.getini("vlmrun_long_requests")).strip()
    if not raw:
        return None
    try:
        return _polls_option(raw)
    except argparse.ArgumentTypeError as exc:
        raise UsageError(f"{config.inipath or '-o'} vlmrun_long_requests: {exc}") from None


# -- fixtures --------------------------------------------------------------------------


@pytest.fixture(scope="session")
def vlmrun_base_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """The API base URL (with `/v1`): a live server if configured, else the embedded one.

    The embedded server judges by the description in use and serves the project's skills.
    """
    from harness.clients import external_base_url

    external = external_base_url(request.config.getoption("--vlmrun-base-url"))
    if external:
        yield external
        return
    from harness.reference.app import ServerConfig, create_app
    from harness.reference.server import serve_in_thread

    server = ServerConfig(api_key=_api_key(request.config), long_requests=request.config.stash[LONG_REQUESTS_KEY])
    with serve_in_thread(create_app(config=server, registry=request.config.stash[REGISTRY_KEY])) as running:
        scope = request.config.stash[SCOPE_KEY]
        scope.add_base_url(running.url)
        scope.embedded = running.url
        yield f"{running.url}{API_PREFIX}"


@pytest.fixture(scope="session")
def vlmrun_api_key(request: pytest.FixtureRequest) -> str:
    """The key the fixtures send; it prints as `<redacted>` in tracebacks and reports."""
    return Secret(_api_key(request.config))


def _api_key(config: pytest.Config) -> str:
    from harness.clients import api_key

    return api_key(config.getoption("--vlmrun-api-key"), config.getoption("--vlmrun-base-url"))


@pytest.fixture
def vlmrun_client(vlmrun_base_url: str, vlmrun_api_key: str) -> Any:
    """A `vlmrun.client.VLMRun`, built inside the test's cassette (its constructor calls /health)."""
    from harness.clients import make_vlmrun_client

    return make_vlmrun_client(vlmrun_base_url, vlmrun_api_key)


@pytest.fixture
def openai_client(vlmrun_base_url: str, vlmrun_api_key: str) -> Iterator[Any]:
    from harness.clients import make_openai_client

    client = make_openai_client(vlmrun_base_url, vlmrun_api_key, asynchronous=False)
    yield client
    client.close()


@pytest.fixture
def async_openai_client(vlmrun_base_url: str, vlmrun_api_key: str) -> Any:
    """Per test, so it never outlives its event loop (a cached one fails: "Event loop is closed")."""
    from harness.clients import make_openai_client

    return make_openai_client(vlmrun_base_url, vlmrun_api_key, asynchronous=True)


@pytest.fixture
def vlmrun_snapshot(request: pytest.FixtureRequest) -> Any:
    """syrupy's `snapshot`, storing requests in their reviewable form (README: snapshots)."""
    if not request.config.pluginmanager.has_plugin("syrupy"):
        from harness.extras import install_command

        why = "vlmrun_snapshot needs syrupy, which is not installed or was disabled with -p no:syrupy"
        pytest.fail(str(UsageError(f"{why}: {install_command('snapshots')}")), pytrace=False)  # one line
    from harness.snapshots import RequestSnapshotExtension

    return request.getfixturevalue("snapshot").with_defaults(extension_class=RequestSnapshotExtension)
