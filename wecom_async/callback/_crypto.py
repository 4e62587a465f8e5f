"""WXBizMsgCrypt: signatures and AES-256-CBC for WeCom callbacks.

https://developer.work.weixin.qq.com/document/path/90968 describes the scheme:

- ``msg_signature`` is the hex SHA-1 of token, timestamp, nonce and the ciphertext,
  sorted and concatenated;
- the AES key is ``base64decode(EncodingAESKey + "=")`` (32 bytes) and the IV its
  first 16 bytes;
- the plaintext is ``random(16) + len(msg) (4 bytes, big-endian) + msg + receive_id``,
  PKCS#7-padded to a multiple of 32 bytes, and the ciphertext is sent in base64.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
import secrets
import struct
import time
from collections.abc import Callable
from typing import Final

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from wecom_async._exceptions import ValidationError
from wecom_async.callback._errors import (
    DECODE_BASE64_ERROR,
    ILLEGAL_BUFFER,
    CallbackConfigError,
    DecryptError,
    EchoError,
    ReceiveIdError,
    SignatureError,
)
from wecom_async.callback._xml import DEFAULT_MAX_BODY_BYTES, envelope_ciphertext, to_xml

__all__ = ["CallbackCrypto"]

#: WXBizMsgCrypt pads to 32-byte blocks, not to the AES block size of 16.
PAD_BLOCK: Final = 32
_RANDOM_LEN: Final = 16
_HEADER_LEN: Final = _RANDOM_LEN + 4
_AES_KEY = re.compile(r"[A-Za-z0-9]{43}\Z")
_TOKEN = re.compile(r"[A-Za-z0-9]{1,32}\Z")
#: The longest echo a URL check may answer with.  WeCom's echostr decrypts to a random
#: string of digits (19 in its documentation); 64 leaves room for any variant while every
#: event message, starting with ``<xml><ToUserName>``, is far longer.
MAX_ECHO_CHARS: Final = 64
#: Printable ASCII without markup: an echo never holds XML.
_ECHO = re.compile(r"[\x21-\x25\x27-\x3b=\x3f-\x7e]{1,64}\Z")  # MAX_ECHO_CHARS


class CallbackCrypto:
    """Verify, decrypt and encrypt WeCom callback messages (WXBizMsgCrypt).

    One instance per callback configuration; it is immutable and safe to share
    between tasks.  Its repr shows only the receive id.

    Args:
        token: the callback Token configured in the admin console (1-32 letters or digits).
        encoding_aes_key: the 43-character EncodingAESKey.
        receive_id: the CorpID for a self-built app (the SuiteID for third-party apps,
            ``""`` for apps of personal entities); decrypted messages must name it.
        max_body_bytes: the largest envelope or message accepted (default 64 KiB).
        random_bytes: source of the 16 random bytes that start each plaintext
            (``os.urandom`` by default; tests inject a fixed one).

    Raises:
        CallbackConfigError: the token or the EncodingAESKey is malformed.

    See https://developer.work.weixin.qq.com/document/path/90968.
    """

    __slots__ = ("_cipher", "_key", "_random_bytes", "_token", "max_body_bytes", "receive_id")

    def __init__(
        self,
        token: str,
        encoding_aes_key: str,
        receive_id: str,
        *,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
        random_bytes: Callable[[int], bytes] = os.urandom,
    ) -> None:
        if not isinstance(token, str) or not _TOKEN.match(token):
            raise CallbackConfigError("the callback token must be 1-32 letters or digits")
        if not isinstance(encoding_aes_key, str) or not _AES_KEY.match(encoding_aes_key):
            raise CallbackConfigError("the EncodingAESKey must be exactly 43 letters or digits")
        if not isinstance(receive_id, str):
            raise CallbackConfigError("receive_id must be a str (the CorpID)")
        if isinstance(max_body_bytes, bool) or not isinstance(max_body_bytes, int):
            raise CallbackConfigError("max_body_bytes must be a whole number of bytes")
        if max_body_bytes < 1:
            raise CallbackConfigError("max_body_bytes must be positive")
        self._token = token
        self._key = base64.b64decode(encoding_aes_key + "=")
        self._cipher = Cipher(algorithms.AES(self._key), modes.CBC(self._key[:16]))
        self.receive_id = receive_id
        self.max_body_bytes = max_body_bytes
        self._random_bytes = random_bytes

    def __repr__(self) -> str:
        return f"CallbackCrypto(receive_id={self.receive_id!r}, token=***, encoding_aes_key=***)"

    # -- signatures ---------------------------------------------------------------------

    def signature(self, timestamp: str | int, nonce: str, encrypted: str) -> str:
        """Return ``msg_signature`` for a ciphertext: SHA-1 over the sorted four strings.

        Args:
            timestamp: the ``timestamp`` query parameter (Unix seconds).
            nonce: the ``nonce`` query parameter.
            encrypted: the base64 ciphertext (``Encrypt`` element or ``echostr``).

        Returns:
            40 lowercase hex digits.
        """
        parts = sorted([self._token, str(timestamp), nonce, encrypted])
        return hashlib.sha1("".join(parts).encode("utf-8", "surrogatepass")).hexdigest()

    def check_signature(
        self, msg_signature: str, timestamp: str | int, nonce: str, encrypted: str
    ) -> None:
        """Compare ``msg_signature`` with the expected one in constant time.

        Raises:
            SignatureError: they differ (code -40001).
        """
        expected = self.signature(timestamp, nonce, encrypted)
        given = msg_signature.encode("utf-8", "surrogatepass")
        if not hmac.compare_digest(expected.encode("ascii"), given):
            raise SignatureError("msg_signature does not match")

    # -- message layer ------------------------------------------------------------------

    def encrypt_message(self, plaintext: str) -> str:
        """Encrypt one message for ``receive_id`` and return the base64 ciphertext.

        Args:
            plaintext: the message (normally XML).

        Returns:
            ``base64(AES-CBC(random16 + len + msg + receive_id, PKCS#7 padded to 32))``.

        Raises:
            ValidationError: the ``random_bytes`` given to the constructor returned
                other than 16 bytes.
        """
        msg = plaintext.encode("utf-8")
        random = self._random_bytes(_RANDOM_LEN)
        if len(random) != _RANDOM_LEN:
            raise ValidationError(f"random_bytes returned {len(random)} bytes, expected 16")
        data = random + struct.pack(">I", len(msg)) + msg + self.receive_id.encode("utf-8")
        pad = PAD_BLOCK - len(data) % PAD_BLOCK
        data += bytes([pad]) * pad
        encryptor = self._cipher.encryptor()
        return base64.b64encode(encryptor.update(data) + encryptor.finalize()).decode("ascii")

    def decrypt_message(self, encrypted: str | bytes) -> str:
        """Decrypt a base64 ciphertext, check its receive id and return the message.

        Args:
            encrypted: the ``Encrypt`` element text or the ``echostr`` parameter.

        Returns:
            The message text (normally XML).

        Raises:
            DecryptError: not base64 (-40010), not whole AES blocks (-40007), or bad
                padding, length field or UTF-8 in the decrypted buffer (-40008).
            ReceiveIdError: the message is for another receive id (-40005).
        """
        try:
            raw = base64.b64decode(encrypted, validate=True)
        except (ValueError, TypeError):
            raise DecryptError("ciphertext is not base64", code=DECODE_BASE64_ERROR) from None
        if not raw or len(raw) % 16:
            raise DecryptError(f"ciphertext of {len(raw)} bytes is not a whole number of blocks")
        decryptor = self._cipher.decryptor()
        data = decryptor.update(raw) + decryptor.finalize()
        pad = data[-1]
        if not 1 <= pad <= PAD_BLOCK or data[-pad:] != bytes([pad]) * pad:
            raise DecryptError("bad padding (wrong key?)", code=ILLEGAL_BUFFER)
        content = data[:-pad]
        if len(content) < _HEADER_LEN:
            raise DecryptError("decrypted buffer is too short", code=ILLEGAL_BUFFER)
        (msg_len,) = struct.unpack(">I", content[_RANDOM_LEN:_HEADER_LEN])
        if msg_len > len(content) - _HEADER_LEN:
            raise DecryptError("length field points past the buffer", code=ILLEGAL_BUFFER)
        msg = content[_HEADER_LEN : _HEADER_LEN + msg_len]
        receive_id = content[_HEADER_LEN + msg_len :]
        if not hmac.compare_digest(receive_id, self.receive_id.encode("utf-8")):
            raise ReceiveIdError("the message is for another receive id")
        try:
            return msg.decode("utf-8")
        except UnicodeDecodeError:
            raise DecryptError("message is not UTF-8", code=ILLEGAL_BUFFER) from None

    # -- request / reply layer ----------------------------------------------------------

    def verify_url(self, msg_signature: str, timestamp: str | int, nonce: str, echostr: str) -> str:
        """Answer the GET URL check: verify ``echostr`` and return its plaintext.

        The query values are expected URL-decoded.  A ``+`` that a form decoder turned
        into a space is restored (base64 never holds spaces).

        Only a short plain string is ever returned: a URL check and a pushed event are
        signed alike, so a captured event's ``Encrypt`` value resent as ``echostr`` would
        otherwise be answered with the decrypted event.

        Returns:
            The plain echo string to send back as the whole response body.

        Raises:
            SignatureError, DecryptError, ReceiveIdError: see :meth:`decrypt_message`.
            EchoError: the decrypted echo is longer than 64 characters, or holds markup
                (``<``, ``>``), ``&``, spaces or non-ASCII characters (-40008).

        See https://developer.work.weixin.qq.com/document/path/90930.
        """
        echostr = echostr.replace(" ", "+")
        self.check_signature(msg_signature, timestamp, nonce, echostr)
        echo = self.decrypt_message(echostr)
        if not _ECHO.match(echo):
            raise EchoError(
                f"the decrypted echostr is not a plain string of at most {MAX_ECHO_CHARS} "
                "printable ASCII characters (a signed event resent as a URL check?)"
            )
        return echo

    def verify_envelope(
        self, msg_signature: str, timestamp: str | int, nonce: str, body: str | bytes
    ) -> str:
        """Check a POSTed body's signature and return its ciphertext, nothing parsed.

        The ``Encrypt`` value is read with a strict linear-time match (see
        :func:`envelope_ciphertext`) and the signature checked before anything is
        decrypted or parsed, so an unauthenticated body costs almost nothing.

        Args:
            msg_signature: the ``msg_signature`` query parameter of the POST.
            timestamp: the ``timestamp`` query parameter.
            nonce: the ``nonce`` query parameter.
            body: the envelope ``<xml><ToUserName/><AgentID/><Encrypt/></xml>``.

        Returns:
            The ``Encrypt`` value (pass it to :meth:`decrypt_message`).

        Raises:
            BodyTooLargeError, UnsafeXMLError, XMLParseError: the envelope is too large,
                holds a DTD, is not flat ``<xml>`` or has no ``Encrypt`` element (-40002).
            SignatureError: the signature does not match (-40001).

        See https://developer.work.weixin.qq.com/document/path/90968.
        """
        encrypted = envelope_ciphertext(body, max_bytes=self.max_body_bytes)
        self.check_signature(msg_signature, timestamp, nonce, encrypted)
        return encrypted

    def decrypt(
        self, msg_signature: str, timestamp: str | int, nonce: str, body: str | bytes
    ) -> str:
        """Verify and decrypt a POSTed callback body.

        Args:
            msg_signature: the ``msg_signature`` query parameter of the POST.
            timestamp: the ``timestamp`` query parameter.
            nonce: the ``nonce`` query parameter.
            body: the envelope ``<xml><ToUserName/><AgentID/><Encrypt/></xml>``.

        Returns:
            The decrypted plaintext XML (pass it to :func:`parse_event`).

        Raises:
            BodyTooLargeError, UnsafeXMLError, XMLParseError, SignatureError: see
                :meth:`verify_envelope`.
            DecryptError, ReceiveIdError: see :meth:`decrypt_message`.

        See https://developer.work.weixin.qq.com/document/path/90968.
        """
        return self.decrypt_message(self.verify_envelope(msg_signature, timestamp, nonce, body))

    def encrypt(
        self, reply_xml: str, *, nonce: str | None = None, timestamp: str | int | None = None
    ) -> str:
        """Encrypt and sign a passive reply.

        Args:
            reply_xml: the plaintext reply message.
            nonce: the reply's nonce (random digits when omitted).
            timestamp: Unix seconds (now when omitted).

        Returns:
            ``<xml><Encrypt/><MsgSignature/><TimeStamp/><Nonce/></xml>``.

        See https://developer.work.weixin.qq.com/document/path/90968.
        """
        nonce = random_nonce() if nonce is None else nonce
        timestamp = str(int(time.time()) if timestamp is None else timestamp)
        encrypted = self.encrypt_message(reply_xml)
        return to_xml(
            [
                ("Encrypt", encrypted),
                ("MsgSignature", self.signature(timestamp, nonce, encrypted)),
                ("TimeStamp", int(timestamp) if timestamp.isdigit() else timestamp),
                ("Nonce", nonce),
            ]
        )


def random_nonce() -> str:
    """Return a random 10-digit nonce, the shape WeCom uses."""
    return str(secrets.randbelow(9 * 10**9) + 10**9)
