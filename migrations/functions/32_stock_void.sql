-- Void a sale: restock its lines once. The sale id is the key: voiding twice returns the
-- same body and changes nothing.
CREATE OR REPLACE FUNCTION bt_void(p_bar_id uuid, p_sale_id uuid, p_actor_id uuid, p_reason text,
                                   OUT replayed boolean, OUT body jsonb)
LANGUAGE plpgsql AS $$
DECLARE
    v_sale sales%ROWTYPE;
    v_lines jsonb;
    v_deltas jsonb;
    v_seq bigint;
    v_now timestamptz;
    v_stock jsonb;
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

    SELECT jsonb_agg(jsonb_build_object('product_id', product_id, 'qty', qty)),
           jsonb_agg(jsonb_build_object('product_id', product_id, 'delta', qty))
    INTO v_lines, v_deltas
    FROM sale_lines WHERE bar_id = p_bar_id AND sale_id = p_sale_id;
    PERFORM 1 FROM bt_lock_lines(p_bar_id, v_lines, 'qty', false);

    v_seq := bt_next_seq(p_bar_id);
    v_now := clock_timestamp();
    v_stock := bt_apply_deltas(p_bar_id, v_seq, 'void', p_sale_id, p_actor_id, v_now, v_deltas);

    SELECT response || jsonb_build_object(
               'voided_at', bt_ts(v_now), 'void_reason', p_reason, 'void_seq', v_seq,
               'voided_by', p_actor_id, 'stock', v_stock)
    INTO body
    FROM operations WHERE bar_id = p_bar_id AND id = p_sale_id;

    UPDATE sales SET voided_at = v_now, void_reason = p_reason, void_seq = v_seq,
                     voided_by = p_actor_id, void_response = body
    WHERE bar_id = p_bar_id AND id = p_sale_id;
    PERFORM bt_after_stock_change(p_bar_id, v_seq, 'void', p_sale_id, v_stock);
END $$;
