-- Triggers on the core tables. Re-applied on every migrate that finds a change (see db/migrate.py).

CREATE OR REPLACE FUNCTION bt_movements_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'movements is append-only' USING ERRCODE = 'BTF01',
        DETAIL = '{}';
END $$;

CREATE OR REPLACE TRIGGER movements_append_only BEFORE UPDATE OR DELETE ON movements
    FOR EACH ROW EXECUTE FUNCTION bt_movements_append_only();

-- Membership changes reach every instance's membership cache.
CREATE OR REPLACE FUNCTION bt_membership_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    r record := COALESCE(NEW, OLD);
BEGIN
    PERFORM pg_notify('bt_membership', r.bar_id::text || ':' || r.user_id::text);
    RETURN NULL;
END $$;

CREATE OR REPLACE TRIGGER memberships_notify AFTER INSERT OR UPDATE OR DELETE ON memberships
    FOR EACH ROW EXECUTE FUNCTION bt_membership_changed();

-- Every new product starts as its own stock item (same id, base unit "unit", one unit per
-- sale), whatever inserts it (the API, the demo, tests), so a bar that never uses stock items
-- works as before. A recipe replaces that component (stock/items.py).
CREATE OR REPLACE FUNCTION bt_product_own_item() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO stock_items (id, bar_id, name, stock, low_threshold, par_level, active)
    VALUES (NEW.id, NEW.bar_id, NEW.name, NEW.stock, NEW.low_threshold, NEW.par_level, NEW.active);
    INSERT INTO product_components (bar_id, product_id, stock_item_id, qty)
    VALUES (NEW.bar_id, NEW.id, NEW.id, 1);
    RETURN NULL;
END $$;

CREATE OR REPLACE TRIGGER products_own_item AFTER INSERT ON products
    FOR EACH ROW EXECUTE FUNCTION bt_product_own_item();

-- A product's own stock item keeps its name (the stock items screen lists it).
CREATE OR REPLACE FUNCTION bt_product_renamed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE stock_items SET name = NEW.name, updated_at = now()
    WHERE id = NEW.id AND bar_id = NEW.bar_id;
    RETURN NULL;
END $$;

CREATE OR REPLACE TRIGGER products_own_item_name AFTER UPDATE OF name ON products
    FOR EACH ROW WHEN (OLD.name IS DISTINCT FROM NEW.name)
    EXECUTE FUNCTION bt_product_renamed();
