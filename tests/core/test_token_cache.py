"""Verified access tokens are remembered until they expire, and only exactly those tokens."""

from __future__ import annotations

import time
import uuid

import pytest

from bartender.accounts.tokens import Tokens
from bartender.errors import Unauthenticated
from bartender.settings import Settings
from tests.support import eventually


def _tokens() -> Tokens:
    return Tokens(Settings(database_url="postgresql://unused"), secret="s" * 48)


def test_a_verified_token_is_remembered_an_altered_one_is_not() -> None:
    tokens = _tokens()
    user = uuid.uuid4()
    token = tokens.access_token(user)
    first = tokens.access_claims(token)
    assert tokens.access_claims(token) is first  # answered from memory
    head, payload, signature = token.split(".")
    flipped = "A" if signature[10] != "A" else "B"  # a middle character: all 6 bits are data
    forged = f"{head}.{payload}.{signature[:10]}{flipped}{signature[11:]}"
    with pytest.raises(Unauthenticated):
        tokens.access_claims(forged)
    other = Tokens(Settings(database_url="postgresql://unused"), secret="t" * 48)
    with pytest.raises(Unauthenticated):
        other.access_claims(token)  # another secret: nothing shared between instances


async def test_a_remembered_token_still_expires() -> None:
    tokens = _tokens()
    ttl = tokens.settings.access_token_ttl_s
    token = tokens.access_token(uuid.uuid4(), issued_at=int(time.time()) - ttl + 1)
    tokens.access_claims(token)  # valid for about one more second, and now remembered

    def refused() -> bool:
        try:
            tokens.access_claims(token)
        except Unauthenticated as exc:
            return "expired" in exc.detail
        return False

    await eventually(refused, within=5, what="the remembered token to expire")
