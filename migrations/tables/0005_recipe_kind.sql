-- A recipe change can change a product's available quantity without any stock moving: the
-- product ledger records it with kind 'recipe' (bt_set_recipe), so seq and the ledger agree.
ALTER TABLE movements DROP CONSTRAINT IF EXISTS movements_kind_check;
ALTER TABLE movements ADD CONSTRAINT movements_kind_check
    CHECK (kind IN ('sale', 'delivery', 'void', 'count', 'recipe'));
