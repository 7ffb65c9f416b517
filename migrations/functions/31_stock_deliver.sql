-- A delivery (restock): all-or-nothing, idempotent by id; a supplier reference counts once.
-- p_request: {"id", "items": [{"product_id"|"stock_item_id", "qty" | "pack", "packs"?,
-- "units"?, "tenths"?}], "supplier"?, "reference"?}; quantities in base units (bt_lock_lines).
CREATE OR REPLACE FUNCTION bt_deliver(p_bar_id uuid, p_actor_id uuid, p_request jsonb,
                                      OUT replayed boolean, OUT body jsonb)
LANGUAGE plpgsql AS $$
DECLARE
    v_id uuid := (p_request ->> 'id')::uuid;
    v_supplier text := NULLIF(p_request ->> 'supplier', '');
    v_reference text := NULLIF(btrim(p_request ->> 'reference'), '');
    r record;
    v_seq bigint;
    v_now timestamptz;
    v_first uuid;
    v_items jsonb := '[]';
    v_deltas jsonb := '[]';
    v_stock jsonb;
BEGIN
    PERFORM bt_stock_begin();
    body := bt_claim_operation(p_bar_id, v_id, 'delivery', p_request);
    IF body IS NOT NULL THEN
        replayed := true;
        RETURN;
    END IF;
    replayed := false;
    IF p_request ? 'containers' THEN  -- empties handed back (43_stock_empties.sql)
        PERFORM bt_delivery_lock_empties(p_bar_id, p_request);
    END IF;

    -- inactive products may still be restocked
    FOR r IN SELECT * FROM bt_lock_lines(p_bar_id, p_request -> 'items', 'items', 'qty') LOOP
        IF r.qty < 1 THEN
            PERFORM bt_invalid('items', 'a delivery line must bring at least one base unit');
        END IF;
        v_items := v_items || CASE WHEN r.product_id IS NULL
            THEN jsonb_build_object('stock_item_id', r.stock_item_id, 'qty', r.qty)
            ELSE jsonb_build_object('product_id', r.product_id, 'qty', r.qty) END;
        v_deltas := v_deltas || jsonb_build_object('stock_item_id', r.stock_item_id, 'delta', r.qty);
    END LOOP;

    v_seq := bt_next_seq(p_bar_id);
    v_now := bt_now();
    INSERT INTO deliveries (bar_id, id, seq, supplier, reference, actor_id, created_at)
    VALUES (p_bar_id, v_id, v_seq, v_supplier, v_reference, p_actor_id, v_now)
    ON CONFLICT (bar_id, reference) WHERE reference IS NOT NULL AND reference <> '' DO NOTHING;
    IF NOT FOUND THEN  -- first wins: that note was already entered (maybe on another device)
        SELECT id INTO v_first FROM deliveries WHERE bar_id = p_bar_id AND reference = v_reference;
        PERFORM bt_raise('BTD01',
            format('Delivery note %s was already recorded.', v_reference),
            jsonb_build_object('delivery_id', v_first, 'reference', v_reference));
    END IF;

    v_stock := bt_apply_deltas(p_bar_id, v_seq, 'delivery', v_id, p_actor_id, v_now, v_deltas);
    INSERT INTO delivery_lines (bar_id, delivery_id, product_id, qty)
    SELECT p_bar_id, v_id, (e ->> 'product_id')::uuid, (e ->> 'qty')::integer
    FROM jsonb_array_elements(v_items) AS e
    WHERE e ? 'product_id';  -- stock-item lines are in the item ledger and the response

    body := jsonb_build_object(
        'id', v_id, 'bar_id', p_bar_id, 'seq', v_seq, 'items', v_items,
        'supplier', v_supplier, 'reference', v_reference, 'created_at', bt_ts(v_now),
        'actor_id', p_actor_id, 'stock', v_stock);
    IF p_request ? 'containers' THEN
        body := body || jsonb_build_object('containers',
            bt_delivery_empties(p_bar_id, v_id, v_seq, p_actor_id, v_now, p_request));
    END IF;
    PERFORM bt_store_response(p_bar_id, v_id, body);
    PERFORM bt_after_stock_change(p_bar_id, v_seq, 'delivery', v_id, v_stock);
END $$;
