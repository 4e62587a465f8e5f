"""Where a distributed export's files live: a local directory or an fsspec URL.

A :class:`Location` is one file or folder. :class:`LocalLocation` is a path on this
machine, written the way every export writes (a temporary file fsynced and renamed
into place, ``O_EXCL``, ``os.link``); :class:`UrlLocation` is an fsspec URL
(``s3://bucket/exports``, ``gs://...``, ``az://...``, ``file:///...``; the optional
``fsspec`` extra plus the protocol's own package, e.g. ``s3fs``), written with
object-store semantics: no rename, no append, no exclusive create, an object appears
whole when its write completes. So on a URL:

* a whole document (a commit record, ``plan.json``, a manifest) is written with one
  ``pipe_file``;
* a file written in steps (a part, an assembled output) is spooled to a local
  temporary file and uploaded whole with one ``put_file`` once complete;
* "only if absent" is check-then-write: whatever needs it exclusively has a second
  authority (the ledger's ``create`` for an export id; a part's name is unique per
  lease, see :mod:`.distributed._parts`).

A URL never carries credentials: it is stored in Redis, ``plan.json`` and the
manifests. ``user:password@`` or a query string (an Azure SAS ``?sig=...``) is refused
by :func:`parse_location`, and the message never repeats it; fsspec reads credentials
from its own configuration: the environment (``FSSPEC_S3_KEY``, ``FSSPEC_S3_SECRET``,
... i.e. ``FSSPEC_<PROTOCOL>_<ARGUMENT>``), its config directory
(``~/.config/fsspec/*.json``), or the protocol's usual sources (``AWS_*`` variables,
instance roles...).
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from abc import ABC, abstractmethod
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, Final, Protocol
from urllib.parse import urlsplit

from .._exceptions import ValidationError
from ._checkpoint import write_atomic
from ._output import fsync_directory

if TYPE_CHECKING:
    from fsspec import AbstractFileSystem

__all__ = [
    "INSTALL_HINT",
    "LocalLocation",
    "Location",
    "Spool",
    "UrlLocation",
    "as_location",
    "is_url",
    "location_arg",
    "location_problem",
    "parse_location",
    "url_problem",
    "whole_file",
]

#: How to get URL outputs.
INSTALL_HINT: Final = 'pip install "wecom-async[fsspec]"'
_URL: Final = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://")
_CHUNK: Final = 1 << 20


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


class _LocalSpool:
    def __init__(self, fd: int, path: Path) -> None:
        self.fd, self.path = fd, path


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
        return _LocalSpool(os.open(tmp, flags, 0o644), tmp)

    def publish(self, spool: Spool) -> None:
        """Rename the spool onto the file, durably."""
        os.replace(spool.path, self.path)
        fsync_directory(self.path.parent)

    def drop_spool(self, spool: Spool) -> None:
        """Remove the spool, if there."""
        spool.path.unlink(missing_ok=True)


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
        self.fs.makedirs(self.url, exist_ok=True)

    def read_bytes(self) -> bytes:
        """The whole object (``cat_file``)."""
        data = self.fs.cat_file(self.url)
        assert isinstance(data, bytes)
        return data

    def write_bytes(self, data: bytes) -> None:
        """Replace the object with ``data``, whole (``pipe_file``)."""
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
        return bool(self.fs.isfile(self.url))

    def unlink(self) -> None:
        """Remove the object, if there."""
        with contextlib.suppress(FileNotFoundError):
            self.fs.rm_file(self.url)

    def open_read(self) -> contextlib.AbstractContextManager[BinaryReader]:
        """Open the object for reading."""
        reader: contextlib.AbstractContextManager[BinaryReader] = self.fs.open(self.url, "rb")
        return reader

    def spool(self, *, exclusive: bool) -> Spool:
        """A local temporary file (never exclusive with the store: see the module docstring)."""
        fd, tmp = tempfile.mkstemp(prefix="wecom-async-", suffix=".part")
        return _LocalSpool(fd, Path(tmp))

    def publish(self, spool: Spool) -> None:
        """Upload the spool whole (``put_file``), then remove it."""
        self.fs.put_file(str(spool.path), self.url)
        spool.path.unlink(missing_ok=True)

    def drop_spool(self, spool: Spool) -> None:
        """Remove the spool, if there."""
        spool.path.unlink(missing_ok=True)


def as_location(value: Location | Path | str) -> Location:
    """``value`` as a :class:`Location`: a URL is checked by :func:`parse_location`."""
    if isinstance(value, Location):
        return value
    if isinstance(value, str) and is_url(value):
        return parse_location(value)
    return LocalLocation(Path(value))


def url_problem(url: str) -> str | None:
    """Why ``url`` cannot be stored (credentials in it, ``..``), or None; the message
    never repeats the URL (it may hold a secret). Needs no fsspec."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "the output URL cannot be parsed"
    # Any '@': a secret holding '/' (AWS secret keys may) ends the netloc early and
    # leaves "user:pa" as a host and "ss@bucket" in the path.
    if "@" in url or parts.query or parts.fragment:
        return (
            f"the output URL ({parts.scheme}://...) must not carry credentials "
            "(user:password@, or a query string such as a SAS token): it is stored in Redis, "
            "plan.json and the manifests. Configure them for fsspec instead: "
            "FSSPEC_<PROTOCOL>_<ARGUMENT> variables (e.g. FSSPEC_S3_KEY, FSSPEC_S3_SECRET) "
            "or its config file"
        )
    if ".." in parts.path.split("/") or "\0" in url:
        return f"the output URL ({parts.scheme}://...) holds a '..' segment"
    if not parts.path.strip("/"):  # its manifest would go beside the bucket
        return (
            f"the output URL ({parts.scheme}://...) names no folder: give one inside the "
            f"bucket or container, e.g. {parts.scheme}://BUCKET/exports"
        )
    return None


def parse_location(url: str) -> UrlLocation:
    """The :class:`UrlLocation` of ``url``, checked before anything is written.

    Raises:
        ValidationError: ``url`` carries credentials (``user:password@``, a query string:
            the message does not repeat them), fsspec is not installed, or fsspec knows
            no such protocol (or its package is missing).
    """
    if problem := url_problem(url):
        raise ValidationError(problem)
    protocol = urlsplit(url).scheme.lower()
    try:
        from fsspec.core import url_to_fs
        from fsspec.implementations.local import LocalFileSystem
    except ImportError:
        raise ValidationError(f"an output URL needs the 'fsspec' extra: {INSTALL_HINT}") from None
    try:
        fs, path = url_to_fs(url)
    except ValueError:
        raise ValidationError(f"fsspec knows no storage protocol {protocol!r}") from None
    except ImportError as error:
        raise ValidationError(f"{protocol}:// URLs: {error}") from None
    if isinstance(fs, LocalFileSystem):  # every process must read one folder: absolute
        url = f"file://{path}"
    return UrlLocation(fs, url)


def location_problem(value: Path | str | None) -> str | None:
    """Why the output location ``value`` (from :func:`location_arg`) cannot be used, or
    None: checked before anything is sent."""
    if isinstance(value, str):
        try:
            parse_location(value)
        except ValidationError as error:
            return str(error)
    return None


@contextlib.contextmanager
def whole_file(location: Location) -> Iterator[BinaryIO]:
    """Write ``location`` whole: yields its spool, put in place (fsynced) on a normal
    exit and removed on an error, so ``location`` never holds half a file."""
    spool = location.spool(exclusive=False)
    try:
        with open(spool.fd, "wb") as out:
            yield out
            out.flush()
            os.fsync(out.fileno())
        location.publish(spool)
    except BaseException:
        location.drop_spool(spool)
        raise
