-- A product and its own stock item (same id, issue 15) share one low-stock threshold and one
-- par level from now on: editing either side writes both (stock/service.py patch_product,
-- stock/items.py patch_item). Until now they could drift apart (an edit on the stock items
-- screen did not reach the product, whose threshold is the one its alerts use); the product's
-- values are the ones alerts and forecasts used, so they win.
UPDATE stock_items i
SET low_threshold = p.low_threshold, par_level = p.par_level, updated_at = now()
FROM products p
WHERE p.id = i.id AND (i.low_threshold, i.par_level) IS DISTINCT FROM (p.low_threshold, p.par_level);
