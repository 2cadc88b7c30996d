"""Errors at the HTTP edge: every failure leaves the server as ``application/problem+json``.

Business code raises only the ``wagerkit`` error tree (``wagerkit.domain.errors``); this module
translates it, Sanic's routing errors and anything unexpected into an RFC 9457 problem::

    {"type": "https://wagerkit.dev/problems/insufficient_funds", "title": "Insufficient funds",
     "status": 409, "detail": "...", "code": "insufficient_funds", "instance": "/api/v1/..."}

``code`` is the stable machine code (the ``code`` of the wagerkit error, or an edge code such as
``malformed_json``); clients switch on it, never on ``title`` or ``detail``. Status by class
(the nearest listed ancestor wins):

=====================  ======  =====================================
InvalidInput           422     and every subclass
NotFound               404
PermissionDenied       403
Conflict               409     incl. IdempotencyConflict
LedgerRefused          409     InsufficientFunds, …; ``code`` says which
TransientStoreError    503     with ``Retry-After: 1``
RateLimited            429     with ``Retry-After`` from the error (whole seconds, at least 1)
StoreError             503
WagerkitError          500     an unclassified error (a bug): detail kept, logged
=====================  ======  =====================================

Anything that is neither a wagerkit error nor an HTTP error becomes a 500 whose body says only
"An unexpected error occurred" plus an ``error_id`` that is also in the server log next to
the traceback. No exception text, traceback or debug page ever reaches a client.
"""

from __future__ import annotations

import logging
import math
import uuid
from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any

from sanic import HTTPResponse, Request
from sanic.exceptions import BadRequest, SanicException
from sanic.handlers import ErrorHandler
from sanic.response import json as json_response

from wagerkit import (
    AuthenticationFailed,
    Conflict,
    InvalidInput,
    LedgerRefused,
    NotFound,
    PermissionDenied,
    RateLimited,
    StoreError,
    TransientStoreError,
    WagerkitError,
    WebhookSignatureInvalid,
)

__all__ = [
    "PROBLEM_CONTENT_TYPE",
    "PROBLEM_TYPE_BASE",
    "STATUS_BY_ERROR",
    "ProblemError",
    "ProblemErrorHandler",
    "RequestValidationError",
    "problem_for_exception",
    "problem_response",
    "status_for",
]

log = logging.getLogger("wagerkit_http.errors")

PROBLEM_CONTENT_TYPE = "application/problem+json"
PROBLEM_TYPE_BASE = "https://wagerkit.dev/problems/"
GENERIC_DETAIL = "An unexpected error occurred."

#: HTTP status for each branch of the wagerkit error tree; looked up along the class's MRO.
STATUS_BY_ERROR: Mapping[type[WagerkitError], int] = {
    InvalidInput: 422,
    AuthenticationFailed: 401,
    RateLimited: 429,
    NotFound: 404,
    PermissionDenied: 403,
    Conflict: 409,
    LedgerRefused: 409,
    TransientStoreError: 503,
    StoreError: 503,
    WagerkitError: 500,
}

#: Machine codes of Sanic's HTTP errors (the rest get a slug of their status phrase).
_SANIC_CODES: Mapping[int, str] = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    408: "request_timeout",
    413: "payload_too_large",
    415: "unsupported_media_type",
    416: "range_not_satisfiable",
    417: "expectation_failed",
    503: "service_unavailable",
}


class ProblemError(Exception):
    """An error that exists only at the HTTP edge (malformed JSON, a failed readiness check …).

    Routes raise it (or a subclass) for conditions the core cannot know about; ``extra``
    members are added to the problem body as RFC 9457 extension members.
    """

    def __init__(
        self,
        status: int,
        code: str,
        detail: str,
        *,
        title: str | None = None,
        extra: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.code = code
        self.detail = detail
        self.title = title or HTTPStatus(status).phrase
        self.extra = dict(extra or {})
        self.headers = dict(headers or {})


class RequestValidationError(ProblemError):
    """A request body (or query) did not match its model: 422 with an ``errors`` list."""

    def __init__(self, errors: Sequence[Mapping[str, Any]], *, where: str = "body") -> None:
        super().__init__(
            422,
            "validation_failed",
            f"the request {where} is not valid",
            title="Validation failed",
            extra={"errors": list(errors)},
        )


def status_for(error: type[WagerkitError] | WagerkitError) -> int:
    """The HTTP status of a wagerkit error class (or instance)."""
    cls = error if isinstance(error, type) else type(error)
    for klass in cls.__mro__:
        if klass in STATUS_BY_ERROR:
            return STATUS_BY_ERROR[klass]
    raise TypeError(f"{cls!r} is not a WagerkitError")


def problem_response(
    status: int,
    code: str,
    title: str,
    detail: str,
    *,
    instance: str | None = None,
    extra: Mapping[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
) -> HTTPResponse:
    """Build an ``application/problem+json`` response."""
    body: dict[str, Any] = {
        "type": f"{PROBLEM_TYPE_BASE}{code}",
        "title": title,
        "status": status,
        "detail": detail,
        "code": code,
    }
    if instance is not None:
        body["instance"] = instance
    for key, value in (extra or {}).items():
        body.setdefault(key, value)
    return json_response(
        body, status=status, headers=dict(headers or {}), content_type=PROBLEM_CONTENT_TYPE
    )


def _slug(status: int) -> str:
    try:
        return HTTPStatus(status).phrase.lower().replace(" ", "_").replace("-", "_")
    except ValueError:
        return "http_error"


def _title(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def _unexpected(request: Request | None, exc: BaseException) -> HTTPResponse:
    error_id = uuid.uuid4().hex
    path = request.path if request is not None else "?"
    log.error("unhandled %s on %s (error_id=%s)", type(exc).__name__, path, error_id, exc_info=exc)
    return problem_response(
        500,
        "internal_error",
        "Internal Server Error",
        GENERIC_DETAIL,
        instance=request.path if request is not None else None,
        extra={"error_id": error_id},
    )


def problem_for_exception(request: Request | None, exc: BaseException) -> HTTPResponse:
    """Translate any exception into a problem response (the one place that does so)."""
    instance = request.path if request is not None else None
    if isinstance(exc, ProblemError):
        return problem_response(
            exc.status,
            exc.code,
            exc.title,
            exc.detail,
            instance=instance,
            extra=exc.extra,
            headers=exc.headers,
        )
    if isinstance(exc, WagerkitError):
        status = status_for(exc)
        headers: dict[str, str] = {}
        if isinstance(exc, TransientStoreError):
            headers["Retry-After"] = "1"
        elif isinstance(exc, RateLimited):
            headers["Retry-After"] = str(max(1, math.ceil(exc.retry_after)))
        elif isinstance(exc, AuthenticationFailed) and not isinstance(exc, WebhookSignatureInvalid):
            headers["WWW-Authenticate"] = "Bearer"
        if status >= 500:
            log.warning("%s on %s: %s", exc.code, instance, exc.detail, exc_info=exc)
        return problem_response(
            status, exc.code, exc.title, exc.detail, instance=instance, headers=headers
        )
    if isinstance(exc, SanicException):
        return _sanic_problem(request, exc)
    return _unexpected(request, exc)


def _sanic_problem(request: Request | None, exc: SanicException) -> HTTPResponse:
    status = int(getattr(exc, "status_code", 500) or 500)
    if status >= 500 and status != 503:
        return _unexpected(request, exc)
    code = _SANIC_CODES.get(status, _slug(status))
    detail = str(getattr(exc, "message", "") or _title(status))
    if _is_validation_error(exc):  # sanic-ext's @validate: its text may echo the input
        status, code, detail = 422, "validation_failed", "the request is not valid"
    elif isinstance(exc, BadRequest) and "parsing body as json" in detail.lower():
        code, detail = "malformed_json", "the request body is not valid JSON"
    headers = {str(k): str(v) for k, v in (getattr(exc, "headers", None) or {}).items()}
    return problem_response(
        status,
        code,
        _title(status),
        detail,
        instance=request.path if request is not None else None,
        headers=headers,
    )


def _is_validation_error(exc: SanicException) -> bool:
    try:
        from sanic_ext.exceptions import ValidationError
    except ImportError:  # pragma: no cover - sanic-ext is a dependency of the http extra
        return False
    return isinstance(exc, ValidationError)


class ProblemErrorHandler(ErrorHandler):
    """Sanic's error handler replaced wholesale: every exception goes through
    ``problem_for_exception``; Sanic's HTML/text/debug renderers are never used."""

    def default(self, request: Request, exception: Exception) -> HTTPResponse:
        try:
            return problem_for_exception(request, exception)
        except Exception as exc:  # never let error rendering itself leak a traceback
            return _unexpected(request, exc)
