"""HTTP routes of bars and staff."""

from __future__ import annotations

import uuid

from litestar import Controller, delete, get, patch, post
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_201_CREATED, HTTP_204_NO_CONTENT

from bartender.bars import service
from bartender.bars.schemas import (
    BarIn,
    BarOut,
    BarPatch,
    BarsOut,
    MemberOut,
    MembersOut,
    StaffIn,
    StaffPatch,
)
from bartender.deps import MemberDep, RuntimeDep, UserIdDep


class BarsController(Controller):
    path = "/api/bars"
    tags = ["bars"]

    @post("/", status_code=HTTP_201_CREATED)
    async def create(self, data: JSONBody[BarIn], user_id: UserIdDep, rt: RuntimeDep) -> BarOut:
        async with rt.pool.acquire() as conn:
            return await service.create_bar(conn, user_id, data)

    @get("/")
    async def list(self, user_id: UserIdDep, rt: RuntimeDep) -> BarsOut:
        async with rt.pool.acquire() as conn:
            return BarsOut(bars=await service.list_bars(conn, user_id))

    @get("/{bar_id:uuid}")
    async def read(self, member: MemberDep, rt: RuntimeDep) -> BarOut:
        async with rt.pool.acquire() as conn:
            return await service.get_bar(conn, member)

    @patch("/{bar_id:uuid}")
    async def update(self, data: JSONBody[BarPatch], member: MemberDep, rt: RuntimeDep) -> BarOut:
        async with rt.pool.acquire() as conn:
            return await service.patch_bar(conn, member, data)

    @get("/{bar_id:uuid}/staff")
    async def staff(self, member: MemberDep, rt: RuntimeDep) -> MembersOut:
        async with rt.pool.acquire() as conn:
            return MembersOut(members=await service.list_members(conn, member))

    @post("/{bar_id:uuid}/staff", status_code=HTTP_201_CREATED)
    async def add_staff(
        self, data: JSONBody[StaffIn], member: MemberDep, rt: RuntimeDep
    ) -> MemberOut:
        async with rt.pool.acquire() as conn:
            return await service.add_member(conn, rt.passwords, member, data)

    @patch("/{bar_id:uuid}/staff/{user:uuid}")
    async def set_role(
        self,
        user: FromPath[uuid.UUID],
        data: JSONBody[StaffPatch],
        member: MemberDep,
        rt: RuntimeDep,
    ) -> MemberOut:
        async with rt.pool.acquire() as conn:
            return await service.set_role(conn, member, user, data.role)

    @delete("/{bar_id:uuid}/staff/{user:uuid}", status_code=HTTP_204_NO_CONTENT)
    async def remove_staff(
        self, user: FromPath[uuid.UUID], member: MemberDep, rt: RuntimeDep
    ) -> None:
        async with rt.pool.acquire() as conn:
            await service.remove_member(conn, member, user)
