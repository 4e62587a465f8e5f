"""Per-call options: the keyword arguments every service method accepts.

They are the ecosystem's escape hatch (as openai-python's ``extra_body=`` /
``extra_query=``): when WeCom adds a request field before this SDK models it, send it
without waiting for a release. Typos in a request's own fields are still refused; only
what is passed here goes out unchecked.
"""

from __future__ import annotations

from collections.abc import Mapping

from typing_extensions import TypedDict

__all__ = ["RequestOptions"]


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
