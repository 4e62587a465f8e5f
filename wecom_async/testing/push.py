"""Push callbacks to a receiver exactly as WeCom does, for testing handlers.

Builds correctly encrypted and signed requests (the GET URL check, and a POST for any
event) and sends them over ``httpx`` to an in-process app or a real server::

    from wecom_async.callback import AddExternalContact, CallbackCrypto
    from wecom_async.testing.push import push_event, push_url_check

    crypto = CallbackCrypto("token", "43-char EncodingAESKey", "wwcorp")
    http = httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://test")
    assert (await push_url_check(http, "/wecom/callback", crypto)).status_code == 200
    event = AddExternalContact(to_user_name="wwcorp", create_time=1700000000,
                               userid="zhangsan", external_userid="wmABC", welcome_code="W1")
    await push_event(http, "/wecom/callback", crypto, event)

Docs: https://developer.work.weixin.qq.com/document/path/90930 (transport) and
https://developer.work.weixin.qq.com/document/path/90968 (crypto).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Literal

import attrs
import httpx

from wecom_async.callback import CallbackCrypto, Event, event_to_xml
from wecom_async.callback._crypto import random_nonce
from wecom_async.callback._xml import to_xml

__all__ = [
    "CallbackRequest",
    "build_event_request",
    "build_url_check",
    "push_event",
    "push_url_check",
    "send_callback",
]


@attrs.frozen(kw_only=True)
class CallbackRequest:
    """One request WeCom would make to a callback URL.

    Attributes:
        method: ``"GET"`` for the URL check, ``"POST"`` for an event.
        params: the query: ``msg_signature``, ``timestamp``, ``nonce`` (and ``echostr``).
        body: the encrypted XML envelope of a POST (``""`` for GET).
        echo: for the URL check, the plaintext the receiver must answer with.
    """

    method: Literal["GET", "POST"]
    params: Mapping[str, str]
    body: str = ""
    echo: str | None = None


def build_url_check(
    crypto: CallbackCrypto,
    *,
    echo: str | None = None,
    timestamp: int | None = None,
    nonce: str | None = None,
) -> CallbackRequest:
    """Build the GET URL check (``msg_signature``, ``timestamp``, ``nonce``, ``echostr``).

    Args:
        crypto: the receiver's callback configuration.
        echo: the plaintext to hide in ``echostr`` (random digits when omitted).
        timestamp: Unix seconds (now when omitted).
        nonce: random digits when omitted.
    """
    echo = random_nonce() if echo is None else echo
    timestamp_s, nonce = _stamp(timestamp, nonce)
    echostr = crypto.encrypt_message(echo)
    params = {
        "msg_signature": crypto.signature(timestamp_s, nonce, echostr),
        "timestamp": timestamp_s,
        "nonce": nonce,
        "echostr": echostr,
    }
    return CallbackRequest(method="GET", params=params, echo=echo)


def build_event_request(
    crypto: CallbackCrypto,
    event: Event | str,
    *,
    timestamp: int | None = None,
    nonce: str | None = None,
    agent_id: int | None = None,
) -> CallbackRequest:
    """Build the POST that delivers ``event`` (an event model, or plaintext XML).

    Args:
        crypto: the receiver's callback configuration; ``ToUserName`` of the envelope
            is its ``receive_id``.
        event: the event to push; a model is written with ``event_to_xml``.
        timestamp: Unix seconds of the query (now when omitted).
        nonce: random digits when omitted.
        agent_id: adds ``<AgentID>`` to the envelope (app-related callbacks only).
    """
    xml = event if isinstance(event, str) else event_to_xml(event)
    timestamp_s, nonce = _stamp(timestamp, nonce)
    encrypted = crypto.encrypt_message(xml)
    envelope = to_xml(
        [("ToUserName", crypto.receive_id)]
        + ([("AgentID", agent_id)] if agent_id is not None else [])
        + [("Encrypt", encrypted)]
    )
    params = {
        "msg_signature": crypto.signature(timestamp_s, nonce, encrypted),
        "timestamp": timestamp_s,
        "nonce": nonce,
    }
    return CallbackRequest(method="POST", params=params, body=envelope)


async def send_callback(
    target: httpx.AsyncClient | str, path: str, request: CallbackRequest
) -> httpx.Response:
    """Send a built request to ``path`` of ``target`` and return the response.

    Args:
        target: an ``httpx.AsyncClient`` (its ``base_url`` and transport are used, e.g.
            ``httpx.ASGITransport(app)``), or a base URL such as ``"http://127.0.0.1:8000"``
            for which a short-lived client is made.
        path: the callback path, e.g. ``"/wecom/callback"``.
        request: from :func:`build_url_check` or :func:`build_event_request`.
    """
    if isinstance(target, str):
        async with httpx.AsyncClient(base_url=target) as client:
            return await send_callback(client, path, request)
    headers = {"Content-Type": "text/xml; charset=utf-8"} if request.method == "POST" else {}
    return await target.request(
        request.method,
        path,
        params=dict(request.params),
        content=request.body.encode("utf-8") if request.method == "POST" else None,
        headers=headers,
    )


async def push_url_check(
    target: httpx.AsyncClient | str,
    path: str,
    crypto: CallbackCrypto,
    *,
    echo: str | None = None,
) -> httpx.Response:
    """Send the GET URL check; a correct receiver answers 200 with the echo as its body."""
    request = build_url_check(crypto, echo=echo)
    return await send_callback(target, path, request)


async def push_event(
    target: httpx.AsyncClient | str,
    path: str,
    crypto: CallbackCrypto,
    event: Event | str,
    *,
    timestamp: int | None = None,
    nonce: str | None = None,
) -> httpx.Response:
    """Encrypt, sign and POST ``event`` to the receiver at ``path`` of ``target``.

    Args:
        target: an ``httpx.AsyncClient`` or a base URL (see :func:`send_callback`).
        path: the callback path.
        crypto: the receiver's callback configuration.
        event: an event model or plaintext event XML.
        timestamp: the signed ``timestamp`` query value (now when omitted).
        nonce: the signed ``nonce`` query value (random when omitted).

    Returns:
        The receiver's response (WeCom expects 200 within 5 seconds).
    """
    request = build_event_request(crypto, event, timestamp=timestamp, nonce=nonce)
    return await send_callback(target, path, request)


def _stamp(timestamp: int | None, nonce: str | None) -> tuple[str, str]:
    return (str(int(time.time()) if timestamp is None else timestamp), nonce or random_nonce())
