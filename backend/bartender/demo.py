"""`--demo`: the bar "Chez Fatou" in Abidjan (XOF), a dozen drinks in stock and three logins.

Stock arrives through a real delivery (bt_deliver), so the ledger is consistent from the start.
Running it twice changes nothing.
"""

from __future__ import annotations

import uuid

import asyncpg
import msgspec

from bartender.accounts.passwords import Passwords
from bartender.forecast.demo import seed_history
from bartender.settings import Settings

BAR_NAME = "Chez Fatou"
LOGINS = [  # (email, name, password, role)
    ("owner@chezfatou.demo", "Fatou Diallo", "fatou-owner-2026", "owner"),
    ("manager@chezfatou.demo", "Awa Koné", "awa-manager-2026", "manager"),
    ("staff@chezfatou.demo", "Moussa Traoré", "moussa-staff-2026", "staff"),
]
# name, category, price (XOF), cost, low_threshold, par_level, initial stock
DRINKS = [
    ("Flag 65 cl", "Bières", 800, 550, 24, 96, 120),
    ("Castel 65 cl", "Bières", 800, 550, 24, 96, 96),
    ("Bock 33 cl", "Bières", 600, 400, 24, 72, 60),
    ("Heineken 33 cl", "Bières", 1200, 850, 12, 48, 36),
    ("Guinness 33 cl", "Bières", 1000, 700, 12, 48, 30),
    ("Coca-Cola 33 cl", "Sodas", 500, 300, 12, 48, 48),
    ("Fanta 33 cl", "Sodas", 500, 300, 12, 48, 40),
    ("Eau minérale 1,5 L", "Sodas", 500, 250, 12, 36, 30),
    ("Bissap maison", "Jus", 500, 150, 10, 30, 20),
    ("Gingembre maison", "Jus", 500, 150, 10, 30, 18),
    ("Whisky (verre)", "Alcools", 2500, 1200, 5, 20, 8),
    ("Vin rouge (verre)", "Alcools", 1500, 700, 5, 20, 3),
]

DEMO_NAMESPACE = uuid.UUID("6f1c2d4e-1b7a-4c55-9a1e-5d0c2b9e7f00")


async def seed_demo(settings: Settings) -> None:
    assert settings.database_url
    passwords = Passwords(settings)
    conn = await asyncpg.connect(settings.database_url)
    try:
        existing = await conn.fetchval("SELECT id FROM bars WHERE name = $1", BAR_NAME)
        if existing is None:
            async with conn.transaction():
                user_ids = {}
                for email, name, password, role in LOGINS:
                    user_ids[role] = await conn.fetchval(
                        "INSERT INTO users (email, name, password_hash) VALUES ($1, $2, $3) "
                        "ON CONFLICT ((lower(email))) DO UPDATE SET name = EXCLUDED.name "
                        "RETURNING id",
                        email,
                        name,
                        await passwords.hash(password),
                    )
                bar_id = await conn.fetchval(
                    "INSERT INTO bars (name, currency, timezone) VALUES ($1, 'XOF', "
                    "'Africa/Abidjan') RETURNING id",
                    BAR_NAME,
                )
                for role, user_id in user_ids.items():
                    await conn.execute(
                        "INSERT INTO memberships (bar_id, user_id, role) VALUES ($1, $2, $3)",
                        bar_id,
                        user_id,
                        role,
                    )
                items = []
                for name, category, price, cost, low, par, stock in DRINKS:
                    product_id = await conn.fetchval(
                        "INSERT INTO products (bar_id, name, category, price, cost, "
                        "low_threshold, par_level) VALUES ($1, $2, $3, $4, $5, $6, $7) "
                        "RETURNING id",
                        bar_id,
                        name,
                        category,
                        price,
                        cost,
                        low,
                        par,
                    )
                    items.append({"product_id": str(product_id), "qty": stock})
                # 180 days of past sales and deliveries, so forecasts have a history
                await seed_history(conn, bar_id, user_ids["manager"])
                request = {
                    "id": str(uuid.uuid5(DEMO_NAMESPACE, "opening-stock")),
                    "items": items,
                    "supplier": "Solibra",
                    "reference": "DEMO-0001",
                }
                await conn.execute(
                    "SELECT bt_deliver($1, $2, $3::jsonb)",
                    bar_id,
                    user_ids["owner"],
                    msgspec.json.encode(request).decode(),
                )
    finally:
        await conn.close()
    print(f"\nDemo bar: {BAR_NAME} (XOF, Africa/Abidjan). Logins:")
    for email, _name, password, role in LOGINS:
        print(f"  {role:<8} {email:<26} {password}")
    print()
