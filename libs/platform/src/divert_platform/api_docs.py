"""The interactive API documents (`/docs`), served from the Swagger UI files installed with Divert.

FastAPI's own page loads Swagger UI from a CDN and starts it with an inline script: a county
network may not reach the CDN, and a script from a third party runs with the page's authority
(whoever serves that file could read the bearer token a reader pastes in). Here every file comes
from the `swagger-ui-bundle-v2` package, pinned like any other dependency, and the page runs no
inline script, so its Content-Security-Policy (`hardening.py`) allows scripts from this origin only.
"""

from fastapi import FastAPI
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles
from swagger_ui_bundle import swagger_ui_path

DOCS_PATH = "/docs"
ASSETS_PATH = f"{DOCS_PATH}/assets"

_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title} - API documents</title>
<link rel="stylesheet" href="{assets}/swagger-ui.css">
<link rel="icon" type="image/png" href="{assets}/favicon-32x32.png">
</head>
<body>
<div id="swagger-ui"></div>
<script src="{assets}/swagger-ui-bundle.js"></script>
<script src="{docs}/start.js"></script>
</body>
</html>
"""

# Swagger UI asks nothing of a third party: no validator badge (it would send the document to
# swagger.io), and `persistAuthorization` stays off so a pasted token is forgotten with the tab.
_START = """SwaggerUIBundle({{
  url: "{openapi_url}",
  dom_id: "#swagger-ui",
  deepLinking: true,
  validatorUrl: null,
  persistAuthorization: false
}});
"""


def install_api_docs(app: FastAPI, *, title: str, openapi_url: str) -> None:
    """Serve `/docs` (the page), `/docs/start.js` and `/docs/assets/*` (Swagger UI's files) on `app`."""
    page = _PAGE.format(title=title, assets=ASSETS_PATH, docs=DOCS_PATH)
    start = _START.format(openapi_url=openapi_url)

    @app.get(DOCS_PATH, include_in_schema=False)
    async def docs_page() -> HTMLResponse:
        return HTMLResponse(page)

    @app.get(f"{DOCS_PATH}/start.js", include_in_schema=False)
    async def docs_start() -> Response:
        return Response(start, media_type="text/javascript")

    app.mount(ASSETS_PATH, StaticFiles(directory=swagger_ui_path), name="api-docs-assets")
