#!/usr/bin/env bash
# Restore drill: prove that last night's kind of backup restores and serves.
#
#   deploy/restore-drill.sh SOURCE_DATABASE_URL ADMIN_DATABASE_URL [PORT]
#
# 1. pg_dump (custom format, one consistent snapshot) of SOURCE_DATABASE_URL;
# 2. a fresh database `bartender_drill_<UTC time>` created through ADMIN_DATABASE_URL (same
#    server or another one), the dump restored into it with pg_restore;
# 3. `bartender migrate` on it (a no-op unless the dump predates the installed code);
# 4. checks: every product's stock equals its last ledger movement, no bar's seq is behind
#    its ledger, and the table counts are printed;
# 5. with PORT: serve the restored database on 127.0.0.1:PORT in the foreground (exec), so
#    clients can be pointed at it; without: serve it briefly, check /api/ready, stop.
# Clients whose `since` is ahead of the restored database get a snapshot at its seq
# (contract v1.2): nothing on a phone needs resetting after a restore.
#
# PG_BIN: directory of pg_dump, pg_restore and psql matching the server's major version
# (default: from PATH). The dump file is kept in $DRILL_DIR (default: a new temp directory).
set -euo pipefail

if [[ $# -lt 2 || $# -gt 3 ]]; then
    sed -n '2,20p' "$0" >&2
    exit 2
fi
source_url=$1
admin_url=$2
port=${3:-}
bin=${PG_BIN:+$PG_BIN/}
drill_dir=${DRILL_DIR:-$(mktemp -d -t bartender-drill.XXXXXX)}
name="bartender_drill_$(date -u +%Y%m%d%H%M%S)_$$"
dump="$drill_dir/bartender.dump"

with_db() {  # the admin URL pointing at another database (TCP or Unix-socket URLs alike)
    python3 -c 'import sys, urllib.parse as u; p = u.urlsplit(sys.argv[1]); print(p._replace(path="/" + sys.argv[2]).geturl())' "$1" "$2"
}
target_url=$(with_db "$admin_url" "$name")

echo "restore drill: dumping the source to $dump" >&2
"${bin}pg_dump" --format=custom --no-owner --no-privileges --file "$dump" "$source_url"

echo "restore drill: restoring into a fresh database $name" >&2
"${bin}psql" "$admin_url" -v ON_ERROR_STOP=1 -q -c "CREATE DATABASE \"$name\""
"${bin}pg_restore" --no-owner --no-privileges --exit-on-error --dbname "$target_url" "$dump"

DATABASE_URL=$target_url bartender migrate >&2

check() {
    "${bin}psql" "$target_url" -v ON_ERROR_STOP=1 -At -c "$1"
}
stock_mismatches=$(check "
    SELECT count(*) FROM (
        SELECT DISTINCT ON (m.bar_id, m.product_id) m.bar_id, m.product_id, m.stock_after
        FROM movements m ORDER BY m.bar_id, m.product_id, m.seq DESC
    ) last JOIN products p ON p.id = last.product_id
    WHERE p.stock <> last.stock_after")
seq_behind=$(check "
    SELECT count(*) FROM bars b
    WHERE b.seq < (SELECT coalesce(max(seq), 0) FROM movements m WHERE m.bar_id = b.id)")
counts=$(check "SELECT 'bars=' || (SELECT count(*) FROM bars) || ' sales=' || (SELECT count(*) FROM sales) || ' movements=' || (SELECT count(*) FROM movements)")
echo "restore drill: restored $counts; stock mismatches: $stock_mismatches; bars behind their ledger: $seq_behind" >&2
if [[ $stock_mismatches != 0 || $seq_behind != 0 ]]; then
    echo "restore drill: FAILED (the restored ledger and stock disagree)" >&2
    exit 1
fi

if [[ -n $port ]]; then
    echo "restore drill: serving $name on http://127.0.0.1:$port" >&2
    DATABASE_URL=$target_url exec bartender serve --host 127.0.0.1 --port "$port"
fi

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
DATABASE_URL=$target_url bartender serve --host 127.0.0.1 --port "$port" &
server=$!
trap 'kill "$server" 2>/dev/null || true' EXIT
for _ in $(seq 1 300); do
    if python3 -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=1)' \
        "http://127.0.0.1:$port/api/ready" 2>/dev/null; then
        echo "restore drill: OK ($name serves; drop it when done: DROP DATABASE \"$name\")" >&2
        echo "$name"
        exit 0
    fi
    sleep 0.1
done
echo "restore drill: FAILED (the restored database did not become ready)" >&2
exit 1
