"""The PWA's files on disk, loaded once: their bytes, content types and the asset version.

The version is a hash of every static file, so any change to the front end gives new asset
URLs (`/static/<version>/...`, cached forever by browsers) and a new service worker, which is
what makes installed phones notice an update and offer to reload.

Text assets are compressed once here (gzip and brotli, at their best levels: it costs a
fraction of a second per process and nothing per request), because a phone on a slow network
pays for every byte of the first load. `module_graph` lists what `main.js` imports statically,
so the shell can ask for all of it at once instead of one network round trip per import level.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import mimetypes
import posixpath
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path, PurePosixPath

import brotli

CONTENT_TYPES = {
    ".js": "text/javascript",
    ".css": "text/css",
    ".json": "application/json",
    ".png": "image/png",
    ".svg": "image/svg+xml",
    ".html": "text/html",
}
# Files of static/js/sw-ext/ are imported by the service worker (push handlers and the like).
SW_EXTENSIONS_DIR = "js/sw-ext"
# The shell as the service worker keeps it: without the server-rendered login form of a first
# visit (an installed app may have a session; its page draws whatever comes first).
APP_SHELL = "/?app=1"
COMPRESSIBLE = ("text/", "application/json", "image/svg+xml")
# below this, compression framing costs about what it saves
MIN_COMPRESS_BYTES = 512
# `import ... from "./x.js"` and `import "./x.js"` (static imports; `import("...")` is on demand)
STATIC_IMPORT = re.compile(r"""^\s*(?:import|export)\b[^'"();]*?['"](\.{1,2}/[^'"]+)['"]""", re.M)


def pwa_dir() -> Path:
    """`pwa/` of a source checkout, or the copy packaged into a wheel."""
    here = Path(__file__).resolve()
    checkout = here.parents[3] / "pwa"
    if checkout.is_dir():
        return checkout
    return here.parents[1] / "_pwa"


@dataclass(frozen=True)
class StaticFile:
    body: bytes
    content_type: str
    gzip: bytes | None = None
    br: bytes | None = None

    def encoded(self, accept_encoding: str) -> tuple[bytes, str | None]:
        """The smallest body this client accepts, and its Content-Encoding (None: identity)."""
        accepted = _accepted_encodings(accept_encoding)
        if self.br is not None and "br" in accepted:
            return self.br, "br"
        if self.gzip is not None and "gzip" in accepted:
            return self.gzip, "gzip"
        return self.body, None


def _accepted_encodings(header: str) -> set[str]:
    """Codings of an Accept-Encoding header, without those refused with q=0."""
    accepted = set()
    for part in header.lower().split(","):
        name, _, params = part.strip().partition(";")
        q = params.strip().removeprefix("q=")
        if name and not (params and q.replace("0", "").strip(".") == ""):
            accepted.add(name.strip())
    return accepted


def _static_file(body: bytes, content_type: str) -> StaticFile:
    if not content_type.startswith(COMPRESSIBLE) or len(body) < MIN_COMPRESS_BYTES:
        return StaticFile(body, content_type)
    # mtime=0: the same bytes on every instance, so caches and ETags agree
    return StaticFile(
        body,
        content_type,
        gzip=gzip.compress(body, compresslevel=9, mtime=0),
        br=brotli.compress(body, quality=11),
    )


@dataclass(frozen=True)
class PwaAssets:
    root: Path
    version: str
    files: dict[str, StaticFile]  # relative POSIX path under static/ -> file

    @property
    def templates(self) -> Path:
        return self.root / "templates"

    def url(self, path: str) -> str:
        return f"/static/{self.version}/{path}"

    def sw_extensions(self) -> list[str]:
        return [
            self.url(p)
            for p in sorted(self.files)
            if p.startswith(SW_EXTENSIONS_DIR + "/") and p.endswith(".js")
        ]

    def module_graph(self, entry: str = "js/main.js") -> list[str]:
        """`entry` and every module it imports statically, transitively (paths under static/)."""
        seen: list[str] = []
        todo = [entry]
        while todo:
            rel = todo.pop(0)
            if rel in seen or rel not in self.files:
                continue
            seen.append(rel)
            base = PurePosixPath(rel).parent
            for spec in STATIC_IMPORT.findall(self.files[rel].body.decode("utf-8", "replace")):
                todo.append(posixpath.normpath((base / spec).as_posix()))
        return seen

    def precache(self) -> list[str]:
        """What the service worker stores at install: the app shell and every static file."""
        return [APP_SHELL, "/manifest.webmanifest", *(self.url(p) for p in sorted(self.files))]

    def messages(self, lang: str) -> dict[str, str]:
        """The i18n messages of `lang` (the server renders the first visit's login form)."""
        found = self.files.get(f"i18n/{lang}.json")
        return json.loads(found.body) if found else {}


def load(root: Path) -> PwaAssets:
    static = root / "static"
    files: dict[str, StaticFile] = {}
    digest = hashlib.sha256()
    for path in sorted(p for p in static.rglob("*") if p.is_file()):
        rel = path.relative_to(static).as_posix()
        body = path.read_bytes()
        kind = CONTENT_TYPES.get(path.suffix) or mimetypes.guess_type(path.name)[0]
        files[rel] = _static_file(body, kind or "application/octet-stream")
        digest.update(rel.encode() + b"\0" + body + b"\0")
    for template in sorted((root / "templates").glob("*")):
        digest.update(template.name.encode() + b"\0" + template.read_bytes() + b"\0")
    return PwaAssets(root=root, version=digest.hexdigest()[:12], files=files)


@cache
def current() -> PwaAssets:
    """The assets of this process (read once: a deploy restarts the process)."""
    return load(pwa_dir())
