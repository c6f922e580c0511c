"""The safe rewrite: `--record-mode=rewrite` that never loses a VLM Run recording.

pytest-recording's `rewrite` deletes the cassette before the test runs, so a failing call,
a Ctrl-C or a kill leaves nothing, or a cassette with half the calls. For VLM Run tests the
plugin asks for `new_episodes` instead (nothing deleted), the persister loads nothing of the
old cassette, and a guard lets the new one replace it only once the test has passed. A test
that passes and records nothing gets its cassette deleted afterwards, as pytest-recording
would have done up front; a test that fails keeps the old one, and the run says so.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path


@dataclass
class RewriteGuard:
    """One test's rewrite: where its cassette is, and whether it may be replaced yet."""

    path: Path
    passed: Callable[[], bool]
    saved: bool = False
    kept: bool = False

    def may_replace(self) -> bool:
        return self.passed()

    def finish(self) -> str | None:
        """After the test: delete what a passing test no longer records; say what was kept."""
        if self.saved:
            return None
        if self.passed():
            self.path.unlink(missing_ok=True)
            return None
        if self.kept or self.path.exists():
            return f"{self.path}: kept the previous recording, the test did not pass under --record-mode=rewrite"
        return None
