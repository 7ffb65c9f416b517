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

-- Merge request lines by product ({product_id, qty} objects, key `p_qty_key`) and lock the
-- products in id order: every stock function locks in this one order, so none deadlock.
-- Returns the merged lines joined with the locked rows.
CREATE OR REPLACE FUNCTION bt_lock_lines(p_bar_id uuid, p_items jsonb, p_qty_key text,
                                         p_require_active boolean)
RETURNS TABLE (product_id uuid, qty bigint, stock integer, price bigint, cost bigint,
               name text, low_threshold integer)
LANGUAGE plpgsql AS $$
DECLARE
    v_ids uuid[];
    v_qtys bigint[];
    v_missing uuid;
    v_inactive uuid;
BEGIN
    SELECT array_agg(m.pid ORDER BY m.pid), array_agg(m.q ORDER BY m.pid)
    INTO v_ids, v_qtys
    FROM (SELECT (e ->> 'product_id')::uuid AS pid, sum((e ->> p_qty_key)::bigint) AS q
          FROM jsonb_array_elements(p_items) AS e GROUP BY 1) AS m;

    -- the lock: rows leave the sort in id order and are locked in that order
    PERFORM 1 FROM products p
    WHERE p.bar_id = p_bar_id AND p.id = ANY (v_ids)
    ORDER BY p.id
    FOR NO KEY UPDATE;

    SELECT u.pid INTO v_missing
    FROM unnest(v_ids) AS u(pid)
    LEFT JOIN products p ON p.id = u.pid AND p.bar_id = p_bar_id
    WHERE p.id IS NULL ORDER BY u.pid LIMIT 1;
    IF v_missing IS NOT NULL THEN
        PERFORM bt_invalid('items', format('unknown product %s', v_missing));
    END IF;
    IF p_require_active THEN
        SELECT p.id INTO v_inactive FROM products p
        WHERE p.id = ANY (v_ids) AND NOT p.active ORDER BY p.id LIMIT 1;
        IF v_inactive IS NOT NULL THEN
            PERFORM bt_invalid('items', format('product %s is not on sale (inactive)', v_inactive));
        END IF;
    END IF;

    RETURN QUERY
    SELECT u.pid, u.q, p.stock, p.price, p.cost, p.name, p.low_threshold
    FROM unnest(v_ids, v_qtys) AS u(pid, q)
    JOIN products p ON p.id = u.pid
    ORDER BY u.pid;
END $$;

-- Bump the bar's seq by exactly one (the bar row lock, taken last, orders commits).
CREATE OR REPLACE FUNCTION bt_next_seq(p_bar_id uuid) RETURNS bigint
LANGUAGE sql AS $$
    UPDATE bars SET seq = seq + 1 WHERE id = p_bar_id RETURNING seq
$$;

CREATE OR REPLACE FUNCTION bt_notify_stock(p_bar_id uuid, p_seq bigint, p_cause text, p_changes jsonb)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    v_payload text := jsonb_build_object('bar_id', p_bar_id, 'seq', p_seq, 'cause', p_cause,
                                         'changes', p_changes)::text;
BEGIN
    -- NOTIFY payloads must stay under 8000 bytes: large transactions send only the seq and
    -- listeners read the changes from the ledger.
    IF octet_length(v_payload) > 7800 THEN
        v_payload := jsonb_build_object('bar_id', p_bar_id, 'seq', p_seq, 'cause', p_cause)::text;
    END IF;
    PERFORM pg_notify('bt_stock', v_payload);
END $$;

-- Apply signed deltas to locked products, write the ledger, return [{product_id, stock}].
CREATE OR REPLACE FUNCTION bt_apply_deltas(p_bar_id uuid, p_seq bigint, p_kind text, p_ref_id uuid,
                                           p_actor_id uuid, p_at timestamptz, p_deltas jsonb)
RETURNS jsonb LANGUAGE sql AS $$
    WITH d AS (
        SELECT (e ->> 'product_id')::uuid AS product_id, (e ->> 'delta')::integer AS delta
        FROM jsonb_array_elements(p_deltas) AS e
    ), upd AS (
        UPDATE products p SET stock = p.stock + d.delta
        FROM d WHERE p.bar_id = p_bar_id AND p.id = d.product_id AND d.delta <> 0
        RETURNING p.id, d.delta, p.stock
    ), led AS (
        INSERT INTO movements (bar_id, seq, product_id, delta, stock_after, kind, ref_id, actor_id, at)
        SELECT p_bar_id, p_seq, id, delta, stock, p_kind, p_ref_id, p_actor_id, p_at FROM upd
        RETURNING product_id, stock_after
    )
    SELECT COALESCE(jsonb_agg(jsonb_build_object('product_id', product_id, 'stock', stock_after)
                              ORDER BY product_id), '[]'::jsonb)
    FROM led
$$;

-- RFC 3339 UTC with microseconds and a Z, whatever the session time zone.
CREATE OR REPLACE FUNCTION bt_ts(p_at timestamptz) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT to_char(p_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')
$$;
