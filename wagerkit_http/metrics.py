"""Prometheus metrics of one app, in a registry of its own (so several apps, e.g. in tests,
never clash in prometheus-client's global registry).

- ``wagerkit_http_requests_total{method,route,status}`` counts finished requests;
- ``wagerkit_http_request_duration_seconds{method,route,status}`` is their latency;
- ``process_*``, ``python_gc_*`` and ``python_info`` describe the process.

``route`` is the route pattern (``/api/v1/users/<user_id>``), never the raw path, and requests
that matched no route share the label ``<unmatched>``, so clients cannot blow up cardinality.
With several worker processes each has its own numbers; scrape each one or run one process per
container.
"""

from __future__ import annotations

import time

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.gc_collector import GCCollector
from prometheus_client.platform_collector import PlatformCollector
from prometheus_client.process_collector import ProcessCollector
from sanic import HTTPResponse, Request

__all__ = ["CONTENT_TYPE_LATEST", "Metrics"]

_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Metrics:
    """The collectors of one app and the two hooks that feed them."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        ProcessCollector(registry=self.registry)
        PlatformCollector(registry=self.registry)
        GCCollector(registry=self.registry)
        self.requests = Counter(
            "wagerkit_http_requests",
            "HTTP requests finished, by route pattern and status",
            ("method", "route", "status"),
            registry=self.registry,
        )
        self.latency = Histogram(
            "wagerkit_http_request_duration_seconds",
            "Time from request received to response ready",
            ("method", "route", "status"),
            buckets=_BUCKETS,
            registry=self.registry,
        )

    @staticmethod
    def on_request(request: Request) -> None:
        """Request middleware: note the start time."""
        if not hasattr(request.ctx, "started_at"):
            request.ctx.started_at = time.perf_counter()

    def on_response(self, request: Request, response: HTTPResponse) -> None:
        """Response middleware: count the request and observe its latency."""
        started = getattr(request.ctx, "started_at", None)
        elapsed = time.perf_counter() - started if started is not None else 0.0
        method = request.method if request.method in _METHODS else "OTHER"
        route = f"/{request.route.path}" if request.route is not None else "<unmatched>"
        status = str(response.status)
        self.requests.labels(method, route, status).inc()
        self.latency.labels(method, route, status).observe(elapsed)

    def render(self) -> bytes:
        """The exposition text of every collector in this registry."""
        return generate_latest(self.registry)
