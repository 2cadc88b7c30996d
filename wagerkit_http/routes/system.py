"""Operational endpoints: liveness, readiness and Prometheus metrics (not versioned)."""

from __future__ import annotations

import asyncio

from sanic import Blueprint, HTTPResponse
from sanic.response import json, raw
from sanic_ext import openapi

import wagerkit
from wagerkit import StoreError
from wagerkit.adapters.sql import SqlStore

from ..context import AppContext, WagerkitRequest
from ..errors import ProblemError
from ..metrics import CONTENT_TYPE_LATEST
from ..models import Health, Problem, Ready, component
from ..schema import current_revisions

__all__ = ["READY_TIMEOUT", "system_blueprint"]

#: Seconds a readiness probe waits for the database before answering 503.
READY_TIMEOUT = 5.0


@openapi.tag("system")
@openapi.response(200, {"application/json": component(Health)}, "The process is alive")
async def health(request: WagerkitRequest) -> HTTPResponse:
    """Liveness: answers without touching the database."""
    return json(Health(version=wagerkit.__version__).model_dump())


def _not_ready(detail: str, checks: dict[str, str]) -> ProblemError:
    return ProblemError(
        503,
        "not_ready",
        detail,
        title="Service not ready",
        extra={"checks": checks},
        headers={"Retry-After": "5"},
    )


async def _schema_state(ctx: AppContext) -> str:
    store = ctx.store
    if not isinstance(store, SqlStore):
        return "not_applicable"
    if ctx.schema.at_head:
        return "at_head"
    if ctx.schema.heads is None:
        return "unknown"
    current = await current_revisions(store)
    if current == ctx.schema.heads:
        ctx.schema.at_head = True
        return "at_head"
    return "behind"


@openapi.tag("system")
@openapi.response(200, {"application/json": component(Ready)}, "Ready to serve")
@openapi.response(503, {"application/problem+json": component(Problem)}, "Not ready")
async def ready(request: WagerkitRequest) -> HTTPResponse:
    """Readiness: the database answers and its schema is at the shipped migrations."""
    ctx = request.app.ctx
    checks: dict[str, str] = {}
    ping = getattr(ctx.store, "ping", None)
    try:
        async with asyncio.timeout(READY_TIMEOUT):
            if ping is not None:
                await ping()
            checks["database"] = "ok"
            checks["schema"] = await _schema_state(ctx)
    except (StoreError, TimeoutError):
        checks.setdefault("database", "unavailable")
        raise _not_ready("the database is not reachable", checks) from None
    if checks["schema"] == "behind":
        raise _not_ready(
            "the database schema is not at the latest migration; run `wagerkit db upgrade`",
            checks,
        )
    return json(Ready(checks=checks).model_dump())


@openapi.tag("system")
@openapi.response(200, {CONTENT_TYPE_LATEST: str}, "Prometheus text exposition format")
async def metrics(request: WagerkitRequest) -> HTTPResponse:
    """Prometheus metrics of this process."""
    return raw(request.app.ctx.metrics.render(), content_type=CONTENT_TYPE_LATEST)


def system_blueprint() -> Blueprint:
    bp = Blueprint("system")
    bp.add_route(health, "/health", methods=["GET"], name="health")
    bp.add_route(ready, "/ready", methods=["GET"], name="ready")
    bp.add_route(metrics, "/metrics", methods=["GET"], name="metrics")
    return bp
