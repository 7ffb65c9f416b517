-- Containers and empties (consignes, issue 16). A container ("Bouteille 65 cl", deposit 100;
-- "Casier 24", deposit 2000) keeps its empties as a stock item of its own (`empties_item_id`,
-- base unit "unit"), so empties live in the same ledger, seq, counts and waste as any stock.
-- `container_contents` says which stock items come in it and how many per container (a Flag
-- in a Bouteille 65 cl; 24 Flag per Casier 24). Deliveries record, per container, the full
-- ones received and the empties handed back: the balance with each supplier.
ALTER TABLE operations DROP CONSTRAINT IF EXISTS operations_kind_check;
ALTER TABLE operations ADD CONSTRAINT operations_kind_check
    CHECK (kind IN ('sale', 'delivery', 'count', 'waste', 'transfer', 'return', 'empties_refund'));

ALTER TABLE movements DROP CONSTRAINT IF EXISTS movements_kind_check;
ALTER TABLE movements ADD CONSTRAINT movements_kind_check
    CHECK (kind IN ('sale', 'delivery', 'void', 'count', 'recipe',
                    'breakage', 'spillage', 'expired', 'offered', 'staff_drink',
                    'transfer_out', 'transfer_in', 'return', 'empties_refund'));

CREATE TABLE containers (
    bar_id           uuid NOT NULL REFERENCES bars (id) ON DELETE CASCADE,
    id               uuid NOT NULL DEFAULT gen_random_uuid(),
    name             text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    deposit          bigint NOT NULL CHECK (deposit BETWEEN 0 AND 1000000000),
    empties_item_id  uuid NOT NULL UNIQUE REFERENCES stock_items (id),
    created_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (bar_id, id),
    UNIQUE (bar_id, name)
);

CREATE TABLE container_contents (
    bar_id         uuid NOT NULL,
    container_id   uuid NOT NULL,
    stock_item_id  uuid NOT NULL REFERENCES stock_items (id),
    qty            integer NOT NULL CHECK (qty BETWEEN 1 AND 1000),
    PRIMARY KEY (bar_id, container_id, stock_item_id),
    FOREIGN KEY (bar_id, container_id) REFERENCES containers (bar_id, id) ON DELETE CASCADE
);

CREATE TABLE delivery_containers (
    bar_id        uuid NOT NULL,
    delivery_id   uuid NOT NULL,
    container_id  uuid NOT NULL,
    full_in       integer NOT NULL CHECK (full_in >= 0),
    empties_out   integer NOT NULL CHECK (empties_out >= 0),
    PRIMARY KEY (bar_id, delivery_id, container_id),
    FOREIGN KEY (bar_id, delivery_id) REFERENCES deliveries (bar_id, id) ON DELETE CASCADE,
    FOREIGN KEY (bar_id, container_id) REFERENCES containers (bar_id, id)
);

CREATE TABLE empties_refunds (
    bar_id      uuid NOT NULL REFERENCES bars (id) ON DELETE CASCADE,
    id          uuid NOT NULL,
    seq         bigint NOT NULL,
    refund      bigint NOT NULL,
    lines       jsonb NOT NULL,
    actor_id    uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at  timestamptz NOT NULL,
    PRIMARY KEY (bar_id, id)
);
