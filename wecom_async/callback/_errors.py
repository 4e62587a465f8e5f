"""The errors raised while receiving WeCom callbacks.

Every failure of a pushed request is a :class:`CallbackError`, itself a
:class:`wecom_async.WeComError`; nothing else escapes for bad input::

    WeComError
    └── CallbackError              a pushed request failed verification, decryption or parsing
        ├── CallbackConfigError    the token or EncodingAESKey given to CallbackCrypto is invalid
        ├── SignatureError         msg_signature does not match, or a query parameter is missing
        │   └── StaleRequestError  the signed timestamp is outside the receiver's max_age
        ├── ReceiveIdError         the decrypted message names another corp / suite
        ├── DecryptError           the ciphertext is not base64, not whole blocks, or not padded
        │   └── EchoError          a URL check's decrypted echostr is not a short plain string
        ├── ReceiverBusyError      the receiver cannot take the event now (full, shutting down)
        └── XMLParseError          the XML is malformed, lacks a field, or has a wrong type
            ├── UnsafeXMLError     the XML holds a DTD, an entity or an external reference
            └── BodyTooLargeError  the body is larger than ``max_body_bytes``

Each error carries ``code``, the return code the official WXBizMsgCrypt libraries
use for the same failure (-40001 ... -40011, https://developer.work.weixin.qq.com/document/path/90307),
and ``reason``, a short fixed text that is safe to send back in an HTTP answer.
Messages never contain the token, the EncodingAESKey or the AES key.
"""

from __future__ import annotations

from typing import ClassVar, Final

from wecom_async._exceptions import WeComError

__all__ = [
    "BodyTooLargeError",
    "CallbackConfigError",
    "CallbackError",
    "DecryptError",
    "EchoError",
    "ReceiveIdError",
    "ReceiverBusyError",
    "SignatureError",
    "SlowBodyError",
    "StaleRequestError",
    "UnsafeXMLError",
    "XMLParseError",
]

#: WXBizMsgCrypt return codes (official libraries, doc 90307).
VALIDATE_SIGNATURE_ERROR: Final = -40001
PARSE_XML_ERROR: Final = -40002
COMPUTE_SIGNATURE_ERROR: Final = -40003
ILLEGAL_AES_KEY: Final = -40004
VALIDATE_RECEIVE_ID_ERROR: Final = -40005
ENCRYPT_AES_ERROR: Final = -40006
DECRYPT_AES_ERROR: Final = -40007
ILLEGAL_BUFFER: Final = -40008
ENCODE_BASE64_ERROR: Final = -40009
DECODE_BASE64_ERROR: Final = -40010
GEN_XML_ERROR: Final = -40011
#: Not a WXBizMsgCrypt code: WeCom's own "system busy, retry" errcode, for a full receiver.
RECEIVER_BUSY: Final = -1


class CallbackError(WeComError):
    """Raised when a pushed callback request cannot be trusted or read; the root of this tree.

    Attributes:
        code: the WXBizMsgCrypt return code for this failure (e.g. -40001).
        reason: a short fixed description, safe to return to the caller over HTTP.
    """

    default_code: ClassVar[int] = PARSE_XML_ERROR
    reason: ClassVar[str] = "invalid callback request"

    def __init__(self, message: str, *, code: int | None = None) -> None:
        self.code: int = self.default_code if code is None else code
        super().__init__(f"{message} [{self.code}]")

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.args[0]!r}, code={self.code})"


class CallbackConfigError(CallbackError, ValueError):
    """Raised by ``CallbackCrypto(...)`` when the token or EncodingAESKey is malformed."""

    default_code = ILLEGAL_AES_KEY
    reason = "invalid callback configuration"


class SignatureError(CallbackError):
    """Raised when ``msg_signature`` does not match, or a signed query parameter is missing."""

    default_code = VALIDATE_SIGNATURE_ERROR
    reason = "invalid signature"


class StaleRequestError(SignatureError):
    """Raised when a correctly signed request carries a timestamp too far from now.

    A replayed capture of a genuine push has a valid signature; checking the signed
    timestamp against ``max_age`` refuses it once the dedupe window has passed.
    """

    reason = "stale request"


class ReceiveIdError(CallbackError):
    """Raised when the receive id inside the decrypted message is not the configured one."""

    default_code = VALIDATE_RECEIVE_ID_ERROR
    reason = "receive id mismatch"


class DecryptError(CallbackError):
    """Raised when the ciphertext is not base64 (-40010), not whole AES blocks (-40007),
    or decrypts to a buffer with bad padding, length or encoding (-40008)."""

    default_code = DECRYPT_AES_ERROR
    reason = "cannot decrypt"


class EchoError(DecryptError):
    """Raised when a URL check's decrypted ``echostr`` is not the short plain string WeCom
    sends (-40008).

    The GET URL check and a POSTed event are signed the same way, so a captured event's
    ``Encrypt`` value resent as ``echostr`` passes the signature; answering it would echo
    the decrypted event.  Only a short string without markup is ever echoed.
    """

    default_code = ILLEGAL_BUFFER
    reason = "invalid echostr"


class ReceiverBusyError(CallbackError):
    """Raised when a verified event cannot be accepted now: the in-process queue is full,
    the receiver is shutting down, the replay memory is full, or the event sink refused
    it.  The adapters answer 503, so WeCom delivers it again later; nothing was acknowledged.
    """

    default_code = RECEIVER_BUSY
    reason = "receiver busy, retry later"


class XMLParseError(CallbackError):
    """Raised when XML is malformed, misses a required field, or holds a wrong type (-40002)."""

    default_code = PARSE_XML_ERROR
    reason = "invalid xml"


class UnsafeXMLError(XMLParseError):
    """Raised when XML holds a DTD, an entity declaration or an external reference."""

    reason = "forbidden xml construct"


class BodyTooLargeError(XMLParseError):
    """Raised when a body is larger than the configured ``max_body_bytes``."""

    reason = "body too large"


class SlowBodyError(XMLParseError):
    """Raised when a body does not arrive whole within the receiver's ``body_timeout``.

    WeCom sends its small body at once; a client that trickles one only holds a
    connection open (and a server's graceful shutdown with it).
    """

    reason = "body too slow"
