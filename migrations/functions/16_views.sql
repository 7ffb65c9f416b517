-- The API's shapes of bars and products: one definition each, read by every endpoint,
-- catalog message and NOTIFY that shows them.

-- Bars as the API shows them (settings only; seq and receipt counter stay internal).
CREATE OR REPLACE VIEW bar_view AS
SELECT id, name, currency, timezone, to_char(day_starts_at, 'HH24:MI') AS day_starts_at,
       lead_time_days, service_level::float8 AS service_level
FROM bars;

-- Products as the API shows them.
CREATE OR REPLACE VIEW product_view AS
SELECT id, bar_id, name, category, price, low_threshold, par_level, cost, stock, active
FROM products;
