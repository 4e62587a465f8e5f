"""Where an export writes, and who may: the lock, the temporary file, the final rename.

Beside the output ``out.jsonl`` an export keeps, while it runs or until it is resumed:

* ``out.jsonl.lock``: an OS lock (``flock``) held for the whole run. A second run on the
  same output is refused (:class:`OutputBusyError`) instead of writing into the same
  file. The kernel drops the lock when its process ends, however it ends (``kill -9``
  included), so a dead run never blocks the next one;
* ``out.jsonl.part``: the records written so far. ``out.jsonl`` itself is only ever
  replaced whole, by renaming the complete ``.part`` onto it, so a run that stops midway
  leaves the previous complete file as it was; ``--resume`` continues the ``.part``;
* ``out.jsonl.checkpoint``: see :mod:`._checkpoint`.
"""

from __future__ import annotations

import contextlib
import errno
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Final

from .._exceptions import WeComError

__all__ = [
    "LOCK_SUFFIX",
    "PART_SUFFIX",
    "OutputBusyError",
    "OutputError",
    "OutputExistsError",
    "OutputWriteError",
    "fsync_directory",
    "lock_path",
    "output_lock",
    "part_path",
    "publish",
    "write_failure",
]

LOCK_SUFFIX: Final = ".lock"
PART_SUFFIX: Final = ".part"

_BUSY_ERRNOS: Final = frozenset({errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK})


class OutputError(WeComError):
    """Raised when the output cannot be written as asked (nothing was written)."""


class OutputBusyError(OutputError):
    """Raised when another export is writing the same output right now."""


class OutputExistsError(OutputError):
    """Raised when the output exists and replacing it was not allowed (``--force``)."""


class OutputWriteError(WeComError, OSError):
    """Raised when a file of the export (the output, its checkpoint, its manifest) cannot
    be written: a full disk, a lost mount, no permission.

    An ``OSError`` too, with the failure's ``errno``, ``strerror`` and ``filename``. What
    was written stays whole (records, and a checkpoint that describes them), so the
    export can be resumed once the cause is gone.
    """


def write_failure(error: OSError) -> OutputWriteError:
    """``error`` as an :class:`OutputWriteError` (itself when it is one already)."""
    if isinstance(error, OutputWriteError):
        return error
    if error.errno is None:
        return OutputWriteError(*error.args)
    return OutputWriteError(error.errno, error.strerror, error.filename)


def part_path(output: Path) -> Path:
    """Return the temporary file an export of ``output`` writes until it is complete."""
    return output.with_name(output.name + PART_SUFFIX)


def lock_path(output: Path) -> Path:
    """Return the lock file of ``output``."""
    return output.with_name(output.name + LOCK_SUFFIX)


@contextlib.contextmanager
def output_lock(output: Path) -> Iterator[None]:
    """Hold the lock of ``output`` for the block; see the module docstring.

    The lock file is removed on the way out, while still locked; a run that opened it
    just before then finds it unlinked after locking, and locks the new one instead.

    Raises:
        OutputBusyError: another process holds the lock.
    """
    path = lock_path(output)
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            _try_lock(fd)
        except OSError as error:
            holder = _read_holder(fd)
            os.close(fd)
            if error.errno in _BUSY_ERRNOS:
                raise OutputBusyError(
                    f"another export{holder} is writing {output} (lock {path}): wait for it "
                    "to end, or choose another output"
                ) from None
            raise
        if _same_file(fd, path):
            break
        os.close(fd)
    try:
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        yield
    finally:
        with contextlib.suppress(OSError):
            os.unlink(path)
        os.close(fd)


def _try_lock(fd: int) -> None:
    if sys.platform == "win32":  # pragma: no cover - no flock there
        import msvcrt

        msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
    else:
        import fcntl

        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)


def _read_holder(fd: int) -> str:
    try:
        os.lseek(fd, 0, os.SEEK_SET)
        pid = os.read(fd, 32).decode("ascii", "replace").strip()
    except OSError:  # pragma: no cover - an unreadable lock file
        return ""
    return f" (pid {pid})" if pid.isdigit() else ""


def _same_file(fd: int, path: Path) -> bool:
    try:
        return os.path.samestat(os.fstat(fd), os.stat(path))
    except FileNotFoundError:
        return False


def publish(part: Path, output: Path) -> None:
    """Rename the complete ``part`` onto ``output`` (atomic) and make the rename durable."""
    os.replace(part, output)
    fsync_directory(output.parent)


def fsync_directory(directory: Path) -> None:
    """Flush a directory's entries (a rename) to the disk, where the platform allows."""
    if os.name != "posix":  # pragma: no cover - Windows cannot open a directory
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
