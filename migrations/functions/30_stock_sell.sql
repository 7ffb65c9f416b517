-- Empties and deposits of a sale's lines (issue 16), for a bar that has containers. A stock
-- item's bottle is the container holding one of it (contents qty 1; the lowest container id
-- when several); crates and other multi-unit containers do not come back per sale. Returns the
-- lines with their `deposit` (take-away lines: qty x what each sold unit takes x the bottle's
-- deposit; 0 otherwise) and `back`, the empties that lines consumed on the premises return:
-- [{stock_item_id (the container's empties item), delta}], ordered by item id.
CREATE OR REPLACE FUNCTION bt_sale_empties(p_bar_id uuid, p_items jsonb,
                                           OUT items jsonb, OUT back jsonb)
LANGUAGE sql STABLE AS $$
    WITH bottle AS (
        SELECT DISTINCT ON (k.stock_item_id) k.stock_item_id, c.empties_item_id, c.deposit
        FROM container_contents k
        JOIN containers c ON c.bar_id = k.bar_id AND c.id = k.container_id
        WHERE k.bar_id = p_bar_id AND k.qty = 1
        ORDER BY k.stock_item_id, k.container_id
    ), parts AS (
        SELECT x.i, (x.e ->> 'qty')::bigint * pc.qty AS units, b.empties_item_id, b.deposit,
               COALESCE((x.e ->> 'take_away')::boolean, false) AS take_away
        FROM jsonb_array_elements(p_items) WITH ORDINALITY AS x(e, i)
        JOIN product_components pc ON pc.product_id = (x.e ->> 'product_id')::uuid
        JOIN bottle b ON b.stock_item_id = pc.stock_item_id
    )
    SELECT (SELECT jsonb_agg(x.e || jsonb_build_object('deposit', COALESCE(
                       (SELECT sum(p.units * p.deposit) FROM parts p
                        WHERE p.i = x.i AND p.take_away), 0)::bigint) ORDER BY x.i)
            FROM jsonb_array_elements(p_items) WITH ORDINALITY AS x(e, i)),
           COALESCE((SELECT jsonb_agg(jsonb_build_object('stock_item_id', r.item_id,
                                                         'delta', r.n) ORDER BY r.item_id)
                     FROM (SELECT empties_item_id AS item_id, sum(units)::bigint AS n
                           FROM parts WHERE NOT take_away GROUP BY 1) AS r), '[]')
$$;

-- A sale: all-or-nothing, idempotent by its client-generated id.
-- p_request (validated by the API): {"id", "items": [{"product_id", "qty", "take_away"?}],
-- "occurred_at"?} (`take_away` is only sent when true; a product's lines must agree on it).
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
    v_take_away uuid[];
    v_back jsonb := '[]';
    v_deposit bigint := 0;
    v_bad record;
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

    -- take-away lines (issue 16; a v1.2 request has none): a product is take-away or not
    IF jsonb_path_exists(p_request, '$.items[*].take_away') THEN
        SELECT t.idx INTO v_bad
        FROM (SELECT e ->> 'product_id' AS pid, min(i) - 1 AS idx,
                     bool_or(COALESCE((e ->> 'take_away')::boolean, false)) AS some_ta,
                     bool_and(COALESCE((e ->> 'take_away')::boolean, false)) AS all_ta
              FROM jsonb_array_elements(p_request -> 'items') WITH ORDINALITY AS x(e, i)
              GROUP BY 1) AS t
        WHERE t.some_ta AND NOT t.all_ta ORDER BY t.idx LIMIT 1;
        IF FOUND THEN
            PERFORM bt_invalid(format('items[%s].take_away', v_bad.idx),
                               'lines of one product must all be take-away or all not');
        END IF;
        v_take_away := ARRAY(SELECT (e ->> 'product_id')::uuid
                             FROM jsonb_array_elements(p_request -> 'items') AS e
                             WHERE (e ->> 'take_away')::boolean);
        SELECT jsonb_agg(e || jsonb_build_object(
                             'take_away', (e ->> 'product_id')::uuid = ANY (v_take_away))
                         ORDER BY e ->> 'product_id')
        INTO v_items FROM jsonb_array_elements(v_items) AS e;
    END IF;

    -- a bar with containers (one indexed probe for the others): deposits of take-away lines,
    -- empties of the others; the empties items are locked with the sold ones, in id order
    IF EXISTS (SELECT 1 FROM containers WHERE bar_id = p_bar_id) THEN
        SELECT e.items, e.back INTO v_items, v_back FROM bt_sale_empties(p_bar_id, v_items) AS e;
        SELECT COALESCE(sum((e ->> 'deposit')::bigint), 0) INTO v_deposit
        FROM jsonb_array_elements(v_items) AS e;
        PERFORM 1 FROM bt_lock_items(p_bar_id, ARRAY(
            SELECT pc.stock_item_id FROM jsonb_array_elements(v_items) AS e
            JOIN product_components pc ON pc.product_id = (e ->> 'product_id')::uuid
            UNION
            SELECT (b ->> 'stock_item_id')::uuid FROM jsonb_array_elements(v_back) AS b));
    END IF;

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
    v_stock := bt_apply_deltas(p_bar_id, v_bar.seq, 'sale', v_id, p_actor_id, v_now,
                               v_deltas || v_back);

    INSERT INTO sales (bar_id, id, number, seq, total, seller_id, occurred_at, created_at, business_date,
                       deposit_total)
    VALUES (p_bar_id, v_id, v_bar.sale_number, v_bar.seq, v_total, p_actor_id, v_occurred_at, v_now,
            v_business_date, v_deposit);
    INSERT INTO sale_lines (bar_id, sale_id, product_id, qty, unit_price, line_total, take_away,
                            deposit)
    SELECT p_bar_id, v_id, (e ->> 'product_id')::uuid, (e ->> 'qty')::integer,
           (e ->> 'unit_price')::bigint, (e ->> 'line_total')::bigint,
           COALESCE((e ->> 'take_away')::boolean, false), COALESCE((e ->> 'deposit')::bigint, 0)
    FROM jsonb_array_elements(v_items) AS e;

    SELECT bt_sale_json(s) || jsonb_build_object('stock', v_stock) INTO body
    FROM sales s WHERE s.bar_id = p_bar_id AND s.id = v_id;
    PERFORM bt_store_response(p_bar_id, v_id, body);
    PERFORM bt_after_stock_change(p_bar_id, v_bar.seq, 'sale', v_id, v_stock);
END $$;
