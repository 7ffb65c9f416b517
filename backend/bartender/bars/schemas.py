"""Wire schemas for bars, settings and staff (contract: Accounts and bars)."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from bartender.accounts.schemas import Email, Input, Name, Password

Currency = Annotated[str, msgspec.Meta(pattern=r"^[A-Z]{3}$")]
Timezone = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
ClockTime = Annotated[str, msgspec.Meta(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")]
LeadTime = Annotated[int, msgspec.Meta(ge=0, le=60)]
ServiceLevel = Annotated[float, msgspec.Meta(ge=0.5, le=0.999)]
StaffRole = Literal["manager", "staff"]


class BarIn(Input):
    name: Name
    currency: Currency
    timezone: Timezone
    day_starts_at: ClockTime = "06:00"


class BarPatch(Input, omit_defaults=True):
    name: Name | msgspec.UnsetType = msgspec.UNSET
    timezone: Timezone | msgspec.UnsetType = msgspec.UNSET
    day_starts_at: ClockTime | msgspec.UnsetType = msgspec.UNSET
    lead_time_days: LeadTime | msgspec.UnsetType = msgspec.UNSET
    service_level: ServiceLevel | msgspec.UnsetType = msgspec.UNSET
    # issue 16: staff may record waste, offered and staff drinks (managers always may)
    staff_may_record_waste: bool | msgspec.UnsetType = msgspec.UNSET


class BarOut(msgspec.Struct):
    id: str
    name: str
    currency: str
    timezone: str
    day_starts_at: str
    lead_time_days: int
    service_level: float
    role: str
    currency_decimals: int
    staff_may_record_waste: bool


class BarsOut(msgspec.Struct):
    bars: list[BarOut]


class StaffIn(Input):
    email: Email
    role: StaffRole
    # needed only to create a new account; ignored for an existing one
    name: Name | None = None
    password: Password | None = None


class StaffPatch(Input):
    role: StaffRole


class MemberOut(msgspec.Struct):
    user_id: str
    email: str
    name: str
    role: str
    bar_id: str


class MembersOut(msgspec.Struct):
    members: list[MemberOut]
