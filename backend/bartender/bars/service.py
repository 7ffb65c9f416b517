"""Bars and their staff. Roles: owner > manager > staff; owners manage managers and the bar."""

from __future__ import annotations

import uuid
import zoneinfo

import asyncpg

from bartender.accounts.passwords import Passwords
from bartender.accounts.schemas import given
from bartender.accounts.service import USER_BY_EMAIL, create_user
from bartender.bars.access import Manager, Member, Owner
from bartender.bars.currencies import DECIMALS
from bartender.bars.schemas import BarIn, BarOut, BarPatch, MemberOut, StaffIn
from bartender.errors import AlreadyMember, Forbidden, InvalidRequest, NotFound

INSERT_BAR = """
INSERT INTO bars (name, currency, timezone, day_starts_at) VALUES ($1, $2, $3, $4::text::time)
RETURNING id
"""
INSERT_OWNER = "INSERT INTO memberships (bar_id, user_id, role) VALUES ($1, $2, 'owner')"
BARS_OF_USER = """
SELECT b.*, m.role FROM bar_view b JOIN memberships m ON m.bar_id = b.id
WHERE m.user_id = $1 ORDER BY b.name, b.id
"""
BAR_BY_ID = "SELECT * FROM bar_view WHERE id = $1"
PATCH_BAR = """
UPDATE bars AS b SET
    name = COALESCE($2, b.name),
    timezone = COALESCE($3, b.timezone),
    day_starts_at = COALESCE($4::text::time, b.day_starts_at),
    lead_time_days = COALESCE($5, b.lead_time_days),
    service_level = COALESCE($6::float8::numeric, b.service_level),
    staff_may_record_waste = COALESCE($7, b.staff_may_record_waste)
WHERE b.id = $1
"""
MEMBERS = """
SELECT u.id AS user_id, u.email, u.name, m.role, m.bar_id
FROM memberships m JOIN users u ON u.id = m.user_id
WHERE m.bar_id = $1
ORDER BY CASE m.role WHEN 'owner' THEN 0 WHEN 'manager' THEN 1 ELSE 2 END, u.name, u.id
"""
MEMBER = """
SELECT u.id AS user_id, u.email, u.name, m.role, m.bar_id
FROM memberships m JOIN users u ON u.id = m.user_id
WHERE m.bar_id = $1 AND m.user_id = $2
"""
ADD_MEMBER = """
INSERT INTO memberships (bar_id, user_id, role) VALUES ($1, $2, $3)
ON CONFLICT DO NOTHING RETURNING role
"""
SET_ROLE = "UPDATE memberships SET role = $3 WHERE bar_id = $1 AND user_id = $2"
REMOVE_MEMBER = "DELETE FROM memberships WHERE bar_id = $1 AND user_id = $2"


def bar_out(row: asyncpg.Record, role: str) -> BarOut:
    return BarOut(
        id=str(row["id"]),
        name=row["name"],
        currency=row["currency"],
        timezone=row["timezone"],
        day_starts_at=row["day_starts_at"],
        lead_time_days=row["lead_time_days"],
        service_level=round(row["service_level"], 3),
        role=role,
        currency_decimals=DECIMALS.get(row["currency"], 2),
        staff_may_record_waste=row["staff_may_record_waste"],
    )


def member_out(row: asyncpg.Record) -> MemberOut:
    return MemberOut(
        user_id=str(row["user_id"]),
        email=row["email"],
        name=row["name"],
        role=row["role"],
        bar_id=str(row["bar_id"]),
    )


# PostgreSQL turns every sale's time into the bar's business day: a zone it does not know
# (`localtime`, `right/UTC`, `posix/...`, which Python's zoneinfo accepts) would fail every
# sale later, so a zone must be known to both.
ZONE_KNOWN = "SELECT EXISTS (SELECT 1 FROM pg_timezone_names WHERE name = $1)"


async def _check_timezone(conn: asyncpg.Connection, name: str) -> None:
    try:
        zoneinfo.ZoneInfo(name)
        known = await conn.fetchval(ZONE_KNOWN, name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        known = False
    if not known:
        raise InvalidRequest([{"field": "timezone", "message": f"unknown IANA time zone {name!r}"}])


async def create_bar(conn: asyncpg.Connection, user_id: uuid.UUID, data: BarIn) -> BarOut:
    if data.currency not in DECIMALS:
        raise InvalidRequest(
            [{"field": "currency", "message": f"unsupported ISO 4217 currency {data.currency!r}"}]
        )
    await _check_timezone(conn, data.timezone)
    async with conn.transaction():
        bar_id = await conn.fetchval(
            INSERT_BAR, data.name.strip(), data.currency, data.timezone, data.day_starts_at
        )
        await conn.execute(INSERT_OWNER, bar_id, user_id)
        row = await conn.fetchrow(BAR_BY_ID, bar_id)
    return bar_out(row, "owner")


async def list_bars(conn: asyncpg.Connection, user_id: uuid.UUID) -> list[BarOut]:
    return [bar_out(r, r["role"]) for r in await conn.fetch(BARS_OF_USER, user_id)]


async def get_bar(conn: asyncpg.Connection, member: Member) -> BarOut:
    row = await conn.fetchrow(BAR_BY_ID, member.bar_id)
    if row is None:
        raise NotFound("No such bar.")
    return bar_out(row, member.role)


async def patch_bar(conn: asyncpg.Connection, owner: Owner, data: BarPatch) -> BarOut:
    """Change the bar's settings (the caller is its owner: routes inject OwnerDep)."""
    if isinstance(data.timezone, str):
        await _check_timezone(conn, data.timezone)
    await conn.execute(
        PATCH_BAR,
        owner.bar_id,
        given(data.name),
        given(data.timezone),
        given(data.day_starts_at),
        given(data.lead_time_days),
        given(data.service_level),
        given(data.staff_may_record_waste),
    )
    return await get_bar(conn, owner)


async def list_members(conn: asyncpg.Connection, manager: Manager) -> list[MemberOut]:
    return [member_out(r) for r in await conn.fetch(MEMBERS, manager.bar_id)]


def _may_manage(actor: Manager, target_role: str, new_role: str | None = None) -> None:
    """Owners manage managers; nobody demotes or removes the owner (the caller is at least a
    manager: routes inject ManagerDep)."""
    if target_role == "owner":
        raise Forbidden("The owner cannot be demoted or removed.")
    for role in (target_role, new_role):
        if role == "manager" and actor.role != "owner":
            raise Forbidden("Only the owner manages managers.")


async def add_member(
    conn: asyncpg.Connection, passwords: Passwords, actor: Manager, data: StaffIn
) -> MemberOut:
    _may_manage(actor, "staff", data.role)
    async with conn.transaction():
        user = await conn.fetchrow(USER_BY_EMAIL, data.email.strip())
        if user is None:
            missing = [
                {"field": f, "message": "required to create a new account"}
                for f in ("name", "password")
                if getattr(data, f) is None
            ]
            if missing:
                raise InvalidRequest(missing)
            assert data.name is not None and data.password is not None
            user = await create_user(conn, passwords, data.email, data.name, data.password)
        added = await conn.fetchval(ADD_MEMBER, actor.bar_id, user["id"], data.role)
        if added is None:
            raise AlreadyMember("This person is already a member of this bar.")
        row = await conn.fetchrow(MEMBER, actor.bar_id, user["id"])
    return member_out(row)


async def _target(conn: asyncpg.Connection, actor: Member, user_id: uuid.UUID) -> asyncpg.Record:
    row = await conn.fetchrow(MEMBER, actor.bar_id, user_id)
    if row is None:
        raise NotFound("No such member in this bar.")
    return row


async def set_role(
    conn: asyncpg.Connection, actor: Manager, user_id: uuid.UUID, role: str
) -> MemberOut:
    target = await _target(conn, actor, user_id)
    _may_manage(actor, target["role"], role)
    await conn.execute(SET_ROLE, actor.bar_id, user_id, role)
    return member_out(await _target(conn, actor, user_id))


async def remove_member(conn: asyncpg.Connection, actor: Manager, user_id: uuid.UUID) -> None:
    target = await _target(conn, actor, user_id)
    _may_manage(actor, target["role"])
    await conn.execute(REMOVE_MEMBER, actor.bar_id, user_id)
