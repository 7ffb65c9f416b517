-- Stock items (issue 15): what sits on the shelf, counted in a base unit (bottle, can, cl...),
-- bought and counted in packs, and consumed by products (what is sold) through components.
-- Every existing product becomes its own stock item with base unit "unit": the item takes the
-- product's id, stock, thresholds and alert state, the product consumes 1 of it, and its
-- ledger is copied into the item ledger. `products.stock` stays, now meaning the product's
-- available quantity (min over its components of floor(item stock / quantity)); for a
-- product that is its own item that is exactly the item's stock, so nothing a client sees
-- changes. seq, receipt numbers and `movements` are untouched.

CREATE TABLE stock_items (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    bar_id         uuid NOT NULL REFERENCES bars (id) ON DELETE CASCADE,
    name           text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    base_unit      text NOT NULL DEFAULT 'unit' CHECK (length(base_unit) BETWEEN 1 AND 30),
    stock          integer NOT NULL DEFAULT 0,
    low_threshold  integer NOT NULL DEFAULT 0 CHECK (low_threshold >= 0),
    par_level      integer NOT NULL DEFAULT 0 CHECK (par_level >= 0),
    alert_level    smallint NOT NULL DEFAULT 0,
    active         boolean NOT NULL DEFAULT true,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT stock_items_stock_nonnegative CHECK (stock >= 0)
);
CREATE INDEX stock_items_bar ON stock_items (bar_id, name);

-- Named multiples of the base unit for buying and counting (casier = 24, bouteille = 70 cl).
CREATE TABLE stock_item_packs (
    bar_id         uuid NOT NULL REFERENCES bars (id) ON DELETE CASCADE,
    stock_item_id  uuid NOT NULL REFERENCES stock_items (id) ON DELETE CASCADE,
    name           text NOT NULL CHECK (length(name) BETWEEN 1 AND 60),
    size           integer NOT NULL CHECK (size BETWEEN 1 AND 100000),
    PRIMARY KEY (stock_item_id, name)
);

-- What one sold unit of a product consumes, in the item's base unit.
CREATE TABLE product_components (
    bar_id         uuid NOT NULL REFERENCES bars (id) ON DELETE CASCADE,
    product_id     uuid NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    stock_item_id  uuid NOT NULL REFERENCES stock_items (id),
    qty            integer NOT NULL CHECK (qty BETWEEN 1 AND 100000),
    PRIMARY KEY (product_id, stock_item_id)
);
CREATE INDEX product_components_item ON product_components (stock_item_id);

-- The ledger in base units: one row per stock item per stock transaction (`seq`).
-- `movements` keeps one row per product whose available quantity changed (the wire's view).
CREATE TABLE item_movements (
    bar_id         uuid NOT NULL REFERENCES bars (id) ON DELETE CASCADE,
    seq            bigint NOT NULL,
    stock_item_id  uuid NOT NULL REFERENCES stock_items (id),
    delta          integer NOT NULL,
    stock_after    integer NOT NULL CHECK (stock_after >= 0),
    kind           text NOT NULL,
    ref_id         uuid NOT NULL,
    actor_id       uuid REFERENCES users (id) ON DELETE SET NULL,
    at             timestamptz NOT NULL,
    PRIMARY KEY (bar_id, seq, stock_item_id)
);
CREATE INDEX item_movements_item ON item_movements (bar_id, stock_item_id, seq);

INSERT INTO stock_items (id, bar_id, name, base_unit, stock, low_threshold, par_level,
                         alert_level, active, created_at, updated_at)
SELECT id, bar_id, name, 'unit', stock, low_threshold, par_level, alert_level, active,
       created_at, updated_at
FROM products;

INSERT INTO product_components (bar_id, product_id, stock_item_id, qty)
SELECT bar_id, id, id, 1 FROM products;

INSERT INTO item_movements (bar_id, seq, stock_item_id, delta, stock_after, kind, ref_id,
                            actor_id, at)
SELECT bar_id, seq, product_id, delta, stock_after, kind, ref_id, actor_id, at FROM movements;

-- Blocks whose arguments change (functions/10_stock_common.sql recreates them).
DROP FUNCTION IF EXISTS bt_lock_lines(uuid, jsonb, text, boolean);
