#!/bin/sh
# A store that is not sound (garbage, cut short, another program's
# database, a newer schema) is refused by presgwd -n and at start, with
# one line naming the file and what to do and a non-zero exit status;
# the file is left byte for byte as it was.
. "$(dirname "$0")/lib.sh"

command -v sqlite3 >/dev/null 2>&1 ||
    skip "sqlite3 not found (Debian: apt-get install sqlite3)"
it_init
SIM_PORT=9          # never contacted: presgwd does not get that far
write_users alice bob carol
write_config
DB=$T/presgw.db

# A sound store with some rows, to damage.
"$PRESGWD" -c "$T/presgwd.conf" -f >"$T/first.log" 2>&1 &
pid=$!
it_pids="$it_pids $pid"
n=100
until grep -q 'gateway started' "$T/first.log"; do
    n=$((n - 1))
    [ $n -gt 0 ] || fail "presgwd did not start on a new store"
    sleep 0.1
done
kill -TERM "$pid"
wait "$pid"
it_forget "$pid"
cp "$DB" "$T/good.db"

# refused NAME TEXT: -n and a start both refuse $DB with TEXT, file kept.
refused() {
    local sum
    rm -f "$DB-wal" "$DB-shm"
    sum=$(sha256sum <"$DB")
    "$PRESGWD" -c "$T/presgwd.conf" -n >"$T/n.out" 2>"$T/n.err" &&
        fail "[$1] presgwd -n accepted the store"
    grep -qF "presgwd: store $DB $2" "$T/n.err" ||
        fail "[$1] presgwd -n did not say '$2': $(cat "$T/n.err")"
    grep -qF "restore" "$T/n.err" || fail "[$1] no advice: $(cat "$T/n.err")"
    "$PRESGWD" -c "$T/presgwd.conf" -f >"$T/start.log" 2>&1 &&
        fail "[$1] presgwd started on the store"
    grep -qF "gateway store-failed store $DB $2" "$T/start.log" ||
        fail "[$1] the start did not say '$2': $(cat "$T/start.log")"
    [ "$(grep -c 'store-failed' "$T/start.log")" = 1 ] ||
        fail "[$1] not one line about the store"
    [ "$(sha256sum <"$DB")" = "$sum" ] || fail "[$1] the store was changed"
    ok "[$1] refused by -n and at start, file untouched"
}

head -c 20000 /dev/urandom >"$DB"
refused garbage "is not a presgwd store"
head -c 8192 "$T/good.db" >"$DB"
refused truncated "is damaged"
rm -f "$DB"
sqlite3 "$DB" 'CREATE TABLE invoices (id INTEGER, total REAL);'
refused other-schema "is another program's database"
cp "$T/good.db" "$DB"
sqlite3 "$DB" 'PRAGMA user_version = 7;'
refused newer "has schema version 7, newer than the 1"

# The same store, sound again, is taken.
cp "$T/good.db" "$DB"
"$PRESGWD" -c "$T/presgwd.conf" -n >"$T/n.out" 2>"$T/n.err" ||
    fail "presgwd -n refused a sound store: $(cat "$T/n.err")"
ok "a sound store passes presgwd -n"
exit 0
