"""The request pipeline: one exchange, the envelope check, and the bounded retry loop.

``Core.call`` is the only way a request leaves the SDK::

    call(endpoint)                     the call's budget: max_attempts and one deadline
      attempts(...)                    retry loop: decide() after each failure, anyio.sleep
        auth.call(...)                 token injection, one invalidate + refresh + resend
          call(GETTOKEN)               a token fetch, nested: it spends the same budget
          exchange(...)                in-flight cap, httpx send, JSON decode

A call has one budget (:class:`_Budget`): ``RetryPolicy.max_attempts`` attempts and one
deadline, covering everything the call does. The token fetch a call triggers runs as a
nested ``call`` in the caller's task; it finds the caller's budget in a context variable
and spends it instead of starting its own, so a failing gettoken never multiplies the
attempts of the call that needed it (no retry loop inside a retry loop). An attempt is
one pass through ``auth.call``: a failed gettoken fails the attempt, a successful one lets
the same attempt send the request.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from contextvars import ContextVar
from typing import Final, Generic, Literal

import anyio
import attrs
import httpx
from typing_extensions import TypeVar

from ._budget import budget_key
from ._exceptions import (
    APITimeoutError,
    ClientClosedError,
    RateLimitError,
    ValidationError,
    WeComError,
    error_for_errcode,
)
from ._logging import logger, redact, request_line
from ._options import RequestOptions, check_options
from ._retry import DEFAULT_DEADLINE, RetryPolicy, decide
from ._validation import check_seconds
from ._wire import (
    EXCHANGE_LIMIT,
    MAX_BODY_BYTES,
    NOT_SENT,
    Answer,
    BodyTooLarge,
    RateBudget,
    decode,
    errcode_of,
    exchange_failure,
    overlong,
    oversized,
    read_body,
)
from .models._base import EmptyResponse, JsonObject, WireModel

__all__ = ["Core", "Endpoint", "Exchange", "Files", "Params", "Settled", "check_deadline"]

Params = Mapping[str, str | int]
#: Multipart files: field name -> (filename, content, content type).
Files = Mapping[str, tuple[str, bytes, str]]
Exchange = Callable[[Params], Awaitable[JsonObject]]
#: The whole-answer model of an endpoint.
R = TypeVar("R", bound=WireModel, covariant=True, default=WireModel)

#: Keys of the envelope, stripped before a response is structured into its model.
ENVELOPE_KEYS: Final = ("errcode", "errmsg")
#: The header of a JSON body (a fresh httpx.Headers is built from it per request).
_JSON_HEADERS: Final = {"Content-Type": "application/json; charset=utf-8"}


@attrs.frozen
class Endpoint(Generic[R]):
    """One WeCom endpoint: verb, path under ``/cgi-bin/``, whether it may be resent, and
    what it answers.

    ``token`` names the one kind of token an endpoint takes, when only one will do
    (``suite_access_token`` / ``provider_access_token`` for a service provider's own
    calls): only a client carrying that kind sends it. None (most endpoints): the token
    of the client it is called on.
    ``response`` is the model of the whole answer (envelope aside): services structure
    every answer into it, so no field WeCom sends is lost. ``key`` names the field of that
    model a service method returns when it returns a part of the answer (the items of a
    page, an id); ``None`` when the method returns the whole model or nothing.
    """

    method: Literal["GET", "POST"]
    path: str
    retry_safe: bool
    authenticated: bool = True
    response: type[R] = attrs.field(default=EmptyResponse, kw_only=True)  # type: ignore[assignment]
    key: str | None = attrs.field(default=None, kw_only=True)
    token: str | None = attrs.field(default=None, kw_only=True)
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


class Settled(Exception):
    """Carries an error whose retry decision was already made: the core raises it as it is.

    The token layer wraps a failed token fetch in it. Either the fetch was this call's own
    (a nested call that already spent this call's attempts) or it was another caller's,
    whose failure every caller waiting on it shares; retrying it here would start the
    fetch cycle again per caller.
    """

    def __init__(self, error: WeComError) -> None:
        super().__init__(type(error).__name__)
        self.error = error


class Auth:
    """What the core needs from the token layer (implemented in ``_auth.py``)."""

    async def call(self, endpoint: Endpoint, params: Params, exchange: Exchange) -> JsonObject:
        """Send through ``exchange`` with whatever credentials ``endpoint`` needs.

        Raises:
            Settled: the credentials could not be had; its error is final for the call.
        """
        return await exchange(params)


@attrs.frozen
class _Request:
    """What one call sends, encoded once for every attempt."""

    endpoint: Endpoint
    params: Params
    content: bytes | None
    files: Files | None


@attrs.define(eq=False)
class _Budget:
    """What one call may still spend: attempts, and time until ``deadline`` (anyio clock)."""

    core: Core
    endpoint: Endpoint
    policy: RetryPolicy
    deadline: float
    attempt: int = 1
    #: Whether the call's own request (not a gettoken) may have reached WeCom.
    sent: bool = False

    def covers(self, delay: float) -> bool:
        """Whether waiting ``delay`` seconds still leaves the deadline ahead."""
        return anyio.current_time() + delay < self.deadline


#: The budget of the call running in this task, found by the nested token fetch.
_BUDGET: ContextVar[_Budget | None] = ContextVar("wecom_async_call_budget", default=None)


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
        deadline: float = DEFAULT_DEADLINE,
        rate_budget: RateBudget | None = None,
        rate_scope: str = "",
        exchange_limit: float = EXCHANGE_LIMIT,
        max_body_bytes: int = MAX_BODY_BYTES,
        auth: Callable[[Core], Auth] = lambda core: Auth(),
    ) -> None:
        self._http = http
        self._rate_budget = rate_budget
        #: What this core's budget keys start with (the corp id): WeCom counts per corp.
        self._rate_scope = rate_scope
        self._exchange_limit = exchange_limit
        self._max_body_bytes = max_body_bytes
        self._base_url = base_url.rstrip("/")
        self.retry = retry
        #: Seconds a call may take when its options name no deadline.
        self.deadline = check_deadline(deadline)
        # None when the transport already caps connections (ShardedTransport).
        self._in_flight = anyio.Semaphore(max_in_flight) if max_in_flight else None
        # The per-request timeout as httpx's request extension, built once (None: the
        # client's own timeouts apply).
        self._timeout = None if timeout is None else timeout.as_dict()
        #: The token layer, built for this core (it fetches tokens through it).
        self.auth: Final[Auth] = auth(self)
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

        ``options`` are the caller's per-call options (:class:`RequestOptions`). The call,
        token fetch and waits included, makes at most ``retry.max_attempts`` attempts and
        ends by its deadline (``options["deadline"]``, else the client's).

        Raises:
            ValidationError: ``options`` cannot apply (a body for a GET, an access_token, a
                deadline that is not > 0), or the body cannot be encoded as JSON.
            APIError: WeCom answered a non-zero errcode (a subclass where one is named).
            APITimeoutError: the deadline passed; ``sent`` is False only if the request
                provably never left.
            TransportError: the exchange failed and no retry was allowed or left.
            ResponseError: the answer was not a WeCom envelope.
        """
        params, json_body = _apply_options(endpoint, params, json_body, files, options)
        seconds = (
            check_deadline(options["deadline"])
            if options and "deadline" in options
            else self.deadline
        )
        request = _Request(endpoint, params or {}, _encode(endpoint, json_body), files)
        outer = _BUDGET.get()
        if outer is not None and outer.core is self:
            # The token fetch of a call in progress in this task: it spends that call's budget.
            return await self._attempts(request, outer)
        return await self._budgeted(request, seconds)

    async def _budgeted(self, request: _Request, seconds: float) -> JsonObject:
        """Attempt ``request`` under a fresh budget: the policy's attempts, ``seconds`` in all."""
        budget = _Budget(self, request.endpoint, self.retry, anyio.current_time() + seconds)
        token = _BUDGET.set(budget)
        try:
            with anyio.move_on_after(seconds):
                return await self._attempts(request, budget)
        finally:
            _BUDGET.reset(token)
        raise APITimeoutError(
            f"the call did not finish within its deadline of {seconds:g} s",
            request_line=request.endpoint.line,
            sent=budget.sent,
        )

    async def _attempts(self, request: _Request, budget: _Budget) -> JsonObject:
        """Attempt ``request`` until it succeeds, its error is final or the budget is spent."""
        endpoint = request.endpoint
        while True:
            try:
                return await self._attempt(request, budget)
            except Settled as settled:
                error, delay = settled.error, None
            except WeComError as failed:
                error = failed
                delay = decide(
                    error, budget.attempt, retry_safe=endpoint.retry_safe, policy=budget.policy
                )
                if self._rate_budget is not None and _frequency_limited(error):
                    delay = await self._blocked(endpoint, budget.policy, delay)
            # Raised outside the except clauses, so that Settled never becomes its context.
            if delay is None:
                raise error
            if not budget.covers(delay):
                logger.debug(
                    "not retrying %s after %s: a %.2f s wait would pass the call's deadline",
                    endpoint.line,
                    _describe(error),
                    delay,
                )
                raise error
            logger.debug(
                "retrying %s in %.2f s after %s (attempt %d of %d)",
                endpoint.line,
                delay,
                _describe(error),
                budget.attempt + 1,
                budget.policy.max_attempts,
            )
            await anyio.sleep(delay)
            budget.attempt += 1

    async def _blocked(
        self, endpoint: Endpoint, policy: RetryPolicy, delay: float | None
    ) -> float | None:
        """45009: block the API in the rate budget for every caller (and process) sharing
        it, even when this call retries no more; a retry waits as long as the block."""
        assert self._rate_budget is not None
        key = budget_key(self._rate_scope, endpoint.url_path)
        blocked = await self._rate_budget.refused(key, policy.rate_limit_delay)
        return None if delay is None else blocked

    async def _attempt(self, request: _Request, budget: _Budget) -> JsonObject:
        async def exchange(query: Params) -> JsonObject:
            return await self._exchange(request, query, budget)

        data = await self.auth.call(request.endpoint, request.params, exchange)
        self._check(request.endpoint, data)
        return data

    def _check_open(self, endpoint: Endpoint) -> None:
        if self.closed:
            raise _closed_error(endpoint)

    @staticmethod
    def _check(endpoint: Endpoint, data: JsonObject) -> None:
        errcode = errcode_of(endpoint.line, data)
        if errcode:
            errmsg = data.get("errmsg")
            raise error_for_errcode(
                errcode, errmsg if isinstance(errmsg, str) else "", request_line=endpoint.line
            )

    async def _exchange(self, request: _Request, query: Params, budget: _Budget) -> JsonObject:
        endpoint = request.endpoint
        self._check_open(endpoint)
        if self._rate_budget is not None:
            # Paced before the exchange's own time limit starts: waiting one's turn is not
            # WeCom being slow (the call's deadline still covers it).
            await self._rate_budget.acquire(budget_key(self._rate_scope, endpoint.url_path))
        started = time.perf_counter() if logger.isEnabledFor(logging.DEBUG) else 0.0
        # The built request is never a local of this frame: its URL holds the token, and
        # the errors raised here carry this frame in their traceback.
        if self._in_flight is None:
            outcome = await self._send(self._build(request, query), endpoint, budget)
        else:
            async with self._in_flight:
                outcome = await self._send(self._build(request, query), endpoint, budget)
        if isinstance(outcome, WeComError):
            # Raised here, outside the except clause that mapped it: the httpx exception
            # (whose request URL holds the access token) must not stay as its __context__.
            raise outcome
        if started:
            logger.debug(
                "%s -> HTTP %d in %.1f ms",
                endpoint.line,
                outcome.status_code,
                (time.perf_counter() - started) * 1000,
            )
        return decode(endpoint.line, outcome)

    def _build(self, request: _Request, query: Params) -> httpx.Request:
        endpoint = request.endpoint
        try:
            # The query is encoded by httpx's own QueryParams into an absolute URL: the same
            # bytes as build_request(params=...), without its second parse and merge.
            encoded = str(httpx.QueryParams(query)) if query else ""
            url = self._base_url + endpoint.url_path + ("?" + encoded if encoded else "")
            return self._http.build_request(
                endpoint.method,
                httpx.URL(url),
                content=request.content,
                files=request.files,
                headers=_JSON_HEADERS if request.content else None,
                extensions=None if self._timeout is None else {"timeout": dict(self._timeout)},
            )
        except (httpx.InvalidURL, TypeError, ValueError) as exc:
            problem = f"{type(exc).__name__}: {exc}"
        raise ValidationError(redact(f"{endpoint.line} cannot be sent as given: {problem}"))

    async def _send(
        self, request: httpx.Request, endpoint: Endpoint, budget: _Budget
    ) -> Answer | WeComError:
        """Send ``request`` and read its body within the exchange's bounds.

        A failure comes back as the WeComError to raise for it.
        """
        may_have_left = True
        try:
            if budget.deadline - anyio.current_time() <= self._exchange_limit:
                # The call's own deadline comes first and bounds the exchange already.
                return await self._receive(request)
            with anyio.move_on_after(self._exchange_limit):
                return await self._receive(request)
            return overlong(endpoint.line, self._exchange_limit)
        except BodyTooLarge as exc:
            return oversized(endpoint.line, exc.args[0])
        except httpx.StreamError as exc:
            return exchange_failure(endpoint.line, exc)
        except RuntimeError as exc:
            if not self._http.is_closed:
                return exchange_failure(endpoint.line, exc)
            # httpx refuses to send on a client closed under us: a given client closed by
            # its owner, or our aclose() racing this call. Nothing left.
            may_have_left = False
            self.closed = True
            return _closed_error(endpoint)
        except ValidationError as exc:
            # The SDK's own transport refusing before it sends (aiohttp outside asyncio).
            # A fresh error: the refused one's traceback runs through httpx's frames, whose
            # locals hold the request URL (the token, or gettoken's corpsecret).
            may_have_left = False
            return ValidationError(str(exc))
        except Exception as exc:
            may_have_left = not isinstance(exc, NOT_SENT)
            return exchange_failure(endpoint.line, exc)
        finally:
            # Also on cancellation (the deadline): a request cut off mid-send may have arrived.
            if may_have_left and endpoint is budget.endpoint:
                budget.sent = True

    async def _receive(self, request: httpx.Request) -> Answer:
        response = await self._http.send(request, stream=True)
        try:
            answer = await read_body(response, self._max_body_bytes)
        except BaseException:
            # Shielded: the connection (a ShardedTransport shard) must come back even when
            # the deadline cancels the read.
            with anyio.CancelScope(shield=True):
                await response.aclose()
            raise
        await response.aclose()
        return answer


def _frequency_limited(error: WeComError) -> bool:
    """WeCom's frequency limit (45009): the minute's and the hour's, one errcode for both."""
    return isinstance(error, RateLimitError) and error.errcode == 45009


def _closed_error(endpoint: Endpoint) -> ClientClosedError:
    return ClientClosedError(
        "this WeComClient is closed; create a new one", request_line=endpoint.line
    )


def check_deadline(value: object) -> float:
    """Return ``value`` as seconds if it is a number > 0 (``math.inf``: no deadline).

    Raises:
        ValidationError: ``value`` is not a number, is a bool, NaN, zero or negative.
    """
    return check_seconds(value, "deadline", infinite=True)


def _apply_options(
    endpoint: Endpoint,
    params: Params | None,
    json_body: Mapping[str, object] | None,
    files: Files | None,
    options: RequestOptions | None,
) -> tuple[Params | None, Mapping[str, object] | None]:
    """Merge ``extra_query`` / ``extra_body`` into what is sent, refusing what cannot apply.

    The one place options are checked and applied, for service methods and
    ``WeComClient.request`` alike.
    """
    options = check_options(options)
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
        if files is not None:
            raise ValidationError(
                f"extra_body needs a JSON body; {endpoint.line} is a multipart upload"
            )
        json_body = {**(json_body or {}), **extra_body}
    return params, json_body


def _encode(endpoint: Endpoint, body: Mapping[str, object] | None) -> bytes | None:
    """The JSON body as sent, or ValidationError for what JSON cannot carry (sets, NaN, ...)."""
    if body is None:
        return None
    try:
        text = json.dumps(body, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
        return text.encode()
    except (TypeError, ValueError, RecursionError) as exc:
        problem = f"{type(exc).__name__}: {exc}"
    raise ValidationError(redact(f"the JSON body of {endpoint.line} cannot be encoded: {problem}"))


def _describe(error: WeComError) -> str:
    errcode = getattr(error, "errcode", None)
    return f"errcode {errcode}" if errcode is not None else type(error).__name__
