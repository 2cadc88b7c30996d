"""Reading request input into pydantic models, with problem+json errors.

Routes call ``await parse_body(request, Model)`` (or ``parse_query``) and get a validated model
or an exception that the error handler renders:

- body not JSON → 400 ``malformed_json``; so is a body that strict JSON parsing refuses or
  that would exhaust the parser: nested deeper than ``MAX_JSON_DEPTH``, an integer of more
  digits than Python converts (4,300), ``NaN`` / ``Infinity`` (not JSON). ``loads_json`` is
  the one parser for request bodies: every route reads its body through it.
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

__all__ = [
    "MAX_JSON_DEPTH",
    "errors_of",
    "json_too_deep",
    "loads_json",
    "parse_body",
    "parse_query",
]

M = TypeVar("M", bound=BaseModel)

#: arrays and objects nested deeper than this are refused before parsing (no request model
#: nests more than a few levels; the limit keeps hostile bodies far from the recursion limit)
MAX_JSON_DEPTH = 32
_OPENERS = frozenset(b"[{")
_CLOSERS = frozenset(b"]}")


def json_too_deep(raw: bytes) -> bool:
    """Whether ``raw`` nests arrays/objects deeper than ``MAX_JSON_DEPTH`` (brackets inside
    strings do not count). Cheap when the body has few brackets, as real bodies do."""
    if raw.count(b"[") + raw.count(b"{") <= MAX_JSON_DEPTH:
        return False
    depth = 0
    in_string = escaped = False
    for byte in raw:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # closing quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in _OPENERS:
            depth += 1
            if depth > MAX_JSON_DEPTH:
                return True
        elif byte in _CLOSERS:
            depth -= 1
    return False


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def loads_json(raw: bytes | str, *, object_pairs_hook: Any = None) -> Any:
    """Parse a request body as strict JSON, or raise a 400 ``malformed_json`` problem.

    Never lets a parser failure through as a 500: bad UTF-8, syntax errors, nesting past
    ``MAX_JSON_DEPTH`` (or the interpreter's recursion limit), integers longer than Python
    converts, ``NaN`` and ``Infinity``."""
    data = raw.encode() if isinstance(raw, str) else raw
    if json_too_deep(data):
        raise ProblemError(
            400,
            "malformed_json",
            f"the request body nests deeper than {MAX_JSON_DEPTH} levels",
        )
    try:
        return json.loads(data, parse_constant=_no_constant, object_pairs_hook=object_pairs_hook)
    except json.JSONDecodeError as exc:
        where = f" (line {exc.lineno}, column {exc.colno})"
        raise ProblemError(
            400, "malformed_json", f"the request body is not valid JSON{where}"
        ) from None
    except UnicodeDecodeError:
        raise ProblemError(400, "malformed_json", "the request body is not valid JSON") from None
    except RecursionError:
        raise ProblemError(400, "malformed_json", "the request body nests too deeply") from None
    except ValueError as exc:  # an integer too long to convert, NaN, Infinity
        reason = str(exc) if "is not JSON" in str(exc) else "it holds a number too long"
        raise ProblemError(
            400, "malformed_json", f"the request body is not valid JSON: {reason}"
        ) from None


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
    data = loads_json(raw)
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
