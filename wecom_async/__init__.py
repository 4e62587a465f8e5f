"""wecom_async: the asyncio-native, typed SDK for the WeCom (企业微信) 客户联系 APIs."""

from ._budget import MemoryRateBudget
from ._client import DEFAULT_BASE_URL, WeComClient
from ._converter import from_dict, to_dict
from ._exceptions import (
    APIError,
    APITimeoutError,
    ClientClosedError,
    ConfigurationError,
    ConflictError,
    NotAuthorizedError,
    PermissionDeniedError,
    RateLimitError,
    ResponseError,
    StructureError,
    SuiteTicketError,
    SystemBusyError,
    TokenError,
    TransportError,
    ValidationError,
    WeComError,
)
from ._options import RequestOptions
from ._retry import RetryPolicy
from ._token import IssuedToken, Lease, MemoryTokenStore, TokenManager, TokenStore
from ._transport import ShardedTransport
from ._wire import RateBudget
from .pagination import AsyncPaginator, FailInfo, Page

__version__ = "0.1.0.dev0"

__all__ = [
    "DEFAULT_BASE_URL",
    "APIError",
    "APITimeoutError",
    "AsyncPaginator",
    "ClientClosedError",
    "ConfigurationError",
    "ConflictError",
    "FailInfo",
    "IssuedToken",
    "Lease",
    "MemoryRateBudget",
    "MemoryTokenStore",
    "NotAuthorizedError",
    "Page",
    "PermissionDeniedError",
    "RateBudget",
    "RateLimitError",
    "RequestOptions",
    "ResponseError",
    "RetryPolicy",
    "ShardedTransport",
    "StructureError",
    "SuiteTicketError",
    "SystemBusyError",
    "TokenError",
    "TokenManager",
    "TokenStore",
    "TransportError",
    "ValidationError",
    "WeComClient",
    "WeComError",
    "__version__",
    "from_dict",
    "to_dict",
]
