"""A :class:`~._location.Location` at an fsspec URL, written with object-store
semantics (see :mod:`._store`); the credentials configured for the stores are
registered as secrets."""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Final

from .._logging import register_secret

if TYPE_CHECKING:
    from fsspec import AbstractFileSystem

from ._location import BinaryReader, LocalSpool, Location, Spool, StorageError, _backend

__all__ = ["UrlLocation", "register_store_secrets"]

#: A setting of a store whose value is a credential (fsspec's configuration, the
#: environment variables of the usual backends).
_CREDENTIAL: Final = re.compile(
    r"key|secret|token|password|sas|credential|connection_?string|sig$", re.IGNORECASE
)
_STORE_ENV: Final = ("FSSPEC_", "AWS_", "AZURE_", "GOOGLE_", "GCS_", "GCSFS_", "OCI_")


class UrlLocation(Location):
    """An fsspec URL, written with object-store semantics (see the module docstring).

    Args:
        fs: the filesystem of the URL's protocol.
        url: the URL (no credentials in it: see :func:`parse_location`).
    """

    def __init__(self, fs: AbstractFileSystem, url: str) -> None:
        self.fs = fs
        self.url = url.rstrip("/")

    def __repr__(self) -> str:
        return f"UrlLocation({self.url!r})"

    def __str__(self) -> str:
        return self.url

    def __eq__(self, other: object) -> bool:
        return isinstance(other, UrlLocation) and other.url == self.url

    def __hash__(self) -> int:
        return hash(self.url)

    @property
    def name(self) -> str:
        """The last component."""
        return self.url.rsplit("/", 1)[-1]

    @property
    def native(self) -> str:
        """The URL."""
        return self.url

    def __truediv__(self, name: str) -> UrlLocation:
        """The entry ``name`` of this folder."""
        return UrlLocation(self.fs, f"{self.url}/{name}")

    def with_name(self, name: str) -> UrlLocation:
        """The entry ``name`` beside this one."""
        return UrlLocation(self.fs, f"{self.url.rsplit('/', 1)[0]}/{name}")

    def shared(self) -> str:
        """The URL."""
        return self.url

    def make_folder(self) -> None:
        """Make the folder where the store has folders (an object store has none)."""
        with _backend("makedirs", self.url):
            self.fs.makedirs(self.url, exist_ok=True)

    def read_bytes(self) -> bytes:
        """The whole object (``cat_file``)."""
        with _backend("read", self.url):
            data = self.fs.cat_file(self.url)
        if not isinstance(data, bytes):
            raise StorageError(f"read {self.url} failed: the store gave {type(data).__name__}")
        return data

    def write_bytes(self, data: bytes) -> None:
        """Replace the object with ``data``, whole (``pipe_file``)."""
        with _backend("write", self.url):
            self.fs.pipe_file(self.url, data)

    def create_bytes(self, data: bytes) -> None:
        """Check that no object is there, then write it whole (see the module docstring).

        Raises:
            FileExistsError: there is one.
        """
        if self.is_file():
            raise FileExistsError(f"{self.url} exists already")
        self.write_bytes(data)

    def is_file(self) -> bool:
        """An object is there."""
        with _backend("look up", self.url):
            return bool(self.fs.isfile(self.url))

    def unlink(self) -> None:
        """Remove the object, if there."""
        with contextlib.suppress(FileNotFoundError), _backend("remove", self.url):
            self.fs.rm_file(self.url)

    def open_read(self) -> contextlib.AbstractContextManager[BinaryReader]:
        """Open the object for reading."""
        return _Reader(self.fs, self.url)

    def spool(self, *, exclusive: bool) -> Spool:
        """A local temporary file (never exclusive with the store: see the module docstring)."""
        fd, tmp = tempfile.mkstemp(prefix="wecom-async-", suffix=".part")
        return LocalSpool(fd, Path(tmp))

    def publish(self, spool: Spool) -> None:
        """Upload the spool whole (``put_file``), then remove it."""
        with _backend("upload", self.url):
            self.fs.put_file(str(spool.path), self.url)
        spool.path.unlink(missing_ok=True)

    def drop_spool(self, spool: Spool) -> None:
        """Remove the spool, if there."""
        spool.path.unlink(missing_ok=True)


class _Reader:
    """An object opened for reading, its failures raised as :class:`StorageError`."""

    def __init__(self, fs: AbstractFileSystem, url: str) -> None:
        self.fs, self.url = fs, url
        self._file: BinaryReader | None = None

    def __enter__(self) -> _Reader:
        with _backend("open", self.url):
            self._file = self.fs.open(self.url, "rb")
        return self

    def read(self, size: int = -1, /) -> bytes:
        assert self._file is not None
        with _backend("read", self.url):
            data = self._file.read(size)
        return bytes(data)

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        close = getattr(self._file, "close", None)
        # What was read is whole; the close adds nothing (whatever the backend raises).
        with contextlib.suppress(OSError), _backend("close", self.url):
            if close is not None:
                close()


def register_store_secrets(conf: Mapping[str, object]) -> None:
    """Register the credentials configured for the stores (see the module docstring)."""
    for name, value in os.environ.items():
        if name.startswith(_STORE_ENV) and _CREDENTIAL.search(name):
            register_secret(value)
    for options in conf.values():
        if isinstance(options, Mapping):
            for key, value in options.items():
                if isinstance(value, str) and _CREDENTIAL.search(str(key)):
                    register_secret(value)
