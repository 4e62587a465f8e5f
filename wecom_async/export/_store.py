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
instance roles...). Values of those settings that look like credentials (``*KEY``,
``*SECRET``, ``*TOKEN``, ``*PASSWORD``, ``*SAS*``, ``*CONNECTION_STRING``) are registered as
secrets (:func:`~wecom_async._logging.register_secret`) once a URL is used, so an error of
the store quoting its options never reaches a log line or Redis.

A ``file://`` URL is a local path (``file:///srv/x`` and ``file://localhost/srv/x`` are
``/srv/x``; ``file://rel/x`` is ``rel/x`` of the current directory, as fsspec reads it):
it is a :class:`LocalLocation`, written atomically (fsync and rename), and needs no
fsspec. Every other protocol is an object store: the store must make an object appear
whole when its write completes (S3, GCS and Azure Blob do); a store that could leave half
an object would leave a manifest that ``--since last`` refuses to read (never uses).

Every failure of the store surfaces as :class:`StorageError` (an :class:`OSError`: the
backends raise their own types, botocore's ``ClientError`` for one), its message
redacted and the backend's exception as its ``__cause__``; a missing object stays
:class:`FileNotFoundError`.

A URL naming a user (``abfs://container@account/...``, ``oci://bucket@namespace/...``)
is refused like credentials: name the account through fsspec's configuration instead
(``FSSPEC_ABFS_ACCOUNT_NAME``, ...) and the container as the URL's host.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, BinaryIO, Final, Protocol
from urllib.parse import unquote, urlsplit

from .._exceptions import ValidationError
from .._logging import redact, register_secret
from ._checkpoint import write_atomic
from ._output import fsync_directory

if TYPE_CHECKING:
    from fsspec import AbstractFileSystem

__all__ = [
    "INSTALL_HINT",
    "LocalLocation",
    "Location",
    "Spool",
    "StorageError",
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
#: A setting of a store whose value is a credential (fsspec's configuration, the
#: environment variables of the usual backends).
_CREDENTIAL: Final = re.compile(
    r"key|secret|token|password|sas|credential|connection_?string|sig$", re.IGNORECASE
)
_STORE_ENV: Final = ("FSSPEC_", "AWS_", "AZURE_", "GOOGLE_", "GCS_", "GCSFS_", "OCI_")


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
        return _LocalSpool(fd, Path(tmp))

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
            "or its config file; an account or namespace before '@' (abfs://container@account, "
            "oci://bucket@namespace) too (e.g. FSSPEC_ABFS_ACCOUNT_NAME), with the container "
            "as the URL's host"
        )
    if ".." in parts.path.split("/") or "\0" in url:
        return f"the output URL ({parts.scheme}://...) holds a '..' segment"
    if not parts.path.strip("/"):  # its manifest would go beside the bucket
        return (
            f"the output URL ({parts.scheme}://...) names no folder: give one inside the "
            f"bucket or container, e.g. {parts.scheme}://BUCKET/exports"
        )
    return None


def parse_location(url: str) -> Location:
    """The :class:`Location` of ``url``, checked before anything is written: a
    :class:`LocalLocation` for ``file://`` (see the module docstring), else a
    :class:`UrlLocation` (the scheme is case-insensitive: ``S3://`` is ``s3://``).

    Raises:
        ValidationError: ``url`` carries credentials (``user:password@``, a query string:
            the message does not repeat them), fsspec is not installed, fsspec knows no
            such protocol (or its package is missing), or the protocol's filesystem
            cannot be made (not configured: the backend's reason, redacted).
    """
    if problem := url_problem(url):
        raise ValidationError(problem)
    parts = urlsplit(url)
    protocol = parts.scheme.lower()
    if protocol == "file":
        return LocalLocation(_file_path(parts.netloc, parts.path))
    url = protocol + url[len(parts.scheme) :]
    try:
        from fsspec.config import conf
        from fsspec.core import url_to_fs
        from fsspec.registry import get_filesystem_class
    except ImportError:
        raise ValidationError(f"an output URL needs the 'fsspec' extra: {INSTALL_HINT}") from None
    _register_store_secrets(conf)
    try:
        get_filesystem_class(protocol)
    except ValueError:
        raise ValidationError(f"fsspec knows no storage protocol {protocol!r}") from None
    except ImportError as error:
        raise ValidationError(f"{protocol}:// URLs: {redact(str(error))}") from None
    try:
        fs, _path = url_to_fs(url)
    except Exception as error:  # the backend's own types: not configured, mostly
        reason = _reason(error)
        raise ValidationError(
            f"{protocol}:// URLs cannot be used here (configure the store for fsspec): {reason}"
        ) from None
    return UrlLocation(fs, url)


def _file_path(host: str, path: str) -> Path:
    """The local path of ``file://host/path`` (RFC 8089: no host or ``localhost`` is
    this machine; another "host" is read as fsspec does, the first folder of a relative
    path), absolute: every process must read one folder."""
    local = unquote(path) if host.lower() in ("", "localhost") else unquote(host + path)
    return Path(local).absolute()


def _register_store_secrets(conf: Mapping[str, object]) -> None:
    """Register the credentials configured for the stores (see the module docstring)."""
    for name, value in os.environ.items():
        if name.startswith(_STORE_ENV) and _CREDENTIAL.search(name):
            register_secret(value)
    for options in conf.values():
        if isinstance(options, Mapping):
            for key, value in options.items():
                if isinstance(value, str) and _CREDENTIAL.search(str(key)):
                    register_secret(value)


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
