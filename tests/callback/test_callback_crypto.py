"""CallbackCrypto: the official test vector, round trips and every refusal."""

from __future__ import annotations

import base64
import struct
import tracemalloc
from collections.abc import Callable

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from hypothesis import example, given
from hypothesis import strategies as st

from wecom_async._exceptions import WeComError
from wecom_async.callback import (
    BodyTooLargeError,
    CallbackConfigError,
    CallbackCrypto,
    CallbackError,
    DecryptError,
    EchoError,
    GenericEvent,
    ReceiveIdError,
    SignatureError,
    UnsafeXMLError,
    XMLParseError,
    parse_event,
)

from .callback_helpers import AES_KEY, CORP_ID, TOKEN

# The official test vector (doc 90968, endpoints.md §5.9).
V_CORP_ID = "wx5823bf96d3bd56c7"
V_TOKEN = "QDG6eK"
V_AES_KEY = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"
V_TIMESTAMP = "1409659813"
V_NONCE = "1372623149"
V_SIGNATURE = "477715d11cdb4164915debcba66cb864d751f3e6"
V_ENCRYPT = (
    "RypEvHKD8QQKFhvQ6QleEB4J58tiPdvo+rtK1I9qca6aM/wvqnLSV5zEPeusUiX5L5X/0lWfrf0QADHHhGd3QczcdC"
    "Upj911L3vg3W/sYYvuJTs3TUUkSUXxaccAS0qhxchrRYt66wiSpGLYL42aM6A8dTT+6k4aSknmPj48kzJs8qLjvd4X"
    "gpue06DOdnLxAUHzM6+kDZ+HMZfJYuR+LtwGc2hgf5gsijff0ekUNXZiqATP7PF5mZxZ3Izoun1s4zG4LUMnvw2r+K"
    "qCKIw+3IQH03v+BCA9nMELNqbSf6tiWSrXJB3LAVGUcallcrw8V2t9EL4EhzJWrQUax5wLVMNS0+rUPA3k22Ncx4XXZ"
    "S9o0MBH27Bo6BpNelZpS+/uh9KsNlY6bHCmJU9p8g7m3fVKn28H3KDYA5Pl/T8Z1ptDAVe0lXdQ2YoyyH2uyPIGHBZZ"
    "Is2pDBS8R07+qN+E7Q=="
)
V_BODY = (
    f"<xml><ToUserName><![CDATA[{V_CORP_ID}]]></ToUserName>"
    f"<Encrypt><![CDATA[{V_ENCRYPT}]]></Encrypt><AgentID><![CDATA[218]]></AgentID></xml>"
)


def vector_crypto(random_bytes: Callable[[int], bytes] | None = None) -> CallbackCrypto:
    if random_bytes is None:
        return CallbackCrypto(V_TOKEN, V_AES_KEY, V_CORP_ID)
    return CallbackCrypto(V_TOKEN, V_AES_KEY, V_CORP_ID, random_bytes=random_bytes)


def raw_aes(key_b64: str, data: bytes, *, decrypt: bool = False) -> bytes:
    """AES-256-CBC written out here independently of the SDK, with the WeCom key and IV."""
    key = base64.b64decode(key_b64 + "=")
    cipher = Cipher(algorithms.AES(key), modes.CBC(key[:16]))
    op = cipher.decryptor() if decrypt else cipher.encryptor()
    return op.update(data) + op.finalize()


def forge(crypto: CallbackCrypto, plain: bytes) -> tuple[str, str]:
    """Encrypt an arbitrary (already padded) buffer and sign it: (ciphertext, signature)."""
    encrypted = base64.b64encode(raw_aes(AES_KEY, plain)).decode()
    return encrypted, crypto.signature("1", "2", encrypted)


def envelope(encrypted: str) -> str:
    return f"<xml><ToUserName>{CORP_ID}</ToUserName><Encrypt>{encrypted}</Encrypt></xml>"


# -- the official vector --------------------------------------------------------------------


def test_vector_signature() -> None:
    assert vector_crypto().signature(V_TIMESTAMP, V_NONCE, V_ENCRYPT) == V_SIGNATURE


def test_vector_decrypts_to_the_documented_message() -> None:
    xml = vector_crypto().decrypt(V_SIGNATURE, V_TIMESTAMP, V_NONCE, V_BODY)
    assert len(xml.encode()) == 284
    event = parse_event(xml)
    assert isinstance(event, GenericEvent)
    assert event.msg_type == "text"
    assert event.from_user_name == "mycreate"
    assert event.create_time == 1409659813
    assert event.extra == {"Content": "hello", "MsgId": "4561255354251345929", "AgentID": "218"}


def test_vector_layout_pad_30_and_length_284() -> None:
    plain = raw_aes(V_AES_KEY, base64.b64decode(V_ENCRYPT), decrypt=True)
    assert plain[-1] == 30
    assert plain[-30:] == bytes([30]) * 30
    assert struct.unpack(">I", plain[16:20]) == (284,)
    assert plain[20 + 284 : -30] == V_CORP_ID.encode()


def test_vector_is_reproduced_byte_for_byte_with_its_random_prefix() -> None:
    plain = raw_aes(V_AES_KEY, base64.b64decode(V_ENCRYPT), decrypt=True)
    prefix, message = plain[:16], plain[20 : 20 + 284].decode()
    crypto = vector_crypto(lambda n: prefix[:n])
    assert crypto.encrypt_message(message) == V_ENCRYPT


def test_vector_message_resent_as_a_url_check_is_not_echoed() -> None:
    # The vector's Encrypt is a signed message: as an echostr it would leak the message.
    crypto = vector_crypto()
    for echostr in (V_ENCRYPT, V_ENCRYPT.replace("+", " ")):  # a form decoder's " " for "+"
        with pytest.raises(EchoError) as info:
            crypto.verify_url(V_SIGNATURE, V_TIMESTAMP, V_NONCE, echostr)
        assert info.value.code == -40008
        assert "wx5823bf96d3bd56c7" not in str(info.value)
        assert "hello" not in str(info.value)


def test_url_check_returns_the_plain_echo(crypto: CallbackCrypto) -> None:
    echo = "1616140317555161061"  # the shape of WeCom's echo: random digits
    echostr = crypto.encrypt_message(echo)
    signature = crypto.signature("1409659813", "1372623149", echostr)
    assert crypto.verify_url(signature, "1409659813", "1372623149", echostr) == echo
    spaced = echostr.replace("+", " ")  # a form decoder may have turned "+" into " "
    assert crypto.verify_url(signature, 1409659813, "1372623149", spaced) == echo


@pytest.mark.parametrize(
    "echo",
    ["<xml/>", "x" * 65, "a&b", "两个字", "tab\there", "", "<", "a>"],
)
def test_url_check_refuses_an_echo_that_is_not_short_plain_text(
    crypto: CallbackCrypto, echo: str
) -> None:
    echostr = crypto.encrypt_message(echo)
    with pytest.raises(EchoError):
        crypto.verify_url(crypto.signature("1", "2", echostr), "1", "2", echostr)


# -- round trips ----------------------------------------------------------------------------

#: Message lengths whose plaintext (20 + len + 14-byte corp id) sits on, just under and
#: just over a multiple of the 32-byte padding block.
_FIXED = 20 + len(CORP_ID)
BOUNDARY_LENGTHS = [
    n
    for k in range(1, 9)
    for n in (32 * k - _FIXED - 1, 32 * k - _FIXED, 32 * k - _FIXED + 1)
    if n >= 0
]


@pytest.mark.parametrize("length", BOUNDARY_LENGTHS)
def test_round_trip_on_padding_boundaries(crypto: CallbackCrypto, length: int) -> None:
    message = "x" * length
    encrypted = crypto.encrypt_message(message)
    raw = base64.b64decode(encrypted)
    plain_len = 20 + length + len(CORP_ID)
    pad = 32 - plain_len % 32
    assert 1 <= pad <= 32
    assert len(raw) == plain_len + pad
    assert len(raw) % 32 == 0
    assert raw_aes(AES_KEY, raw, decrypt=True)[-1] == pad
    assert crypto.decrypt_message(encrypted) == message


def test_full_padding_block_when_plaintext_is_a_multiple_of_32(crypto: CallbackCrypto) -> None:
    message = "y" * (64 - 20 - len(CORP_ID))  # plaintext exactly 64 bytes
    raw = raw_aes(AES_KEY, base64.b64decode(crypto.encrypt_message(message)), decrypt=True)
    assert len(raw) == 96
    assert raw[-32:] == bytes([32]) * 32


@given(message=st.text(max_size=3000))
@example(message="")
@example(message="中" * 11)  # 33 UTF-8 bytes
@example(message="a" * (64 - 20 - len(CORP_ID)))
@example(message="a" * (64 - 20 - len(CORP_ID) - 1))
@example(message="a" * (64 - 20 - len(CORP_ID) + 1))
def test_round_trip_property(message: str) -> None:
    crypto = CallbackCrypto(TOKEN, AES_KEY, CORP_ID)
    encrypted = crypto.encrypt_message(message)
    assert crypto.decrypt_message(encrypted) == message
    plain_len = 20 + len(message.encode()) + len(CORP_ID)
    assert len(base64.b64decode(encrypted)) == (plain_len // 32 + 1) * 32


def test_decrypt_of_a_signed_envelope(crypto: CallbackCrypto) -> None:
    encrypted = crypto.encrypt_message("<xml><A>1</A></xml>")
    signature = crypto.signature(1700000000, "42", encrypted)
    assert crypto.decrypt(signature, "1700000000", "42", envelope(encrypted).encode()) == (
        "<xml><A>1</A></xml>"
    )


def test_passive_reply_is_signed_and_decryptable(crypto: CallbackCrypto) -> None:
    reply = crypto.encrypt("<xml><Content>ok</Content></xml>", nonce="5678", timestamp=1700000000)
    fields = parse_event(reply).extra
    assert fields["TimeStamp"] == "1700000000"
    assert fields["Nonce"] == "5678"
    encrypted = fields["Encrypt"]
    assert isinstance(encrypted, str)
    assert fields["MsgSignature"] == crypto.signature("1700000000", "5678", encrypted)
    assert crypto.decrypt_message(encrypted) == "<xml><Content>ok</Content></xml>"


def test_random_prefix_comes_from_the_injected_source() -> None:
    calls: list[int] = []

    def fixed(n: int) -> bytes:
        calls.append(n)
        return b"\x07" * n

    crypto = CallbackCrypto(TOKEN, AES_KEY, CORP_ID, random_bytes=fixed)
    first, second = crypto.encrypt_message("hi"), crypto.encrypt_message("hi")
    assert first == second
    assert calls == [16, 16]
    assert raw_aes(AES_KEY, base64.b64decode(first), decrypt=True)[:16] == b"\x07" * 16


# -- refusals -------------------------------------------------------------------------------


def test_wrong_signature(crypto: CallbackCrypto) -> None:
    encrypted = crypto.encrypt_message("<xml/>")
    good = crypto.signature("1", "2", encrypted)
    # Change the last hex digit (the ciphertext is random: the digit may already be "0").
    bad = good[:-1] + ("1" if good[-1] == "0" else "0")
    with pytest.raises(SignatureError) as info:
        crypto.decrypt(bad, "1", "2", envelope(encrypted))
    assert info.value.code == -40001
    with pytest.raises(SignatureError):
        crypto.verify_url(bad, "1", "2", encrypted)
    with pytest.raises(SignatureError):  # signed with another timestamp
        crypto.decrypt(crypto.signature("1", "2", encrypted), "3", "2", envelope(encrypted))


def test_wrong_receive_id(crypto: CallbackCrypto) -> None:
    other = CallbackCrypto(TOKEN, AES_KEY, "wwSomeoneElse")
    encrypted = other.encrypt_message("<xml/>")
    with pytest.raises(ReceiveIdError) as info:
        crypto.decrypt(crypto.signature("1", "2", encrypted), "1", "2", envelope(encrypted))
    assert info.value.code == -40005


@pytest.mark.parametrize("text", ["not base64!!", "QUJ", "中文", "QUJD\n", "QU=D"])
def test_non_base64(crypto: CallbackCrypto, text: str) -> None:
    with pytest.raises(DecryptError) as info:
        crypto.decrypt_message(text)
    assert info.value.code == -40010
    with pytest.raises(DecryptError) as info:
        crypto.decrypt(crypto.signature("1", "2", text), "1", "2", envelope(text))
    assert info.value.code == -40010


@pytest.mark.parametrize("size", [15, 17, 33])
def test_ciphertext_not_whole_blocks(crypto: CallbackCrypto, size: int) -> None:
    encrypted = base64.b64encode(b"\x01" * size).decode()
    with pytest.raises(DecryptError) as info:
        crypto.decrypt(crypto.signature("1", "2", encrypted), "1", "2", envelope(encrypted))
    assert info.value.code == -40007


def test_empty_ciphertext(crypto: CallbackCrypto) -> None:
    with pytest.raises(DecryptError) as info:
        crypto.decrypt_message("")
    assert info.value.code == -40007
    with pytest.raises(XMLParseError):  # an empty <Encrypt/> is an envelope without one
        crypto.decrypt("0" * 40, "1", "2", envelope(""))


@pytest.mark.parametrize(
    "tail",
    [b"\x00", b"\x21", b"\x05\x05\x05\x04\x05"],  # pad 0, pad 33, inconsistent pad bytes
    ids=["pad-0", "pad-33", "pad-mixed"],
)
def test_bad_padding(crypto: CallbackCrypto, tail: bytes) -> None:
    body = b"\x00" * 16 + struct.pack(">I", 2) + b"hi" + CORP_ID.encode()
    plain = body + b"\x00" * (64 - len(body) - len(tail)) + tail
    encrypted, signature = forge(crypto, plain)
    with pytest.raises(DecryptError, match="padding") as info:
        crypto.decrypt(signature, "1", "2", envelope(encrypted))
    assert info.value.code == -40008


def test_length_field_past_the_buffer(crypto: CallbackCrypto) -> None:
    body = b"\x00" * 16 + struct.pack(">I", 1_000_000) + b"hi" + CORP_ID.encode()
    pad = 32 - len(body) % 32
    encrypted, signature = forge(crypto, body + bytes([pad]) * pad)
    with pytest.raises(DecryptError, match="length") as info:
        crypto.decrypt(signature, "1", "2", envelope(encrypted))
    assert info.value.code == -40008


def test_buffer_shorter_than_its_header(crypto: CallbackCrypto) -> None:
    encrypted, signature = forge(crypto, b"\x00" * 16 + bytes([16]) * 16)
    with pytest.raises(DecryptError, match="short") as info:
        crypto.decrypt(signature, "1", "2", envelope(encrypted))
    assert info.value.code == -40008


def test_message_that_is_not_utf8(crypto: CallbackCrypto) -> None:
    body = b"\x00" * 16 + struct.pack(">I", 2) + b"\xff\xfe" + CORP_ID.encode()
    pad = 32 - len(body) % 32
    encrypted, signature = forge(crypto, body + bytes([pad]) * pad)
    with pytest.raises(DecryptError) as info:
        crypto.decrypt(signature, "1", "2", envelope(encrypted))
    assert info.value.code == -40008


@pytest.mark.parametrize(
    "body",
    [
        "",
        "<xml><Encrypt>abc</Encrypt>",
        "not xml at all",
        "<xml><ToUserName>ww</ToUserName></xml>",  # no Encrypt
        "<root><Encrypt>abc</Encrypt></root>",  # wrong root
    ],
)
def test_malformed_envelope(crypto: CallbackCrypto, body: str) -> None:
    with pytest.raises(XMLParseError) as info:
        crypto.decrypt("0" * 40, "1", "2", body)
    assert type(info.value) is XMLParseError
    assert info.value.code == -40002


BILLION_LAUGHS = (
    '<?xml version="1.0"?>\n<!DOCTYPE xml [\n<!ENTITY lol "lol">\n'
    + "".join(
        f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10 if i > 1 else "&lol;" * 10}">\n'
        for i in range(1, 10)
    )
    + "]>\n<xml><Encrypt>&lol9;</Encrypt></xml>"
)
EXTERNAL_ENTITY = (
    '<?xml version="1.0"?>\n<!DOCTYPE xml [<!ENTITY ext SYSTEM "file:///etc/passwd">]>\n'
    "<xml><Encrypt>&ext;</Encrypt></xml>"
)
PARAMETER_ENTITY = (
    '<?xml version="1.0"?>\n<!DOCTYPE xml [<!ENTITY % p SYSTEM "http://127.0.0.1:9/x.dtd"> %p;]>\n'
    "<xml><Encrypt>x</Encrypt></xml>"
)
PLAIN_DTD = '<!DOCTYPE xml SYSTEM "http://127.0.0.1:9/x.dtd"><xml><Encrypt>x</Encrypt></xml>'


@pytest.mark.parametrize(
    "body",
    [BILLION_LAUGHS, EXTERNAL_ENTITY, PARAMETER_ENTITY, PLAIN_DTD],
    ids=["billion-laughs", "external-entity", "parameter-entity", "external-dtd"],
)
def test_hostile_xml_is_refused_before_expansion(crypto: CallbackCrypto, body: str) -> None:
    tracemalloc.start()
    try:
        with pytest.raises(UnsafeXMLError) as info:
            crypto.decrypt("0" * 40, "1", "2", body.encode())
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert info.value.code == -40002
    assert peak < 2_000_000  # 10**9 "lol"s would need gigabytes


def test_body_over_the_limit() -> None:
    crypto = CallbackCrypto(TOKEN, AES_KEY, CORP_ID, max_body_bytes=1000)
    encrypted = crypto.encrypt_message("z" * 800)
    signature = crypto.signature("1", "2", encrypted)
    with pytest.raises(BodyTooLargeError) as info:
        crypto.decrypt(signature, "1", "2", envelope(encrypted))
    assert info.value.code == -40002
    with pytest.raises(BodyTooLargeError):
        crypto.decrypt(signature, "1", "2", envelope(encrypted).encode())
    small = crypto.encrypt_message("z")
    assert crypto.decrypt(crypto.signature("1", "2", small), "1", "2", envelope(small)) == "z"


def test_default_limit_is_64_kib(crypto: CallbackCrypto) -> None:
    body = "<xml><Encrypt>" + "A" * (64 * 1024) + "</Encrypt></xml>"
    with pytest.raises(BodyTooLargeError):
        crypto.decrypt("0" * 40, "1", "2", body)


@given(data=st.binary(max_size=300) | st.text(max_size=300))
def test_garbage_only_ever_raises_callback_errors(data: bytes | str) -> None:
    crypto = CallbackCrypto(TOKEN, AES_KEY, CORP_ID)
    with pytest.raises(CallbackError):
        crypto.decrypt("0" * 40, "1", "2", data)
    text = data if isinstance(data, str) else data.decode("latin-1")
    with pytest.raises(CallbackError):
        crypto.decrypt_message(text)
    with pytest.raises(CallbackError):
        crypto.verify_url(crypto.signature("1", "2", text.replace(" ", "+")), "1", "2", text)


@given(data=st.binary(min_size=1, max_size=200).map(lambda b: b * (32 // len(b) + 1)))
def test_signed_garbage_ciphertext_raises_a_decrypt_or_receive_id_error(data: bytes) -> None:
    crypto = CallbackCrypto(TOKEN, AES_KEY, CORP_ID)
    encrypted = base64.b64encode(data[: len(data) // 16 * 16]).decode()
    with pytest.raises((DecryptError, ReceiveIdError)):
        crypto.decrypt(crypto.signature("1", "2", encrypted), "1", "2", envelope(encrypted))


# -- configuration and secrecy --------------------------------------------------------------


@pytest.mark.parametrize(
    ("token", "key"),
    [
        ("", AES_KEY),
        ("t" * 33, AES_KEY),
        ("tok en", AES_KEY),
        (TOKEN, AES_KEY[:-1]),
        (TOKEN, AES_KEY + "H"),
        (TOKEN, AES_KEY[:-1] + "="),
        (TOKEN, AES_KEY[:-1] + "+"),
    ],
)
def test_invalid_configuration(token: str, key: str) -> None:
    with pytest.raises(CallbackConfigError) as info:
        CallbackCrypto(token, key, CORP_ID)
    assert isinstance(info.value, ValueError)
    assert isinstance(info.value, WeComError)
    assert info.value.code == -40004
    if token:
        assert token not in str(info.value)
    assert key not in str(info.value)


def test_repr_and_errors_never_show_the_secrets(crypto: CallbackCrypto) -> None:
    assert repr(crypto) == (
        f"CallbackCrypto(receive_id={CORP_ID!r}, token=***, encoding_aes_key=***)"
    )
    key_bytes = base64.b64decode(AES_KEY + "=")
    errors: list[CallbackError] = []
    for call in (
        lambda: crypto.decrypt("bad", "1", "2", envelope(crypto.encrypt_message("x"))),
        lambda: crypto.decrypt_message("!!"),
        lambda: CallbackCrypto(TOKEN, AES_KEY[:40], CORP_ID),
    ):
        with pytest.raises(CallbackError) as info:
            call()
        errors.append(info.value)
    for error in errors:
        for text in (str(error), repr(error)):
            assert TOKEN not in text
            assert AES_KEY not in text
            assert AES_KEY[:40] not in text
            assert repr(key_bytes) not in text
