"""The request pipeline: one exchange, the envelope check, and the bounded retry loop.

``Core.call`` is the only way a request leaves the SDK::

    call(endpoint)                     retry loop: decide() after each failure, anyio.sleep
      auth.call(...)                   token injection, one invalidate + refresh + resend
        exchange(...)                  in-flight cap, httpx send, JSON decode
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Final, Literal

import anyio
import attrs
import httpx

from ._exceptions import (
    APITimeoutError,
    ClientClosedError,
    ResponseError,
    TransportError,
    ValidationError,
    WeComError,
    error_for_errcode,
)
from ._logging import logger, redact, request_line
from ._options import RequestOptions
from ._retry import RetryPolicy, decide
from .models._base import JsonObject

__all__ = ["Core", "Endpoint", "Exchange", "Files", "Params"]

Params = Mapping[str, str | int]
#: Multipart files: field name -> (filename, content, content type).
Files = Mapping[str, tuple[str, bytes, str]]
Exchange = Callable[[Params], Awaitable[JsonObject]]

#: Keys of the envelope, stripped before a response is structured into its model.
ENVELOPE_KEYS: Final = ("errcode", "errmsg")

_NOT_SENT: Final = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
_NOT_JSON: Final = object()


@attrs.frozen
class Endpoint:
    """One WeCom endpoint: verb, path under ``/cgi-bin/``, and whether it may be resent."""

    method: Literal["GET", "POST"]
    path: str
    retry_safe: bool
    authenticated: bool = True
    #: The path as it appears in the URL, e.g. ``/cgi-bin/externalcontact/get``.
    url_path: str = attrs.field(init=False, eq=False, repr=False)
    #: ``METHOD /cgi-bin/path`` (never contains the query, so never a token).
    line: str = attrs.field(init=False, eq=False, repr=False)

    @url_path.default
    def _url_path(self) -> str:
        return f"/cgi-bin/{self.path}"

    @line.default
    def _line(self) -> str:
        return request_line(self.method, self.url_path)


class Auth:
    """What the core needs from the token layer (implemented in ``_auth.py``)."""

    async def call(self, endpoint: Endpoint, params: Params, exchange: Exchange) -> JsonObject:
        """Send through ``exchange`` with whatever credentials ``endpoint`` needs."""
        return await exchange(params)


class Core:
    """Sends requests for one client: HTTP exchange, token layer, envelope, retries."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        base_url: str,
        retry: RetryPolicy,
        max_in_flight: int | None,
        timeout: httpx.Timeout | None,
    ) -> None:
        self._http = http
        self._base_url = base_url.rstrip("/")
        self.retry = retry
        # None when the transport already caps connections (ShardedTransport).
        self._in_flight = anyio.Semaphore(max_in_flight) if max_in_flight else None
        self._timeout = timeout
        self.auth: Auth = Auth()
        #: Set by the client's ``aclose``; every later send is refused.
        self.closed = False

    async def call(
        self,
        endpoint: Endpoint,
        *,
        params: Params | None = None,
        json_body: Mapping[str, object] | None = None,
        files: Files | None = None,
        options: RequestOptions | None = None,
    ) -> JsonObject:
        """Send ``endpoint`` and return the decoded response, envelope checked.

        ``options`` are the caller's per-call options (:class:`RequestOptions`).

        Raises:
            ValidationError: ``options`` cannot apply (a body for a GET, an access_token).
            APIError: WeCom answered a non-zero errcode (a subclass where one is named).
            TransportError: the exchange failed and no retry was allowed or left.
            ResponseError: the answer was not a WeCom envelope.
        """
        params, json_body = _apply_options(endpoint, params, json_body, options)
        content = (
            json.dumps(json_body, ensure_ascii=False, separators=(",", ":")).encode()
            if json_body is not None
            else None
        )

        async def exchange(query: Params) -> JsonObject:
            return await self._exchange(endpoint, query, content, files)

        attempt = 0
        while True:
            attempt += 1
            try:
                data = await self.auth.call(endpoint, params or {}, exchange)
                self._check(endpoint, data)
                return data
            except WeComError as error:
                delay = decide(error, attempt, retry_safe=endpoint.retry_safe, policy=self.retry)
                if delay is None:
                    raise
                logger.debug(
                    "retrying %s in %.2f s after %s (attempt %d of %d)",
                    endpoint.line,
                    delay,
                    _describe(error),
                    attempt + 1,
                    self.retry.max_attempts,
                )
                await anyio.sleep(delay)

    def _check_open(self, endpoint: Endpoint) -> None:
        if self.closed:
            raise ClientClosedError(
                "this WeComClient is closed; create a new one", request_line=endpoint.line
            )

    @staticmethod
    def _check(endpoint: Endpoint, data: JsonObject) -> None:
        errcode = data.get("errcode", 0)
        if errcode:
            errmsg = data.get("errmsg")
            raise error_for_errcode(
                errcode if isinstance(errcode, int) else -1,
                errmsg if isinstance(errmsg, str) else "",
                request_line=endpoint.line,
            )

    async def _exchange(
        self, endpoint: Endpoint, query: Params, content: bytes | None, files: Files | None
    ) -> JsonObject:
        request = self._http.build_request(
            endpoint.method,
            self._base_url + endpoint.url_path,
            params=query,
            content=content,
            files=files,
            headers={"Content-Type": "application/json; charset=utf-8"} if content else None,
            timeout=self._timeout if self._timeout is not None else httpx.USE_CLIENT_DEFAULT,
        )
        started = time.perf_counter() if logger.isEnabledFor(logging.DEBUG) else 0.0
        self._check_open(endpoint)
        failure: TransportError | None = None
        try:
            if self._in_flight is None:
                response = await self._http.send(request)
            else:
                async with self._in_flight:
                    response = await self._http.send(request)
        except httpx.TimeoutException as exc:
            failure = APITimeoutError(
                f"{type(exc).__name__}: WeCom did not answer in time",
                request_line=endpoint.line,
                sent=not isinstance(exc, _NOT_SENT),
            )
        except RuntimeError:
            # httpx refuses to send on a client closed under us (a given client closed by
            # its owner, or our aclose racing an in-flight call); its message has no URL.
            if not self._http.is_closed:
                raise
            self.closed = True
            self._check_open(endpoint)
            raise
        except httpx.TransportError as exc:
            failure = TransportError(
                redact(f"{type(exc).__name__}: {exc}"),
                request_line=endpoint.line,
                sent=not isinstance(exc, _NOT_SENT),
            )
        if failure is not None:
            # Raised outside the handler, so the httpx error (its request URL holds the
            # access token) is not kept as __context__: ``from None`` only hides it.
            raise failure
        if started:
            logger.debug(
                "%s -> HTTP %d in %.1f ms",
                endpoint.line,
                response.status_code,
                (time.perf_counter() - started) * 1000,
            )
        return _decode(endpoint, response)


def _apply_options(
    endpoint: Endpoint,
    params: Params | None,
    json_body: Mapping[str, object] | None,
    options: RequestOptions | None,
) -> tuple[Params | None, Mapping[str, object] | None]:
    """Merge ``extra_query`` / ``extra_body`` into what is sent, refusing what cannot apply."""
    if not options:
        return params, json_body
    extra_query = options.get("extra_query")
    if extra_query:
        if any(key.lower() == "access_token" for key in extra_query):
            raise ValidationError("extra_query must not carry access_token: the SDK adds it")
        params = {**(params or {}), **extra_query}
    extra_body = options.get("extra_body")
    if extra_body:
        if endpoint.method != "POST":
            raise ValidationError(f"extra_body needs a POST endpoint; {endpoint.line} is a GET")
        json_body = {**(json_body or {}), **extra_body}
    return params, json_body


def _decode(endpoint: Endpoint, response: httpx.Response) -> JsonObject:
    if response.status_code != 200:
        raise ResponseError(
            f"HTTP {response.status_code} instead of a WeCom envelope",
            request_line=endpoint.line,
            status_code=response.status_code,
        )
    try:
        # WeCom's bodies may hold raw control characters inside strings: decode leniently.
        data = json.loads(response.content, strict=False)
    except ValueError:
        # Raised outside the handler: the decode error holds the whole body as __context__,
        # and a proxy's error page may echo the request URL, token included.
        data = _NOT_JSON
    if data is _NOT_JSON:
        raise ResponseError(
            f"the body is not valid JSON ({len(response.content)} bytes)",
            request_line=endpoint.line,
            status_code=response.status_code,
        )
    if not isinstance(data, dict):
        raise ResponseError(
            "the body is not a JSON object", request_line=endpoint.line, status_code=200
        )
    return data


def _describe(error: WeComError) -> str:
    errcode = getattr(error, "errcode", None)
    return f"errcode {errcode}" if errcode is not None else type(error).__name__
