-- Returns per sale line (issue 16): requested by staff and approved or rejected by a manager,
-- or made directly by a manager. Restocked lines move stock (movement kind 'return'); lines
-- returned as waste only refund. The id is claimed in the bar's one id space ('return').
ALTER TABLE operations DROP CONSTRAINT IF EXISTS operations_kind_check;
ALTER TABLE operations ADD CONSTRAINT operations_kind_check
    CHECK (kind IN ('sale', 'delivery', 'count', 'waste', 'transfer', 'return'));

ALTER TABLE movements DROP CONSTRAINT IF EXISTS movements_kind_check;
ALTER TABLE movements ADD CONSTRAINT movements_kind_check
    CHECK (kind IN ('sale', 'delivery', 'void', 'count', 'recipe',
                    'breakage', 'spillage', 'expired', 'offered', 'staff_drink',
                    'transfer_out', 'transfer_in', 'return'));

CREATE TABLE returns (
    bar_id        uuid NOT NULL REFERENCES bars (id) ON DELETE CASCADE,
    id            uuid NOT NULL,
    sale_id       uuid NOT NULL,
    status        text NOT NULL CHECK (status IN ('pending', 'approved', 'rejected')),
    reason        text NOT NULL,
    refund        bigint NOT NULL CHECK (refund >= 0),
    requested_by  uuid REFERENCES users (id) ON DELETE SET NULL,
    requested_at  timestamptz NOT NULL,
    decided_by    uuid REFERENCES users (id) ON DELETE SET NULL,
    decided_at    timestamptz,
    decision_note text,
    seq           bigint,  -- the stock transaction of an approved return that restocked
    response      jsonb,   -- the body of the decision (approve/reject replay it)
    PRIMARY KEY (bar_id, id),
    FOREIGN KEY (bar_id, sale_id) REFERENCES sales (bar_id, id) ON DELETE CASCADE
);
CREATE INDEX returns_pending ON returns (bar_id, requested_at) WHERE status = 'pending';
CREATE INDEX returns_sale ON returns (bar_id, sale_id);

CREATE TABLE return_lines (
    bar_id       uuid NOT NULL,
    return_id    uuid NOT NULL,
    product_id   uuid NOT NULL REFERENCES products (id),
    qty          integer NOT NULL CHECK (qty > 0),
    disposition  text NOT NULL CHECK (disposition IN ('restock', 'waste')),
    unit_price   bigint NOT NULL,
    refund       bigint NOT NULL,
    PRIMARY KEY (bar_id, return_id, product_id, disposition),
    FOREIGN KEY (bar_id, return_id) REFERENCES returns (bar_id, id) ON DELETE CASCADE
);
