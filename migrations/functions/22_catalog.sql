-- Catalog changes (a product created, renamed, re-priced, (de)activated, thresholds or cost
-- changed) reach subscribed sockets and pollers without a reload.
--
-- Each bar has a catalog version, +1 per committed statement row that changes a product's
-- catalog fields (never for stock-only updates: those are the stock seq's business). It lives
-- in its own table so that editing a product never contends with the bars row that every
-- sale locks. The NOTIFY carries the product as the API shows it (stock included); a payload
-- too large for NOTIFY carries only the ids and listeners read the product.

CREATE OR REPLACE FUNCTION bt_catalog_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    v_seq     bigint;
BEGIN
    INSERT INTO bar_catalog AS c (bar_id, seq) VALUES (NEW.bar_id, 1)
    ON CONFLICT (bar_id) DO UPDATE SET seq = c.seq + 1
    RETURNING c.seq INTO v_seq;
    -- the product exactly as GET /products shows it (product_view: its one definition)
    PERFORM bt_notify('bt_catalog',
        jsonb_build_object('bar_id', NEW.bar_id, 'catalog_seq', v_seq,
            'product', (SELECT to_jsonb(v) - 'bar_id' FROM product_view v WHERE v.id = NEW.id)),
        jsonb_build_object('bar_id', NEW.bar_id, 'catalog_seq', v_seq, 'product_id', NEW.id));
    RETURN NULL;
END $$;

CREATE OR REPLACE TRIGGER products_catalog_insert AFTER INSERT ON products
    FOR EACH ROW EXECUTE FUNCTION bt_catalog_changed();

CREATE OR REPLACE TRIGGER products_catalog_update AFTER UPDATE ON products
    FOR EACH ROW
    WHEN ((OLD.name, OLD.category, OLD.price, OLD.cost, OLD.low_threshold, OLD.par_level, OLD.active)
          IS DISTINCT FROM
          (NEW.name, NEW.category, NEW.price, NEW.cost, NEW.low_threshold, NEW.par_level, NEW.active))
    EXECUTE FUNCTION bt_catalog_changed();
