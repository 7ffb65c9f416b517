"""Dependencies injected into handlers: the runtime, a connection, the caller and their role.

Handlers declare what they need by parameter name and type; the checks live here, at the
edge, so services receive a caller whose role is already known to be enough:

    async def handler(self, manager: ManagerDep, conn: ConnDep) -> ...

`member` is any member of the bar in the path, `manager` a manager or the owner, `owner` the
owner; a non-member gets 404 (the bar does not exist for them), a member without the role 403.
`conn` is one pooled connection for the whole request, released after the response.
"""

from __future__ import annotations

import uuid
from typing import cast

import asyncpg
from litestar import Request
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, SkipValidation
from litestar.types import ASGIApp, Receive, Scope, Send

from bartender.accounts.guard import bearer_token
from bartender.bars.access import Manager, Member, Owner
from bartender.errors import NotFound
from bartender.runtime import Runtime

# Handler parameter types, injected by name ("rt", "conn", "user_id", "member", ...).
RuntimeDep = NamedDependency[SkipValidation[Runtime]]  # a process object: never validated
ConnDep = NamedDependency[SkipValidation[asyncpg.Connection]]
UserIdDep = NamedDependency[uuid.UUID]
MemberDep = NamedDependency[Member]
ManagerDep = NamedDependency[Manager]  # parameter name `manager`: role manager or owner
OwnerDep = NamedDependency[Owner]  # parameter name `owner`: the bar's owner


def provide_runtime(state: State) -> Runtime:
    rt: Runtime = state.rt
    return rt


_HELD = "bartender.conns"  # scope key: the (pool, connection) pairs this request holds


def release_connections(app: ASGIApp) -> ASGIApp:
    """Middleware: give back the request's connection however the request ends.

    Not a `yield` dependency: Litestar never cleans up an already resolved generator when a
    later dependency raises (a non-member's 404, a staff member's 403), which leaked one
    pooled connection per refused request.
    """

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        held: list[tuple[asyncpg.Pool, asyncpg.Connection]] = []
        scope[_HELD] = held  # type: ignore[literal-required]
        try:
            await app(scope, receive, send)
        finally:
            for pool, conn in held:
                await pool.release(conn)

    return middleware


async def provide_conn(request: Request, rt: RuntimeDep) -> asyncpg.Connection:
    """One pooled connection per request (the pool answers 503 busy when none frees up),
    released by `release_connections` after the response."""
    held: list[tuple[asyncpg.Pool, asyncpg.Connection]]
    held = request.scope[_HELD]  # type: ignore[literal-required]
    conn = await rt.pool.acquire()
    held.append((rt.pool, conn))
    return conn


async def provide_user_id(request: Request, rt: RuntimeDep) -> uuid.UUID:
    """Who is calling: the access token says it, no database query."""
    return rt.tokens.user_id(bearer_token(request.headers.get("authorization")))


async def provide_member(
    request: Request, bar_id: FromPath[uuid.UUID], user_id: UserIdDep, rt: RuntimeDep
) -> Member:
    """The caller's membership of the bar in the path; a non-member sees 404, not 403.

    On a cache miss the lookup uses the request's own connection when it holds one (`conn`
    resolves first): taking a second from the pool while holding one deadlocks once every
    pooled connection is held by a request waiting for a second (issue 11)."""
    held = cast("list[tuple[asyncpg.Pool, asyncpg.Connection]] | None", request.scope.get(_HELD))
    role = await rt.memberships.role(held[0][1] if held else rt.pool, user_id, bar_id)
    if role is None:
        raise NotFound("No such bar.")
    return Member(user_id=user_id, bar_id=bar_id, role=role)


async def provide_manager(member: MemberDep) -> Manager:
    member.require("manager")
    return Manager(member.user_id, member.bar_id, member.role)


async def provide_owner(member: MemberDep) -> Owner:
    member.require("owner")
    return Owner(member.user_id, member.bar_id, member.role)


# Handed to Litestar(dependencies=..., middleware=[release_connections, ...]) by create_app.
DEPENDENCIES = {
    "rt": Provide(provide_runtime, sync_to_thread=False),
    "conn": Provide(provide_conn),
    "user_id": Provide(provide_user_id),
    "member": Provide(provide_member),
    "manager": Provide(provide_manager),
    "owner": Provide(provide_owner),
}
