"""Safe reading and writing of the small flat XML documents WeCom pushes.

Reading goes through :mod:`defusedxml` with DTDs, entity declarations and external
references all forbidden, after a size check, so that a hostile body (a "billion
laughs" entity bomb, an external entity, a huge upload) is refused before it can
cost memory.  Element trees become plain mappings (``tag -> text``); nested elements
become nested mappings, and a tag that repeats becomes a list.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Final, TypeAlias, Union
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from wecom_async.callback._errors import (
    GEN_XML_ERROR,
    BodyTooLargeError,
    CallbackError,
    UnsafeXMLError,
    XMLParseError,
)

__all__ = [
    "DEFAULT_MAX_BODY_BYTES",
    "XmlValue",
    "check_size",
    "element_to_mapping",
    "envelope_ciphertext",
    "parse_xml",
    "to_xml",
]

#: Default limit for a pushed body or a decrypted message: 64 KiB.  Real events are under
#: 2 KiB; the largest WeCom documents, a group update listing changed members
#: (``MemChangeList``, about 50 bytes an id), stays under it for a whole 500-member group
#: after base64 (x4/3) and the envelope.  Anything larger is refused before it is read.
DEFAULT_MAX_BODY_BYTES: Final = 64 * 1024

#: Deepest element nesting accepted when converting to mappings (WeCom uses two levels).
MAX_DEPTH: Final = 16

#: The text of a leaf element, or the content of a nested one (repeated tags become lists).
XmlValue: TypeAlias = Union[str, "list[XmlValue]", "dict[str, XmlValue]"]

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*\Z")
_NOT_XML_CHAR = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def check_size(size: int, max_bytes: int) -> None:
    """Raise :class:`BodyTooLargeError` when ``size`` bytes exceed ``max_bytes``."""
    if size > max_bytes:
        raise BodyTooLargeError(f"body of {size} bytes exceeds the limit of {max_bytes} bytes")


# The envelope WeCom posts: <xml> holding flat text elements (CDATA or plain), nothing
# else.  Matched, not parsed: no entity, DTD or nesting is ever expanded, and the pattern
# runs in linear time (each repetition starts at a fixed "<" and a text run stops at "<").
_ENVELOPE = re.compile(
    rb"(?:\xef\xbb\xbf)?\s*(?:<\?xml(?P<decl>[^<>?]{0,200})\?>\s*)?<xml>\s*"
    rb"(?P<children>(?:<(?P<tag>[A-Za-z][A-Za-z0-9_]{0,63})>"
    rb"(?:<!\[CDATA\[[^\]<>]*\]\]>|[^<>&]*)</(?P=tag)>\s*)*)"
    rb"</xml>\s*\Z"
)
_ENCRYPT = re.compile(rb"<Encrypt>(?:<!\[CDATA\[([^\]<>]*)\]\]>|([^<>&]*))</Encrypt>")
_ENCODING = re.compile(rb"""encoding\s*=\s*["']([^"']*)["']""")


def envelope_ciphertext(body: str | bytes, *, max_bytes: int = DEFAULT_MAX_BODY_BYTES) -> str:
    """Return the ``Encrypt`` text of a posted envelope without parsing it as XML.

    Only the ciphertext is needed to check the signature and decrypt; the other
    elements (``ToUserName``, ``AgentID``) are not used.  A strict linear-time match
    reads it, so an unauthenticated body costs no parser work at all.

    Raises:
        BodyTooLargeError: ``body`` is larger than ``max_bytes``.
        UnsafeXMLError: it declares a DTD or entities.
        XMLParseError: it is not ``<xml>`` with flat text elements, declares an encoding
            other than UTF-8, or has no single non-empty ``<Encrypt>``.
    """
    if isinstance(body, str):
        check_size(len(body), max_bytes)
        body = body.encode("utf-8", errors="surrogatepass")
    elif not isinstance(body, (bytes, bytearray, memoryview)):
        raise XMLParseError(f"expected str or bytes, got {type(body).__name__}")
    data = bytes(body)
    check_size(len(data), max_bytes)
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        raise UnsafeXMLError("forbidden XML construct: a DTD or an entity declaration")
    match = _ENVELOPE.match(data)
    if match is None:
        raise XMLParseError("the envelope is not <xml> holding flat text elements")
    declared = _ENCODING.search(match["decl"] or b"")
    if declared and declared[1].lower().replace(b"_", b"-") not in (b"utf-8", b"utf8"):
        raise XMLParseError("the envelope declares an encoding other than UTF-8")
    found = [cdata or text for cdata, text in _ENCRYPT.findall(match["children"])]
    if len(found) != 1 or not found[0]:
        raise XMLParseError("the envelope has no single non-empty <Encrypt> element")
    try:
        return bytes(found[0]).decode("utf-8")
    except UnicodeDecodeError:
        raise XMLParseError("the <Encrypt> element is not UTF-8") from None


def parse_xml(data: str | bytes, *, max_bytes: int = DEFAULT_MAX_BODY_BYTES) -> Element:
    """Parse one ``<xml>...</xml>`` document safely.

    Raises:
        BodyTooLargeError: the document is larger than ``max_bytes`` (checked before parsing).
        UnsafeXMLError: it declares a DTD or entities, or references external resources.
        XMLParseError: it is not well-formed XML or its root element is not ``<xml>``.
    """
    if isinstance(data, str):
        check_size(len(data), max_bytes)  # each character is at least one byte
        data = data.encode("utf-8", errors="surrogatepass")
    elif not isinstance(data, (bytes, bytearray, memoryview)):
        raise XMLParseError(f"expected str or bytes, got {type(data).__name__}")
    check_size(len(data), max_bytes)
    try:
        root = fromstring(bytes(data), forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise UnsafeXMLError(f"forbidden XML construct: {type(exc).__name__}") from None
    except LookupError:  # an encoding Python does not know ("x-bogus", "rot13")
        raise XMLParseError("malformed XML: unknown or unsupported encoding") from None
    except (ParseError, ValueError, SyntaxError) as exc:
        # expat's message is fixed text with a line and column, never the document.
        raise XMLParseError(f"malformed XML: {str(exc)[:120]}") from None
    if root.tag != "xml":
        raise XMLParseError("the root element is not <xml>")
    return root


def element_to_mapping(element: Element, *, _depth: int = 0) -> dict[str, XmlValue]:
    """Return the children of ``element`` as ``tag -> value``, in document order.

    A leaf becomes its text (``""`` when empty), an element with children a nested
    mapping, and a tag seen more than once a list of its values.  Attributes and text
    mixed with child elements are ignored: WeCom uses neither.
    """
    if _depth >= MAX_DEPTH:
        raise XMLParseError(f"XML nested deeper than {MAX_DEPTH} levels")
    grouped: dict[str, list[XmlValue]] = {}
    for child in element:
        if not isinstance(child.tag, str):  # comments and processing instructions
            continue
        value: XmlValue = (
            element_to_mapping(child, _depth=_depth + 1) if len(child) else (child.text or "")
        )
        grouped.setdefault(child.tag, []).append(value)
    # A leaf or nested value is never a list, so a list always means "repeated tag".
    return {tag: values[0] if len(values) == 1 else values for tag, values in grouped.items()}


def to_xml(fields: Iterable[tuple[str, XmlValue | int]]) -> str:
    """Build ``<xml>...</xml>`` from ``(tag, value)`` pairs, the way WeCom writes it.

    Strings are written as CDATA, ints as plain text, mappings as nested elements and
    lists as repeated elements.

    Raises:
        CallbackError: a tag is not a valid XML name (code -40011).
    """
    parts: list[str] = ["<xml>"]
    for tag, value in fields:
        _write(parts, tag, value)
    parts.append("</xml>")
    return "".join(parts)


def _write(parts: list[str], tag: str, value: XmlValue | int) -> None:
    if not _NAME.match(tag):
        raise CallbackError(f"invalid XML tag name {tag!r}", code=GEN_XML_ERROR)
    if isinstance(value, list):
        for item in value:
            _write(parts, tag, item)
        return
    parts.append(f"<{tag}>")
    if isinstance(value, Mapping):
        for child_tag, child in value.items():
            _write(parts, child_tag, child)
    elif isinstance(value, bool):
        raise CallbackError(f"cannot write a bool for <{tag}>", code=GEN_XML_ERROR)
    elif isinstance(value, int):
        parts.append(str(value))
    elif value:
        if _NOT_XML_CHAR.search(value):
            raise CallbackError(f"<{tag}> holds a character XML cannot carry", code=GEN_XML_ERROR)
        # "]]>" cannot appear inside CDATA, and a parser turns a raw CR into LF:
        # close the section around both and write them so they survive.
        text = value.replace("]]>", "]]]]><![CDATA[>").replace("\r", "]]>&#13;<![CDATA[")
        parts.append(f"<![CDATA[{text}]]>")
    parts.append(f"</{tag}>")
