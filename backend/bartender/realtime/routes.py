"""GET /ws: live stock (docs/protocol.md "Live stock over WebSocket"); the hub does the work.
And the owner's emergency push/poll switch of a bar (PUT /api/bars/{bar_id}/live-mode).

/ws is a raw ASGI handler rather than Litestar's WebSocket object: the hub needs only receive
and send, and thousands of idle sockets are cheaper without a per-socket wrapper.
"""

from __future__ import annotations

from typing import Literal

import msgspec
from litestar import Controller, asgi, get, put
from litestar.params import JSONBody
from litestar.types import HTTPResponseStartEvent, Receive, Scope, Send

from bartender.accounts.schemas import Input
from bartender.deps import MemberDep, RuntimeDep
from bartender.realtime import control, session
from bartender.realtime.connection import AsgiSocket
from bartender.runtime import Runtime


@asgi("/ws", is_mount=False, copy_scope=False)
async def live_stock(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] != "websocket":
        start: HTTPResponseStartEvent = {
            "type": "http.response.start",
            "status": 426,
            "headers": [(b"content-type", b"text/plain"), (b"upgrade", b"websocket")],
        }
        await send(start)
        await send({"type": "http.response.body", "body": b"websocket only", "more_body": False})
        return
    rt: Runtime = scope["app"].state.rt
    assert rt.hub is not None
    await session.serve(rt.hub, AsgiSocket(receive, send))


class LiveModeIn(Input):
    mode: Literal["poll", "push", "auto"]


class LiveModeOut(msgspec.Struct):
    bar_id: str
    override: str  # what the owner asked: poll, push or auto
    mode: str  # what the bar's clients are told now: push or poll
    poll_interval_ms: int


class LiveModeController(Controller):
    """The bar plan's rollback flag: force a bar into poll (or push) until set back to auto.
    Every bar at once is only from the command line (`bartender mode --all poll`)."""

    path = "/api/bars/{bar_id:uuid}/live-mode"
    tags = ["realtime"]

    @get()
    async def read(self, member: MemberDep, rt: RuntimeDep) -> LiveModeOut:
        owner = member.require("owner")
        override = await control.read_override(rt.pool, owner.bar_id)
        return LiveModeOut(str(owner.bar_id), override, *rt.modes.get(owner.bar_id))

    @put()
    async def set(
        self, data: JSONBody[LiveModeIn], member: MemberDep, rt: RuntimeDep
    ) -> LiveModeOut:
        owner = member.require("owner")
        await control.set_override(rt.pool, owner.bar_id, data.mode, owner.user_id)
        assert rt.hub is not None
        await rt.hub.overrides.load()  # in effect here before we answer (NOTIFY does the rest)
        return LiveModeOut(str(owner.bar_id), data.mode, *rt.modes.get(owner.bar_id))
