"""The interactive API docs at ``/docs``, working offline.

sanic-ext's own Redoc/Swagger pages load their scripts from a CDN (blank without internet), so
they are switched off; this page is a local HTML file whose assets come from the
``swagger-ui-bundle`` package and are served by this server under ``/docs/assets/``.
"""

from __future__ import annotations

from pathlib import Path

from sanic import Blueprint, HTTPResponse
from sanic.response import html
from sanic_ext import openapi
from swagger_ui_bundle import swagger_ui_path  # type: ignore[import-untyped]

from ..context import WagerkitRequest

__all__ = ["ASSETS", "docs_blueprint"]

STATIC = Path(__file__).resolve().parent.parent / "static"

#: Every file the page loads: name → where it lives. Nothing else is served.
ASSETS: dict[str, Path] = {
    name: Path(swagger_ui_path) / name
    for name in (
        "swagger-ui.css",
        "swagger-ui-bundle.js",
        "swagger-ui-standalone-preset.js",
        "favicon-32x32.png",
        "favicon-16x16.png",
    )
} | {"docs-init.js": STATIC / "docs-init.js"}


def docs_blueprint() -> Blueprint:
    page = (STATIC / "docs.html").read_text(encoding="utf-8")

    @openapi.exclude()
    async def docs(request: WagerkitRequest) -> HTTPResponse:
        """The Swagger UI page."""
        return html(page, headers={"Cache-Control": "no-cache"})

    bp = Blueprint("docs")
    bp.add_route(docs, "/docs", methods=["GET"], name="page")
    for name, path in ASSETS.items():
        bp.static(
            f"/docs/assets/{name}",
            path,
            name=f"asset_{name.replace('.', '_').replace('-', '_')}",
        )
    return bp
