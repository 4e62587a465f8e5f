"""What the receiver logs about events and refusals: bounded, redacted, rate-limited."""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from wecom_async._logging import logger, redact
from wecom_async.callback._errors import CallbackError
from wecom_async.callback._xml import XmlValue
from wecom_async.callback.events import (
    Event,
    ExternalChatEvent,
    ExternalContactEvent,
    ExternalTagEvent,
    GenericEvent,
)

#: At most this many refusal lines per interval; then one summary line.
REFUSAL_LOG_BURST: Final = 10
REFUSAL_LOG_INTERVAL: Final = 60.0


class RefusalLog:
    """Refusal log lines: at most REFUSAL_LOG_BURST per interval, then one summary."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._start = float("-inf")
        self._logged = 0
        self._suppressed = 0

    def record(self, method: str, exc: CallbackError) -> None:
        now = self._clock()
        if now - self._start >= REFUSAL_LOG_INTERVAL:
            self.flush()
            self._start, self._logged = now, 0
        if self._logged >= REFUSAL_LOG_BURST:
            self._suppressed += 1
            return
        self._logged += 1
        logger.warning(
            "refused a WeCom callback %s: %s [%d] %s",
            bounded(method, 8),
            type(exc).__name__,
            exc.code,
            bounded(str(exc), 160),
        )

    def flush(self) -> None:
        if self._suppressed:
            logger.warning(
                "refused %d more WeCom callbacks in the last %g s (not logged one by one)",
                self._suppressed,
                REFUSAL_LOG_INTERVAL,
            )
            self._suppressed = 0


def describe(event: Event) -> str:
    """One bounded, redacted line naming an event and the ids an operator needs to repair
    it: the member (``userid``), the customer (``external_userid``), the group or tag."""
    name = f"{event.event or event.msg_type or 'unnamed'}/{event.change_type}"
    ids = [f"{tag}={bounded(value, 64)}" for tag, value in _ids(event) if value]
    return redact(f"{bounded(name, 80)} event of {event.create_time} ({', '.join(ids)})")


def _ids(event: Event) -> list[tuple[str, str]]:
    if isinstance(event, ExternalContactEvent):
        return [("userid", event.userid), ("external_userid", event.external_userid)]
    if isinstance(event, ExternalChatEvent):
        return [("chat_id", event.chat_id)]
    if isinstance(event, ExternalTagEvent):
        return [("id", event.id)]
    if isinstance(event, GenericEvent):
        tags = ("UserID", "ExternalUserID", "ChatId", "Id", "AuthCorpId")
        return [(tag, _text(event.fields.get(tag))) for tag in tags]
    return []


def _text(value: XmlValue | None) -> str:
    return value if isinstance(value, str) else ""


def bounded(text: str, limit: int) -> str:
    """``text`` with non-printable characters escaped, cut to ``limit`` characters."""
    safe = text if text.isascii() and text.isprintable() else ascii(text)[1:-1]
    return safe if len(safe) <= limit else safe[: limit - 3] + "..."
