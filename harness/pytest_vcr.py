"""The plugin's recording side: registered only when pytest-recording is active.

Kept apart from `pytest_plugin` so that `-p no:recording` leaves nothing that names
pytest-recording's hooks or fixtures. Wiring only: which test gets the safe rewrite, the
harness's rules on each VCR (`recording.configure`), key lookups on each cassette
(`recording.lookup`), and after each test the VLM Run interactions' conformance and misses.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Generator
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

import pytest

from harness.errors import ConformanceFailure, ConformanceWarning
from harness.recording.scope import Scope

if TYPE_CHECKING:
    from harness.recording.load_cache import LoadCache

_GUARD = pytest.StashKey[Any]()
_PASSED = pytest.StashKey[bool]()
REWRITE_MODE = "new_episodes"  # what pytest-recording turns `rewrite` into, minus its delete
# Carried on each test's report (user_properties), so the summary survives pytest-xdist.
DRIFT_PROPERTY = "vlmrun_harness_drift"
KEPT_PROPERTY = "vlmrun_harness_kept"
LOAD_CACHE_FOLDER = "vlmrun-harness"  # under pytest's cache folder: .pytest_cache/d/vlmrun-harness
AGENTSKILL_HINT = (
    "hint: openai-python before 2.17 (what `pip install vlmrun` gives) cannot serialize AgentSkill objects; "
    "send dicts instead: skills=harness.skill_dicts.to_wire_dicts(skills), which works on every client stack"
)


def _test_id(item: pytest.Item) -> str:
    return f"pytest {item.nodeid}"


def _to_the_test(tb: TracebackType | None, item: pytest.Item) -> TracebackType | None:
    """The traceback cut after the test's own last frame: the line a person fixes, not vcrpy's."""
    path = str(getattr(item, "path", ""))
    last = None
    node = tb
    while node is not None:
        if node.tb_frame.f_code.co_filename == path:
            last = node
        node = node.tb_next
    if last is not None:
        last.tb_next = None
    return tb


def _hint_agentskill(exc: BaseException) -> None:
    """openai < 2.17's `TypeError` for AgentSkill objects: the harness knows the cause and the fix."""
    serialization = isinstance(exc, TypeError) and "AgentSkill is not JSON serializable" in str(exc)
    if serialization and AGENTSKILL_HINT not in getattr(exc, "__notes__", []):
        exc.add_note(AGENTSKILL_HINT)


def _is_vlmrun_test(item: pytest.Item, cassette: Path | None) -> bool:
    """Our fixtures or marker, or a cassette the harness wrote (it holds VLM Run recordings)."""
    if "vlmrun_base_url" in getattr(item, "fixturenames", ()) or item.get_closest_marker("vlmrun"):
        return True
    if cassette is None:
        return False
    from harness.recording.cassette_io import is_harness_document

    try:
        return is_harness_document(cassette.read_bytes())
    except OSError:
        return False


class RecordingGlue:
    """Hooks on pytest-recording's `vcr` fixture and hook; one instance per pytest process."""

    def __init__(self, config: pytest.Config, scope: Scope) -> None:
        self.config = config
        self.scope = scope
        self.current: pytest.Item | None = None
        self.notes: dict[str, list[str]] = {DRIFT_PROPERTY: [], KEPT_PROPERTY: []}
        self._cache: LoadCache | None = None

    @pytest.hookimpl(wrapper=True)
    def pytest_fixture_setup(self, fixturedef: Any, request: pytest.FixtureRequest) -> Generator[None, Any, Any]:
        if fixturedef.argname == "vcr":
            self.current = request.node if isinstance(request.node, pytest.Item) else None
            self._guard_rewrite(request)
        try:
            return (yield)
        finally:
            if fixturedef.argname == "vcr":
                self.current = None

    def _guard_rewrite(self, request: pytest.FixtureRequest) -> None:
        """Under `rewrite`, a VLM Run test records with nothing deleted; the guard replaces later."""
        item = self.current
        if item is None or request.config.getoption("--disable-recording", False):
            return
        from pytest_recording.utils import merge_kwargs

        markers = request.getfixturevalue("vcr_markers")
        if not markers:
            return
        merged = merge_kwargs(request.getfixturevalue("vcr_config"), markers)
        mode = merged.get("record_mode", request.config.getoption("--record-mode") or "none")
        if mode != "rewrite":
            return
        suffix = "." + str(merged.get("serializer", "yaml"))
        name = str(request.getfixturevalue("default_cassette_name"))
        path = Path(os.path.join(request.getfixturevalue("vcr_cassette_dir"), name + suffix))
        if not _is_vlmrun_test(item, path):
            return
        from harness.recording.rewrite import RewriteGuard

        markers.insert(0, pytest.mark.vcr(record_mode=REWRITE_MODE).mark)  # first in, applied last: it wins
        item.stash[_GUARD] = RewriteGuard(path, passed=lambda: item.stash.get(_PASSED, False))

    @pytest.hookimpl(tryfirst=True)  # a conftest's own hook runs after ours and wins
    def pytest_recording_configure(self, config: pytest.Config, vcr: Any) -> None:
        from harness.recording.configure import configure_vcr

        item = self.current
        guard = item.stash.get(_GUARD, None) if item is not None else None
        vlmrun_test = item is not None and _is_vlmrun_test(item, None)
        configure_vcr(vcr, self.scope, guard, vlmrun_test=vlmrun_test, cache=self._load_cache())

    def _load_cache(self) -> LoadCache | None:
        """VLM Run cassettes' loads kept in pytest's cache folder (none without pytest's cacheprovider)."""
        cache = getattr(self.config, "cache", None)
        if cache is None:
            return None
        if self._cache is None:
            from harness.recording.load_cache import LoadCache

            self._cache = LoadCache(lambda: Path(cache.mkdir(LOAD_CACHE_FOLDER)))
        return self._cache

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_call(self, item: pytest.Item) -> Generator[None, None, None]:
        cassette = getattr(item, "funcargs", {}).get("vcr")
        if cassette is not None:
            from harness.recording.lookup import install

            install(cassette, self.scope)
        try:
            result = yield
        except BaseException as exc:
            from harness.recording.miss import find_vcr_miss, miss_from_vcr

            miss = find_vcr_miss(exc)
            if miss is not None and self.scope.owns(miss.failed_request):
                failure = miss_from_vcr(miss, self.scope, test=_test_id(item))
                raise failure.with_traceback(_to_the_test(exc.__traceback__, item)) from None
            _hint_agentskill(exc)
            raise
        mode = item.config.getoption("--vlmrun-conformance")
        if cassette is not None and mode != "off":
            self._check_conformance(item, cassette, mode)
        return result

    def _check_conformance(self, item: pytest.Item, cassette: Any, mode: str) -> None:
        from harness.recording.replay_check import check_played

        outcome = check_played(cassette, self.scope, self._load_cache())
        if outcome.drift:
            item.user_properties.append((DRIFT_PROPERTY, outcome.drift))  # reaches the controller under xdist
        if outcome.failure is None:
            return
        if mode == "warn":
            warnings.warn(ConformanceWarning(str(outcome.failure)), stacklevel=1)
            return
        raise outcome.failure

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, Any]:
        report = yield
        if report.when == "call":
            item.stash[_PASSED] = report.passed
            if call.excinfo is not None and call.excinfo.errisinstance(ConformanceFailure):
                # About the cassette, not a line of code: the message alone, not the plugin's frames.
                report.longrepr = f"harness.errors.ConformanceFailure: {call.excinfo.value}"
        return report

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_teardown(self, item: pytest.Item) -> Generator[None, None, None]:
        try:
            return (yield)
        finally:
            guard = item.stash.get(_GUARD, None)
            if guard is not None:
                note = guard.finish()
                if note:
                    item.user_properties.append((KEPT_PROPERTY, note))

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """Collect each test's notes from its last report: here, or from the workers under xdist."""
        if report.when == "teardown":
            for name, value in report.user_properties:
                if name in self.notes:
                    self.notes[name].append(str(value))

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        drift = sorted(set(self.notes[DRIFT_PROPERTY]))
        if drift:
            terminalreporter.section("vlmrun cassettes recorded against another API description")
            for line in drift:
                terminalreporter.write_line(line)
            terminalreporter.write_line("Re-record them (--record-mode=rewrite) to refresh, once they pass.")
        kept = self.notes[KEPT_PROPERTY]
        if kept:
            terminalreporter.section("vlmrun cassettes kept under --record-mode=rewrite")
            for line in kept:
                terminalreporter.write_line(line)
