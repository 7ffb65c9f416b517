-- Containers and empties (consignes, issue 16). Each container's empties are a stock item of
-- their own (containers.empties_item_id), so they move through bt_apply_deltas like any stock:
-- the same ledger and seq; a count or a waste line on that stock item counts or breaks empties.

-- The API shape of a container.
CREATE OR REPLACE FUNCTION bt_container_json(p_bar_id uuid, p_container_id uuid)
RETURNS jsonb LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object(
        'id', c.id, 'name', c.name, 'deposit', c.deposit, 'empties_item_id', c.empties_item_id,
        'empties', i.stock,
        'contents', COALESCE((SELECT jsonb_agg(jsonb_build_object(
                                  'stock_item_id', k.stock_item_id, 'qty', k.qty)
                                  ORDER BY k.stock_item_id)
                              FROM container_contents k
                              WHERE k.bar_id = c.bar_id AND k.container_id = c.id), '[]'))
    FROM containers c JOIN stock_items i ON i.id = c.empties_item_id
    WHERE c.bar_id = p_bar_id AND c.id = p_container_id
$$;

-- A new container and the stock item of its empties (no stock moves: no seq).
-- p_request: {"name", "deposit", "contents"?: [{"stock_item_id", "qty"}]}
CREATE OR REPLACE FUNCTION bt_create_container(p_bar_id uuid, p_request jsonb)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
    v_name text := btrim(p_request ->> 'name');
    v_item uuid;
    v_id uuid := gen_random_uuid();
    v_bad record;
BEGIN
    SELECT (x.i - 1)::integer AS idx INTO v_bad
    FROM jsonb_array_elements(COALESCE(p_request -> 'contents', '[]')) WITH ORDINALITY AS x(e, i)
    LEFT JOIN stock_items s ON s.id = (x.e ->> 'stock_item_id')::uuid AND s.bar_id = p_bar_id
    WHERE s.id IS NULL ORDER BY x.i LIMIT 1;
    IF FOUND THEN
        PERFORM bt_invalid(format('contents[%s].stock_item_id', v_bad.idx), 'unknown stock item');
    END IF;
    IF EXISTS (SELECT 1 FROM containers WHERE bar_id = p_bar_id AND name = v_name) THEN
        PERFORM bt_invalid('name', 'this bar already has a container of that name');
    END IF;
    INSERT INTO stock_items (bar_id, name, base_unit)
    VALUES (p_bar_id, left(v_name || ' (vides)', 200), 'unit') RETURNING id INTO v_item;
    INSERT INTO containers (bar_id, id, name, deposit, empties_item_id)
    VALUES (p_bar_id, v_id, v_name, (p_request ->> 'deposit')::bigint, v_item);
    INSERT INTO container_contents (bar_id, container_id, stock_item_id, qty)
    SELECT p_bar_id, v_id, (e ->> 'stock_item_id')::uuid, max((e ->> 'qty')::integer)
    FROM jsonb_array_elements(COALESCE(p_request -> 'contents', '[]')) AS e GROUP BY 3;
    RETURN bt_container_json(p_bar_id, v_id);
END $$;

-- The empties lines of a request array `p_field` ([{"container_id", <p_qty_key>}]), merged per
-- container, with the container's empties item and deposit. Errors name the line.
CREATE OR REPLACE FUNCTION bt_container_lines(p_bar_id uuid, p_lines jsonb, p_field text,
                                              p_qty_key text)
RETURNS TABLE (container_id uuid, empties_item_id uuid, deposit bigint, qty bigint)
LANGUAGE plpgsql AS $$
DECLARE
    v_bad record;
BEGIN
    SELECT (x.i - 1)::integer AS idx INTO v_bad
    FROM jsonb_array_elements(COALESCE(p_lines, '[]')) WITH ORDINALITY AS x(e, i)
    LEFT JOIN containers c ON c.bar_id = p_bar_id AND c.id = (x.e ->> 'container_id')::uuid
    WHERE c.id IS NULL ORDER BY x.i LIMIT 1;
    IF FOUND THEN
        PERFORM bt_invalid(format('%s[%s].container_id', p_field, v_bad.idx), 'unknown container');
    END IF;
    RETURN QUERY
    SELECT c.id, c.empties_item_id, c.deposit, sum(COALESCE((e ->> p_qty_key)::bigint, 0))::bigint
    FROM jsonb_array_elements(COALESCE(p_lines, '[]')) AS e
    JOIN containers c ON c.bar_id = p_bar_id AND c.id = (e ->> 'container_id')::uuid
    GROUP BY c.id, c.empties_item_id, c.deposit
    ORDER BY c.empties_item_id;
END $$;

-- A customer brings empties back at the till: the bar's empties go up, the deposit is refunded.
-- p_request: {"id", "items": [{"container_id", "qty"}]}; staff+.
CREATE OR REPLACE FUNCTION bt_empties_refund(p_bar_id uuid, p_actor_id uuid, p_request jsonb,
                                             OUT replayed boolean, OUT body jsonb)
LANGUAGE plpgsql AS $$
DECLARE
    v_id uuid := (p_request ->> 'id')::uuid;
    v_lines jsonb;
    v_seq bigint;
    v_now timestamptz;
    v_stock jsonb;
BEGIN
    PERFORM bt_stock_begin();
    body := bt_claim_operation(p_bar_id, v_id, 'empties_refund', p_request);
    IF body IS NOT NULL THEN
        replayed := true;
        RETURN;
    END IF;
    replayed := false;

    SELECT jsonb_agg(jsonb_build_object('container_id', l.container_id,
                                        'empties_item_id', l.empties_item_id, 'qty', l.qty,
                                        'deposit', l.deposit, 'refund', l.qty * l.deposit)
                     ORDER BY l.empties_item_id)
    INTO v_lines FROM bt_container_lines(p_bar_id, p_request -> 'items', 'items', 'qty') AS l;
    PERFORM 1 FROM bt_lock_items(p_bar_id,
        ARRAY(SELECT (e ->> 'empties_item_id')::uuid FROM jsonb_array_elements(v_lines) AS e));
    v_seq := bt_next_seq(p_bar_id);
    v_now := bt_now();
    v_stock := bt_apply_deltas(p_bar_id, v_seq, 'empties_refund', v_id, p_actor_id, v_now,
        (SELECT jsonb_agg(jsonb_build_object('stock_item_id', e -> 'empties_item_id',
                                             'delta', e -> 'qty'))
         FROM jsonb_array_elements(v_lines) AS e));
    INSERT INTO empties_refunds (bar_id, id, seq, refund, lines, actor_id, created_at)
    SELECT p_bar_id, v_id, v_seq, sum((e ->> 'refund')::bigint), v_lines, p_actor_id, v_now
    FROM jsonb_array_elements(v_lines) AS e;

    SELECT jsonb_build_object(
        'id', v_id, 'bar_id', p_bar_id, 'seq', v_seq, 'items', v_lines, 'refund', r.refund,
        'currency', b.currency, 'created_at', bt_ts(v_now), 'actor_id', p_actor_id,
        'empties', (SELECT jsonb_agg(jsonb_build_object('container_id', e -> 'container_id',
                                                        'stock', i.stock) ORDER BY i.id)
                    FROM jsonb_array_elements(v_lines) AS e
                    JOIN stock_items i ON i.id = (e ->> 'empties_item_id')::uuid),
        'stock', v_stock)
    INTO body
    FROM empties_refunds r JOIN bars b ON b.id = r.bar_id
    WHERE r.bar_id = p_bar_id AND r.id = v_id;
    PERFORM bt_store_response(p_bar_id, v_id, body);
    PERFORM bt_after_stock_change(p_bar_id, v_seq, 'empties_refund', v_id, v_stock);
END $$;

-- Deliveries (31_stock_deliver.sql) with "containers": [{"container_id", "full_in"?,
-- "empties_out"?}]: lock the containers' empties items together with the delivery's items,
-- in the one id order, before the bar row (bt_lock_lines then re-locks what it already holds).
CREATE OR REPLACE FUNCTION bt_delivery_lock_empties(p_bar_id uuid, p_request jsonb)
RETURNS void LANGUAGE sql AS $$
    SELECT count(*) FROM bt_lock_items(p_bar_id, ARRAY(
        SELECT l.item_id FROM bt_item_lines(p_bar_id, p_request -> 'items', 'qty') AS l
        WHERE l.item_id IS NOT NULL
        UNION
        SELECT c.empties_item_id FROM containers c
        WHERE c.bar_id = p_bar_id
          AND c.id IN (SELECT (e ->> 'container_id')::uuid
                       FROM jsonb_array_elements(p_request -> 'containers') AS e)))
$$;

-- ... then, once the delivery row is written: the empties handed back leave the bar's empties
-- (not more than it holds), and the full containers received and empties handed back are
-- recorded for the supplier's balance. Returns the delivery's "containers" member.
CREATE OR REPLACE FUNCTION bt_delivery_empties(p_bar_id uuid, p_delivery_id uuid, p_seq bigint,
                                               p_actor_id uuid, p_at timestamptz,
                                               p_request jsonb)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
    v_bad record;
BEGIN
    CREATE TEMP TABLE IF NOT EXISTS bt_delivery_empty_lines (
        container_id uuid, empties_item_id uuid, deposit bigint, full_in bigint,
        empties_out bigint) ON COMMIT DROP;
    TRUNCATE bt_delivery_empty_lines;
    INSERT INTO bt_delivery_empty_lines
    SELECT f.container_id, f.empties_item_id, f.deposit, f.qty, o.qty
    FROM bt_container_lines(p_bar_id, p_request -> 'containers', 'containers', 'full_in') AS f
    JOIN bt_container_lines(p_bar_id, p_request -> 'containers', 'containers', 'empties_out') AS o
      ON o.container_id = f.container_id;

    SELECT c.name, i.stock, l.empties_out, l.container_id INTO v_bad
    FROM bt_delivery_empty_lines l JOIN containers c ON c.bar_id = p_bar_id AND c.id = l.container_id
    JOIN stock_items i ON i.id = l.empties_item_id
    WHERE l.empties_out > i.stock ORDER BY l.empties_item_id LIMIT 1;
    IF FOUND THEN
        PERFORM bt_raise('BTI01',
            format('Only %s empty %s to hand back, %s given.', v_bad.stock, v_bad.name,
                   v_bad.empties_out),
            jsonb_build_object('container_id', v_bad.container_id, 'requested', v_bad.empties_out,
                               'available', v_bad.stock));
    END IF;
    PERFORM bt_apply_deltas(p_bar_id, p_seq, 'delivery', p_delivery_id, p_actor_id, p_at,
        (SELECT COALESCE(jsonb_agg(jsonb_build_object('stock_item_id', empties_item_id,
                                                      'delta', -empties_out)), '[]')
         FROM bt_delivery_empty_lines));
    INSERT INTO delivery_containers (bar_id, delivery_id, container_id, full_in, empties_out)
    SELECT p_bar_id, p_delivery_id, container_id, full_in, empties_out
    FROM bt_delivery_empty_lines;
    RETURN (SELECT COALESCE(jsonb_agg(jsonb_build_object(
                'container_id', l.container_id, 'full_in', l.full_in,
                'empties_out', l.empties_out, 'empties', i.stock)
                ORDER BY l.container_id), '[]')
            FROM bt_delivery_empty_lines l JOIN stock_items i ON i.id = l.empties_item_id);
END $$;
