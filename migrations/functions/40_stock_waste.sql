-- Waste, offered and staff drinks (issue 16): stock that leaves without a sale, all-or-nothing,
-- idempotent by id in the bar's one id space. The movement kind is the request's `kind`.
-- p_request: {"id", "kind": breakage|spillage|expired|offered|staff_drink, "reason"?,
-- "items": [{"product_id", "qty"} | {"stock_item_id", "qty" | "pack", "packs"?, "units"?,
-- "tenths"?}]}. A product line takes what one sold unit takes (its recipe) times qty; a
-- stock-item line takes base units. Each line is valued at cost and at price: the product's,
-- or for a stock item the product that is that item alone (null when there is none or no cost).
-- Managers and owners may record it; staff only where the bar's staff_may_record_waste is on.
CREATE OR REPLACE FUNCTION bt_waste(p_bar_id uuid, p_actor_id uuid, p_request jsonb,
                                    OUT replayed boolean, OUT body jsonb)
LANGUAGE plpgsql AS $$
DECLARE
    v_id uuid := (p_request ->> 'id')::uuid;
    v_kind text := p_request ->> 'kind';
    v_reason text := NULLIF(btrim(p_request ->> 'reason'), '');
    v_lines jsonb;
    v_deltas jsonb;
    v_bad record;
    v_seq bigint;
    v_now timestamptz;
    v_stock jsonb;
BEGIN
    PERFORM bt_stock_begin();
    IF NOT EXISTS (SELECT 1 FROM memberships m JOIN bars b ON b.id = m.bar_id
                   WHERE m.bar_id = p_bar_id AND m.user_id = p_actor_id
                     AND (m.role IN ('owner', 'manager') OR b.staff_may_record_waste)) THEN
        PERFORM bt_raise('BTF01', 'Only a manager may record waste in this bar.',
            jsonb_build_object('required_role', 'manager'));
    END IF;
    body := bt_claim_operation(p_bar_id, v_id, 'waste', p_request);
    IF body IS NOT NULL THEN
        replayed := true;
        RETURN;
    END IF;
    replayed := false;

    -- one row per request line: what it names, its quantity, its value, or what is wrong
    CREATE TEMP TABLE IF NOT EXISTS bt_waste_lines (
        idx integer, product_id uuid, stock_item_id uuid, qty bigint, value_cost bigint,
        value_price bigint, problem text, field text) ON COMMIT DROP;
    TRUNCATE bt_waste_lines;
    INSERT INTO bt_waste_lines
    SELECT (x.i - 1)::integer, p.id, si.id, q.qty,
           q.qty * COALESCE(p.cost, own.cost), q.qty * COALESCE(p.price, own.price),
           CASE WHEN x.pid IS NOT NULL AND p.id IS NULL THEN format('unknown product %s', x.pid)
                WHEN x.sid IS NOT NULL AND si.id IS NULL THEN format('unknown stock item %s', x.sid)
                WHEN x.pid IS NULL AND x.sid IS NULL THEN 'give product_id or stock_item_id'
                WHEN q.qty IS NULL AND x.pid IS NOT NULL THEN 'give qty'
                WHEN q.qty IS NULL THEN format('no pack %L for this stock item', x.e ->> 'pack')
                WHEN q.qty < 1 THEN 'at least one base unit' END,
           CASE WHEN x.pid IS NOT NULL AND p.id IS NULL THEN 'product_id'
                WHEN x.sid IS NOT NULL AND si.id IS NULL THEN 'stock_item_id'
                WHEN x.pid IS NULL AND x.sid IS NULL THEN 'product_id'
                WHEN q.qty IS NULL AND x.pid IS NULL THEN 'pack' ELSE 'qty' END
    FROM jsonb_array_elements(p_request -> 'items') WITH ORDINALITY AS x0(e, i)
    CROSS JOIN LATERAL (SELECT x0.e, x0.i, (x0.e ->> 'product_id')::uuid AS pid,
                               (x0.e ->> 'stock_item_id')::uuid AS sid) AS x
    LEFT JOIN products p ON p.id = x.pid AND p.bar_id = p_bar_id
    LEFT JOIN stock_items si ON si.id = x.sid AND si.bar_id = p_bar_id AND x.pid IS NULL
    LEFT JOIN LATERAL (SELECT pr.cost, pr.price FROM products pr
                       WHERE pr.bar_id = p_bar_id
                         AND (SELECT count(*) FROM product_components c
                              WHERE c.product_id = pr.id) = 1
                         AND EXISTS (SELECT 1 FROM product_components c
                                     WHERE c.product_id = pr.id AND c.stock_item_id = si.id
                                       AND c.qty = 1)
                       ORDER BY pr.id LIMIT 1) AS own ON si.id IS NOT NULL
    CROSS JOIN LATERAL (SELECT CASE WHEN p.id IS NOT NULL THEN (x.e ->> 'qty')::bigint
                                    WHEN si.id IS NOT NULL THEN bt_line_qty(si.id, x.e, 'qty')
                               END AS qty) AS q;

    SELECT * INTO v_bad FROM bt_waste_lines WHERE problem IS NOT NULL ORDER BY idx LIMIT 1;
    IF FOUND THEN
        PERFORM bt_invalid(format('items[%s].%s', v_bad.idx, v_bad.field), v_bad.problem);
    END IF;

    -- what leaves each stock item, in base units (a product line through its recipe)
    SELECT jsonb_agg(jsonb_build_object('stock_item_id', item_id, 'delta', -need) ORDER BY item_id)
    INTO v_deltas
    FROM (SELECT COALESCE(c.stock_item_id, l.stock_item_id) AS item_id,
                 sum(l.qty * COALESCE(c.qty, 1)) AS need
          FROM bt_waste_lines l
          LEFT JOIN product_components c ON c.product_id = l.product_id
          GROUP BY 1) AS n
    WHERE item_id IS NOT NULL;
    IF v_deltas IS NULL THEN  -- a product with no recipe: nothing to take
        PERFORM bt_invalid('items', 'these products take no stock (no recipe)');
    END IF;

    SELECT k.id, k.name, k.stock, -(d ->> 'delta')::bigint AS need INTO v_bad
    FROM bt_lock_items(p_bar_id,
             ARRAY(SELECT (e ->> 'stock_item_id')::uuid FROM jsonb_array_elements(v_deltas) AS e)) k
    JOIN jsonb_array_elements(v_deltas) AS d ON (d ->> 'stock_item_id')::uuid = k.id
    WHERE k.stock < -(d ->> 'delta')::bigint
    ORDER BY k.id LIMIT 1;
    IF FOUND THEN
        PERFORM bt_raise('BTI01',
            format('Only %s left of %s, %s to record.', v_bad.stock, v_bad.name, v_bad.need),
            jsonb_build_object('stock_item_id', v_bad.id, 'stock_item_name', v_bad.name,
                               'requested', v_bad.need, 'available', v_bad.stock));
    END IF;

    v_seq := bt_next_seq(p_bar_id);
    v_now := bt_now();
    v_stock := bt_apply_deltas(p_bar_id, v_seq, v_kind, v_id, p_actor_id, v_now, v_deltas);

    SELECT jsonb_agg(jsonb_strip_nulls(jsonb_build_object(
               'product_id', product_id, 'stock_item_id', stock_item_id, 'qty', qty))
           || jsonb_build_object('value_cost', value_cost, 'value_price', value_price)
           ORDER BY idx)
    INTO v_lines FROM bt_waste_lines;
    INSERT INTO waste (bar_id, id, seq, kind, reason, actor_id, value_cost, value_price, created_at)
    SELECT p_bar_id, v_id, v_seq, v_kind, v_reason, p_actor_id, sum(value_cost), sum(value_price),
           v_now
    FROM bt_waste_lines;
    INSERT INTO waste_lines (bar_id, waste_id, idx, product_id, stock_item_id, qty, value_cost,
                             value_price)
    SELECT p_bar_id, v_id, idx, product_id, stock_item_id, qty, value_cost, value_price
    FROM bt_waste_lines;

    SELECT jsonb_build_object(
        'id', v_id, 'bar_id', p_bar_id, 'seq', v_seq, 'kind', v_kind, 'reason', v_reason,
        'items', v_lines, 'value_cost', w.value_cost, 'value_price', w.value_price,
        'created_at', bt_ts(v_now), 'actor_id', p_actor_id, 'stock', v_stock)
    INTO body FROM waste w WHERE w.bar_id = p_bar_id AND w.id = v_id;
    PERFORM bt_store_response(p_bar_id, v_id, body);
    PERFORM bt_after_stock_change(p_bar_id, v_seq, v_kind, v_id, v_stock);
END $$;
