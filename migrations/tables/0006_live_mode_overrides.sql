-- The operator's push/poll switch (issue 17 "Control"; realtime/control.py): a bar, or every
-- bar (scope 'all'), forced into poll (or a bar into push) until set back to automatic, which
-- deletes the row. Changes NOTIFY bt_live_mode so every instance applies them within a second.
CREATE TABLE IF NOT EXISTS live_mode_overrides (
    scope       text PRIMARY KEY CHECK (scope = 'all' OR scope ~ '^[0-9a-f-]{36}$'),
    mode        text NOT NULL CHECK (mode IN ('push', 'poll')),
    set_by      uuid,
    set_at      timestamptz NOT NULL DEFAULT now(),
    CHECK (scope <> 'all' OR mode = 'poll')
);
