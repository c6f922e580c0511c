"""pytest plugin: wiring only (options -> fixtures -> harness modules).

Built on pytest-recording: its `@pytest.mark.vcr`, `--record-mode` (default `none`),
`--block-network` and `vcr_config` are reused, never registered again; ours are the
`--vlmrun-*` options, the client fixtures, and what `pytest_recording_configure` sets on
each VCR (semantic matching, scrubbing, the cassette format). Heavy imports stay inside
functions so loading the plugin costs nothing for tests that do not use it.
"""

from __future__ import annotations

import warnings
from collections.abc import Generator, Iterator
from typing import Any

import pytest

from harness.errors import ConformanceFailure

CONFORMANCE_MODES = ("fail", "warn", "off")
_DRIFT_KEY = pytest.StashKey[list[str]]()
_REWRITE_KEY = pytest.StashKey[bool]()


class ConformanceWarning(UserWarning):
    """A recorded interaction no longer matches the description (`--vlmrun-conformance=warn`)."""


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
        help="Validate every recorded interaction against the API description: fail (default), warn or off.",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.stash[_DRIFT_KEY] = []
    # pytest-recording's `rewrite` deletes each cassette before its test runs, so a kill, a
    # Ctrl-C or a failing call loses the old recording. It is asked for `all` instead (which
    # deletes nothing) and `configure_vcr` re-records from scratch: the old cassette is only
    # ever replaced, atomically, by a complete new one. Each xdist worker parses the same flag.
    if getattr(config.option, "record_mode", None) == "rewrite":
        config.option.record_mode = "all"
        config.stash[_REWRITE_KEY] = True


def pytest_recording_configure(config: pytest.Config, vcr: Any) -> None:
    from harness.recording.configure import configure_vcr

    configure_vcr(vcr, rewrite=config.stash.get(_REWRITE_KEY, False))


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
        yield f"{running.url}/v1"


@pytest.fixture(scope="session")
def vlmrun_api_key(request: pytest.FixtureRequest) -> str:
    return _api_key(request.config)


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
    """Per test, so it never outlives its event loop (experiments.md §2: cached clients break)."""
    from harness.clients import make_openai_client

    return make_openai_client(vlmrun_base_url, vlmrun_api_key, asynchronous=True)


@pytest.fixture
def vlmrun_snapshot(snapshot: Any) -> Any:
    """syrupy's `snapshot`, storing requests in their reviewable form (README: snapshots)."""
    from harness.snapshots import RequestSnapshotExtension

    return snapshot.with_defaults(extension_class=RequestSnapshotExtension)


# -- misses and conformance -------------------------------------------------------------


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, None, None]:
    try:
        result = yield
    except BaseException as exc:
        from harness.recording.miss import find_vcr_miss, miss_from_vcr

        miss = find_vcr_miss(exc)
        if miss is not None:
            raise miss_from_vcr(miss) from None
        raise
    cassette = getattr(item, "funcargs", {}).get("vcr")
    mode = item.config.getoption("--vlmrun-conformance")
    if cassette is not None and mode != "off":
        _check_conformance(item, cassette, mode)
    return result


def _check_conformance(item: pytest.Item, cassette: Any, mode: str) -> None:
    from harness.recording.replay_check import check_played

    outcome = check_played(cassette)
    if outcome.drift:
        item.config.stash[_DRIFT_KEY].append(outcome.drift)
    if outcome.failure is None:
        return
    if mode == "warn":
        warnings.warn(ConformanceWarning(str(outcome.failure)), stacklevel=1)
        return
    raise ConformanceFailure(str(outcome.failure), location=outcome.failure.location)


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    recorded: list[str] = config.stash.get(_DRIFT_KEY, [])
    drift = sorted(set(recorded))
    if drift:
        terminalreporter.section("vlmrun cassettes recorded against another API description")
        for line in drift:
            terminalreporter.write_line(line)
        terminalreporter.write_line("Re-record them (--record-mode=rewrite) to refresh, once they pass.")
