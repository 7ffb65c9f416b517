-- Set what one sold unit of a product takes from which stock items (base units), replacing
-- its components. The product's available quantity follows; when it changes, that is a stock
-- transaction like any other (seq +1, product ledger kind 'recipe', NOTIFY), so every screen
-- shows the new availability in order.
-- p_components: [{"stock_item_id", "qty"}] (validated by the API: 1..20 lines, qty >= 1).
CREATE OR REPLACE FUNCTION bt_set_recipe(p_bar_id uuid, p_product_id uuid, p_actor_id uuid,
                                         p_components jsonb)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
    v_bad record;
    v_before integer;
    v_after integer;
    v_seq bigint;
    v_now timestamptz;
    v_changes jsonb;
BEGIN
    PERFORM bt_stock_begin();
    SELECT x.i - 1 AS idx, x.sid INTO v_bad
    FROM (SELECT i, (e ->> 'stock_item_id')::uuid AS sid
          FROM jsonb_array_elements(p_components) WITH ORDINALITY AS y(e, i)) AS x
    LEFT JOIN stock_items si ON si.id = x.sid AND si.bar_id = p_bar_id
    WHERE si.id IS NULL ORDER BY x.i LIMIT 1;
    IF FOUND THEN
        PERFORM bt_invalid(format('components[%s].stock_item_id', v_bad.idx),
                           format('unknown stock item %s', v_bad.sid));
    END IF;
    -- old and new components, locked in the one order: a sale of this product in flight
    -- finishes with the recipe it started with
    PERFORM 1 FROM bt_lock_items(p_bar_id, ARRAY(
        SELECT (e ->> 'stock_item_id')::uuid FROM jsonb_array_elements(p_components) AS e
        UNION SELECT stock_item_id FROM product_components WHERE product_id = p_product_id));
    SELECT stock INTO v_before FROM products WHERE bar_id = p_bar_id AND id = p_product_id;
    IF NOT FOUND THEN
        PERFORM bt_raise('BTN01', 'No such product in this bar.', '{}');
    END IF;

    DELETE FROM product_components WHERE product_id = p_product_id;
    INSERT INTO product_components (bar_id, product_id, stock_item_id, qty)
    SELECT p_bar_id, p_product_id, (e ->> 'stock_item_id')::uuid, sum((e ->> 'qty')::integer)
    FROM jsonb_array_elements(p_components) AS e GROUP BY 3;

    -- the product's own item (made for it at creation) goes if nothing ever used it
    DELETE FROM stock_items i
    WHERE i.id = p_product_id AND i.stock = 0
      AND NOT EXISTS (SELECT 1 FROM product_components c WHERE c.stock_item_id = i.id)
      AND NOT EXISTS (SELECT 1 FROM item_movements m
                      WHERE m.bar_id = p_bar_id AND m.stock_item_id = i.id);

    -- the components are locked: their stock cannot move under us
    SELECT min(i.stock / c.qty)::integer INTO v_after
    FROM product_components c JOIN stock_items i ON i.id = c.stock_item_id
    WHERE c.product_id = p_product_id;
    IF v_after <> v_before THEN  -- else nothing a client sees changed: seq stays
        v_seq := bt_next_seq(p_bar_id);
        v_now := bt_now();
        UPDATE products SET stock = v_after WHERE id = p_product_id;
        INSERT INTO movements (bar_id, seq, product_id, delta, stock_after, kind, ref_id, actor_id, at)
        VALUES (p_bar_id, v_seq, p_product_id, v_after - v_before, v_after, 'recipe', p_product_id,
                p_actor_id, v_now);
        v_changes := jsonb_build_array(jsonb_build_object('product_id', p_product_id,
                                                          'stock', v_after));
        PERFORM bt_after_stock_change(p_bar_id, v_seq, 'recipe', p_product_id, v_changes);
    END IF;
    RETURN (SELECT to_jsonb(v) - 'bar_id' FROM recipe_view v WHERE v.product_id = p_product_id);
END $$;
