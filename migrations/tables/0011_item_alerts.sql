-- Low-stock alerts of stock items (issue 15): an item that is not a product's own item (the
-- whisky in cl, the limes) alerts against its own low_threshold. Its alert row names the item:
-- `stock_item_id`, and `product_id` holds the item's id too, so every reader of alerts and
-- every receiver of the Web Push / webhook payload keeps working; hence no foreign key from
-- alerts.product_id to products any more (products are never deleted; items cascade).
ALTER TABLE alerts ADD COLUMN stock_item_id uuid REFERENCES stock_items (id) ON DELETE CASCADE;
ALTER TABLE alerts DROP CONSTRAINT IF EXISTS alerts_product_id_fkey;
