"""`--demo`: the bar "Chez Fatou" in Abidjan (XOF), its drinks and stock, three logins.

Stock is kept the way the bar buys and pours it (issue 15): beer by the casier (Flag, Castel,
Guinness...), sodas by the pack, spirits by the 70 cl bottle and sold by the 4 cl glass, a
mojito made of rum and lime. Simple drinks get 180 days of history (forecasts); the poured
drinks are set up after it. Stock arrives through real deliveries (bt_deliver), so the
ledgers are consistent from the start. Running it twice changes nothing.
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
# Drinks that are their own stock item, with 180 days of history:
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
]
# base unit and packs of those drinks' own stock items
DRINK_UNITS = {
    "Bières": ("bouteille", [("casier", 12)]),
    "Sodas": ("bouteille", [("pack", 6), ("carton", 24)]),
}
CASIER_24 = {"Bock 33 cl", "Heineken 33 cl", "Guinness 33 cl"}  # small bottles: 24 a casier
# Shelf items poured by measure: name, base unit, packs, opening stock (base units)
POURED = [
    ("Whisky", "cl", [("bouteille", 70)], 3 * 70 + 20),
    ("Rhum blanc", "cl", [("bouteille", 70)], 70 + 35),
    ("Vin rouge", "cl", [("bouteille", 75)], 75 + 30),
    ("Citron vert", "pièce", [("filet", 10)], 14),
]
# Products made of those: name, category, price, cost, {item: base units per unit sold}
POURED_PRODUCTS = [
    ("Whisky (verre)", "Alcools", 2500, 1200, {"Whisky": 4}),
    ("Whisky (bouteille)", "Alcools", 35000, 16000, {"Whisky": 70}),
    ("Vin rouge (verre)", "Alcools", 1500, 700, {"Vin rouge": 12}),
    ("Mojito", "Cocktails", 3500, 1100, {"Rhum blanc": 5, "Citron vert": 1}),
]

INSERT_PACK = (
    "INSERT INTO stock_item_packs (bar_id, stock_item_id, name, size) VALUES ($1, $2, $3, $4)"
)

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
                await _stock_items(conn, bar_id, user_ids["owner"])
    finally:
        await conn.close()
    print(f"\nDemo bar: {BAR_NAME} (XOF, Africa/Abidjan). Logins:")
    for email, _name, password, role in LOGINS:
        print(f"  {role:<8} {email:<26} {password}")
    print()


async def _stock_items(conn: asyncpg.Connection, bar_id: uuid.UUID, owner: uuid.UUID) -> None:
    """Packs on the drinks' own items, the poured items, their products and recipes, and the
    opening delivery of the poured items (in bottles and units)."""
    for name, category, *_ in DRINKS:
        unit, packs = DRINK_UNITS.get(category, ("unit", []))
        if name in CASIER_24:
            packs = [("casier", 24)]
        item_id = await conn.fetchval(
            "UPDATE stock_items SET base_unit = $3 WHERE bar_id = $1 AND name = $2 RETURNING id",
            bar_id,
            name,
            unit,
        )
        await conn.executemany(
            INSERT_PACK,
            [(bar_id, item_id, pack, size) for pack, size in packs],
        )
    items, lines = {}, []
    for name, unit, packs, opening in POURED:
        items[name] = await conn.fetchval(
            "INSERT INTO stock_items (bar_id, name, base_unit, low_threshold, par_level) "
            "VALUES ($1, $2, $3, $4, $5) RETURNING id",
            bar_id,
            name,
            unit,
            packs[0][1],  # low: one pack left
            4 * packs[0][1],
        )
        await conn.executemany(
            INSERT_PACK,
            [(bar_id, items[name], pack, size) for pack, size in packs],
        )
        pack, size = packs[0]
        lines.append(
            {"stock_item_id": str(items[name]), "pack": pack, "packs": opening // size,
             "units": opening % size}
        )  # fmt: skip
    for name, category, price, cost, recipe in POURED_PRODUCTS:
        product_id = await conn.fetchval(
            "INSERT INTO products (bar_id, name, category, price, cost, low_threshold, par_level) "
            "VALUES ($1, $2, $3, $4, $5, 2, 10) RETURNING id",
            bar_id,
            name,
            category,
            price,
            cost,
        )
        components = [{"stock_item_id": str(items[i]), "qty": q} for i, q in recipe.items()]
        await conn.execute(
            "SELECT bt_set_recipe($1, $2, $3, $4::jsonb)",
            bar_id,
            product_id,
            owner,
            msgspec.json.encode(components).decode(),
        )
    request = {
        "id": str(uuid.uuid5(DEMO_NAMESPACE, "opening-stock-poured")),
        "items": lines,
        "supplier": "Cave du Plateau",
        "reference": "DEMO-0002",
    }
    await conn.execute(
        "SELECT bt_deliver($1, $2, $3::jsonb)", bar_id, owner, msgspec.json.encode(request).decode()
    )
