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
    v_payload text;
BEGIN
    INSERT INTO bar_catalog AS c (bar_id, seq) VALUES (NEW.bar_id, 1)
    ON CONFLICT (bar_id) DO UPDATE SET seq = c.seq + 1
    RETURNING c.seq INTO v_seq;
    v_payload := jsonb_build_object(
        'bar_id', NEW.bar_id, 'catalog_seq', v_seq,
        'product', jsonb_build_object(
            'id', NEW.id, 'name', NEW.name, 'category', NEW.category, 'price', NEW.price,
            'low_threshold', NEW.low_threshold, 'par_level', NEW.par_level, 'cost', NEW.cost,
            'stock', NEW.stock, 'active', NEW.active))::text;
    IF octet_length(v_payload) > 7800 THEN
        v_payload := jsonb_build_object('bar_id', NEW.bar_id, 'catalog_seq', v_seq,
                                        'product_id', NEW.id)::text;
    END IF;
    PERFORM pg_notify('bt_catalog', v_payload);
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
