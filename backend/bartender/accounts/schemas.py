"""Wire schemas of the auth endpoints (contract: Accounts and bars)."""

from __future__ import annotations

from typing import Annotated

import msgspec

Email = Annotated[str, msgspec.Meta(min_length=3, max_length=320, pattern=r"^[^@\s]+@[^@\s]+$")]
Password = Annotated[str, msgspec.Meta(min_length=8, max_length=1024)]
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]


class Input(msgspec.Struct, forbid_unknown_fields=True):
    """Base of every request body: unknown fields are a 400."""


def given(value: object) -> object:
    """A PATCH field as a SQL parameter: UNSET (absent) becomes NULL, i.e. "keep as is"."""
    return None if value is msgspec.UNSET else value


class SignupIn(Input):
    email: Email
    password: Password
    name: Name


class LoginIn(Input):
    email: Annotated[str, msgspec.Meta(max_length=320)]
    password: Annotated[str, msgspec.Meta(max_length=1024)]


class RefreshIn(Input):
    refresh_token: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]


class LogoutIn(Input):
    refresh_token: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]


class UserOut(msgspec.Struct):
    id: str
    email: str
    name: str


class SignupOut(msgspec.Struct):
    user: UserOut


class MembershipOut(msgspec.Struct):
    bar_id: str
    bar_name: str
    role: str


class SessionOut(msgspec.Struct):
    access_token: str
    refresh_token: str
    expires_in: int
    user: UserOut
    memberships: list[MembershipOut]
    token_type: str = "bearer"


class MeOut(msgspec.Struct):
    user: UserOut
    memberships: list[MembershipOut]
