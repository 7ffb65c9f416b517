"""Sales posted by wrk (a C load generator, Debian's `wrk`) instead of Python clients.

pgbench drives `bt_sell` from C and costs next to nothing; the Python clients of
`sale_bench.py` take ~0.2 of the two cores the server and PostgreSQL share. With wrk the HTTP
side of the comparison is loaded like the SQL side: `python tests/load/sale_bench.py
--generator wrk`. Each request is a one-line sale with a fresh random id (UUID v4 form) on a
random target, as the Python clients post; statuses other than 201 are counted.
"""

from __future__ import annotations

import asyncio
import os
import re
import resource
import shutil
import tempfile

LUA = """
local targets = %(targets)s
local hex = "0123456789abcdef"
local function uuid4()
  local t = {}
  for i = 1, 32 do local r = math.random(1, 16); t[i] = hex:sub(r, r) end
  t[13] = "4"
  local v = math.random(9, 12); t[17] = hex:sub(v, v)
  local s = table.concat(t)
  return s:sub(1, 8) .. "-" .. s:sub(9, 12) .. "-" .. s:sub(13, 16) .. "-" ..
         s:sub(17, 20) .. "-" .. s:sub(21, 32)
end
local counter = 0
function setup(thread)
  counter = counter + 1
  thread:set("seed", counter)
end
function init(args)
  math.randomseed(os.time() * 1000 + seed)
end
wrk.method = "POST"
wrk.headers["Authorization"] = "Bearer %(token)s"
wrk.headers["Content-Type"] = "application/json"
function request()
  local t = targets[math.random(#targets)]
  local body = '{"id":"' .. uuid4() .. '","items":[{"product_id":"' .. t[2] .. '","qty":1}]}'
  return wrk.format("POST", "/api/bars/" .. t[1] .. "/sales", nil, body)
end
"""


def _ms(text: str) -> float:
    """wrk's '33.34ms' / '812.00us' / '1.02s' in milliseconds."""
    value, unit = re.fullmatch(r"([\d.]+)(\w+)", text).groups()  # type: ignore[union-attr]
    return round(float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}[unit], 2)


def available() -> bool:
    return shutil.which("wrk") is not None


async def wrk_load(
    base: str, token: str, targets: list[dict], clients: int, duration: float
) -> dict:
    """One round of `clients` keep-alive connections for `duration` seconds (closed loop)."""
    lua = LUA % {
        "targets": "{" + ",".join(f'{{"{t["bar"]}","{t["product"]}"}}' for t in targets) + "}",
        "token": token,
    }
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(lua)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    proc = await asyncio.create_subprocess_exec(
        "wrk",
        "-t",
        str(min(2, clients)),
        "-c",
        str(clients),
        "-d",
        f"{int(duration)}s",
        "--latency",
        "-s",
        f.name,
        base,
        stdout=asyncio.subprocess.PIPE,
    )
    out = (await proc.communicate())[0].decode()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    os.unlink(f.name)
    total = int(re.search(r"(\d+) requests in ([\d.]+)(\w+)", out)[1])
    elapsed = float(re.search(r"requests in ([\d.]+)s", out)[1])
    refused = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = int(refused[1]) if refused else 0
    latency = {q: _ms(v) for q, v in re.findall(r"^\s+(50|90|99)%\s+([\d.]+\w+)", out, re.M)}
    return {
        "tps": round((total - errors) / elapsed, 1),
        "sales": total - errors,
        "errors": {"non_2xx": errors} if errors else {},
        "p50": latency.get("50"),
        "p95": None,  # wrk reports 50/75/90/99
        "p90": latency.get("90"),
        "p99": latency.get("99"),
        "generator": "wrk",
        "generator_cpu_s": round(
            after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime, 2
        ),
    }
