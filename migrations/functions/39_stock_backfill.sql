-- A stock operation recorded at a moment of the past (the demo's history, forecast tests):
-- the same function the API calls (bt_sell, bt_deliver), with bt_now() answering `p_at` for
-- this one call. The API never calls it. One statement per operation, so a client can send a
-- whole history with executemany in one transaction.
CREATE OR REPLACE FUNCTION bt_stock_at(p_at timestamptz, p_kind text, p_bar_id uuid,
                                       p_actor_id uuid, p_request jsonb)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
    v_body jsonb;
BEGIN
    PERFORM set_config('bartender.clock', p_at::text, true);
    IF p_kind = 'sale' THEN
        SELECT body INTO v_body FROM bt_sell(p_bar_id, p_actor_id, p_request);
    ELSIF p_kind = 'delivery' THEN
        SELECT body INTO v_body FROM bt_deliver(p_bar_id, p_actor_id, p_request);
    ELSE
        RAISE EXCEPTION 'bt_stock_at: unknown kind %', p_kind;
    END IF;
    PERFORM set_config('bartender.clock', '', true);
    RETURN v_body;
END $$;
