"""Routes of the PWA: the shell at `/`, `/sw.js` (root scope), the manifest, static assets.

Every response carries a strict Content-Security-Policy: scripts, styles and connections only
from this origin, no inline code at all (the shell passes its data in `data-` attributes).
Static assets live under `/static/<version>/` and are immutable (served gzip- or
brotli-compressed when the client accepts it); the shell, the manifest and the service worker
are revalidated on every load so a deploy reaches phones at once.

The shell lists every module the first screen needs (`modulepreload`) and the messages of the
likely language (`preload`): on a phone network each round trip costs seconds, and without
them the browser discovers the imports one level at a time. A first visit (no service worker
yet, so no session either) also gets the login form rendered here, visible as soon as the HTML
and the stylesheet arrive and usable with `prelogin.js` and its three imports (asked for
first); the app takes it over, typed text included, once its modules are in. The service
worker keeps the shell without it (`assets.APP_SHELL`).
"""

from __future__ import annotations

from functools import cache
from pathlib import PurePosixPath

import jinja2
from litestar import Request, Response, get
from litestar.params import FromPath

from bartender import __version__
from bartender.deps import RuntimeDep
from bartender.errors import NotFound
from bartender.pwa import assets

CSP = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        # 'self' covers ws:/wss: to this host in CSP level 3 browsers
        "connect-src 'self'",
        "manifest-src 'self'",
        "worker-src 'self'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "object-src 'none'",
    ]
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}
REVALIDATE = "no-cache"
IMMUTABLE = "public, max-age=31536000, immutable"
THEME_COLOUR = "#0f5132"
LANGUAGES = ("fr", "en")


def _likely_language(accept_language: str) -> str:
    """What i18n.js will pick from the browser's languages (a saved choice may differ)."""
    for part in accept_language.split(","):
        code = part.split(";")[0].strip()[:2].lower()
        if code in LANGUAGES:
            return code
    return "en"


@cache
def _templates() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(assets.current().templates),
        autoescape=jinja2.select_autoescape(["html"]),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )


def _render(name: str, content_type: str, **extra: object) -> Response[bytes]:
    pwa = assets.current()
    body = (
        _templates()
        .get_template(name)
        .render(
            version=pwa.version,
            app_version=__version__,
            asset=pwa.url,
            theme=THEME_COLOUR,
            precache=pwa.precache(),
            app_shell=assets.APP_SHELL,
            sw_extensions=pwa.sw_extensions(),
            **extra,
        )
    )
    return Response(
        content=body.encode(),
        media_type=content_type,
        headers={**SECURITY_HEADERS, "Cache-Control": REVALIDATE},
    )


@get("/", include_in_schema=False)
async def shell(request: Request, rt: RuntimeDep) -> Response[bytes]:
    """The single page every screen (staff phone and manager tablet) runs in."""
    pwa = assets.current()
    lang = _likely_language(request.headers.get("accept-language", ""))
    first_visit = "app" not in request.query_params
    # a first visit's form works with prelogin.js and its three imports: asked for first
    first = pwa.module_graph("js/prelogin.js") if first_visit else []
    response = _render(
        "index.html",
        "text/html",
        modules=[*first, *(m for m in pwa.module_graph() if m not in first)],
        lang=lang,
        offline_grace_s=rt.settings.offline_grace_s,
        login=pwa.messages(lang) if first_visit else None,
    )
    response.headers["Vary"] = "Accept-Language"
    return response


@get("/sw.js", include_in_schema=False)
async def service_worker() -> Response[bytes]:
    response = _render("sw.js", "text/javascript")
    response.headers["Service-Worker-Allowed"] = "/"
    return response


@get("/manifest.webmanifest", include_in_schema=False)
async def manifest() -> Response[bytes]:
    return _render("manifest.webmanifest", "application/manifest+json")


@get("/static/{version:str}/{path:path}", include_in_schema=False)
async def static_file(
    request: Request, version: FromPath[str], path: FromPath[str]
) -> Response[bytes]:
    """An asset of this deploy; another version's URL is 404 (its page reloads to this one)."""
    pwa = assets.current()
    rel = PurePosixPath(path.lstrip("/")).as_posix()
    found = pwa.files.get(rel) if version == pwa.version else None
    if found is None:
        raise NotFound("No such asset.")
    body, encoding = found.encoded(request.headers.get("accept-encoding", ""))
    headers = {**SECURITY_HEADERS, "Cache-Control": IMMUTABLE}
    if found.gzip is not None:
        headers["Vary"] = "Accept-Encoding"
    if encoding:
        headers["Content-Encoding"] = encoding
    return Response(content=body, media_type=found.content_type, headers=headers)


ROUTES = [shell, service_worker, manifest, static_file]
