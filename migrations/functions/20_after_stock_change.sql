-- The hook every stock function calls inside its transaction (bt_sell, bt_deliver, bt_void, bt_count).
-- It stays cheap on the sale path: one statement (two index probes) finds out whether any
-- changed product's alert level moves or the bar has an active webhook; usually neither, and
-- it returns. The products are already locked and updated by the caller, so `stock` is the
-- stock after this change.
--
-- Crossings: a change that lowers a product's stock to <= low_threshold raises `low_stock`
-- (to 0: `out_of_stock`) unless that level was already alerted; stock back above the
-- threshold re-arms. Each crossing writes one `alerts` row, one outbox row per subscribed
-- manager's browser and one `stock.low` event per webhook that wants it.
-- Webhook events (`sale.created`, `sale.voided`, `waste.recorded`, `transfer.sent`,
-- `transfer.received`, `return.approved`, `stock.changed`, `stock.low`) are written to
-- the outbox in that order; the worker is woken by NOTIFY bt_outbox, sent only on commit.
CREATE OR REPLACE FUNCTION bt_after_stock_change(p_bar_id uuid, p_seq bigint, p_cause text,
                                                 p_ref_id uuid, p_changes jsonb)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    v_at timestamptz;
    v_level_moves boolean;
    v_item_moves boolean;
    v_has_webhooks boolean;
    v_crossings jsonb;
    v_item_crossings jsonb;
    v_alerts jsonb := '[]';
    v_events jsonb := '[]';
    v_bar_name text;
    v_queued bigint := 0;
    v_rows bigint;
BEGIN
    PERFORM bt_notify_stock(p_bar_id, p_seq, p_cause, p_changes);

    -- ARRAY(...) is computed once, so the plan is a primary-key probe whatever the bar's size
    SELECT EXISTS (
               SELECT 1 FROM products p
               WHERE p.id = ANY (ARRAY(SELECT (e ->> 'product_id')::uuid
                                       FROM jsonb_array_elements(p_changes) AS e))
                 AND p.bar_id = p_bar_id
                 AND bt_alert_moves(p.stock, p.low_threshold, p.alert_level)),
           -- stock items that are not a product's own item (those alert as their product):
           -- the whisky in cl, the limes; found through this seq's item ledger rows
           EXISTS (SELECT 1 FROM item_movements m JOIN stock_items i ON i.id = m.stock_item_id
                   WHERE m.bar_id = p_bar_id AND m.seq = p_seq
                     AND bt_alert_moves(i.stock, i.low_threshold, i.alert_level)
                     AND NOT EXISTS (SELECT 1 FROM products x WHERE x.id = i.id)
              AND NOT EXISTS (SELECT 1 FROM containers c WHERE c.empties_item_id = i.id)
                     -- empties at 0 are normal (all handed back): never an alert
                     AND NOT EXISTS (SELECT 1 FROM containers c WHERE c.empties_item_id = i.id)),
           EXISTS (SELECT 1 FROM webhooks w WHERE w.bar_id = p_bar_id AND w.active)
    INTO v_level_moves, v_item_moves, v_has_webhooks;
    IF NOT v_level_moves AND NOT v_item_moves AND NOT v_has_webhooks THEN
        RETURN;
    END IF;
    v_at := clock_timestamp();

    IF v_level_moves THEN
        WITH moved AS (
            UPDATE products p
            SET alert_level = bt_alert_level(p.stock, p.low_threshold)
            WHERE p.id = ANY (ARRAY(SELECT (e ->> 'product_id')::uuid
                                    FROM jsonb_array_elements(p_changes) AS e))
              AND p.bar_id = p_bar_id
              AND bt_alert_moves(p.stock, p.low_threshold, p.alert_level)
              -- only a fall raises an alert (a delivery onto a new product does not)
              AND (bt_alert_level(p.stock, p.low_threshold) = 0
                   OR EXISTS (SELECT 1 FROM movements m
                              WHERE m.bar_id = p_bar_id AND m.seq = p_seq
                                AND m.product_id = p.id AND m.delta < 0))
            RETURNING p.id, p.name, p.stock, p.low_threshold, p.alert_level
        )
        SELECT jsonb_agg(jsonb_build_object('product_id', id, 'name', name, 'stock', stock,
                                            'low_threshold', low_threshold, 'level', alert_level)
                         ORDER BY id)
        INTO v_crossings
        FROM moved WHERE alert_level > 0;
    END IF;

    IF v_item_moves THEN
        WITH moved AS (
            UPDATE stock_items i
            SET alert_level = bt_alert_level(i.stock, i.low_threshold)
            FROM item_movements m
            WHERE m.bar_id = p_bar_id AND m.seq = p_seq AND i.id = m.stock_item_id
              AND bt_alert_moves(i.stock, i.low_threshold, i.alert_level)
              AND NOT EXISTS (SELECT 1 FROM products x WHERE x.id = i.id)
              AND (bt_alert_level(i.stock, i.low_threshold) = 0 OR m.delta < 0)
            RETURNING i.id, i.name, i.stock, i.low_threshold, i.alert_level
        )
        -- an item's alert names the item where a product's names the product (product_id is
        -- the item's id: every receiver keeps working) and says so in `stock_item_id`
        SELECT jsonb_agg(jsonb_build_object('product_id', id, 'stock_item_id', id, 'name', name,
                                            'stock', stock, 'low_threshold', low_threshold,
                                            'level', alert_level)
                         ORDER BY id)
        INTO v_item_crossings
        FROM moved WHERE alert_level > 0;
        IF v_item_crossings IS NOT NULL THEN
            v_crossings := COALESCE(v_crossings, '[]') || v_item_crossings;
        END IF;
    END IF;

    IF v_crossings IS NOT NULL THEN
        SELECT name INTO v_bar_name FROM bars WHERE id = p_bar_id;
        WITH a AS (
            INSERT INTO alerts (bar_id, product_id, stock_item_id, kind, product_name, stock,
                                low_threshold, seq, at)
            SELECT p_bar_id, x.product_id, x.stock_item_id,
                   CASE WHEN x.level = 2 THEN 'out_of_stock' ELSE 'low_stock' END,
                   x.name, x.stock, x.low_threshold, p_seq, v_at
            FROM jsonb_to_recordset(v_crossings)
                 AS x(product_id uuid, stock_item_id uuid, name text, stock integer,
                      low_threshold integer, level integer)
            ORDER BY x.stock_item_id NULLS FIRST, x.product_id
            RETURNING n, id, kind, product_id, stock_item_id, product_name, stock, low_threshold
        )
        -- the Web Push payload (contract) plus bar_name, which the notification shows
        SELECT jsonb_agg(jsonb_build_object(
                   'alert_id', id,
                   'payload', jsonb_build_object(
                       'type', kind, 'bar_id', p_bar_id, 'bar_name', v_bar_name,
                       'product_id', product_id, 'product_name', product_name,
                       'stock', stock, 'low_threshold', low_threshold)
                   || CASE WHEN stock_item_id IS NULL THEN '{}'::jsonb
                           ELSE jsonb_build_object('stock_item_id', stock_item_id) END)
                   ORDER BY n)
        INTO v_alerts FROM a;

        -- every browser of a current manager or owner of the bar
        INSERT INTO outbox (bar_id, subscription_id, event_id, event_type, payload)
        SELECT p_bar_id, s.id, (x.a ->> 'alert_id')::uuid, x.a -> 'payload' ->> 'type',
               x.a -> 'payload'
        FROM jsonb_array_elements(v_alerts) WITH ORDINALITY AS x(a, i)
        CROSS JOIN push_subscriptions s
        JOIN memberships m ON m.bar_id = s.bar_id AND m.user_id = s.user_id
                          AND m.role IN ('owner', 'manager')
        WHERE s.bar_id = p_bar_id
        ORDER BY x.i, s.id;
        GET DIAGNOSTICS v_rows = ROW_COUNT;
        v_queued := v_queued + v_rows;
    END IF;

    IF v_has_webhooks THEN
        IF p_cause = 'sale' THEN
            v_events := v_events || jsonb_build_object(
                'id', gen_random_uuid(), 'type', 'sale.created',
                'data', (SELECT response FROM operations WHERE bar_id = p_bar_id AND id = p_ref_id));
        ELSIF p_cause = 'void' THEN
            v_events := v_events || jsonb_build_object(
                'id', gen_random_uuid(), 'type', 'sale.voided',
                'data', (SELECT void_response FROM sales WHERE bar_id = p_bar_id AND id = p_ref_id));
        ELSIF p_cause IN ('breakage', 'spillage', 'expired', 'offered', 'staff_drink',
                          'transfer_out', 'transfer_in') THEN  -- issue 16 (40_stock_waste.sql, 41_stock_transfer.sql)
            v_events := v_events || jsonb_build_object(
                'id', gen_random_uuid(),
                'type', CASE p_cause WHEN 'transfer_out' THEN 'transfer.sent'
                                     WHEN 'transfer_in' THEN 'transfer.received'
                                     ELSE 'waste.recorded' END,
                'data', (SELECT response FROM operations WHERE bar_id = p_bar_id AND id = p_ref_id));
        ELSIF p_cause = 'return' THEN  -- 42_stock_return.sql: the approved return
            v_events := v_events || jsonb_build_object(
                'id', gen_random_uuid(), 'type', 'return.approved',
                'data', (SELECT response FROM returns WHERE bar_id = p_bar_id AND id = p_ref_id));
        END IF;
        v_events := v_events || jsonb_build_object(
            'id', gen_random_uuid(), 'type', 'stock.changed',
            'data', jsonb_build_object('cause', p_cause, 'changes', p_changes));
        -- a stock.low event carries its alert's id: one event, one id, for every receiver
        SELECT v_events || COALESCE(jsonb_agg(jsonb_build_object(
                   'id', x.a ->> 'alert_id', 'type', 'stock.low', 'data', x.a -> 'payload')
                   ORDER BY x.i), '[]')
        INTO v_events
        FROM jsonb_array_elements(v_alerts) WITH ORDINALITY AS x(a, i);

        INSERT INTO outbox (bar_id, webhook_id, event_id, event_type, payload)
        SELECT p_bar_id, w.id, (x.e ->> 'id')::uuid, x.e ->> 'type',
               jsonb_build_object('id', x.e -> 'id', 'type', x.e -> 'type', 'bar_id', p_bar_id,
                                  'seq', p_seq, 'at', bt_ts(v_at), 'data', x.e -> 'data')
        FROM webhooks w
        CROSS JOIN jsonb_array_elements(v_events) WITH ORDINALITY AS x(e, i)
        WHERE w.bar_id = p_bar_id AND w.active AND (x.e ->> 'type') = ANY (w.events)
        ORDER BY w.id, x.i;
        GET DIAGNOSTICS v_rows = ROW_COUNT;
        v_queued := v_queued + v_rows;
    END IF;

    IF v_queued > 0 THEN
        PERFORM pg_notify('bt_outbox', p_bar_id::text);
    END IF;
END $$;
