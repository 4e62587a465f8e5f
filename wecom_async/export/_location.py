"""The interface of a distributed export's storage (see :mod:`._store`): a
:class:`Location` is one file or folder, local or at a URL; :class:`StorageError` is
whatever a store's backend raised; the helpers both implementations share."""

from __future__ import annotations

import contextlib
import re
from abc import ABC, abstractmethod
from collections.abc import Iterator
from pathlib import Path
from typing import Final, Protocol

from .._logging import redact

__all__ = [
    "INSTALL_HINT",
    "BinaryReader",
    "LocalSpool",
    "Location",
    "Spool",
    "StorageError",
    "is_url",
    "location_arg",
]

#: How to get URL outputs.
INSTALL_HINT: Final = 'pip install "wecom-async[fsspec]"'
_URL: Final = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://")
_CHUNK: Final = 1 << 20


class StorageError(OSError):
    """A storage backend failed (whatever it raised: botocore's ``ClientError``, an
    ``OSError``, a ``ValueError``...): its message is redacted; the backend's exception is
    the ``__cause__``."""


@contextlib.contextmanager
def _backend(what: str, url: str) -> Iterator[None]:
    """Turn every failure of the store's call ``what`` on ``url`` into
    :class:`StorageError` (a missing object or an existing one keep their types).

    A store's call is synchronous (run in a worker thread): an ``asyncio.CancelledError``
    it raises is the backend's own (fsspec re-raises what a coroutine on its IO loop
    raised), never a cancellation of the caller, so it is a failure of the store like
    any other; only ``KeyboardInterrupt`` and ``SystemExit`` go through as they are.
    """
    try:
        yield
    except (FileNotFoundError, FileExistsError, StorageError, KeyboardInterrupt, SystemExit):
        raise
    except BaseException as error:
        raise StorageError(f"{what} {url} failed: {_reason(error)}") from error


def _reason(error: BaseException) -> str:
    """The backend's error in one redacted line (its type alone if it cannot be shown)."""
    try:
        text = f"{type(error).__name__}: {error}"
    except Exception:  # a __str__ that raises: the type still says something
        text = type(error).__name__
    lines = text.splitlines() or [type(error).__name__]
    return redact(lines[0])[:500]


def is_url(text: str) -> bool:
    """``text`` is a URL (``scheme://...``), not a local path."""
    return _URL.match(text) is not None


def location_arg(text: str) -> Path | str:
    """An argparse ``type``: a URL stays text (``Path`` would fold its ``//``), the rest
    is a :class:`~pathlib.Path`."""
    return text if is_url(text) else Path(text)


class Spool(Protocol):
    """A file being written before it is put in place (see :meth:`Location.spool`)."""

    fd: int
    path: Path


class Location(ABC):
    """One file or folder of an export; see the module docstring."""

    @property
    @abstractmethod
    def name(self) -> str:
        """The last component."""

    @property
    @abstractmethod
    def native(self) -> Path | str:
        """The :class:`~pathlib.Path`, or the URL."""

    @abstractmethod
    def __truediv__(self, name: str) -> Location:
        """The entry ``name`` of this folder."""

    @abstractmethod
    def with_name(self, name: str) -> Location:
        """The entry ``name`` beside this one."""

    @abstractmethod
    def shared(self) -> str:
        """How other machines find it (the ledger stores this): an absolute path or the URL."""

    @abstractmethod
    def make_folder(self) -> None:
        """Make this folder (and its parents) if missing."""

    @abstractmethod
    def read_bytes(self) -> bytes:
        """The whole file.

        Raises:
            FileNotFoundError: there is none.
            OSError: it cannot be read.
        """

    @abstractmethod
    def write_bytes(self, data: bytes) -> None:
        """Replace the file with ``data``, whole (a reader sees the old or the new one)."""

    @abstractmethod
    def create_bytes(self, data: bytes) -> None:
        """Write ``data`` whole where no file is.

        Raises:
            FileExistsError: there is one (on a URL the check precedes the write: two
                writers at once may both pass; see the module docstring).
        """

    @abstractmethod
    def is_file(self) -> bool:
        """A file is there."""

    @abstractmethod
    def unlink(self) -> None:
        """Remove the file, if there."""

    @abstractmethod
    def open_read(self) -> contextlib.AbstractContextManager[BinaryReader]:
        """Open the file for reading, in binary."""

    @abstractmethod
    def spool(self, *, exclusive: bool) -> Spool:
        """Start writing this file: a local file (``O_EXCL`` if ``exclusive``) that
        :meth:`publish` puts in place once complete; a local file beside a local path
        (``<name>.part``), a temporary one for a URL."""

    @abstractmethod
    def publish(self, spool: Spool) -> None:
        """Put the complete ``spool`` (closed) in place, whole; the spool is gone after.

        Raises:
            OSError: it could not be put in place (the spool is kept: publish again or
                :meth:`drop_spool`).
        """

    @abstractmethod
    def drop_spool(self, spool: Spool) -> None:
        """Remove ``spool`` (closed), if there."""


class BinaryReader(Protocol):
    """What :meth:`Location.open_read` gives."""

    def read(self, size: int = -1, /) -> bytes:
        """Up to ``size`` bytes; ``b""`` at the end."""


class LocalSpool:
    """A local temporary file holding what is being written (a :class:`Spool`)."""

    def __init__(self, fd: int, path: Path) -> None:
        self.fd, self.path = fd, path
