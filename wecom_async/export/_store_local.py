"""A :class:`~._location.Location` on this machine: written the way every export writes
(a temporary file fsynced and renamed into place, ``O_EXCL``, ``os.link``)."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from ._checkpoint import write_atomic
from ._location import BinaryReader, LocalSpool, Location, Spool
from ._output import fsync_directory

__all__ = ["LocalLocation"]


class LocalLocation(Location):
    """A path on this machine (fsync, ``O_EXCL``, rename, link: what exports do locally).

    Args:
        path: the file or folder.
    """

    def __init__(self, path: Path) -> None:
        self.path = path

    def __repr__(self) -> str:
        return f"LocalLocation({str(self.path)!r})"

    def __str__(self) -> str:
        return str(self.path)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, LocalLocation) and other.path == self.path

    def __hash__(self) -> int:
        return hash(self.path)

    @property
    def name(self) -> str:
        """The last component."""
        return self.path.name

    @property
    def native(self) -> Path:
        """The path."""
        return self.path

    def __truediv__(self, name: str) -> LocalLocation:
        """The entry ``name`` of this folder."""
        return LocalLocation(self.path / name)

    def with_name(self, name: str) -> LocalLocation:
        """The entry ``name`` beside this one."""
        return LocalLocation(self.path.with_name(name))

    def shared(self) -> str:
        """The absolute path."""
        return str(self.path.resolve())

    def make_folder(self) -> None:
        """Make this folder (and its parents) if missing."""
        self.path.mkdir(parents=True, exist_ok=True)

    def read_bytes(self) -> bytes:
        """The whole file."""
        return self.path.read_bytes()

    def write_bytes(self, data: bytes) -> None:
        """Replace the file atomically (temporary file, fsync, rename)."""
        write_atomic(self.path, data)

    def create_bytes(self, data: bytes) -> None:
        """Write ``data`` where no file is: written aside, then hard-linked into place
        (``link`` fails where a file is, so the file appears whole and only once).

        Raises:
            FileExistsError: there is one.
        """
        tmp = self.path.with_name(f"{self.name}.{os.getpid()}.{os.urandom(4).hex()}.tmp")
        write_atomic(tmp, data)
        try:
            os.link(tmp, self.path)
        finally:
            tmp.unlink()
        fsync_directory(self.path.parent)

    def is_file(self) -> bool:
        """A file is there."""
        return self.path.is_file()

    def unlink(self) -> None:
        """Remove the file, if there."""
        self.path.unlink(missing_ok=True)

    def open_read(self) -> contextlib.AbstractContextManager[BinaryReader]:
        """Open the file for reading."""
        return open(self.path, "rb")

    def spool(self, *, exclusive: bool) -> Spool:
        """``<name>.part`` beside the file (exclusive: a second writer fails here rather
        than interleave)."""
        tmp = self.path.with_name(self.name + ".part")
        flags = os.O_WRONLY | os.O_CREAT | (os.O_EXCL if exclusive else os.O_TRUNC)
        return LocalSpool(os.open(tmp, flags, 0o644), tmp)

    def publish(self, spool: Spool) -> None:
        """Rename the spool onto the file, durably."""
        os.replace(spool.path, self.path)
        fsync_directory(self.path.parent)

    def drop_spool(self, spool: Spool) -> None:
        """Remove the spool, if there."""
        spool.path.unlink(missing_ok=True)
