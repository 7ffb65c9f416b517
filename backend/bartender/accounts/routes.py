"""HTTP routes of accounts: thin, the work is in service.py."""

from __future__ import annotations

from litestar import Controller, Request, get, post
from litestar.params import JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED, HTTP_204_NO_CONTENT

from bartender.accounts import service
from bartender.accounts.schemas import (
    LoginIn,
    LogoutIn,
    MeOut,
    RefreshIn,
    SessionOut,
    SignupIn,
    SignupOut,
)
from bartender.deps import RuntimeDep, UserIdDep
from bartender.errors import Unauthenticated


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


class AuthController(Controller):
    path = "/api/auth"
    tags = ["accounts"]

    @post("/signup", status_code=HTTP_201_CREATED)
    async def signup(self, data: JSONBody[SignupIn], rt: RuntimeDep) -> SignupOut:
        async with rt.pool.acquire() as conn:
            return SignupOut(user=await service.signup(conn, rt.passwords, data))

    @post("/login", status_code=HTTP_200_OK)
    async def login(self, data: JSONBody[LoginIn], rt: RuntimeDep, request: Request) -> SessionOut:
        async with rt.pool.acquire() as conn:
            return await service.login(
                conn, rt.passwords, rt.tokens, rt.throttle, data, client_address(request)
            )

    @post("/refresh", status_code=HTTP_200_OK)
    async def refresh(self, data: JSONBody[RefreshIn], rt: RuntimeDep) -> SessionOut:
        async with rt.pool.acquire() as conn:
            return await service.refresh(conn, rt.tokens, data.refresh_token)

    @post("/logout", status_code=HTTP_204_NO_CONTENT)
    async def logout(self, data: JSONBody[LogoutIn], rt: RuntimeDep) -> None:
        """Revoke the login this refresh token belongs to (on every device it reached)."""
        async with rt.pool.acquire() as conn:
            await rt.tokens.revoke(conn, data.refresh_token)

    @get("/me")
    async def me(self, user_id: UserIdDep, rt: RuntimeDep) -> MeOut:
        async with rt.pool.acquire() as conn:
            user = await conn.fetchrow(service.USER_BY_ID, user_id)
            if user is None:
                raise Unauthenticated("This account no longer exists.")
            return MeOut(
                user=service.user_out(user), memberships=await service.memberships_of(conn, user_id)
            )
