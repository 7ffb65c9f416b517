"""The PWA's HTTP surface: strict CSP, no inline code, caching, manifest and icons, worker."""

from __future__ import annotations

import re
import struct

import httpx

from bartender.pwa import assets


async def test_shell_has_a_strict_csp_and_no_inline_code(http: httpx.AsyncClient) -> None:
    r = await http.get("/")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    csp = r.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "script-src 'self'" in csp and "style-src 'self'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert r.headers["cache-control"] == "no-cache"
    html = r.text
    # every <script> has a src; no style attributes or <style> blocks
    assert all("src=" in tag for tag in re.findall(r"<script[^>]*>", html))
    assert "<style" not in html and " style=" not in html
    version = assets.current().version
    assert f"/static/{version}/js/main.js" in html


async def test_static_assets_are_versioned_and_immutable(http: httpx.AsyncClient) -> None:
    version = assets.current().version
    r = await http.get(f"/static/{version}/js/main.js")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/javascript")
    assert "immutable" in r.headers["cache-control"]
    assert (await http.get(f"/static/{version}/js/nope.js")).status_code == 404
    old = await http.get("/static/000000000000/js/main.js")
    assert old.status_code == 404 and old.headers["content-type"] == "application/problem+json"
    assert (await http.get(f"/static/{version}/../../pyproject.toml")).status_code == 404


async def test_manifest_lists_real_png_icons(http: httpx.AsyncClient) -> None:
    r = await http.get("/manifest.webmanifest")
    assert r.status_code == 200
    manifest = r.json()
    assert manifest["display"] == "standalone" and manifest["start_url"] == "/"
    assert manifest["theme_color"].startswith("#")
    sizes = set()
    for icon in manifest["icons"]:
        png = await http.get(icon["src"])
        assert png.status_code == 200 and png.content[:8] == b"\x89PNG\r\n\x1a\n"
        width, height = struct.unpack(">II", png.content[16:24])
        assert icon["sizes"] == f"{width}x{height}"
        sizes.add(width)
    assert {192, 512} <= sizes


async def test_service_worker_precaches_this_version(http: httpx.AsyncClient) -> None:
    r = await http.get("/sw.js")
    assert r.status_code == 200
    assert r.headers["service-worker-allowed"] == "/"
    assert r.headers["cache-control"] == "no-cache"
    pwa = assets.current()
    assert f'"version": "{pwa.version}"' in r.text or f'version: "{pwa.version}"' in r.text
    for url in pwa.precache():
        assert url in r.text
        assert (await http.get(url)).status_code == 200
