"""Injected faults: what goes wrong on the next calls to one API.

Kinds, exactly one per fault:

``errcode``
    WeCom answers that errcode (HTTP 200, error envelope).  The request is answered before
    anything else happens: no verb or token check, no budget spent, the handler does not
    run, so the state is unchanged.
``status``
    An HTTP 5xx with an HTML body, as a gateway in front of WeCom sends.
``truncated``
    HTTP 200 whose JSON body is cut in half.
``drop``
    The connection drops before the response arrives.  In-process the transport raises
    ``httpx.RemoteProtocolError``; over ASGI the response starts and is then abandoned.
``delay``
    The response leaves ``delay`` seconds late.  In-process, when that exceeds the
    client's read timeout the transport raises ``httpx.ReadTimeout`` at once, without
    sleeping; otherwise, and always over ASGI, it really sleeps.
``connect``
    The connection is refused: the request never reaches WeCom, is not recorded and not
    processed.  In-process the transport raises ``httpx.ConnectError``.  An ASGI app
    cannot refuse a connection that the server already accepted, so over ASGI the
    response is abandoned mid-body as for ``drop``, still without processing.
``reset``
    The connection is reset while the response is on its way.  In-process the transport
    raises ``httpx.ReadError``; over ASGI it is abandoned mid-body as for ``drop``.
``html``
    HTTP 200 with an HTML page instead of JSON, as a captive portal or a proxy sends.
``bad_gzip``
    HTTP 200 whose ``Content-Encoding: gzip`` body is not gzip, as a broken proxy sends;
    httpx raises ``httpx.DecodingError`` while reading it.
``rewrite``
    A function that gets the handler's data (a private deep copy, envelope not yet added)
    and returns the data to send instead; it runs only when the handler succeeded.

``errcode`` and ``connect`` answer before processing.  ``status`` with
``processed=False`` is a gateway that failed before forwarding, also without processing.
For every other kind the request reaches WeCom: it is processed normally first (checks,
budget, handler, state changes) and only its response is lost or spoiled, exactly the case
where a client cannot know whether a write happened.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from .._validation import check_seconds, check_whole
from ._json import JSON

__all__ = ["Fault", "FaultBook"]


@dataclass(eq=False)
class Fault:
    """One injected fault for the next ``times`` calls to ``path``; see the module doc."""

    path: str
    errcode: int | None = None
    errmsg: str | None = None
    status: int | None = None
    truncated: bool = False
    drop: bool = False
    delay: float | None = None
    connect: bool = False
    reset: bool = False
    html: bool = False
    bad_gzip: bool = False
    rewrite: Callable[[JSON], JSON] | None = None
    #: With ``status``: False when the gateway failed before forwarding the request.
    processed: bool = True
    times: int = 1
    #: How many calls this fault has spoiled so far.
    fired: int = 0

    def __post_init__(self) -> None:
        """Check that exactly one kind is chosen and its value is sensible."""
        kinds = [
            self.errcode is not None,
            self.status is not None,
            self.truncated,
            self.drop,
            self.delay is not None,
            self.connect,
            self.reset,
            self.html,
            self.bad_gzip,
            self.rewrite is not None,
        ]
        if sum(kinds) != 1:
            raise ValueError(
                "inject exactly one of errcode, status, truncated, drop, delay, connect,"
                " reset, html, bad_gzip, rewrite"
            )
        if not self.processed and self.status is None:
            raise ValueError("processed=False goes with status")
        if self.errcode == 0:
            raise ValueError("errcode 0 is success, not a fault")
        if self.status is not None and not 500 <= self.status <= 599:
            raise ValueError("status must be an HTTP 5xx code")
        if self.delay is not None:
            check_seconds(self.delay, "delay", zero=True)
        check_whole(self.times, "times")
        if self.errmsg is not None and self.errcode is None:
            raise ValueError("errmsg goes with errcode")

    @property
    def remaining(self) -> int:
        """How many more calls this fault will spoil."""
        return self.times - self.fired

    @property
    def runs_handler(self) -> bool:
        """False when the fault answers before processing (errcode, connect, an
        unprocessed status), True when the request is processed first."""
        return self.errcode is None and not self.connect and self.processed


class FaultBook:
    """Pending faults per API path, consumed first in, first out."""

    def __init__(self) -> None:
        """Create an empty book."""
        self._pending: dict[str, deque[Fault]] = {}

    def add(self, fault: Fault) -> Fault:
        """Queue ``fault`` behind the faults already pending for its path."""
        self._pending.setdefault(fault.path, deque()).append(fault)
        return fault

    def take(self, path: str) -> Fault | None:
        """Return the fault that spoils this call to ``path``, if one is pending."""
        queue = self._pending.get(path)
        if not queue:
            return None
        fault = queue[0]
        fault.fired += 1
        if fault.remaining == 0:
            queue.popleft()
        return fault

    def pending(self) -> list[Fault]:
        """Return every fault that still has calls to spoil."""
        return [fault for queue in self._pending.values() for fault in queue]

    def clear(self) -> None:
        """Drop every pending fault."""
        self._pending.clear()
