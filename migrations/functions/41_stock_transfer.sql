-- A transfer (issue 16): stock leaves one bar and enters another in one transaction; both
-- bars' stock, ledgers (`transfer_out`, `transfer_in`) and seq move together and both NOTIFY.
-- p_request: {"id", "to_bar_id", "note"?, "items": [{"product_id"|"stock_item_id",
-- "to_product_id"|"to_stock_item_id", "qty" | "pack", "packs"?, "units"?, "tenths"?}]}
-- (packs are the source item's). The caller must be a manager or owner of both bars (the
-- source bar is checked at the HTTP edge): not a member of the destination is "no such bar",
-- staff there is forbidden. The id is claimed in both bars' id spaces, so it replays from the
-- source and is never reused in the destination.
-- Deadlock freedom with two bars: ids are claimed in bar id order, the items of both bars are
-- locked together in item id order, then the bar rows in bar id order (every other operation
-- locks its items before its one bar row), so opposite transfers never wait on each other
-- in a cycle.
CREATE OR REPLACE FUNCTION bt_transfer(p_bar_id uuid, p_actor_id uuid, p_request jsonb,
                                       OUT replayed boolean, OUT body jsonb)
LANGUAGE plpgsql AS $$
DECLARE
    v_id uuid := (p_request ->> 'id')::uuid;
    v_to uuid := (p_request ->> 'to_bar_id')::uuid;
    v_note text := NULLIF(btrim(p_request ->> 'note'), '');
    v_role text;
    v_first_body jsonb;
    v_second_body jsonb;
    v_src jsonb;
    v_dst_request jsonb;
    v_lines jsonb;
    v_bad record;
    v_from_seq bigint;
    v_to_seq bigint;
    v_now timestamptz;
    v_stock jsonb;
    v_to_stock jsonb;
BEGIN
    PERFORM bt_stock_begin();
    IF v_to = p_bar_id THEN
        PERFORM bt_invalid('to_bar_id', 'a transfer goes to another bar');
    END IF;
    SELECT role INTO v_role FROM memberships WHERE bar_id = v_to AND user_id = p_actor_id;
    IF v_role IS NULL THEN
        PERFORM bt_raise('BTN01', 'No such bar.', jsonb_build_object('bar_id', v_to));
    ELSIF v_role NOT IN ('owner', 'manager') THEN
        PERFORM bt_raise('BTF01', 'Only a manager of both bars may transfer stock.',
            jsonb_build_object('required_role', 'manager', 'bar_id', v_to));
    END IF;

    v_first_body := bt_claim_operation(LEAST(p_bar_id, v_to), v_id, 'transfer', p_request);
    v_second_body := bt_claim_operation(GREATEST(p_bar_id, v_to), v_id, 'transfer', p_request);
    IF (v_first_body IS NULL) <> (v_second_body IS NULL) THEN
        PERFORM bt_raise('BTC01', 'This id was already used for a different operation.',
            jsonb_build_object('id', v_id, 'kind', 'transfer'));
    END IF;
    IF v_first_body IS NOT NULL THEN
        replayed := true;
        body := v_first_body;
        RETURN;
    END IF;
    replayed := false;

    -- the source side of each line: its stock item and quantity in base units
    SELECT jsonb_agg(to_jsonb(l) ORDER BY l.idx) INTO v_src
    FROM bt_item_lines(p_bar_id, p_request -> 'items', 'qty') AS l;
    SELECT * INTO v_bad FROM jsonb_to_recordset(v_src) AS l(idx integer, problem text, field text,
                                                            qty bigint)
    WHERE l.problem IS NOT NULL OR l.qty < 1 ORDER BY l.idx LIMIT 1;
    IF FOUND THEN
        PERFORM bt_invalid(format('items[%s].%s', v_bad.idx, COALESCE(v_bad.field, 'qty')),
                           COALESCE(v_bad.problem, 'at least one base unit'));
    END IF;

    -- the destination side: the same quantities, resolved in the other bar
    SELECT jsonb_agg(jsonb_strip_nulls(jsonb_build_object(
               'product_id', e -> 'to_product_id', 'stock_item_id', e -> 'to_stock_item_id',
               'qty', (v_src -> (i - 1)::integer -> 'qty'))) ORDER BY i)
    INTO v_dst_request
    FROM jsonb_array_elements(p_request -> 'items') WITH ORDINALITY AS x(e, i);
    SELECT l.idx, l.problem, l.field INTO v_bad
    FROM bt_item_lines(v_to, v_dst_request, 'qty') AS l
    WHERE l.problem IS NOT NULL ORDER BY l.idx LIMIT 1;
    IF FOUND THEN
        PERFORM bt_invalid(format('items[%s].to_%s', v_bad.idx, v_bad.field),
            replace(v_bad.problem, 'give product_id or stock_item_id',
                    'give to_product_id or to_stock_item_id'));
    END IF;

    SELECT jsonb_agg(jsonb_build_object('stock_item_id', s.item_id, 'to_stock_item_id', d.item_id,
                                        'qty', s.qty) ORDER BY s.idx)
    INTO v_lines
    FROM jsonb_to_recordset(v_src) AS s(idx integer, item_id uuid, qty bigint)
    JOIN bt_item_lines(v_to, v_dst_request, 'qty') AS d ON d.idx = s.idx;

    -- both bars' items at once, in the one global order (item id)
    PERFORM 1 FROM stock_items i
    WHERE i.bar_id IN (p_bar_id, v_to)
      AND i.id = ANY (ARRAY(SELECT (e ->> 'stock_item_id')::uuid FROM jsonb_array_elements(v_lines) e
                            UNION SELECT (e ->> 'to_stock_item_id')::uuid
                                  FROM jsonb_array_elements(v_lines) e))
    ORDER BY i.id FOR NO KEY UPDATE;

    SELECT (x.i - 1)::integer AS idx, s.name AS src_unit, d.name AS dst_unit INTO v_bad
    FROM jsonb_array_elements(v_lines) WITH ORDINALITY AS x(e, i)
    JOIN stock_items s ON s.id = (x.e ->> 'stock_item_id')::uuid
    JOIN stock_items d ON d.id = (x.e ->> 'to_stock_item_id')::uuid
    WHERE s.base_unit <> d.base_unit ORDER BY x.i LIMIT 1;
    IF FOUND THEN
        PERFORM bt_invalid(format('items[%s].to_stock_item_id', v_bad.idx),
                           'the two stock items are counted in different base units');
    END IF;
    SELECT k.id, k.name, k.stock, n.need INTO v_bad
    FROM (SELECT (e ->> 'stock_item_id')::uuid AS id, sum((e ->> 'qty')::bigint) AS need
          FROM jsonb_array_elements(v_lines) e GROUP BY 1) AS n
    JOIN stock_items k ON k.id = n.id
    WHERE k.stock < n.need ORDER BY k.id LIMIT 1;
    IF FOUND THEN
        PERFORM bt_raise('BTI01',
            format('Only %s left of %s, %s to transfer.', v_bad.stock, v_bad.name, v_bad.need),
            jsonb_build_object('stock_item_id', v_bad.id, 'stock_item_name', v_bad.name,
                               'requested', v_bad.need, 'available', v_bad.stock));
    END IF;

    -- the bar rows last, in bar id order
    IF p_bar_id < v_to THEN
        v_from_seq := bt_next_seq(p_bar_id);
        v_to_seq := bt_next_seq(v_to);
    ELSE
        v_to_seq := bt_next_seq(v_to);
        v_from_seq := bt_next_seq(p_bar_id);
    END IF;
    v_now := bt_now();
    v_stock := bt_apply_deltas(p_bar_id, v_from_seq, 'transfer_out', v_id, p_actor_id, v_now,
        (SELECT jsonb_agg(jsonb_build_object('stock_item_id', e -> 'stock_item_id',
                                             'delta', -(e ->> 'qty')::bigint))
         FROM jsonb_array_elements(v_lines) e));
    v_to_stock := bt_apply_deltas(v_to, v_to_seq, 'transfer_in', v_id, p_actor_id, v_now,
        (SELECT jsonb_agg(jsonb_build_object('stock_item_id', e -> 'to_stock_item_id',
                                             'delta', (e ->> 'qty')::bigint))
         FROM jsonb_array_elements(v_lines) e));

    INSERT INTO transfers (id, from_bar_id, to_bar_id, from_seq, to_seq, lines, actor_id, created_at)
    VALUES (v_id, p_bar_id, v_to, v_from_seq, v_to_seq, v_lines, p_actor_id, v_now);
    body := jsonb_build_object(
        'id', v_id, 'from_bar_id', p_bar_id, 'to_bar_id', v_to, 'seq', v_from_seq,
        'to_seq', v_to_seq, 'items', v_lines, 'note', v_note, 'created_at', bt_ts(v_now),
        'actor_id', p_actor_id, 'stock', v_stock, 'to_stock', v_to_stock);
    PERFORM bt_store_response(p_bar_id, v_id, body);
    PERFORM bt_store_response(v_to, v_id, body);
    PERFORM bt_after_stock_change(p_bar_id, v_from_seq, 'transfer_out', v_id, v_stock);
    PERFORM bt_after_stock_change(v_to, v_to_seq, 'transfer_in', v_id, v_to_stock);
END $$;
