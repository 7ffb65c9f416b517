-- Returns per sale line (issue 16). A return names a sale, lines {product_id, qty,
-- disposition: restock|waste} and a reason. A manager's return is approved at once; staff's
-- waits as `pending` until a manager approves (stock moves then) or rejects it. At most what
-- the line sold minus what approved returns already took back can be returned; the refund is
-- the line's unit price times the quantity, in the bar's (the sale's) currency. Restocked
-- lines put back what one sold unit took (the recipe) with movement kind 'return'; lines
-- returned as waste only refund. A return touches the sale row (FOR UPDATE) before any stock
-- item, as a void does, so a return racing a void, or two returns racing for the last unit,
-- run one after the other and the later one sees what the earlier did.

-- What each product of a sale can still be returned: sold minus approved returns.
CREATE OR REPLACE FUNCTION bt_returnable(p_bar_id uuid, p_sale_id uuid)
RETURNS TABLE (product_id uuid, sold integer, returnable integer, unit_price bigint)
LANGUAGE sql STABLE AS $$
    SELECT l.product_id, l.qty,
           l.qty - COALESCE((SELECT sum(rl.qty) FROM return_lines rl
                             JOIN returns r ON r.bar_id = rl.bar_id AND r.id = rl.return_id
                             WHERE rl.bar_id = p_bar_id AND r.sale_id = p_sale_id
                               AND r.status = 'approved' AND rl.product_id = l.product_id), 0)::integer,
           l.unit_price
    FROM sale_lines l WHERE l.bar_id = p_bar_id AND l.sale_id = p_sale_id
$$;

-- The API shape of a return (one definition: creation, decisions and the pending list).
CREATE OR REPLACE FUNCTION bt_return_json(p_bar_id uuid, p_return_id uuid)
RETURNS jsonb LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object(
        'id', r.id, 'bar_id', r.bar_id, 'sale_id', r.sale_id, 'status', r.status,
        'reason', r.reason,
        'items', (SELECT jsonb_agg(jsonb_build_object(
                      'product_id', rl.product_id, 'qty', rl.qty, 'disposition', rl.disposition,
                      'unit_price', rl.unit_price, 'refund', rl.refund)
                      ORDER BY rl.product_id, rl.disposition)
                  FROM return_lines rl WHERE rl.bar_id = r.bar_id AND rl.return_id = r.id),
        'refund', r.refund, 'currency', b.currency,
        'requested_by', r.requested_by, 'requested_at', bt_ts(r.requested_at),
        'decided_by', r.decided_by,
        'decided_at', CASE WHEN r.decided_at IS NOT NULL THEN bt_ts(r.decided_at) END,
        'decision_note', r.decision_note, 'seq', r.seq)
    FROM returns r JOIN bars b ON b.id = r.bar_id
    WHERE r.bar_id = p_bar_id AND r.id = p_return_id
$$;

-- Lock the sale and check a return's lines still fit in it (a voided sale returns nothing).
CREATE OR REPLACE FUNCTION bt_return_check(p_bar_id uuid, p_return_id uuid, p_sale_id uuid)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    v_voided timestamptz;
    v_bad record;
BEGIN
    SELECT voided_at INTO v_voided FROM sales WHERE bar_id = p_bar_id AND id = p_sale_id FOR UPDATE;
    IF NOT FOUND THEN
        PERFORM bt_raise('BTN01', 'No such sale in this bar.', '{}');
    END IF;
    IF v_voided IS NOT NULL THEN
        PERFORM bt_raise('BTR01', 'This sale was voided: nothing left to return.',
            jsonb_build_object('sale_id', p_sale_id));
    END IF;
    SELECT rl.product_id, sum(rl.qty) AS qty, max(x.returnable) AS returnable INTO v_bad
    FROM return_lines rl
    JOIN bt_returnable(p_bar_id, p_sale_id) AS x ON x.product_id = rl.product_id
    WHERE rl.bar_id = p_bar_id AND rl.return_id = p_return_id
    GROUP BY rl.product_id HAVING sum(rl.qty) > max(x.returnable)
    ORDER BY rl.product_id LIMIT 1;
    IF FOUND THEN
        PERFORM bt_raise('BTR01',
            format('Only %s of this line can still be returned, %s asked.', v_bad.returnable,
                   v_bad.qty),
            jsonb_build_object('product_id', v_bad.product_id, 'requested', v_bad.qty,
                               'returnable', v_bad.returnable));
    END IF;
END $$;

-- Approve a return whose sale is locked and checked: restock, seq, ledger, NOTIFY.
CREATE OR REPLACE FUNCTION bt_return_apply(p_bar_id uuid, p_return_id uuid, p_actor_id uuid,
                                           p_note text)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
    v_deltas jsonb;
    v_seq bigint;
    v_now timestamptz;
    v_stock jsonb := '[]';
    v_body jsonb;
BEGIN
    SELECT jsonb_agg(jsonb_build_object('stock_item_id', item_id, 'delta', qty) ORDER BY item_id)
    INTO v_deltas
    FROM (SELECT pc.stock_item_id AS item_id, sum(rl.qty * pc.qty) AS qty
          FROM return_lines rl JOIN product_components pc ON pc.product_id = rl.product_id
          WHERE rl.bar_id = p_bar_id AND rl.return_id = p_return_id
            AND rl.disposition = 'restock'
          GROUP BY 1) AS c;
    v_now := bt_now();
    IF v_deltas IS NOT NULL THEN  -- only waste: no stock moves, no seq
        PERFORM 1 FROM bt_lock_items(p_bar_id,
            ARRAY(SELECT (e ->> 'stock_item_id')::uuid FROM jsonb_array_elements(v_deltas) AS e));
        v_seq := bt_next_seq(p_bar_id);
        v_stock := bt_apply_deltas(p_bar_id, v_seq, 'return', p_return_id, p_actor_id, v_now,
                                   v_deltas);
    END IF;
    UPDATE returns SET status = 'approved', decided_by = p_actor_id, decided_at = v_now,
                       decision_note = p_note, seq = v_seq
    WHERE bar_id = p_bar_id AND id = p_return_id;
    v_body := bt_return_json(p_bar_id, p_return_id) || jsonb_build_object('stock', v_stock);
    UPDATE returns SET response = v_body WHERE bar_id = p_bar_id AND id = p_return_id;
    IF v_seq IS NOT NULL THEN
        PERFORM bt_after_stock_change(p_bar_id, v_seq, 'return', p_return_id, v_stock);
    END IF;
    RETURN v_body;
END $$;

-- p_request: {"id", "sale_id", "reason", "items": [{"product_id", "qty", "disposition"}]}.
CREATE OR REPLACE FUNCTION bt_return(p_bar_id uuid, p_actor_id uuid, p_request jsonb,
                                     OUT replayed boolean, OUT body jsonb)
LANGUAGE plpgsql AS $$
DECLARE
    v_id uuid := (p_request ->> 'id')::uuid;
    v_sale_id uuid := (p_request ->> 'sale_id')::uuid;
    v_role text;
    v_bad record;
BEGIN
    PERFORM bt_stock_begin();
    SELECT role INTO v_role FROM memberships WHERE bar_id = p_bar_id AND user_id = p_actor_id;
    body := bt_claim_operation(p_bar_id, v_id, 'return', p_request);
    IF body IS NOT NULL THEN
        replayed := true;
        RETURN;
    END IF;
    replayed := false;

    -- the sale row first, before our rows' foreign keys share-lock it: two returns of one
    -- sale that both held that share lock would deadlock upgrading it
    PERFORM 1 FROM sales WHERE bar_id = p_bar_id AND id = v_sale_id FOR UPDATE;
    IF NOT FOUND THEN
        PERFORM bt_raise('BTN01', 'No such sale in this bar.', '{}');
    END IF;
    SELECT (x.i - 1)::integer AS idx INTO v_bad
    FROM jsonb_array_elements(p_request -> 'items') WITH ORDINALITY AS x(e, i)
    LEFT JOIN sale_lines l ON l.bar_id = p_bar_id AND l.sale_id = v_sale_id
                          AND l.product_id = (x.e ->> 'product_id')::uuid
    WHERE l.product_id IS NULL ORDER BY x.i LIMIT 1;
    IF FOUND THEN
        PERFORM bt_invalid(format('items[%s].product_id', v_bad.idx), 'not a line of this sale');
    END IF;

    INSERT INTO returns (bar_id, id, sale_id, status, reason, refund, requested_by, requested_at)
    VALUES (p_bar_id, v_id, v_sale_id, 'pending', btrim(p_request ->> 'reason'), 0, p_actor_id,
            bt_now());
    INSERT INTO return_lines (bar_id, return_id, product_id, qty, disposition, unit_price, refund)
    SELECT p_bar_id, v_id, l.product_id, m.qty, m.disposition, l.unit_price, m.qty * l.unit_price
    FROM (SELECT (e ->> 'product_id')::uuid AS product_id, e ->> 'disposition' AS disposition,
                 sum((e ->> 'qty')::integer) AS qty
          FROM jsonb_array_elements(p_request -> 'items') AS e GROUP BY 1, 2) AS m
    JOIN sale_lines l ON l.bar_id = p_bar_id AND l.sale_id = v_sale_id
                     AND l.product_id = m.product_id;
    UPDATE returns SET refund = (SELECT sum(refund) FROM return_lines
                                 WHERE bar_id = p_bar_id AND return_id = v_id)
    WHERE bar_id = p_bar_id AND id = v_id;

    PERFORM bt_return_check(p_bar_id, v_id, v_sale_id);
    IF v_role IN ('owner', 'manager') THEN
        body := bt_return_apply(p_bar_id, v_id, p_actor_id, NULL);
    ELSE
        body := bt_return_json(p_bar_id, v_id) || jsonb_build_object('stock', '[]'::jsonb);
    END IF;
    PERFORM bt_store_response(p_bar_id, v_id, body);
END $$;

-- A manager's decision on a pending return; deciding the same way again replays the body.
CREATE OR REPLACE FUNCTION bt_decide_return(p_bar_id uuid, p_actor_id uuid, p_return_id uuid,
                                            p_approve boolean, p_note text,
                                            OUT replayed boolean, OUT body jsonb)
LANGUAGE plpgsql AS $$
DECLARE
    v_return returns%ROWTYPE;
BEGIN
    PERFORM bt_stock_begin();
    SELECT * INTO v_return FROM returns WHERE bar_id = p_bar_id AND id = p_return_id FOR UPDATE;
    IF NOT FOUND THEN
        PERFORM bt_raise('BTN01', 'No such return in this bar.', '{}');
    END IF;
    IF v_return.status <> 'pending' THEN
        IF (v_return.status = 'approved') = p_approve AND v_return.response IS NOT NULL THEN
            replayed := true;
            body := v_return.response;
            RETURN;
        END IF;
        PERFORM bt_raise('BTR01', format('This return was already %s.', v_return.status),
            jsonb_build_object('return_status', v_return.status));
    END IF;
    replayed := false;
    IF p_approve THEN
        PERFORM bt_return_check(p_bar_id, p_return_id, v_return.sale_id);
        body := bt_return_apply(p_bar_id, p_return_id, p_actor_id, p_note);
    ELSE
        UPDATE returns SET status = 'rejected', decided_by = p_actor_id, decided_at = bt_now(),
                           decision_note = p_note
        WHERE bar_id = p_bar_id AND id = p_return_id;
        body := bt_return_json(p_bar_id, p_return_id) || jsonb_build_object('stock', '[]'::jsonb);
        UPDATE returns SET response = body WHERE bar_id = p_bar_id AND id = p_return_id;
    END IF;
END $$;
