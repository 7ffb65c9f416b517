"""Reading the bearer token of a request."""

from __future__ import annotations

from bartender.errors import Unauthenticated


def bearer_token(header: str | None) -> str:
    if not header:
        raise Unauthenticated("Missing Authorization: Bearer <access_token>.")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("Expected Authorization: Bearer <access_token>.")
    return token.strip()
