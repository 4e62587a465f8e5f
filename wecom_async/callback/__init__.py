"""Receive WeCom callbacks: verify, decrypt and parse external-contact events.

Needs the ``callback`` extra (``pip install "wecom-async[callback]"``)::

    from wecom_async.callback import CallbackCrypto, parse_event

    crypto = CallbackCrypto(token="...", encoding_aes_key="...(43 chars)", receive_id="ww...")
    echo = crypto.verify_url(msg_signature, timestamp, nonce, echostr)  # GET URL check
    event = parse_event(crypto.decrypt(msg_signature, timestamp, nonce, body))  # POST

:class:`CallbackReceiver` does both for any web framework and runs handlers in the
background; :mod:`wecom_async.callback.starlette` (FastAPI, Starlette) and
:mod:`wecom_async.callback.aiohttp` plug it into an app.  Every failure raises a
:class:`CallbackError`.

Docs: https://developer.work.weixin.qq.com/document/path/90930 (callbacks),
https://developer.work.weixin.qq.com/document/path/90968 (crypto),
https://developer.work.weixin.qq.com/document/path/92130 (external-contact events).
"""

from __future__ import annotations

from wecom_async.callback._codec import event_to_xml, parse_event
from wecom_async.callback._crypto import CallbackCrypto
from wecom_async.callback._errors import (
    BodyTooLargeError,
    CallbackConfigError,
    CallbackError,
    DecryptError,
    EchoError,
    ReceiveIdError,
    ReceiverBusyError,
    SignatureError,
    SlowBodyError,
    StaleRequestError,
    UnsafeXMLError,
    XMLParseError,
)
from wecom_async.callback._receiver import CallbackReceiver, EventSink, Handler
from wecom_async.callback._xml import DEFAULT_MAX_BODY_BYTES, XmlValue
from wecom_async.callback.events import (
    EVENT_CLASSES,
    INFO_CLASSES,
    AddExternalContact,
    AddHalfExternalContact,
    CancelAuth,
    ChangeAuth,
    CreateAuth,
    DelExternalContact,
    DelFollowUser,
    EditExternalContact,
    Event,
    ExternalChatCreate,
    ExternalChatDismiss,
    ExternalChatEvent,
    ExternalChatUpdate,
    ExternalContactEvent,
    ExternalTagCreate,
    ExternalTagDelete,
    ExternalTagEvent,
    ExternalTagShuffle,
    ExternalTagUpdate,
    GenericEvent,
    InfoEvent,
    ResetPermanentCode,
    SuiteTicket,
    TransferFail,
)

__all__ = [
    "DEFAULT_MAX_BODY_BYTES",
    "EVENT_CLASSES",
    "INFO_CLASSES",
    "AddExternalContact",
    "AddHalfExternalContact",
    "BodyTooLargeError",
    "CallbackConfigError",
    "CallbackCrypto",
    "CallbackError",
    "CallbackReceiver",
    "CancelAuth",
    "ChangeAuth",
    "CreateAuth",
    "DecryptError",
    "DelExternalContact",
    "DelFollowUser",
    "EchoError",
    "EditExternalContact",
    "Event",
    "EventSink",
    "ExternalChatCreate",
    "ExternalChatDismiss",
    "ExternalChatEvent",
    "ExternalChatUpdate",
    "ExternalContactEvent",
    "ExternalTagCreate",
    "ExternalTagDelete",
    "ExternalTagEvent",
    "ExternalTagShuffle",
    "ExternalTagUpdate",
    "GenericEvent",
    "Handler",
    "InfoEvent",
    "ReceiveIdError",
    "ReceiverBusyError",
    "ResetPermanentCode",
    "SignatureError",
    "SlowBodyError",
    "StaleRequestError",
    "SuiteTicket",
    "TransferFail",
    "UnsafeXMLError",
    "XMLParseError",
    "XmlValue",
    "event_to_xml",
    "parse_event",
]
