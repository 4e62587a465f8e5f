"""A test-only object store for fsspec URLs (``objtest://bucket/...``): what S3, GCS or
Azure Blob allow and nothing more.

An object appears whole when its write completes (``pipe_file``, ``put_file``); there
is no rename, no copy, no append, no exclusive create and no file opened for writing
(a store streams an upload, it never exposes half an object): any of those is recorded
in :attr:`ObjectStore.violations` and refused. Every write is logged in
:attr:`ObjectStore.writes`; :attr:`ObjectStore.failing_puts` makes the next uploads
raise ``OSError`` (a store outage); :attr:`ObjectStore.on_put` is called with each
object put, before it appears.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar, Final

import fsspec
from fsspec.implementations.memory import MemoryFile, MemoryFileSystem

PROTOCOL: Final = "objtest"


class ObjectStore(MemoryFileSystem):  # type: ignore[misc]
    """See the module docstring (one store per process: reset by :func:`reset`)."""

    protocol = PROTOCOL
    store: ClassVar[dict[str, Any]] = {}
    pseudo_dirs: ClassVar[list[str]] = [""]
    writes: ClassVar[list[tuple[str, str]]] = []
    violations: ClassVar[list[str]] = []
    failing_puts: ClassVar[list[int]] = [0]
    on_put: ClassVar[list[Callable[[str], None]]] = []

    @classmethod
    def _strip_protocol(cls, path: Any) -> Any:
        if isinstance(path, str):
            path = path.removeprefix(f"{PROTOCOL}://")
        return super()._strip_protocol(path)

    def _refuse(self, what: str) -> None:
        self.violations.append(what)
        raise OSError(f"an object store has no {what}")

    def _put(self, op: str, path: str, data: bytes) -> None:
        key = self._strip_protocol(path)
        for hook in self.on_put:
            hook(key)
        self.writes.append((op, key))
        self.store[key] = MemoryFile(self, key, data)

    def pipe_file(self, path: str, value: bytes, mode: str = "overwrite", **kwargs: Any) -> None:
        if mode != "overwrite":
            self._refuse(f"exclusive create ({mode})")
        self._put("pipe", path, bytes(value))

    def put_file(self, lpath: str, rpath: str, callback: Any = None, **kwargs: Any) -> None:
        if kwargs.get("mode", "overwrite") != "overwrite":
            self._refuse("exclusive create")
        if self.failing_puts[0] > 0:
            self.failing_puts[0] -= 1
            raise OSError("the store refused the upload (503 Slow Down)")
        self._put("put", rpath, Path(lpath).read_bytes())

    def _open(self, path: str, mode: str = "rb", **kwargs: Any) -> Any:
        if mode != "rb":
            self._refuse(f"open({mode!r})")
        return super()._open(path, mode, **kwargs)

    def mv(self, *args: Any, **kwargs: Any) -> None:
        self._refuse("rename")

    def rename(self, *args: Any, **kwargs: Any) -> None:
        self._refuse("rename")

    def cp_file(self, *args: Any, **kwargs: Any) -> None:
        self._refuse("copy")

    def objects(self, prefix: str) -> dict[str, bytes]:
        """Every object under ``prefix`` (a URL), by its path after the prefix."""
        root = self._strip_protocol(prefix).rstrip("/") + "/"
        return {
            key[len(root) :]: bytes(value.getvalue())
            for key, value in self.store.items()
            if key.startswith(root)
        }


def reset() -> ObjectStore:
    """Register the store and empty it; return it."""
    fsspec.register_implementation(PROTOCOL, ObjectStore, clobber=True)
    ObjectStore.store.clear()
    ObjectStore.pseudo_dirs[:] = [""]
    ObjectStore.writes.clear()
    ObjectStore.violations.clear()
    ObjectStore.failing_puts[0] = 0
    ObjectStore.on_put.clear()
    fs = fsspec.filesystem(PROTOCOL)
    assert isinstance(fs, ObjectStore)
    return fs


class BackendError(Exception):
    """What a store's client raises that is no ``OSError`` (botocore's ``ClientError``)."""


class FailingStore(ObjectStore):
    """The object store under ``objfail://``, whose calls raise chosen errors:
    :attr:`plan` maps a call (``isfile``, ``put_before``, ``put_after``: the object is
    there but the client saw an error, ``pipe_before``, ``pipe_after``, ``rm``, ``cat``)
    to ``[error, times]``; every call is logged in :attr:`calls`."""

    protocol = "objfail"
    plan: ClassVar[dict[str, list[Any]]] = {}
    calls: ClassVar[list[str]] = []

    @classmethod
    def _strip_protocol(cls, path: Any) -> Any:
        if isinstance(path, str):
            path = path.removeprefix("objfail://")
        return super()._strip_protocol(path)

    def _maybe(self, op: str, path: str) -> None:
        self.calls.append(f"{op} {path}")
        entry = self.plan.get(op)
        if entry and entry[1] > 0:
            entry[1] -= 1
            raise entry[0]

    def isfile(self, path: str) -> bool:
        self._maybe("isfile", path)
        return bool(super().isfile(path))

    def put_file(self, lpath: str, rpath: str, callback: Any = None, **kwargs: Any) -> None:
        self._maybe("put_before", rpath)
        super().put_file(lpath, rpath, callback, **kwargs)
        self._maybe("put_after", rpath)

    def pipe_file(self, path: str, value: bytes, mode: str = "overwrite", **kwargs: Any) -> None:
        self._maybe("pipe_before", path)
        super().pipe_file(path, value, mode, **kwargs)
        self._maybe("pipe_after", path)

    def rm_file(self, path: str) -> None:
        self._maybe("rm", path)
        super().rm_file(path)

    def cat_file(self, path: str, start: Any = None, end: Any = None, **kwargs: Any) -> Any:
        self._maybe("cat", path)
        return super().cat_file(path, start, end, **kwargs)


def reset_failing() -> FailingStore:
    """Register and empty the failing store (it shares :class:`ObjectStore`'s objects)."""
    reset()
    fsspec.register_implementation(FailingStore.protocol, FailingStore, clobber=True)
    FailingStore.plan.clear()
    FailingStore.calls.clear()
    fs = fsspec.filesystem(FailingStore.protocol)
    assert isinstance(fs, FailingStore)
    return fs
