"""The yardstick for `bartender loadtest --reference`: a plain python-websockets broadcast
server speaking the same /ws subset (auth, subscribe -> snapshot + mode, stock messages), with
no database, no auth check and no framework. A `publish` message from the load tester stands
for a sale: the server bumps the bar's seq, broadcasts the stock message to the bar's sockets,
and answers `published` (the tester's "sale response").

Run: python -m bartender.loadtest.reference_server --port 8765
"""

from __future__ import annotations

import argparse
import asyncio
import json

from websockets.asyncio.server import ServerConnection, broadcast, serve

rooms: dict[str, set[ServerConnection]] = {}
seqs: dict[str, int] = {}


async def handler(ws: ServerConnection) -> None:
    joined: set[str] = set()
    try:
        async for raw in ws:
            message = json.loads(raw)
            kind = message.get("type")
            if kind == "auth":
                await ws.send('{"type":"ready","user_id":"reference","server_time":""}')
            elif kind == "subscribe":
                bar = message["bar_id"]
                rooms.setdefault(bar, set()).add(ws)
                joined.add(bar)
                await ws.send(
                    json.dumps(
                        {"type": "snapshot", "bar_id": bar, "seq": seqs.get(bar, 0), "stock": []}
                    )
                )
                await ws.send(
                    json.dumps(
                        {"type": "mode", "bar_id": bar, "mode": "push", "poll_interval_ms": 5000}
                    )
                )
            elif kind == "publish":
                bar = message["bar_id"]
                seq = seqs[bar] = seqs.get(bar, 0) + 1
                broadcast(
                    rooms.get(bar, ()),
                    json.dumps(
                        {
                            "type": "stock",
                            "bar_id": bar,
                            "seq": seq,
                            "cause": "sale",
                            "changes": [{"product_id": message.get("product_id", ""), "stock": 0}],
                        }
                    ),
                )
                await ws.send(json.dumps({"type": "published", "bar_id": bar, "seq": seq}))
    finally:
        for bar in joined:
            rooms[bar].discard(ws)


async def main(port: int) -> None:
    # no permessage-deflate, like `bartender serve` (ws_per_message_deflate=False)
    async with serve(handler, "127.0.0.1", port, compression=None, max_queue=None):
        await asyncio.Future()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    asyncio.run(main(parser.parse_args().port))
