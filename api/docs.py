"""/docs (Swagger UI) and /redoc with their scripts from this service (the fastapi-offline package's copies), and
the favicon: the API's pages work with no network."""
from __future__ import annotations

from functools import cache

from fastapi import APIRouter, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import HTMLResponse, Response

from web.assets import asset_path

router = APIRouter(include_in_schema=False)
FAVICON = "/favicon.svg"


@router.get("/docs")
def swagger(request: Request) -> HTMLResponse:
    return get_swagger_ui_html(openapi_url=request.app.openapi_url, title=f"{request.app.title} – API",
                               swagger_js_url="/static/docs/swagger-ui-bundle.js",
                               swagger_css_url="/static/docs/swagger-ui.css", swagger_favicon_url=FAVICON,
                               oauth2_redirect_url="/docs/oauth2-redirect")


@router.get("/docs/oauth2-redirect")
def swagger_redirect() -> HTMLResponse:
    return get_swagger_ui_oauth2_redirect_html()


@router.get("/redoc")
def redoc(request: Request) -> HTMLResponse:
    return get_redoc_html(openapi_url=request.app.openapi_url, title=f"{request.app.title} – API",
                          redoc_js_url="/redoc.standalone.js", redoc_favicon_url=FAVICON,
                          with_google_fonts=False)


@cache
def redoc_script() -> bytes:
    """ReDoc's script with its "powered by" logo taken from this service instead of its CDN."""
    text = asset_path("docs/redoc.standalone.js").read_text(encoding="utf-8")
    return text.replace("https://cdn.redoc.ly/redoc/logo-mini.svg", FAVICON).encode()


@router.get("/redoc.standalone.js")
def redoc_js() -> Response:
    return Response(redoc_script(), media_type="text/javascript", headers={"Cache-Control": "public, max-age=86400"})


@router.get("/favicon.svg")
@router.get("/favicon.ico")
def favicon() -> Response:
    return Response(asset_path("gj/favicon.svg").read_bytes(), media_type="image/svg+xml",
                    headers={"Cache-Control": "public, max-age=86400"})
