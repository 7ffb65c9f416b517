"""Real HTTP receivers for the alerts tests: a push service and a webhook receiver.

The push service does what Mozilla's or Google's does with a request, independently of the
sender's libraries: it checks the VAPID token (RFC 8292) with PyJWT against the key in the
`Authorization` header, and decrypts the aes128gcm body (RFC 8188/8291) by hand with the
browser-side private key and auth secret the test made.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Self

import jwt
from aiohttp import web
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

DOCS = Path(__file__).resolve().parents[2] / "docs" / "webhooks.md"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _hkdf(salt: bytes, ikm: bytes, info: bytes, length: int) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=salt, info=info).derive(ikm)


async def serve_local(app: web.Application) -> tuple[web.AppRunner, str]:
    """Serve an aiohttp app on 127.0.0.1:<free port>; returns the runner and its origin."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    return runner, f"http://127.0.0.1:{port}"


@dataclass
class Browser:
    """The user agent's side of a subscription: a P-256 key pair and a 16-byte auth secret."""

    token: str
    endpoint: str
    private_key: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1())
    )
    auth: bytes = field(default_factory=lambda: os.urandom(16))

    @property
    def public_point(self) -> bytes:
        return self.private_key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )

    def subscription(self, bar_ids: list[str]) -> dict[str, Any]:
        return {
            "endpoint": self.endpoint,
            "keys": {"p256dh": b64url(self.public_point), "auth": b64url(self.auth)},
            "bar_ids": bar_ids,
        }

    def decrypt(self, body: bytes) -> bytes:
        """RFC 8291 section 3.4 + RFC 8188 (one record), from the receiver's side."""
        salt, record_size, id_len = body[:16], int.from_bytes(body[16:20], "big"), body[20]
        sender_point = body[21 : 21 + id_len]
        ciphertext = body[21 + id_len :]
        assert id_len == 65 and len(ciphertext) <= record_size
        sender = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), sender_point)
        shared = self.private_key.exchange(ec.ECDH(), sender)
        ikm = _hkdf(self.auth, shared, b"WebPush: info\x00" + self.public_point + sender_point, 32)
        cek = _hkdf(salt, ikm, b"Content-Encoding: aes128gcm\x00", 16)
        nonce = _hkdf(salt, ikm, b"Content-Encoding: nonce\x00", 12)
        padded = AESGCM(cek).decrypt(nonce, ciphertext, None)
        data = padded.rstrip(b"\x00")
        assert data.endswith(b"\x02"), "last record must end with the 0x02 delimiter"
        return data[:-1]


class LocalServer:
    """An aiohttp app on 127.0.0.1:<free port> for one test: `arrived` is set at each request
    it handles, `_closing` releases the requests it holds open when it stops."""

    def __init__(self) -> None:
        self.arrived = asyncio.Event()
        self._closing = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self.origin = ""

    def add_routes(self, app: web.Application) -> None:
        raise NotImplementedError

    async def start(self) -> Self:
        app = web.Application()
        self.add_routes(app)
        self._runner, self.origin = await serve_local(app)
        return self

    async def stop(self) -> None:
        self._closing.set()
        if self._runner is not None:
            await self._runner.cleanup()

    async def wait_until(
        self, condition: Callable[[], bool], within_s: float = 10.0, what: str = "condition"
    ) -> None:
        """Until `condition()` holds, re-checked at each request (and every 0.2 s for what
        changes without one); fails the test after `within_s`."""
        deadline = time.monotonic() + within_s
        while not condition():
            remaining = deadline - time.monotonic()
            assert remaining > 0, f"{type(self).__name__}: {what} not met in time"
            self.arrived.clear()
            try:
                await asyncio.wait_for(self.arrived.wait(), min(remaining, 0.2))
            except TimeoutError:
                pass


@dataclass
class Push:
    token: str
    payload: dict[str, Any]
    headers: dict[str, str]
    claims: dict[str, Any]
    vapid_key: str


class PushService(LocalServer):
    """A push service on 127.0.0.1. `answers[token]` lists statuses to give before 201;
    `stall_first` holds the first request open without answering (its sender may die)."""

    def __init__(self, subject: str) -> None:
        self.subject = subject
        self.browsers: dict[str, Browser] = {}
        self.pushes: list[Push] = []  # accepted (answered 201)
        self.attempts: list[tuple[str, int]] = []  # every request: (token, status answered)
        self.errors: list[str] = []
        self.answers: dict[str, list[int]] = {}
        self.stall_first = False
        self.stalled = asyncio.Event()
        super().__init__()

    def add_routes(self, app: web.Application) -> None:
        app.router.add_post("/push/{token}", self._receive)

    def browser(self) -> Browser:
        token = secrets.token_urlsafe(12)
        browser = Browser(token, f"{self.origin}/push/{token}")
        self.browsers[token] = browser
        return browser

    def accepted(self, token: str) -> list[dict[str, Any]]:
        return [p.payload for p in self.pushes if p.token == token]

    async def wait_for(self, count: int, within_s: float = 10.0) -> list[Push]:
        """Until `count` pushes were accepted in all (fails the test on timeout)."""
        await self.wait_until(
            lambda: len(self.pushes) >= count, within_s, f"{count} pushes arriving"
        )
        return self.pushes

    def _check_vapid(self, request: web.Request) -> tuple[dict[str, Any], str]:
        match = re.fullmatch(
            r"vapid t=([^,\s]+),\s*k=([A-Za-z0-9_-]+)", request.headers.get("Authorization", "")
        )
        if match is None:
            raise ValueError(f"no VAPID authorization: {request.headers.get('Authorization')!r}")
        token, key = match.groups()
        public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), b64url_decode(key))
        claims = jwt.decode(
            token,
            public,
            algorithms=["ES256"],
            audience=self.origin,
            options={"require": ["aud", "exp", "sub"]},
        )
        if claims["sub"] != self.subject:
            raise ValueError(f"sub {claims['sub']!r}")
        if not time.time() < claims["exp"] <= time.time() + 24 * 3600:
            raise ValueError("exp must be within 24 hours (RFC 8292)")
        return claims, key

    async def _receive(self, request: web.Request) -> web.Response:
        token = request.match_info["token"]
        body = await request.read()
        browser = self.browsers.get(token)
        if browser is None:
            self.attempts.append((token, 404))
            return web.Response(status=404)
        if self.stall_first and not self.stalled.is_set():
            self.stalled.set()
            await self._closing.wait()  # never answers while the test runs
            return web.Response(status=503)
        planned = self.answers.get(token)
        if planned:
            status = planned.pop(0)
            self.attempts.append((token, status))
            return web.Response(status=status, headers={"Retry-After": "0"})
        try:
            if request.headers.get("Content-Encoding") != "aes128gcm":
                raise ValueError("Content-Encoding must be aes128gcm")
            if not request.headers.get("TTL", "").isdigit():
                raise ValueError("TTL header missing")
            claims, key = self._check_vapid(request)
            payload = json.loads(browser.decrypt(body))
        except Exception as exc:  # a real push service refuses such a request
            self.errors.append(f"{type(exc).__name__}: {exc}")
            self.attempts.append((token, 400))
            return web.Response(status=400, text=str(exc))
        self.attempts.append((token, 201))
        self.pushes.append(Push(token, payload, dict(request.headers), claims, key))
        self.arrived.set()
        return web.Response(status=201)


def load_signature_recipe() -> Callable[..., bool]:
    """`verify_signature` from the first Python block of docs/webhooks.md, executed as is."""
    text = DOCS.read_text(encoding="utf-8")
    block = re.search(r"```python\n(.*?)```", text, re.S)
    assert block is not None, "docs/webhooks.md lost its Python recipe"
    namespace: dict[str, Any] = {}
    exec(compile(block.group(1), str(DOCS), "exec"), namespace)  # noqa: S102 - our own docs
    return namespace["verify_signature"]  # type: ignore[no-any-return]


@dataclass
class Delivery:
    path: str
    event_id: str
    event_type: str
    signature: str
    body: bytes
    verified: bool

    @property
    def event(self) -> dict[str, Any]:
        return json.loads(self.body)  # type: ignore[no-any-return]


class WebhookReceiver(LocalServer):
    """Receivers at /hooks/<name>. Each request is checked with the documented recipe against
    `secrets[name]`; `plans[name]` lists behaviours for the next requests ("ok", a status,
    "hang", "redirect"), then "ok". A receiver keeps the events it processed, deduplicated by
    BarTender-Delivery, as a real one should."""

    def __init__(self) -> None:
        self.verify = load_signature_recipe()
        self.secrets: dict[str, str] = {}
        self.plans: dict[str, list[str | int]] = {}
        self.deliveries: list[Delivery] = []  # every request, in arrival order
        self.processed: dict[str, list[dict[str, Any]]] = {}
        self.seen_ids: dict[str, set[str]] = {}
        self.duplicates: dict[str, int] = {}
        super().__init__()

    def add_routes(self, app: web.Application) -> None:
        app.router.add_post("/hooks/{name}", self._receive)
        app.router.add_post("/moved/{name}", self._moved)

    def url(self, name: str) -> str:
        return f"{self.origin}/hooks/{name}"

    def requests_to(self, name: str) -> list[Delivery]:
        return [d for d in self.deliveries if d.path == name]

    async def _moved(self, request: web.Request) -> web.Response:
        self.deliveries.append(
            Delivery("moved:" + request.match_info["name"], "", "", "", await request.read(), False)
        )
        self.arrived.set()
        return web.Response(status=200)

    async def _receive(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        body = await request.read()
        secret = self.secrets.get(name, "")
        delivery = Delivery(
            name,
            request.headers.get("BarTender-Delivery", ""),
            request.headers.get("BarTender-Event", ""),
            request.headers.get("BarTender-Signature", ""),
            body,
            self.verify(secret, request.headers.get("BarTender-Signature", ""), body),
        )
        self.deliveries.append(delivery)
        self.arrived.set()
        plan = self.plans.get(name)
        step = plan.pop(0) if plan else "ok"
        if step == "hang":
            await self._closing.wait()
            return web.Response(status=503)
        if step == "redirect":
            raise web.HTTPFound(f"{self.origin}/moved/{name}")
        if not delivery.verified:
            return web.Response(status=401)
        # process (dedupe by delivery id), even when we then answer an error: the answer may
        # be lost on the way back, so the sender retries what we already have
        seen = self.seen_ids.setdefault(name, set())
        if delivery.event_id in seen:
            self.duplicates[name] = self.duplicates.get(name, 0) + 1
        else:
            seen.add(delivery.event_id)
            self.processed.setdefault(name, []).append(delivery.event)
        if isinstance(step, int):
            return web.Response(status=step)
        return web.Response(status=204)


class HangingServer:
    """Accepts TCP connections, reads what it is sent and never answers."""

    def __init__(self) -> None:
        self.accepted = 0
        self.open = 0
        self.most_open = 0
        self._writers: set[asyncio.StreamWriter] = set()
        self._server: asyncio.Server | None = None
        self.port = 0

    async def start(self) -> HangingServer:
        self._server = await asyncio.start_server(self._hold, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def _hold(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.accepted += 1
        self.open += 1
        self.most_open = max(self.most_open, self.open)
        self._writers.add(writer)
        try:
            while await reader.read(65536):  # until the sender gives up and closes
                pass
        finally:
            self.open -= 1
            self._writers.discard(writer)
            writer.close()

    async def stop(self) -> None:
        assert self._server is not None
        self._server.close()
        for writer in list(self._writers):
            writer.close()
        await self._server.wait_closed()
