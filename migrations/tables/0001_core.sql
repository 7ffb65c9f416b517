-- Core tables (append-only migration: never edit once released; add a new numbered file).
-- Money is bigint minor units, quantities are integers, every stock change lands in `movements`.

CREATE TABLE IF NOT EXISTS app_secrets (
    name        text PRIMARY KEY,
    value       text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS users (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    email          text NOT NULL CHECK (length(email) BETWEEN 3 AND 320),
    name           text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    password_hash  text NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX IF NOT EXISTS users_email_key ON users (lower(email));

-- Rotating refresh tokens: only a hash is stored; a family is one login's chain.
CREATE TABLE IF NOT EXISTS refresh_tokens (
    token_hash  bytea PRIMARY KEY,
    family_id   uuid NOT NULL,
    user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    used_at     timestamptz,
    revoked_at  timestamptz
);
CREATE INDEX IF NOT EXISTS refresh_tokens_family ON refresh_tokens (family_id);

-- Failed logins per key ('email:<addr>' / 'ip:<addr>'), a fixed window shared by all instances.
CREATE TABLE IF NOT EXISTS login_failures (
    key           text PRIMARY KEY,
    window_start  timestamptz NOT NULL,
    failures      integer NOT NULL
);

CREATE TABLE IF NOT EXISTS bars (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name            text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    currency        text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    timezone        text NOT NULL,
    day_starts_at   time NOT NULL DEFAULT '06:00',
    lead_time_days  integer NOT NULL DEFAULT 2 CHECK (lead_time_days BETWEEN 0 AND 60),
    service_level   numeric(4, 3) NOT NULL DEFAULT 0.95 CHECK (service_level BETWEEN 0.5 AND 0.999),
    -- +1 per committed transaction that changes stock in this bar, never otherwise
    seq             bigint NOT NULL DEFAULT 0,
    -- receipt numbers: +1 per sale, gapless, in commit order (the bar row lock orders them)
    sale_number     bigint NOT NULL DEFAULT 0,
    created_at      timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS memberships (
    bar_id      uuid NOT NULL REFERENCES bars (id) ON DELETE CASCADE,
    user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role        text NOT NULL CHECK (role IN ('owner', 'manager', 'staff')),
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (bar_id, user_id)
);
CREATE INDEX IF NOT EXISTS memberships_user ON memberships (user_id);
CREATE UNIQUE INDEX IF NOT EXISTS memberships_one_owner ON memberships (bar_id) WHERE role = 'owner';

CREATE TABLE IF NOT EXISTS products (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    bar_id         uuid NOT NULL REFERENCES bars (id) ON DELETE CASCADE,
    name           text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    category       text NOT NULL DEFAULT '',
    price          bigint NOT NULL CHECK (price >= 0),
    cost           bigint CHECK (cost >= 0),
    low_threshold  integer NOT NULL DEFAULT 0 CHECK (low_threshold >= 0),
    par_level      integer NOT NULL DEFAULT 0 CHECK (par_level >= 0),
    stock          integer NOT NULL DEFAULT 0,
    active         boolean NOT NULL DEFAULT true,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    -- the invariant, backed by the database whatever the code does
    CONSTRAINT products_stock_nonnegative CHECK (stock >= 0)
);
CREATE INDEX IF NOT EXISTS products_bar ON products (bar_id, name);

-- One idempotency id space per bar across sales, deliveries and counts.
CREATE TABLE IF NOT EXISTS operations (
    bar_id        uuid NOT NULL REFERENCES bars (id) ON DELETE CASCADE,
    id            uuid NOT NULL,
    kind          text NOT NULL CHECK (kind IN ('sale', 'delivery', 'count')),
    request_hash  text NOT NULL,
    response      jsonb,
    created_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (bar_id, id)
);

CREATE TABLE IF NOT EXISTS sales (
    bar_id         uuid NOT NULL REFERENCES bars (id) ON DELETE CASCADE,
    id             uuid NOT NULL,
    number         bigint NOT NULL,
    seq            bigint NOT NULL,
    total          bigint NOT NULL,
    seller_id      uuid REFERENCES users (id) ON DELETE SET NULL,
    occurred_at    timestamptz,
    created_at     timestamptz NOT NULL,
    business_date  date NOT NULL,
    voided_at      timestamptz,
    void_reason    text,
    void_seq       bigint,
    voided_by      uuid REFERENCES users (id) ON DELETE SET NULL,
    void_response  jsonb,
    PRIMARY KEY (bar_id, id),
    UNIQUE (bar_id, number)
);
CREATE INDEX IF NOT EXISTS sales_bar_created ON sales (bar_id, created_at DESC, id DESC);
CREATE INDEX IF NOT EXISTS sales_bar_day ON sales (bar_id, business_date);

CREATE TABLE IF NOT EXISTS sale_lines (
    bar_id      uuid NOT NULL,
    sale_id     uuid NOT NULL,
    product_id  uuid NOT NULL REFERENCES products (id),
    qty         integer NOT NULL CHECK (qty > 0),
    unit_price  bigint NOT NULL,
    line_total  bigint NOT NULL,
    PRIMARY KEY (bar_id, sale_id, product_id),
    FOREIGN KEY (bar_id, sale_id) REFERENCES sales (bar_id, id) ON DELETE CASCADE
);

CREATE TABLE IF NOT EXISTS deliveries (
    bar_id      uuid NOT NULL REFERENCES bars (id) ON DELETE CASCADE,
    id          uuid NOT NULL,
    seq         bigint NOT NULL,
    supplier    text,
    reference   text,
    actor_id    uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at  timestamptz NOT NULL,
    PRIMARY KEY (bar_id, id)
);
-- "first wins": a supplier's delivery note is recorded once per bar
CREATE UNIQUE INDEX IF NOT EXISTS deliveries_reference ON deliveries (bar_id, reference)
    WHERE reference IS NOT NULL AND reference <> '';

CREATE TABLE IF NOT EXISTS delivery_lines (
    bar_id       uuid NOT NULL,
    delivery_id  uuid NOT NULL,
    product_id   uuid NOT NULL REFERENCES products (id),
    qty          integer NOT NULL CHECK (qty > 0),
    PRIMARY KEY (bar_id, delivery_id, product_id),
    FOREIGN KEY (bar_id, delivery_id) REFERENCES deliveries (bar_id, id) ON DELETE CASCADE
);

CREATE TABLE IF NOT EXISTS stock_counts (
    bar_id      uuid NOT NULL REFERENCES bars (id) ON DELETE CASCADE,
    id          uuid NOT NULL,
    seq         bigint NOT NULL,
    reason      text,
    actor_id    uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at  timestamptz NOT NULL,
    PRIMARY KEY (bar_id, id)
);

-- Counted vs expected per product: the variance is what owners look for.
CREATE TABLE IF NOT EXISTS stock_count_lines (
    bar_id      uuid NOT NULL,
    count_id    uuid NOT NULL,
    product_id  uuid NOT NULL REFERENCES products (id),
    expected    integer NOT NULL,
    counted     integer NOT NULL CHECK (counted >= 0),
    unit_price  bigint NOT NULL,
    unit_cost   bigint,
    PRIMARY KEY (bar_id, count_id, product_id),
    FOREIGN KEY (bar_id, count_id) REFERENCES stock_counts (bar_id, id) ON DELETE CASCADE
);

-- The append-only stock ledger: one row per product per stock transaction (`seq`).
CREATE TABLE IF NOT EXISTS movements (
    bar_id       uuid NOT NULL REFERENCES bars (id) ON DELETE CASCADE,
    seq          bigint NOT NULL,
    product_id   uuid NOT NULL REFERENCES products (id),
    delta        integer NOT NULL,
    stock_after  integer NOT NULL CHECK (stock_after >= 0),
    kind         text NOT NULL CHECK (kind IN ('sale', 'delivery', 'void', 'count')),
    ref_id       uuid NOT NULL,
    actor_id     uuid REFERENCES users (id) ON DELETE SET NULL,
    at           timestamptz NOT NULL,
    PRIMARY KEY (bar_id, seq, product_id)
);
CREATE INDEX IF NOT EXISTS movements_product ON movements (bar_id, product_id, seq);
