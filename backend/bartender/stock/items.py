"""Stock items (what sits on the shelf, in a base unit), their packs, and recipes (what a
product takes from which items). docs/protocol.md, "Stock items, packs and recipes".

Creating and editing items is catalogue work (plain SQL here); their stock only ever changes
through the stock functions (deliveries and counts name `stock_item_id`), and a recipe change
goes through `bt_set_recipe`, since it can change what products are available.
"""

from __future__ import annotations

import uuid

import asyncpg
import msgspec

from bartender.accounts.schemas import given
from bartender.bars.access import Member
from bartender.errors import InvalidRequest, NotFound
from bartender.stock.schemas import (
    CountLine,
    DeliveryLine,
    LevelInPacks,
    RecipeIn,
    RecipeOut,
    RecipesOut,
    StockItemIn,
    StockItemOut,
    StockItemPatch,
    StockItemsOut,
)

INSERT_ITEM = """
INSERT INTO stock_items (bar_id, name, base_unit, low_threshold, par_level)
VALUES ($1, $2, $3, $4, $5) RETURNING id
"""
PATCH_ITEM = """
UPDATE stock_items SET
    name = COALESCE($3, name),
    base_unit = COALESCE($4, base_unit),
    low_threshold = COALESCE($5, low_threshold),
    par_level = COALESCE($6, par_level),
    active = COALESCE($7, active),
    updated_at = now()
WHERE bar_id = $1 AND id = $2
"""
PRODUCT_LEVELS = """
UPDATE products SET low_threshold = COALESCE($3, low_threshold),
                    par_level = COALESCE($4, par_level), updated_at = now()
WHERE bar_id = $1 AND id = $2
"""
ITEM_PACKS = "SELECT name, size FROM stock_item_packs WHERE bar_id = $1 AND stock_item_id = $2"
MAX_LEVEL = 1_000_000  # as for a threshold or par given in base units
# two statements: in one, the INSERT would not see the DELETE (same snapshot)
DELETE_PACKS = "DELETE FROM stock_item_packs WHERE stock_item_id = $1"
INSERT_PACKS = """
INSERT INTO stock_item_packs (bar_id, stock_item_id, name, size)
SELECT $1, $2, p.name, p.size FROM unnest($3::text[], $4::int[]) AS p(name, size)
"""
ITEM = "SELECT (to_jsonb(v) - 'bar_id')::text FROM stock_item_view v WHERE bar_id = $1 AND id = $2"
# seq and items read in one statement: one snapshot, so they agree.
ITEMS = """
SELECT (SELECT seq FROM bars WHERE id = $1) AS seq,
       COALESCE((SELECT jsonb_agg(to_jsonb(v) - 'bar_id' ORDER BY v.active DESC, v.name, v.id)
                 FROM stock_item_view v WHERE v.bar_id = $1), '[]')::text AS items
"""
SET_RECIPE = "SELECT bt_set_recipe($1, $2, $3, $4::jsonb)::text"
RECIPES = """
SELECT COALESCE(jsonb_agg(to_jsonb(v) - 'bar_id' ORDER BY v.product_id), '[]')::text
FROM recipe_view v WHERE v.bar_id = $1
"""

_item = msgspec.json.Decoder(StockItemOut)
_items = msgspec.json.Decoder(list[StockItemOut])
_recipe = msgspec.json.Decoder(RecipeOut)
_recipes = msgspec.json.Decoder(list[RecipeOut])


def _packs_args(packs: list) -> tuple[list[str], list[int]]:
    names = [p.name.strip() for p in packs]
    if len(set(names)) != len(names):
        raise InvalidRequest([{"field": "packs", "message": "pack names must differ"}])
    return names, [p.size for p in packs]


def _in_base_units(
    levels: dict[str, object], names: list[str], sizes: list[int]
) -> dict[str, object]:
    """Thresholds/par given in packs, in base units (the item's packs: `names`, `sizes`).

    Unknown pack or a result above the limit: 400 naming the field; nothing is written."""
    size_of = dict(zip(names, sizes, strict=True))
    out, errors = dict(levels), []
    for field, level in levels.items():
        if not isinstance(level, LevelInPacks):
            continue
        size = size_of.get(level.pack.strip())
        if size is None:
            errors.append({"field": f"{field}.pack", "message": "no such pack for this item"})
        elif level.packs * size + level.units > MAX_LEVEL:
            errors.append({"field": field, "message": f"at most {MAX_LEVEL} base units"})
        else:
            out[field] = level.packs * size + level.units
    if errors:
        raise InvalidRequest(errors)
    return out


async def _read_item(
    conn: asyncpg.Connection, bar_id: uuid.UUID, item_id: uuid.UUID
) -> StockItemOut:
    raw = await conn.fetchval(ITEM, bar_id, item_id)
    if raw is None:
        raise NotFound("No such stock item in this bar.")
    return _item.decode(raw)


async def create_item(conn: asyncpg.Connection, member: Member, data: StockItemIn) -> StockItemOut:
    names, sizes = _packs_args(data.packs)
    levels = _in_base_units(
        {"low_threshold": data.low_threshold, "par_level": data.par_level}, names, sizes
    )
    async with conn.transaction():
        item_id = await conn.fetchval(
            INSERT_ITEM,
            member.bar_id,
            data.name.strip(),
            data.base_unit.strip(),
            levels["low_threshold"],
            levels["par_level"],
        )
        await conn.execute(INSERT_PACKS, member.bar_id, item_id, names, sizes)
    return await _read_item(conn, member.bar_id, item_id)


async def patch_item(
    conn: asyncpg.Connection, member: Member, item_id: uuid.UUID, data: StockItemPatch
) -> StockItemOut:
    async with conn.transaction():
        levels = {"low_threshold": given(data.low_threshold), "par_level": given(data.par_level)}
        if any(isinstance(level, LevelInPacks) for level in levels.values()):
            # in the packs this request sets, else the item's current ones
            if isinstance(data.packs, msgspec.UnsetType):
                rows = await conn.fetch(ITEM_PACKS, member.bar_id, item_id)
                names, sizes = [r["name"] for r in rows], [r["size"] for r in rows]
            else:
                names, sizes = _packs_args(data.packs)
            levels = _in_base_units(levels, names, sizes)
        status = await conn.execute(
            PATCH_ITEM,
            member.bar_id,
            item_id,
            given(data.name),
            given(data.base_unit),
            levels["low_threshold"],
            levels["par_level"],
            given(data.active),
        )
        if status.endswith(" 0"):
            raise NotFound("No such stock item in this bar.")
        if levels["low_threshold"] is not None or levels["par_level"] is not None:
            # a product's own item: the product has the same threshold and par (item locked
            # first, as a sale locks them)
            await conn.execute(
                PRODUCT_LEVELS, member.bar_id, item_id, levels["low_threshold"], levels["par_level"]
            )
        if not isinstance(data.packs, msgspec.UnsetType):
            names, sizes = _packs_args(data.packs)
            await conn.execute(DELETE_PACKS, item_id)
            await conn.execute(INSERT_PACKS, member.bar_id, item_id, names, sizes)
    return await _read_item(conn, member.bar_id, item_id)


async def list_items(conn: asyncpg.Connection, member: Member) -> StockItemsOut:
    row = await conn.fetchrow(ITEMS, member.bar_id)
    return StockItemsOut(seq=row["seq"], stock_items=_items.decode(row["items"]))


async def set_recipe(
    conn: asyncpg.Connection, member: Member, product_id: uuid.UUID, data: RecipeIn
) -> RecipeOut:
    raw = await conn.fetchval(
        SET_RECIPE,
        member.bar_id,
        product_id,
        member.user_id,
        msgspec.json.encode(data.components).decode(),
    )
    return _recipe.decode(raw)


async def list_recipes(conn: asyncpg.Connection, member: Member) -> RecipesOut:
    return RecipesOut(recipes=_recipes.decode(await conn.fetchval(RECIPES, member.bar_id)))


def check_lines(lines: list[DeliveryLine] | list[CountLine], field: str, qty_key: str) -> None:
    """Each line names one thing (`product_id` or `stock_item_id`) and one way to say how
    much (`qty_key`, or `pack` with `packs`/`units`/`tenths`, or `units`). SQL converts."""
    errors = []
    for i, line in enumerate(lines):
        path = f"{field}[{i}]"
        if (line.product_id is None) == (line.stock_item_id is None):
            errors.append(
                {"field": f"{path}.product_id", "message": "give product_id or stock_item_id"}
            )
        plain = getattr(line, qty_key) is not None
        in_packs = line.pack is not None or line.packs is not None or line.tenths is not None
        if plain and (in_packs or line.units is not None):
            errors.append(
                {"field": f"{path}.{qty_key}", "message": f"give {qty_key} or packs, not both"}
            )
        elif in_packs and line.pack is None:
            errors.append({"field": f"{path}.pack", "message": "name the pack"})
        elif not plain and not in_packs and line.units is None:
            errors.append({"field": f"{path}.{qty_key}", "message": "missing"})
    if errors:
        raise InvalidRequest(errors)
