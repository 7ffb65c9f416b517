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
from bartender.accounts.throttle import client_address
from bartender.deps import ConnDep, RuntimeDep, UserIdDep
from bartender.runtime import Runtime


def login_address(request: Request, rt: Runtime) -> str:
    """Who is logging in, for throttling: X-Forwarded-For counts only from trusted proxies."""
    peer = request.client.host if request.client else None
    forwarded = request.headers.getall("x-forwarded-for", [])
    return client_address(peer, forwarded, rt.settings.trusted_proxies)


class AuthController(Controller):
    path = "/api/auth"
    tags = ["accounts"]

    @post("/signup", status_code=HTTP_201_CREATED)
    async def signup(self, data: JSONBody[SignupIn], rt: RuntimeDep) -> SignupOut:
        # no ConnDep on signup and login: they take connections around the argon2 work only
        return SignupOut(user=await service.signup(rt.pool, rt.passwords, data))

    @post("/login", status_code=HTTP_200_OK)
    async def login(self, data: JSONBody[LoginIn], rt: RuntimeDep, request: Request) -> SessionOut:
        return await service.login(
            rt.pool, rt.passwords, rt.tokens, rt.throttle, data, login_address(request, rt)
        )

    @post("/refresh", status_code=HTTP_200_OK)
    async def refresh(self, data: JSONBody[RefreshIn], rt: RuntimeDep, conn: ConnDep) -> SessionOut:
        return await service.refresh(conn, rt.tokens, data.refresh_token)

    @post("/logout", status_code=HTTP_204_NO_CONTENT)
    async def logout(self, data: JSONBody[LogoutIn], rt: RuntimeDep, conn: ConnDep) -> None:
        """Revoke the login this refresh token belongs to (on every device it reached)."""
        await rt.tokens.revoke(conn, data.refresh_token)

    @get("/me")
    async def me(self, user_id: UserIdDep, conn: ConnDep) -> MeOut:
        return await service.me(conn, user_id)
