-- A sale: all-or-nothing, idempotent by its client-generated id.
-- p_request (validated by the API): {"id", "items": [{"product_id", "qty"}], "occurred_at"?}
-- Lock order (all stock functions): operation id, stock items by id, the bar row, then the
-- products whose available quantity follows (bt_apply_deltas).
CREATE OR REPLACE FUNCTION bt_sell(p_bar_id uuid, p_actor_id uuid, p_request jsonb,
                                   OUT replayed boolean, OUT body jsonb)
LANGUAGE plpgsql AS $$
DECLARE
    v_id uuid := (p_request ->> 'id')::uuid;
    v_occurred_at timestamptz := (p_request ->> 'occurred_at')::timestamptz;
    v_bar bars%ROWTYPE;
    v_short uuid;
    v_product uuid;
    v_requested bigint;
    v_name text;
    v_available integer;
    v_item_name text;
    v_item_stock integer;
    v_item_unit text;
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

    -- merge and check the lines, then lock every component stock item (in id order), then
    -- check each item covers what all the lines together take from it
    SELECT jsonb_agg(jsonb_build_object('product_id', l.product_id, 'qty', l.qty,
                                        'unit_price', l.price, 'line_total', l.qty * l.price)
                     ORDER BY l.product_id),
           sum(l.qty * l.price)
    INTO v_items, v_total
    FROM bt_merge_lines(p_bar_id, p_request -> 'items', 'items', 'qty', true) AS l;

    WITH need AS (
        SELECT pc.stock_item_id AS item_id, sum((e ->> 'qty')::bigint * pc.qty) AS qty
        FROM jsonb_array_elements(v_items) AS e
        JOIN product_components pc ON pc.product_id = (e ->> 'product_id')::uuid
        GROUP BY 1
    ), locked AS (
        SELECT * FROM bt_lock_items(p_bar_id, ARRAY(SELECT item_id FROM need))
    )
    SELECT jsonb_agg(jsonb_build_object('stock_item_id', k.id, 'delta', -need.qty)),
           (array_agg(k.id ORDER BY k.id) FILTER (WHERE need.qty > k.stock))[1]
    INTO v_deltas, v_short
    FROM need JOIN locked k ON k.id = need.item_id;

    IF v_short IS NOT NULL THEN
        -- the first line (product id order) that takes from the short item
        SELECT (e ->> 'product_id')::uuid, (e ->> 'qty')::bigint INTO v_product, v_requested
        FROM jsonb_array_elements(v_items) AS e
        JOIN product_components pc ON pc.product_id = (e ->> 'product_id')::uuid
                                  AND pc.stock_item_id = v_short
        ORDER BY e ->> 'product_id' LIMIT 1;
        SELECT p.name, p.stock, i.name, i.stock, i.base_unit
        INTO v_name, v_available, v_item_name, v_item_stock, v_item_unit
        FROM products p, stock_items i WHERE p.id = v_product AND i.id = v_short;
        -- `available` is what the product's own availability says; the item is named too
        PERFORM bt_raise('BTI01',
            CASE WHEN v_short = v_product
                 THEN format('Only %s left of %s, %s requested.', v_item_stock, v_name, v_requested)
                 ELSE format('Not enough %s for %s (%s requested): %s %s left.', v_item_name,
                             v_name, v_requested, v_item_stock, v_item_unit) END,
            jsonb_build_object('product_id', v_product, 'requested', v_requested,
                               'available', LEAST(v_available, v_item_stock
                                   / (SELECT qty FROM product_components
                                      WHERE product_id = v_product AND stock_item_id = v_short)),
                               'stock_item_id', v_short, 'stock_item_name', v_item_name,
                               'stock_item_stock', v_item_stock));
    END IF;

    UPDATE bars SET seq = seq + 1, sale_number = sale_number + 1
    WHERE id = p_bar_id RETURNING * INTO v_bar;
    v_now := bt_now();
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

    SELECT bt_sale_json(s) || jsonb_build_object('stock', v_stock) INTO body
    FROM sales s WHERE s.bar_id = p_bar_id AND s.id = v_id;
    PERFORM bt_store_response(p_bar_id, v_id, body);
    PERFORM bt_after_stock_change(p_bar_id, v_bar.seq, 'sale', v_id, v_stock);
END $$;
