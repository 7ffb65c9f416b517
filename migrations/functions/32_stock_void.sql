-- Void a sale: restock its lines once, take out the empties it brought back (its deposits
-- are refunded with its total). The sale id is the key: voiding twice returns the
-- same body and changes nothing.
CREATE OR REPLACE FUNCTION bt_void(p_bar_id uuid, p_sale_id uuid, p_actor_id uuid, p_reason text,
                                   OUT replayed boolean, OUT body jsonb)
LANGUAGE plpgsql AS $$
DECLARE
    v_sale sales%ROWTYPE;
    v_deltas jsonb;
    v_seq bigint;
    v_now timestamptz;
    v_stock jsonb;
    v_back jsonb;
    v_short record;
BEGIN
    PERFORM bt_stock_begin();
    SELECT * INTO v_sale FROM sales WHERE bar_id = p_bar_id AND id = p_sale_id FOR UPDATE;
    IF NOT FOUND THEN
        PERFORM bt_raise('BTN01', 'No such sale in this bar.', '{}');
    END IF;
    IF v_sale.voided_at IS NOT NULL THEN
        replayed := true;
        body := v_sale.void_response;
        RETURN;
    END IF;
    replayed := false;

    -- restock every component the sale took, locking the items in the one order; what
    -- approved returns already took back (42_stock_return.sql) is not restocked twice
    SELECT jsonb_agg(jsonb_build_object('stock_item_id', item_id, 'delta', qty))
    INTO v_deltas
    FROM (SELECT pc.stock_item_id AS item_id, sum(l.returnable * pc.qty) AS qty
          FROM bt_returnable(p_bar_id, p_sale_id) AS l
          JOIN product_components pc ON pc.product_id = l.product_id
          WHERE l.returnable > 0 GROUP BY 1) AS c;
    -- the empties the sale brought back (issue 16: its ledger rows on containers' empties
    -- items) go out again, exactly; locked with the restocked items, in the one order
    SELECT jsonb_agg(jsonb_build_object('stock_item_id', m.stock_item_id, 'delta', -m.delta))
    INTO v_back
    FROM item_movements m JOIN containers c ON c.empties_item_id = m.stock_item_id
    WHERE m.bar_id = p_bar_id AND m.seq = v_sale.seq AND m.ref_id = p_sale_id;
    v_deltas := NULLIF(COALESCE(v_deltas, '[]') || COALESCE(v_back, '[]'), '[]');
    PERFORM 1 FROM bt_lock_items(p_bar_id,
        ARRAY(SELECT (e ->> 'stock_item_id')::uuid FROM jsonb_array_elements(v_deltas) AS e));
    SELECT i.id, i.name, i.stock, -(e ->> 'delta')::bigint AS requested INTO v_short
    FROM jsonb_array_elements(v_back) AS e JOIN stock_items i ON i.id = (e ->> 'stock_item_id')::uuid
    WHERE i.stock < -(e ->> 'delta')::bigint ORDER BY i.id LIMIT 1;
    IF FOUND THEN  -- the empties left the bar since (handed back, broken): say so, void nothing
        PERFORM bt_raise('BTI01',
            format('The sale brought back %s %s; only %s left to take out.', v_short.requested,
                   v_short.name, v_short.stock),
            jsonb_build_object('stock_item_id', v_short.id, 'stock_item_name', v_short.name,
                               'requested', v_short.requested, 'available', v_short.stock));
    END IF;

    v_now := bt_now();
    v_stock := '[]';
    IF v_deltas IS NOT NULL THEN  -- else returns took everything back: no stock moves, no seq
        v_seq := bt_next_seq(p_bar_id);
        v_stock := bt_apply_deltas(p_bar_id, v_seq, 'void', p_sale_id, p_actor_id, v_now, v_deltas);
    END IF;

    UPDATE sales SET voided_at = v_now, void_reason = p_reason, void_seq = v_seq,
                     voided_by = p_actor_id
    WHERE bar_id = p_bar_id AND id = p_sale_id
    RETURNING bt_sale_json(sales) || bt_sale_void_json(sales)
              || jsonb_build_object('voided_by', p_actor_id, 'stock', v_stock)
    INTO body;
    UPDATE sales SET void_response = body WHERE bar_id = p_bar_id AND id = p_sale_id;
    IF v_seq IS NOT NULL THEN
        PERFORM bt_after_stock_change(p_bar_id, v_seq, 'void', p_sale_id, v_stock);
    END IF;
END $$;
