-- The API's shapes of bars and products: one definition each, read by every endpoint,
-- catalog message and NOTIFY that shows them.

-- Bars as the API shows them (settings only; seq and receipt counter stay internal).
CREATE OR REPLACE VIEW bar_view AS
SELECT id, name, currency, timezone, to_char(day_starts_at, 'HH24:MI') AS day_starts_at,
       lead_time_days, service_level::float8 AS service_level, staff_may_record_waste
FROM bars;

-- Products as the API shows them. `stock` is the available quantity (min over components of
-- floor(item stock / quantity)); recipes are their own resource (recipe_view).
CREATE OR REPLACE VIEW product_view AS
SELECT id, bar_id, name, category, price, low_threshold, par_level, cost, stock, active
FROM products;

-- A product's recipe: what one sold unit takes from which stock items, in base units.
CREATE OR REPLACE VIEW recipe_view AS
SELECT p.bar_id, p.id AS product_id, p.stock,
       COALESCE((SELECT jsonb_agg(jsonb_build_object('stock_item_id', c.stock_item_id,
                                                     'qty', c.qty) ORDER BY c.stock_item_id)
                 FROM product_components c WHERE c.product_id = p.id), '[]') AS components
FROM products p;

-- Stock items as the API shows them, with their packs.
CREATE OR REPLACE VIEW stock_item_view AS
SELECT i.id, i.bar_id, i.name, i.base_unit, i.stock, i.low_threshold, i.par_level, i.active,
       COALESCE((SELECT jsonb_agg(jsonb_build_object('name', k.name, 'size', k.size)
                                  ORDER BY k.size, k.name)
                 FROM stock_item_packs k WHERE k.stock_item_id = i.id), '[]') AS packs
FROM stock_items i;

-- A sale as every endpoint and event shows it (POST /sales and its replay, GET /sales, the
-- void, webhooks' sale.created / sale.voided). Callers add what is theirs: `stock` after the
-- operation (sell, void), the void fields (void, listing).
CREATE OR REPLACE FUNCTION bt_sale_json(s sales) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    -- issue 16 (additive, shown only when set so a v1.2 sale reads as before): take-away lines
    -- carry take_away and their deposit; a sale that charged deposits carries deposit_total
    SELECT jsonb_build_object(
        'id', s.id, 'bar_id', s.bar_id, 'seq', s.seq, 'number', s.number, 'total', s.total,
        'created_at', bt_ts(s.created_at),
        'occurred_at', CASE WHEN s.occurred_at IS NULL THEN NULL ELSE bt_ts(s.occurred_at) END,
        'business_date', to_char(s.business_date, 'YYYY-MM-DD'), 'seller_id', s.seller_id,
        'items', COALESCE((SELECT jsonb_agg(jsonb_build_object(
                               'product_id', l.product_id, 'qty', l.qty,
                               'unit_price', l.unit_price, 'line_total', l.line_total)
                               || CASE WHEN l.take_away THEN jsonb_build_object(
                                      'take_away', true, 'deposit', l.deposit) ELSE '{}' END
                               ORDER BY l.product_id)
                           FROM sale_lines l WHERE l.bar_id = s.bar_id AND l.sale_id = s.id), '[]'))
        || CASE WHEN s.deposit_total > 0 THEN jsonb_build_object('deposit_total', s.deposit_total)
                ELSE '{}' END
$$;

-- The void fields of a sale (null while it stands).
CREATE OR REPLACE FUNCTION bt_sale_void_json(s sales) RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
    SELECT jsonb_build_object(
        'voided_at', CASE WHEN s.voided_at IS NULL THEN NULL ELSE bt_ts(s.voided_at) END,
        'void_reason', s.void_reason, 'void_seq', s.void_seq)
$$;

-- The low-stock alert level a stock implies: 0 armed, 1 low_stock, 2 out_of_stock.
CREATE OR REPLACE FUNCTION bt_alert_level(p_stock integer, p_low_threshold integer)
RETURNS smallint LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT (CASE WHEN p_stock > p_low_threshold THEN 0 WHEN p_stock = 0 THEN 2 ELSE 1 END)::smallint
$$;

-- Whether an item's alert state moves: it re-arms (stock back above the threshold) or it
-- crosses to a worse level than already alerted. The one definition of the condition.
CREATE OR REPLACE FUNCTION bt_alert_moves(p_stock integer, p_low_threshold integer,
                                          p_alert_level smallint)
RETURNS boolean LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT (p_alert_level > 0 AND bt_alert_level(p_stock, p_low_threshold) = 0)
        OR bt_alert_level(p_stock, p_low_threshold) > p_alert_level
$$;
