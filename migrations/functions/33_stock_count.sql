-- A stock count: set each product to what was counted, keep expected vs counted.
-- p_request: {"id", "counts": [{"product_id", "counted"}], "reason"?}
-- A count that changes nothing is recorded but leaves seq alone and notifies nobody.
CREATE OR REPLACE FUNCTION bt_count(p_bar_id uuid, p_actor_id uuid, p_request jsonb,
                                    OUT replayed boolean, OUT body jsonb)
LANGUAGE plpgsql AS $$
DECLARE
    v_id uuid := (p_request ->> 'id')::uuid;
    v_reason text := NULLIF(p_request ->> 'reason', '');
    r record;
    v_variance bigint;
    v_lines jsonb := '[]';
    v_deltas jsonb := '[]';
    v_stock jsonb := '[]';
    v_changes jsonb;
    v_seq bigint;
    v_now timestamptz;
BEGIN
    PERFORM bt_stock_begin();
    body := bt_claim_operation(p_bar_id, v_id, 'count', p_request);
    IF body IS NOT NULL THEN
        replayed := true;
        RETURN;
    END IF;
    replayed := false;

    FOR r IN SELECT * FROM bt_lock_lines(p_bar_id, p_request -> 'counts', 'counts', 'counted') LOOP
        IF r.qty > 100000 THEN
            PERFORM bt_invalid('counts', format('counted for %s is above 100000', r.product_id));
        END IF;
        v_variance := r.qty - r.stock;
        v_lines := v_lines || jsonb_build_object(
            CASE WHEN r.product_id IS NULL THEN 'stock_item_id' ELSE 'product_id' END,
            COALESCE(r.product_id, r.stock_item_id), 'expected', r.stock, 'counted', r.qty,
            'variance', v_variance, 'variance_value', v_variance * r.price,
            'variance_cost', v_variance * r.cost);
        IF r.product_id IS NOT NULL THEN
            v_stock := v_stock || jsonb_build_object('product_id', r.product_id, 'stock', r.qty);
        END IF;
        IF v_variance <> 0 THEN
            v_deltas := v_deltas || jsonb_build_object('stock_item_id', r.stock_item_id,
                                                       'delta', v_variance);
        END IF;
    END LOOP;

    v_now := bt_now();
    IF jsonb_array_length(v_deltas) > 0 THEN
        v_seq := bt_next_seq(p_bar_id);
        v_changes := bt_apply_deltas(p_bar_id, v_seq, 'count', v_id, p_actor_id, v_now, v_deltas);
    ELSE
        SELECT seq INTO v_seq FROM bars WHERE id = p_bar_id;
    END IF;

    INSERT INTO stock_counts (bar_id, id, seq, reason, actor_id, created_at)
    VALUES (p_bar_id, v_id, v_seq, v_reason, p_actor_id, v_now);
    INSERT INTO stock_count_lines (bar_id, count_id, product_id, expected, counted, unit_price, unit_cost)
    SELECT p_bar_id, v_id, p.id, (e ->> 'expected')::integer, (e ->> 'counted')::integer,
           p.price, p.cost
    FROM jsonb_array_elements(v_lines) AS e
    JOIN products p ON p.id = (e ->> 'product_id')::uuid;

    body := jsonb_build_object(
        'id', v_id, 'bar_id', p_bar_id, 'seq', v_seq, 'created_at', bt_ts(v_now),
        'reason', v_reason, 'actor_id', p_actor_id, 'lines', v_lines, 'stock', v_stock);
    PERFORM bt_store_response(p_bar_id, v_id, body);
    IF v_changes IS NOT NULL THEN
        PERFORM bt_after_stock_change(p_bar_id, v_seq, 'count', v_id, v_changes);
    END IF;
END $$;
