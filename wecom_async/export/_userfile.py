"""Files a person names on the command line (a corps file, a secret file, a pairs
file), read only if they are regular files of a bounded size.

A device (``/dev/zero`` would be read until memory runs out), a FIFO (would block for
ever), a directory or a larger file is refused before anything is read.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

__all__ = ["read_regular"]


def read_regular(path: Path, limit: int) -> bytes:
    """The bytes of the regular file ``path`` of at most ``limit`` bytes.

    Raises:
        OSError: it cannot be opened, is not a regular file (``EINVAL``), or is larger
            than ``limit`` (``EFBIG``).
    """
    # O_NONBLOCK: opening a FIFO with no writer returns at once instead of blocking.
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(errno.EINVAL, "not a regular file", str(path))
        data = os.read(fd, limit + 1)  # bounded even if it grows meanwhile
        while len(data) <= limit and (more := os.read(fd, limit + 1 - len(data))):
            data += more
    finally:
        os.close(fd)
    if len(data) > limit:
        raise OSError(errno.EFBIG, f"larger than {limit // 1024} KiB", str(path))
    return data
