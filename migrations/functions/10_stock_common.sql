-- Building blocks shared by the stock functions (one function per operation, in their own files).

-- The business day a moment belongs to: the bar's day runs from day_starts_at (local time)
-- to the same time next day, so 01:30 belongs to the night before.
CREATE OR REPLACE FUNCTION bt_business_date(p_at timestamptz, p_timezone text, p_day_starts_at time)
RETURNS date LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT ((p_at AT TIME ZONE p_timezone) - p_day_starts_at)::date
$$;

-- Raise a problem the API maps by SQLSTATE (bartender/errors.py); DETAIL carries JSON members.
CREATE OR REPLACE FUNCTION bt_raise(p_sqlstate text, p_message text, p_detail jsonb DEFAULT '{}')
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION USING ERRCODE = p_sqlstate, MESSAGE = p_message, DETAIL = p_detail::text;
END $$;

CREATE OR REPLACE FUNCTION bt_invalid(p_field text, p_message text)
RETURNS void LANGUAGE sql AS $$
    SELECT bt_raise('BTV01', p_message,
        jsonb_build_object('errors', jsonb_build_array(
            jsonb_build_object('field', p_field, 'message', p_message))))
$$;

-- Every stock function starts here: bounded lock waits (503 busy instead of a pile-up).
-- The pool sets bartender.lock_timeout per connection from the app's settings.
CREATE OR REPLACE FUNCTION bt_stock_begin() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    PERFORM set_config('lock_timeout',
        COALESCE(NULLIF(current_setting('bartender.lock_timeout', true), ''), '2s'), true);
END $$;

-- Claim an operation id for this bar. Returns the stored response when the same request was
-- already committed (a replay); raises idempotency_conflict when the id was used differently.
-- A concurrent twin waits on the primary key until we commit or roll back: if we roll back
-- (refused operation) the id was never used up.
CREATE OR REPLACE FUNCTION bt_claim_operation(p_bar_id uuid, p_id uuid, p_kind text, p_request jsonb)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
    v_hash text := md5(p_request::text);
    v_prior operations%ROWTYPE;
BEGIN
    INSERT INTO operations (bar_id, id, kind, request_hash)
    VALUES (p_bar_id, p_id, p_kind, v_hash)
    ON CONFLICT DO NOTHING;
    IF FOUND THEN
        RETURN NULL;
    END IF;
    SELECT * INTO v_prior FROM operations WHERE bar_id = p_bar_id AND id = p_id;
    IF v_prior.kind <> p_kind OR v_prior.request_hash <> v_hash THEN
        PERFORM bt_raise('BTC01', 'This id was already used for a different operation.',
            jsonb_build_object('id', p_id, 'kind', v_prior.kind));
    END IF;
    RETURN v_prior.response;
END $$;

CREATE OR REPLACE FUNCTION bt_store_response(p_bar_id uuid, p_id uuid, p_response jsonb)
RETURNS void LANGUAGE sql AS $$
    UPDATE operations SET response = p_response WHERE bar_id = p_bar_id AND id = p_id
$$;

-- The moment a stock operation is recorded at: the commit-time clock, or, for a backfill of
-- the past (forecast/backfill.py, the demo), the transaction-local `bartender.clock`. The API
-- never sets it.
CREATE OR REPLACE FUNCTION bt_now() RETURNS timestamptz LANGUAGE sql VOLATILE AS $$
    SELECT COALESCE(NULLIF(current_setting('bartender.clock', true), '')::timestamptz,
                    clock_timestamp())
$$;

-- Merge request lines by product ({product_id, <p_qty_key>} objects of the request array
-- `p_field`) and check the products exist in this bar (and are on sale, when asked). Errors
-- name the first line of the product: `items[2].product_id`. Products are not locked: what
-- an operation changes is stock items (bt_lock_items).
CREATE OR REPLACE FUNCTION bt_merge_lines(p_bar_id uuid, p_items jsonb, p_field text,
                                          p_qty_key text, p_require_active boolean)
RETURNS TABLE (product_id uuid, qty bigint, price bigint, cost bigint, name text)
LANGUAGE plpgsql AS $$
DECLARE
    v_bad record;
BEGIN
    SELECT m.idx, m.pid, p.id IS NULL AS missing INTO v_bad
    FROM (SELECT (e ->> 'product_id')::uuid AS pid, min(i) - 1 AS idx
          FROM jsonb_array_elements(p_items) WITH ORDINALITY AS x(e, i) GROUP BY 1) AS m
    LEFT JOIN products p ON p.id = m.pid AND p.bar_id = p_bar_id
    WHERE p.id IS NULL OR (p_require_active AND NOT p.active)
    ORDER BY m.idx LIMIT 1;
    IF FOUND THEN
        PERFORM bt_invalid(format('%s[%s].product_id', p_field, v_bad.idx),
            CASE WHEN v_bad.missing THEN format('unknown product %s', v_bad.pid)
                 ELSE format('product %s is not on sale (inactive)', v_bad.pid) END);
    END IF;

    RETURN QUERY
    SELECT m.pid, m.q, p.price, p.cost, p.name
    FROM (SELECT (e ->> 'product_id')::uuid AS pid, sum((e ->> p_qty_key)::bigint)::bigint AS q
          FROM jsonb_array_elements(p_items) AS e GROUP BY 1) AS m
    JOIN products p ON p.id = m.pid
    ORDER BY m.pid;
END $$;

-- Lock stock items in id order: every stock function locks items in this one order (after
-- its operation id, before the bar row), so none deadlock. Returns the locked rows.
CREATE OR REPLACE FUNCTION bt_lock_items(p_bar_id uuid, p_item_ids uuid[])
RETURNS SETOF stock_items LANGUAGE sql AS $$
    SELECT * FROM stock_items i
    WHERE i.bar_id = p_bar_id AND i.id = ANY (p_item_ids)
    ORDER BY i.id
    FOR NO KEY UPDATE
$$;

-- A quantity in base units from a request line: `p_qty_key` as given, or packs + units +
-- tenths of a pack ("3 casiers + 5", "2 bouteilles + 3/10": tenths round to the nearest base
-- unit). NULL when the line names an unknown pack.
CREATE OR REPLACE FUNCTION bt_line_qty(p_item_id uuid, p_line jsonb, p_qty_key text)
RETURNS bigint LANGUAGE sql STABLE AS $$
    SELECT CASE
        WHEN p_line ? p_qty_key THEN (p_line ->> p_qty_key)::bigint
        WHEN p_line ? 'pack' THEN (
            SELECT COALESCE((p_line ->> 'packs')::bigint, 0) * k.size
                   + COALESCE((p_line ->> 'units')::bigint, 0)
                   + round(COALESCE((p_line ->> 'tenths')::numeric, 0) * k.size / 10)::bigint
            FROM stock_item_packs k
            WHERE k.stock_item_id = p_item_id AND k.name = p_line ->> 'pack')
        ELSE COALESCE((p_line ->> 'units')::bigint, 0)
    END
$$;

-- The lines of a delivery or count, one row per request line (`idx` from 0): the stock item
-- each names (`stock_item_id`, or a `product_id` that is its own stock item), its quantity
-- in base units, or what is wrong with it and in which field.
CREATE OR REPLACE FUNCTION bt_item_lines(p_bar_id uuid, p_items jsonb, p_qty_key text)
RETURNS TABLE (idx integer, product_id uuid, item_id uuid, qty bigint, problem text, field text)
LANGUAGE sql STABLE AS $$
    WITH x AS (
        SELECT (y.i - 1)::integer AS idx, y.e, (y.e ->> 'product_id')::uuid AS pid,
               (y.e ->> 'stock_item_id')::uuid AS sid
        FROM jsonb_array_elements(p_items) WITH ORDINALITY AS y(e, i)
    ), r AS (
        SELECT x.idx, x.e, x.pid, COALESCE(x.sid, own.stock_item_id) AS item_id,
               CASE WHEN x.pid IS NOT NULL AND p.id IS NULL THEN format('unknown product %s', x.pid)
                    WHEN x.pid IS NOT NULL AND own.stock_item_id IS NULL
                        THEN 'this product is made of other stock items: restock or count those'
                    WHEN x.sid IS NOT NULL AND si.id IS NULL
                        THEN format('unknown stock item %s', x.sid)
                    WHEN x.pid IS NULL AND x.sid IS NULL
                        THEN 'give product_id or stock_item_id' END AS problem,
               CASE WHEN x.sid IS NOT NULL THEN 'stock_item_id' ELSE 'product_id' END AS field
        FROM x
        LEFT JOIN products p ON p.id = x.pid AND p.bar_id = p_bar_id
        LEFT JOIN stock_items si ON si.id = x.sid AND si.bar_id = p_bar_id
        LEFT JOIN LATERAL (SELECT min(pc.stock_item_id::text)::uuid AS stock_item_id
                           FROM product_components pc WHERE pc.product_id = p.id
                           HAVING count(*) = 1 AND min(pc.qty) = 1) AS own ON true
    ), q AS (
        SELECT r.*, CASE WHEN r.problem IS NULL THEN bt_line_qty(r.item_id, r.e, p_qty_key) END AS qty
        FROM r
    )
    SELECT q.idx, q.pid, q.item_id, q.qty,
           CASE WHEN q.problem IS NOT NULL THEN q.problem
                WHEN q.qty IS NULL THEN format('no pack %L for this stock item', q.e ->> 'pack')
                WHEN q.qty > 1000000 THEN 'more than 1000000 base units in one line' END,
           CASE WHEN q.problem IS NULL AND q.qty IS NULL THEN 'pack'
                WHEN q.problem IS NULL AND q.qty > 1000000 THEN 'packs' ELSE q.field END
    FROM q
$$;

-- Lines of deliveries and counts (the request array `p_field`, quantities in `p_qty_key` or
-- packs + units + tenths), merged per stock item, the items locked in the one order. Returns
-- each merged line with the item's stock; `product_id` is null for stock-item lines. Errors
-- name the line (`items[2].pack`). A product made of other items is refused: restock its items.
CREATE OR REPLACE FUNCTION bt_lock_lines(p_bar_id uuid, p_items jsonb, p_field text,
                                         p_qty_key text)
RETURNS TABLE (product_id uuid, stock_item_id uuid, qty bigint, stock integer, price bigint,
               cost bigint, name text)
LANGUAGE plpgsql AS $$
DECLARE
    v_bad record;
BEGIN
    SELECT * INTO v_bad FROM bt_item_lines(p_bar_id, p_items, p_qty_key) AS l
    WHERE l.problem IS NOT NULL ORDER BY l.idx LIMIT 1;
    IF FOUND THEN
        PERFORM bt_invalid(format('%s[%s].%s', p_field, v_bad.idx, v_bad.field), v_bad.problem);
    END IF;

    RETURN QUERY
    WITH m AS (
        SELECT l.item_id, min(l.product_id::text)::uuid AS product_id, sum(l.qty)::bigint AS qty
        FROM bt_item_lines(p_bar_id, p_items, p_qty_key) AS l GROUP BY l.item_id
    ), locked AS (
        SELECT * FROM bt_lock_items(p_bar_id, ARRAY(SELECT m.item_id FROM m))
    )
    SELECT m.product_id, m.item_id, m.qty, k.stock, p.price, p.cost, COALESCE(p.name, k.name)
    FROM m JOIN locked k ON k.id = m.item_id
    LEFT JOIN products p ON p.id = m.product_id
    ORDER BY m.item_id;
END $$;

-- Bump the bar's seq by exactly one (the bar row lock, taken last, orders commits).
CREATE OR REPLACE FUNCTION bt_next_seq(p_bar_id uuid) RETURNS bigint
LANGUAGE sql AS $$
    UPDATE bars SET seq = seq + 1 WHERE id = p_bar_id RETURNING seq
$$;

-- NOTIFY payloads must stay under 8000 bytes: a payload too large is replaced by its
-- `p_fallback` (ids only) and listeners read the rest from the database. The one place that
-- knows the limit (stock changes and catalog changes both go through it).
CREATE OR REPLACE FUNCTION bt_notify(p_channel text, p_payload jsonb, p_fallback jsonb)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    v_text text := p_payload::text;
BEGIN
    IF octet_length(v_text) > 7800 THEN
        v_text := p_fallback::text;
    END IF;
    PERFORM pg_notify(p_channel, v_text);
END $$;

-- A stock change: {bar_id, seq, cause, changes}; too large, the changes are read from the ledger.
-- `items` (additive, issue 15): the level of every stock item this transaction moved, from its
-- item ledger rows (a primary-key range probe), so screens that show items follow them live.
CREATE OR REPLACE FUNCTION bt_notify_stock(p_bar_id uuid, p_seq bigint, p_cause text, p_changes jsonb)
RETURNS void LANGUAGE sql AS $$
    SELECT bt_notify('bt_stock',
        jsonb_build_object('bar_id', p_bar_id, 'seq', p_seq, 'cause', p_cause, 'changes', p_changes,
            'items', (SELECT COALESCE(jsonb_agg(jsonb_build_object('stock_item_id', m.stock_item_id,
                                                                   'stock', m.stock_after)
                                                ORDER BY m.stock_item_id), '[]'::jsonb)
                      FROM item_movements m WHERE m.bar_id = p_bar_id AND m.seq = p_seq)),
        jsonb_build_object('bar_id', p_bar_id, 'seq', p_seq, 'cause', p_cause))
$$;

-- Apply signed deltas to locked stock items ([{stock_item_id, delta}], base units), write the
-- item ledger, then bring the available quantity of every product made of those items up to
-- date and write the product ledger (`movements`, what the wire shows). Runs after the bar
-- row is locked, so the other components read here are current. Returns the products'
-- changes [{product_id, stock}] (stock = available quantity), in product id order.
CREATE OR REPLACE FUNCTION bt_apply_deltas(p_bar_id uuid, p_seq bigint, p_kind text, p_ref_id uuid,
                                           p_actor_id uuid, p_at timestamptz, p_deltas jsonb)
RETURNS jsonb LANGUAGE sql AS $$
    -- one statement: other CTEs see stock_items as before the UPDATE, hence COALESCE(u.stock, ...)
    WITH d AS (
        SELECT (e ->> 'stock_item_id')::uuid AS item_id, sum((e ->> 'delta')::integer) AS delta
        FROM jsonb_array_elements(p_deltas) AS e GROUP BY 1
    ), upd AS (
        UPDATE stock_items i SET stock = i.stock + d.delta
        FROM d WHERE i.bar_id = p_bar_id AND i.id = d.item_id AND d.delta <> 0
        RETURNING i.id, d.delta, i.stock
    ), item_ledger AS (
        INSERT INTO item_movements (bar_id, seq, stock_item_id, delta, stock_after, kind, ref_id,
                                    actor_id, at)
        SELECT p_bar_id, p_seq, id, delta, stock, p_kind, p_ref_id, p_actor_id, p_at FROM upd
    ), avail AS (
        SELECT p.id, p.stock AS before, min(COALESCE(u.stock, i.stock) / c.qty)::integer AS after
        FROM (SELECT DISTINCT x.product_id FROM product_components x JOIN upd ON upd.id = x.stock_item_id)
             AS a
        JOIN products p ON p.id = a.product_id
        JOIN product_components c ON c.product_id = p.id
        JOIN stock_items i ON i.id = c.stock_item_id
        LEFT JOIN upd u ON u.id = c.stock_item_id
        GROUP BY p.id, p.stock
    ), product_upd AS (
        UPDATE products p SET stock = a.after
        FROM avail a WHERE p.id = a.id AND a.after <> a.before
        RETURNING p.id, a.after - a.before AS delta, a.after AS stock
    ), product_ledger AS (
        INSERT INTO movements (bar_id, seq, product_id, delta, stock_after, kind, ref_id, actor_id, at)
        SELECT p_bar_id, p_seq, id, delta, stock, p_kind, p_ref_id, p_actor_id, p_at
        FROM product_upd
        RETURNING product_id, stock_after
    )
    SELECT COALESCE(jsonb_agg(jsonb_build_object('product_id', product_id, 'stock', stock_after)
                              ORDER BY product_id), '[]'::jsonb)
    FROM product_ledger
$$;

-- RFC 3339 UTC with microseconds and a Z, whatever the session time zone.
CREATE OR REPLACE FUNCTION bt_ts(p_at timestamptz) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT to_char(p_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')
$$;
