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
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO
from urllib.parse import unquote, urlsplit

from .._exceptions import ValidationError
from .._logging import redact

if TYPE_CHECKING:
    pass

from ._location import (
    INSTALL_HINT,
    BinaryReader,
    Location,
    Spool,
    StorageError,
    _reason,
    is_url,
    location_arg,
)
from ._store_local import LocalLocation
from ._store_url import UrlLocation, register_store_secrets

__all__ = [
    "INSTALL_HINT",
    "BinaryReader",
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
    register_store_secrets(conf)
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
