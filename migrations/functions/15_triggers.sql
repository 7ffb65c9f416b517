-- Triggers on the core tables. Re-applied on every migrate that finds a change (see db/migrate.py).

CREATE OR REPLACE FUNCTION bt_movements_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'movements is append-only' USING ERRCODE = 'BTF01',
        DETAIL = '{}';
END $$;

CREATE OR REPLACE TRIGGER movements_append_only BEFORE UPDATE OR DELETE ON movements
    FOR EACH ROW EXECUTE FUNCTION bt_movements_append_only();

-- Membership changes reach every instance's membership cache.
CREATE OR REPLACE FUNCTION bt_membership_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    r record := COALESCE(NEW, OLD);
BEGIN
    PERFORM pg_notify('bt_membership', r.bar_id::text || ':' || r.user_id::text);
    RETURN NULL;
END $$;

CREATE OR REPLACE TRIGGER memberships_notify AFTER INSERT OR UPDATE OR DELETE ON memberships
    FOR EACH ROW EXECUTE FUNCTION bt_membership_changed();
