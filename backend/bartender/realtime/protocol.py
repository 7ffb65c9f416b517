"""The /ws wire format (docs/protocol.md "Live stock over WebSocket", plus `catalog`).

Client messages decode into tagged msgspec structs; anything else is a `bad_message`. Server
messages are encoded once and the same text frame goes to every subscriber of a bar.
"""

from __future__ import annotations

import datetime
import uuid
from typing import Annotated, Any

import msgspec

# Close codes (rule 7 of docs/protocol.md).
CLOSE_UNAUTHENTICATED = 4401
CLOSE_AUTH_TIMEOUT = 4408
CLOSE_TOO_MANY = 4429
CLOSE_RESTARTING = 1012
CLOSE_POLICY = 1008
CLOSE_TOO_BIG = 1009  # a frame over BARTENDER_WS_MAX_FRAME_BYTES

Seq = Annotated[int, msgspec.Meta(ge=0)]


class _In(msgspec.Struct, tag_field="type", forbid_unknown_fields=True, frozen=True):
    pass


class Auth(_In, tag="auth", frozen=True):
    token: str


class Subscribe(_In, tag="subscribe", frozen=True):
    bar_id: uuid.UUID
    since: Seq | None = None


class Unsubscribe(_In, tag="unsubscribe", frozen=True):
    bar_id: uuid.UUID


class Ping(_In, tag="ping", frozen=True):
    t: msgspec.Raw = msgspec.Raw(b"null")


ClientMessage = Auth | Subscribe | Unsubscribe | Ping

_decoder = msgspec.json.Decoder(ClientMessage)


def decode(frame: str) -> ClientMessage | None:
    """The client message in a text frame, or None when it is not one we know."""
    try:
        return _decoder.decode(frame)
    # RecursionError: JSON nested deeper than msgspec's limit (a few KB of brackets)
    except (msgspec.DecodeError, msgspec.ValidationError, RecursionError):
        return None


class _Out(msgspec.Struct, tag_field="type"):
    pass


class Ready(_Out, tag="ready"):
    user_id: str
    server_time: str


class Error(_Out, tag="error", omit_defaults=True):
    code: str
    bar_id: str | None = msgspec.field(default=None)


class Pong(_Out, tag="pong"):
    t: msgspec.Raw


class StockChange(msgspec.Struct):
    product_id: str
    stock: int


class StockMessage(_Out, tag="stock", omit_defaults=True):
    bar_id: str
    seq: int
    changes: list[Any]
    cause: str
    # additive (issue 15): [{stock_item_id, stock}] of the stock items this transaction moved
    items: list[Any] | None = None


class Mode(_Out, tag="mode"):
    bar_id: str
    mode: str
    poll_interval_ms: int
    # additive: the bar's catalog version, so a reconnecting client knows whether to
    # re-read the product list
    catalog_seq: int


_encoder = msgspec.json.Encoder()


def encode(message: _Out) -> str:
    return _encoder.encode(message).decode()


def ready(user_id: uuid.UUID) -> str:
    now = datetime.datetime.now(datetime.UTC).isoformat(timespec="milliseconds")
    return encode(Ready(user_id=str(user_id), server_time=now.replace("+00:00", "Z")))


BAD_MESSAGE = '{"type":"error","code":"bad_message"}'


def forbidden(bar_id: uuid.UUID) -> str:
    return encode(Error(code="forbidden", bar_id=str(bar_id)))


def pong(t: msgspec.Raw) -> str:
    return encode(Pong(t=t))


def stock(
    bar_id: str, seq: int, changes: list[Any], cause: str, items: list[Any] | None = None
) -> str:
    return encode(StockMessage(bar_id=bar_id, seq=seq, changes=changes, cause=cause, items=items))


def mode(bar_id: uuid.UUID, mode_name: str, poll_interval_ms: int, catalog_seq: int) -> str:
    return encode(
        Mode(
            bar_id=str(bar_id),
            mode=mode_name,
            poll_interval_ms=poll_interval_ms,
            catalog_seq=catalog_seq,
        )
    )


def snapshot(bar_id: uuid.UUID, seq: int, stock_json: str) -> str:
    """`stock_json` is the database's `[{"product_id","stock"}]` text, passed through."""
    return f'{{"type":"snapshot","bar_id":"{bar_id}","seq":{seq:d},"stock":{stock_json}}}'


def catalog(bar_id: str, catalog_seq: int, product_json: str) -> str:
    """Additive message: a product of the bar was created or its catalog fields changed."""
    return (
        f'{{"type":"catalog","bar_id":"{bar_id}","catalog_seq":{catalog_seq:d},'
        f'"product":{product_json}}}'
    )
