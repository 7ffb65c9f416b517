-- Each bar's catalog version (see functions/22_catalog.sql). Append-only migration.

CREATE TABLE IF NOT EXISTS bar_catalog (
    bar_id  uuid PRIMARY KEY REFERENCES bars (id) ON DELETE CASCADE,
    seq     bigint NOT NULL DEFAULT 0
);
