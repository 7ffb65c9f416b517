-- Low-stock alerts, Web Push subscriptions, webhooks and the delivery outbox (append-only migration).
-- Nothing is sent on the request path: stock functions write alert and outbox rows in their
-- own transaction (bt_after_stock_change, functions/20_after_stock_change.sql) and the app's outbox
-- worker (backend/bartender/alerts/worker.py) delivers them after commit.

-- Which alert a product has already raised: 0 armed, 1 low_stock sent, 2 out_of_stock sent.
-- It goes back to 0 only when the stock rises above low_threshold (the re-arm).
ALTER TABLE products ADD COLUMN IF NOT EXISTS alert_level smallint NOT NULL DEFAULT 0;

-- The alerts feed: one row per crossing, whether or not anyone is subscribed.
CREATE TABLE IF NOT EXISTS alerts (
    -- commit order per bar (the bar row lock serialises the inserts); the feed's cursor
    n              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id             uuid NOT NULL DEFAULT gen_random_uuid() UNIQUE,
    bar_id         uuid NOT NULL REFERENCES bars (id) ON DELETE CASCADE,
    product_id     uuid NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    kind           text NOT NULL CHECK (kind IN ('low_stock', 'out_of_stock')),
    product_name   text NOT NULL,
    stock          integer NOT NULL,
    low_threshold  integer NOT NULL,
    seq            bigint NOT NULL,
    at             timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS alerts_bar ON alerts (bar_id, n DESC);

-- A browser's push subscription, per bar it wants alerts for. The endpoint is the browser's
-- identity: subscribing it again (even by another user of a shared tablet) updates the row.
CREATE TABLE IF NOT EXISTS push_subscriptions (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    endpoint    text NOT NULL CHECK (length(endpoint) BETWEEN 8 AND 2048),
    bar_id      uuid NOT NULL REFERENCES bars (id) ON DELETE CASCADE,
    user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    p256dh      text NOT NULL,
    auth        text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (endpoint, bar_id)
);
CREATE INDEX IF NOT EXISTS push_subscriptions_bar ON push_subscriptions (bar_id);
CREATE INDEX IF NOT EXISTS push_subscriptions_user ON push_subscriptions (user_id);

CREATE TABLE IF NOT EXISTS webhooks (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    bar_id          uuid NOT NULL REFERENCES bars (id) ON DELETE CASCADE,
    url             text NOT NULL CHECK (length(url) BETWEEN 8 AND 2048),
    events          text[] NOT NULL CHECK (cardinality(events) > 0 AND events <@ ARRAY[
                        'stock.changed', 'stock.low', 'sale.created', 'sale.voided']),
    secret          text NOT NULL,
    active          boolean NOT NULL DEFAULT true,
    created_by      uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    -- start of the current run of failed attempts; a run longer than the retry window
    -- (24 h by default) deactivates the webhook
    failing_since   timestamptz,
    last_error      text,
    deactivated_at  timestamptz
);
CREATE INDEX IF NOT EXISTS webhooks_bar_active ON webhooks (bar_id) WHERE active;

-- One row per (event, destination) still to deliver. Deleting a subscription or a webhook
-- drops what it had pending. Per destination, rows are delivered in id order.
CREATE TABLE IF NOT EXISTS outbox (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    bar_id           uuid NOT NULL REFERENCES bars (id) ON DELETE CASCADE,
    subscription_id  uuid REFERENCES push_subscriptions (id) ON DELETE CASCADE,
    webhook_id       uuid REFERENCES webhooks (id) ON DELETE CASCADE,
    destination      uuid GENERATED ALWAYS AS (COALESCE(subscription_id, webhook_id)) STORED,
    event_id         uuid NOT NULL,
    event_type       text NOT NULL,
    payload          jsonb NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    attempts         integer NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz NOT NULL DEFAULT now(),
    last_error       text,
    CONSTRAINT outbox_one_destination CHECK (num_nonnulls(subscription_id, webhook_id) = 1)
);
CREATE INDEX IF NOT EXISTS outbox_destination ON outbox (destination, id);
CREATE INDEX IF NOT EXISTS outbox_due ON outbox (next_attempt_at, id);
-- for the ON DELETE CASCADE of a subscription or webhook
CREATE INDEX IF NOT EXISTS outbox_subscription ON outbox (subscription_id)
    WHERE subscription_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS outbox_webhook ON outbox (webhook_id) WHERE webhook_id IS NOT NULL;
