"""Reading request input into pydantic models, with problem+json errors.

Routes call ``await parse_body(request, Model)`` (or ``parse_query``) and get a validated model
or an exception that the error handler renders:

- body not JSON → 400 ``malformed_json``
- a non-JSON ``Content-Type`` → 415 ``unsupported_media_type``
- JSON that does not fit the model → 422 ``validation_failed`` with ``errors``: one item per
  problem with ``loc`` (path as a list), ``field`` (dotted path), ``message`` and ``type``;
  the offending input is never echoed (it may be a password or a token).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails
from sanic import Request

from .errors import ProblemError, RequestValidationError

__all__ = ["errors_of", "parse_body", "parse_query"]

M = TypeVar("M", bound=BaseModel)


def errors_of(exc: ValidationError, *, prefix: str = "body") -> list[dict[str, Any]]:
    """A pydantic error as a list safe to send: locations and messages, no input values."""
    return [_error_item(e, prefix) for e in exc.errors(include_input=False, include_url=False)]


def _error_item(e: ErrorDetails, prefix: str) -> dict[str, Any]:
    loc = [prefix, *e["loc"]]
    return {
        "loc": loc,
        "field": ".".join(str(p) for p in e["loc"]) or prefix,
        "message": e["msg"],
        "type": e["type"],
    }


def _is_json(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or (
        media.startswith("application/") and media.endswith("+json")
    )


def parse_body(request: Request[Any, Any], model: type[M]) -> M:
    """Validate the request's JSON body as ``model`` (strict JSON, no extra coercion rules)."""
    content_type = request.headers.get("content-type")
    if content_type and not _is_json(content_type):
        raise ProblemError(415, "unsupported_media_type", "send the body as application/json")
    raw = request.body or b""
    if not raw.strip():
        raise ProblemError(400, "malformed_json", "the request body is empty; send a JSON object")
    try:
        data = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        where = (
            f" (line {exc.lineno}, column {exc.colno})"
            if isinstance(exc, json.JSONDecodeError)
            else ""
        )
        raise ProblemError(
            400, "malformed_json", f"the request body is not valid JSON{where}"
        ) from None
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise RequestValidationError(errors_of(exc, prefix="body"), where="body") from None


def parse_query(request: Request[Any, Any], model: type[M], *, lists: Iterable[str] = ()) -> M:
    """Validate the query string as ``model``; names in ``lists`` keep every value."""
    multi = set(lists)
    args: Mapping[str, list[str]] = request.args
    data = {k: (v if k in multi else v[-1]) for k, v in args.items()}
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise RequestValidationError(errors_of(exc, prefix="query"), where="query") from None
