"""Per-call options: the keyword arguments every service method accepts.

They are the ecosystem's escape hatch (as openai-python's ``extra_body=`` /
``extra_query=``): when WeCom adds a request field before this SDK models it, send it
without waiting for a release. Typos in a request's own fields are still refused; only
what is passed here goes out unchecked.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Final

from typing_extensions import TypedDict

from ._exceptions import ValidationError

__all__ = ["OPTION_KEYS", "RequestOptions", "check_options"]


class RequestOptions(TypedDict, total=False):
    """Options of one call, given as keyword arguments to any service method.

    Attributes:
        extra_body: keys merged into the JSON body after it was validated (a POST only);
            they win over the SDK's keys of the same name.
        extra_query: query parameters added to the URL (never ``access_token``).
        deadline: seconds the whole call may take, retries, rate-limit waits and the
            token fetch included; :class:`~wecom_async.APITimeoutError` past it.
    """

    extra_body: Mapping[str, object]
    extra_query: Mapping[str, str | int]
    deadline: float


#: The keyword arguments a service method takes besides its own parameters.
OPTION_KEYS: Final = frozenset(RequestOptions.__annotations__)


def check_options(options: RequestOptions | None) -> RequestOptions | None:
    """Refuse per-call options that are misspelt or of the wrong shape, before sending.

    A service method gathers its unknown keyword arguments into ``options``, so a typo in
    a parameter name lands here and is refused instead of silently dropped.

    Raises:
        ValidationError: an unknown option, or ``extra_body`` / ``extra_query`` that is
            not a mapping of string keys to JSON (query: str or int) values.
    """
    if not options:
        return None
    unknown = sorted(set(options) - OPTION_KEYS)
    if unknown:
        raise ValidationError(
            f"unexpected keyword argument(s) {unknown}; the per-call options are "
            f"{sorted(OPTION_KEYS)}"
        )
    extra_body: object = options.get("extra_body")
    if extra_body is not None:
        _check_string_keys(extra_body, "extra_body")
        try:
            json.dumps(extra_body)
        except (TypeError, ValueError) as exc:
            raise ValidationError(f"extra_body is not JSON-serialisable: {exc}") from None
    extra_query: object = options.get("extra_query")
    if extra_query is not None:
        for key, value in _check_string_keys(extra_query, "extra_query").items():
            if not isinstance(value, str | int):
                raise ValidationError(f"extra_query[{key!r}] must be a str or int, got {value!r}")
    return options


def _check_string_keys(value: object, name: str) -> Mapping[str, object]:
    if not isinstance(value, Mapping) or not all(isinstance(key, str) for key in value):
        raise ValidationError(f"{name} must be a mapping with string keys, got {value!r}")
    return value
