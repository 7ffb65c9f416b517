"""Dependencies injected into handlers: the runtime, the caller, the caller's membership."""

from __future__ import annotations

import uuid

from litestar import Request
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import FromPath, SkipValidation

from bartender.accounts.guard import bearer_token
from bartender.bars.access import Member
from bartender.errors import NotFound
from bartender.runtime import Runtime

# Handler parameter types, injected by name ("rt", "user_id", "member").
RuntimeDep = NamedDependency[SkipValidation[Runtime]]  # a process object: never validated
UserIdDep = NamedDependency[uuid.UUID]
MemberDep = NamedDependency[Member]


def provide_runtime(state: State) -> Runtime:
    return state.rt  # type: ignore[no-any-return]


async def provide_user_id(request: Request, rt: RuntimeDep) -> uuid.UUID:
    """Who is calling: the access token says it, no database query."""
    return rt.tokens.user_id(bearer_token(request.headers.get("authorization")))


async def provide_member(bar_id: FromPath[uuid.UUID], user_id: UserIdDep, rt: RuntimeDep) -> Member:
    """The caller's membership of the bar in the path; a non-member sees 404, not 403."""
    role = await rt.memberships.role(rt.pool, user_id, bar_id)
    if role is None:
        raise NotFound("No such bar.")
    return Member(user_id=user_id, bar_id=bar_id, role=role)
