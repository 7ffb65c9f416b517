-- Corrections (issue 16): waste / offered / staff drinks and transfers between bars.
-- New operation kinds share the bar's one id space (`operations`); new movement kinds are
-- written by bt_apply_deltas into both ledgers (`item_movements.kind` has no CHECK).
ALTER TABLE operations DROP CONSTRAINT IF EXISTS operations_kind_check;
ALTER TABLE operations ADD CONSTRAINT operations_kind_check
    CHECK (kind IN ('sale', 'delivery', 'count', 'waste', 'transfer'));

ALTER TABLE movements DROP CONSTRAINT IF EXISTS movements_kind_check;
ALTER TABLE movements ADD CONSTRAINT movements_kind_check
    CHECK (kind IN ('sale', 'delivery', 'void', 'count', 'recipe',
                    'breakage', 'spillage', 'expired', 'offered', 'staff_drink',
                    'transfer_out', 'transfer_in'));

-- Whether staff (not only managers) may record waste, offered and staff drinks.
ALTER TABLE bars ADD COLUMN IF NOT EXISTS staff_may_record_waste boolean NOT NULL DEFAULT false;

-- Stock that left without a sale: one row per operation, one line per stock item, valued at
-- the time (cost and price of the product the line named, or of the item's own product).
CREATE TABLE waste (
    bar_id      uuid NOT NULL REFERENCES bars (id) ON DELETE CASCADE,
    id          uuid NOT NULL,
    seq         bigint NOT NULL,
    kind        text NOT NULL
                CHECK (kind IN ('breakage', 'spillage', 'expired', 'offered', 'staff_drink')),
    reason      text,
    actor_id    uuid REFERENCES users (id) ON DELETE SET NULL,
    value_cost  bigint,
    value_price bigint,
    created_at  timestamptz NOT NULL,
    PRIMARY KEY (bar_id, id)
);
CREATE INDEX waste_bar_time ON waste (bar_id, created_at);

CREATE TABLE waste_lines (
    bar_id         uuid NOT NULL,
    waste_id       uuid NOT NULL,
    idx            integer NOT NULL,
    product_id     uuid REFERENCES products (id),
    stock_item_id  uuid REFERENCES stock_items (id),
    qty            integer NOT NULL CHECK (qty > 0),
    value_cost     bigint,
    value_price    bigint,
    PRIMARY KEY (bar_id, waste_id, idx),
    FOREIGN KEY (bar_id, waste_id) REFERENCES waste (bar_id, id) ON DELETE CASCADE
);

-- Stock moved from one bar to another in one transaction (both bars' seq move).
CREATE TABLE transfers (
    id           uuid NOT NULL,
    from_bar_id  uuid NOT NULL REFERENCES bars (id) ON DELETE CASCADE,
    to_bar_id    uuid NOT NULL REFERENCES bars (id) ON DELETE CASCADE,
    from_seq     bigint NOT NULL,
    to_seq       bigint NOT NULL,
    lines        jsonb NOT NULL,
    actor_id     uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at   timestamptz NOT NULL,
    PRIMARY KEY (from_bar_id, id),
    CHECK (from_bar_id <> to_bar_id)
);
CREATE INDEX transfers_to ON transfers (to_bar_id, created_at);
