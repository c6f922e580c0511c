"""Files written whole or not at all.

Cassettes, blobs, snapshots' reports and every CLI report go through `atomic_writer`: a
crash, an exception or a SIGKILL leaves the old file (or none), never half a new one.
"""

from __future__ import annotations

import os
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import IO

_umask_lock = threading.Lock()
_umask: int | None = None


def _default_mode() -> int:
    """0o666 less the umask, as `open()` would create it (NamedTemporaryFile uses 0o600)."""
    global _umask
    with _umask_lock:
        if _umask is None:
            _umask = os.umask(0o022)
            os.umask(_umask)
    return 0o666 & ~_umask


def _fsync_dir(directory: Path) -> None:
    """Make the rename itself durable; best effort (not every platform can open a directory)."""
    with suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


@contextmanager
def atomic_writer(path: Path, *, durable: bool = True) -> Iterator[IO[bytes]]:
    """Yield a temp file beside `path`; on success fsync it and rename it over `path`, else delete it.

    `durable=False` skips the fsyncs, for files a crash may lose but never tear (a cache)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        mode = path.stat().st_mode & 0o777
    except FileNotFoundError:
        mode = _default_mode()
    tmp_name: str | None = None
    try:
        with tempfile.NamedTemporaryFile(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp", delete=False) as tmp:
            tmp_name = tmp.name
            yield tmp
            if durable:
                tmp.flush()
                os.fsync(tmp.fileno())
        os.chmod(tmp_name, mode)
        os.replace(tmp_name, path)
    except BaseException:
        if tmp_name is not None:
            with suppress(OSError):
                os.unlink(tmp_name)
        raise
    if durable:
        _fsync_dir(path.parent)


def write_atomic(path: Path, data: str | bytes, *, durable: bool = True) -> None:
    """The whole of `data` at `path` (text as UTF-8), atomically."""
    with atomic_writer(path, durable=durable) as stream:
        stream.write(data.encode() if isinstance(data, str) else data)


def path_below(path: str | os.PathLike[str], root: str | os.PathLike[str]) -> str:
    """`path` relative to `root` when it lies below it, else as given: messages, reports and
    annotations stay short and do not depend on where the project was checked out."""
    try:
        return str(Path(path).resolve().relative_to(Path(root).resolve()))
    except (OSError, ValueError):
        return os.fspath(path)


def display_path(path: str | os.PathLike[str]) -> str:
    """A path as a person reads it in a message: relative to the working directory when below it."""
    return path_below(path, Path.cwd())
