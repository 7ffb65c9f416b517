-- A sale: all-or-nothing, idempotent by its client-generated id.
-- p_request (validated by the API): {"id", "items": [{"product_id", "qty"}], "occurred_at"?}
-- Lock order (all stock functions): operation id, products by id, then the bar row.
CREATE OR REPLACE FUNCTION bt_sell(p_bar_id uuid, p_actor_id uuid, p_request jsonb,
                                   OUT replayed boolean, OUT body jsonb)
LANGUAGE plpgsql AS $$
DECLARE
    v_id uuid := (p_request ->> 'id')::uuid;
    v_occurred_at timestamptz := (p_request ->> 'occurred_at')::timestamptz;
    r record;
    v_bar bars%ROWTYPE;
    v_now timestamptz;
    v_items jsonb := '[]';
    v_deltas jsonb := '[]';
    v_total bigint := 0;
    v_stock jsonb;
    v_business_date date;
BEGIN
    PERFORM bt_stock_begin();
    body := bt_claim_operation(p_bar_id, v_id, 'sale', p_request);
    IF body IS NOT NULL THEN
        replayed := true;
        RETURN;
    END IF;
    replayed := false;

    FOR r IN SELECT * FROM bt_lock_lines(p_bar_id, p_request -> 'items', 'qty', true) LOOP
        IF r.qty > r.stock THEN
            PERFORM bt_raise('BTI01',
                format('Only %s left of %s, %s requested.', r.stock, r.name, r.qty),
                jsonb_build_object('product_id', r.product_id, 'requested', r.qty,
                                   'available', r.stock));
        END IF;
        v_total := v_total + r.qty * r.price;
        v_items := v_items || jsonb_build_object('product_id', r.product_id, 'qty', r.qty,
                                                 'unit_price', r.price, 'line_total', r.qty * r.price);
        v_deltas := v_deltas || jsonb_build_object('product_id', r.product_id, 'delta', -r.qty);
    END LOOP;

    UPDATE bars SET seq = seq + 1, sale_number = sale_number + 1
    WHERE id = p_bar_id RETURNING * INTO v_bar;
    v_now := clock_timestamp();
    -- an offline sale belongs to the business day it happened on
    v_business_date := bt_business_date(COALESCE(v_occurred_at, v_now), v_bar.timezone,
                                        v_bar.day_starts_at);
    v_stock := bt_apply_deltas(p_bar_id, v_bar.seq, 'sale', v_id, p_actor_id, v_now, v_deltas);

    INSERT INTO sales (bar_id, id, number, seq, total, seller_id, occurred_at, created_at, business_date)
    VALUES (p_bar_id, v_id, v_bar.sale_number, v_bar.seq, v_total, p_actor_id, v_occurred_at, v_now,
            v_business_date);
    INSERT INTO sale_lines (bar_id, sale_id, product_id, qty, unit_price, line_total)
    SELECT p_bar_id, v_id, (e ->> 'product_id')::uuid, (e ->> 'qty')::integer,
           (e ->> 'unit_price')::bigint, (e ->> 'line_total')::bigint
    FROM jsonb_array_elements(v_items) AS e;

    body := jsonb_build_object(
        'id', v_id, 'bar_id', p_bar_id, 'seq', v_bar.seq, 'number', v_bar.sale_number,
        'total', v_total, 'created_at', bt_ts(v_now),
        'occurred_at', CASE WHEN v_occurred_at IS NULL THEN NULL ELSE bt_ts(v_occurred_at) END,
        'business_date', to_char(v_business_date, 'YYYY-MM-DD'),
        'seller_id', p_actor_id, 'items', v_items, 'stock', v_stock);
    PERFORM bt_store_response(p_bar_id, v_id, body);
    PERFORM bt_after_stock_change(p_bar_id, v_bar.seq, 'sale', v_id, v_stock);
END $$;
