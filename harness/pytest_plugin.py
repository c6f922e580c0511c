"""pytest plugin: wiring only (options -> fixtures -> harness modules).

Built beside pytest-recording: its `@pytest.mark.vcr`, `--record-mode` (default `none`),
`--block-network` and `vcr_config` are reused, never registered again. Ours are the
`--vlmrun-*` options, the `vlmrun` marker and the client fixtures. The recording side
(`pytest_vcr.RecordingGlue`) is registered only when pytest-recording is active, so
`-p no:recording` leaves nothing behind; snapshots need syrupy only when used. Heavy
imports stay inside functions: loading the plugin costs an unrelated test run nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from harness.errors import ConformanceWarning, UsageError
from harness.secrets import Secret, remember_secret
from harness.settings import API_PREFIX, resolve_api_key

__all__ = ["ConformanceWarning"]

CONFORMANCE_MODES = ("fail", "warn", "off")

SCOPE_KEY = pytest.StashKey[Any]()


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


def pytest_configure(config: pytest.Config) -> None:
    from harness.clients import external_base_url
    from harness.recording.scope import Scope

    config.addinivalue_line("markers", "vlmrun: the test calls VLM Run (its cassette gets the harness's rules).")
    hosts = [*config.getini("vlmrun_hosts"), *config.getoption("--vlmrun-host")]
    scope = Scope.build(hosts, [external_base_url(config.getoption("--vlmrun-base-url"))])
    config.stash[SCOPE_KEY] = scope
    # The key the fixtures send is redacted wherever it shows up (a prompt, an echo), not only in headers.
    if key := resolve_api_key(config.getoption("--vlmrun-api-key")):
        remember_secret(key.value)
    if config.pluginmanager.has_plugin("recording"):
        from harness.pytest_vcr import RecordingGlue

        glue = RecordingGlue(config, scope)
        config.pluginmanager.register(glue, "vlmrun_harness_recording")


# -- fixtures --------------------------------------------------------------------------


@pytest.fixture(scope="session")
def vlmrun_base_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """The API base URL (with `/v1`): a live server if configured, else the embedded one."""
    from harness.clients import external_base_url

    external = external_base_url(request.config.getoption("--vlmrun-base-url"))
    if external:
        yield external
        return
    from harness.reference.app import ServerConfig, create_app
    from harness.reference.server import serve_in_thread

    with serve_in_thread(create_app(config=ServerConfig(api_key=_api_key(request.config)))) as running:
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
