"""The PWA's files on disk, loaded once: their bytes, content types and the asset version.

The version is a hash of every static file, so any change to the front end gives new asset
URLs (`/static/<version>/...`, cached forever by browsers) and a new service worker, which is
what makes installed phones notice an update and offer to reload.
"""

from __future__ import annotations

import hashlib
import mimetypes
from dataclasses import dataclass
from functools import cache
from pathlib import Path

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

    def precache(self) -> list[str]:
        """What the service worker stores at install: the shell and every static file."""
        return ["/", "/manifest.webmanifest", *(self.url(p) for p in sorted(self.files))]


def load(root: Path) -> PwaAssets:
    static = root / "static"
    files: dict[str, StaticFile] = {}
    digest = hashlib.sha256()
    for path in sorted(p for p in static.rglob("*") if p.is_file()):
        rel = path.relative_to(static).as_posix()
        body = path.read_bytes()
        kind = CONTENT_TYPES.get(path.suffix) or mimetypes.guess_type(path.name)[0]
        files[rel] = StaticFile(body, kind or "application/octet-stream")
        digest.update(rel.encode() + b"\0" + body + b"\0")
    for template in sorted((root / "templates").glob("*")):
        digest.update(template.name.encode() + b"\0" + template.read_bytes() + b"\0")
    return PwaAssets(root=root, version=digest.hexdigest()[:12], files=files)


@cache
def current() -> PwaAssets:
    """The assets of this process (read once: a deploy restarts the process)."""
    return load(pwa_dir())
