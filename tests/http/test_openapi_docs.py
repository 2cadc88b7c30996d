"""The OpenAPI document and the offline docs page."""

from __future__ import annotations

import re
from urllib.parse import urljoin, urlparse

import httpx
import pytest

import wagerkit
from wagerkit_http.routes.docs import ASSETS


def test_openapi_document(base_url: str) -> None:
    r = httpx.get(f"{base_url}/openapi.json")
    assert r.status_code == 200
    doc = r.json()
    assert doc["openapi"].startswith("3.")
    assert doc["info"]["title"] == "wagerkit"
    assert doc["info"]["version"] == wagerkit.__version__
    paths = doc["paths"]
    for path in ("/health", "/ready", "/metrics", "/api/v1/currencies"):
        assert "get" in paths[path], path
    assert "/docs" not in paths
    assert not any(p.startswith("/_test") for p in paths)
    schemas = doc["components"]["schemas"]
    for name in ("Health", "Ready", "Problem", "Currency", "CurrencyList", "ValidationIssue"):
        assert name in schemas, name
    assert set(schemas["Currency"]["required"]) == {"code", "exponent", "default"}
    ok = paths["/api/v1/currencies"]["get"]["responses"]["200"]["content"]["application/json"]
    assert ok["schema"] == {"$ref": "#/components/schemas/CurrencyList"}
    ready_503 = paths["/ready"]["get"]["responses"]["503"]["content"]
    assert ready_503["application/problem+json"]["schema"]["$ref"] == "#/components/schemas/Problem"
    # OpenAPI 3.0 has no "type": "null"; optional fields are marked nullable instead
    assert '"null"' not in r.text
    assert schemas["Problem"]["properties"]["instance"]["nullable"] is True


def test_docs_page_is_served_offline(base_url: str) -> None:
    r = httpx.get(f"{base_url}/docs")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    page = r.text
    refs = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert refs, page
    for ref in refs:
        full = urljoin(f"{base_url}/docs", ref)
        assert urlparse(full).netloc == urlparse(base_url).netloc, ref
    assert not re.search(r"https?://", page)
    for ref in refs:
        asset = httpx.get(urljoin(f"{base_url}/docs", ref))
        assert asset.status_code == 200, ref
        assert len(asset.content) > 100, ref
    assert "/docs/assets/swagger-ui-bundle.js" in refs
    init = httpx.get(f"{base_url}/docs/assets/docs-init.js").text
    assert '"/openapi.json"' in init
    assert "validatorUrl: null" in init


def test_every_asset_is_served_with_a_sensible_type(base_url: str) -> None:
    types = {".js": "javascript", ".css": "text/css", ".png": "image/png"}
    for name in ASSETS:
        r = httpx.get(f"{base_url}/docs/assets/{name}")
        assert r.status_code == 200, name
        suffix = name[name.rfind(".") :]
        assert types[suffix] in r.headers["content-type"], (name, r.headers["content-type"])
    css = httpx.get(f"{base_url}/docs/assets/swagger-ui.css").text
    assert not re.search(r"url\(\s*['\"]?https?:", css)


def test_no_cdn_pages_from_sanic_ext(base_url: str) -> None:
    for path in ("/docs/swagger", "/docs/redoc", "/redoc", "/swagger", "/oauth2-redirect.html"):
        assert httpx.get(f"{base_url}{path}").status_code == 404, path


def test_two_api_models_with_one_name_are_refused() -> None:
    """OpenAPI components are keyed by class name: a second model of the same name would
    replace the first in the document (the raffles' and orders' CategoryOut once did)."""
    from pydantic import BaseModel

    from wagerkit_http.models import component

    def model() -> type[BaseModel]:
        class CategoryOut(BaseModel):
            x: int

        return CategoryOut

    first = model()
    component(first)
    component(first)  # the same model again is fine
    with pytest.raises(TypeError, match="two API models are named CategoryOut"):
        component(model())
