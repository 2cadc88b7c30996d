"""wagerkit's HTTP and Socket.IO server: the composition root for serving.

- ``create_app(settings)``: the Sanic app (routes, problem+json errors, metrics, OpenAPI);
- ``create_asgi(settings)``: Socket.IO mounted in front of it, for uvicorn;
- ``serve.run(settings)``: uvicorn from code (what ``wagerkit serve`` uses).

Errors leave as RFC 9457 problems (``wagerkit_http.errors``); routes read bodies with
``wagerkit_http.validation.parse_body``.
"""

from __future__ import annotations

from .app import create_app
from .asgi import create_asgi
from .errors import ProblemError, RequestValidationError, problem_for_exception, status_for
from .validation import parse_body, parse_query

__all__ = [
    "ProblemError",
    "RequestValidationError",
    "create_app",
    "create_asgi",
    "parse_body",
    "parse_query",
    "problem_for_exception",
    "status_for",
]
