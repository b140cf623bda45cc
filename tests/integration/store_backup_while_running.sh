#!/bin/sh
# The store can be backed up while presgwd runs and writes to it, with
# SQLite's online backup (sqlite3 STORE ".backup FILE"), and restored:
# presgwd stopped, the backup put in place without -wal and -shm files,
# presgwd started on it: the publications come back (docs/store.md).
. "$(dirname "$0")/lib.sh"

command -v sqlite3 >/dev/null 2>&1 ||
    skip "sqlite3 not found (Debian: apt-get install sqlite3)"
need_sipp
start_all
DB=$T/presgw.db

sipp_run alice publish-once alice -set expires 600 ||
    fail "alice's PUBLISH failed"
sipp_run bob publish-once bob -set expires 600 ||
    fail "bob's PUBLISH failed"

# Light load (carol publishing, refreshing, removing) during the backup.
sipp_start load publish-cycle carol -m 20 -r 4
load=$SIPP_PID
wait_for_log "publish new user=carol@$DOMAIN" 10 || fail "no load running"
sqlite3 "$DB" ".backup '$T/backup.db'" || fail "the online backup failed"
sipp_wait "$load" 30 || fail "the load scenario failed during the backup"
[ "$(sqlite3 "$T/backup.db" 'PRAGMA integrity_check')" = ok ] ||
    fail "the backup is not sound"
[ "$(sqlite3 "$T/backup.db" "SELECT count(*) FROM publications WHERE aor IN ('alice@$DOMAIN', 'bob@$DOMAIN')")" = 2 ] ||
    fail "the backup lacks alice's and bob's publications"
ok "online backup under load is sound and holds the publications"

# Restore into a new store path.
stop_presgwd TERM 10
[ "$PRESGWD_RC" = 0 ] || fail "presgwd exited with $PRESGWD_RC"
mkdir "$T/restored"
cp "$T/backup.db" "$T/restored/presgw.db"
rm -f "$T/restored/presgw.db-wal" "$T/restored/presgw.db-shm"
sed -i "s|^path = presgw.db$|path = $T/restored/presgw.db|" "$T/presgwd.conf"
"$PRESGWD" -c "$T/presgwd.conf" -n >/dev/null ||
    fail "presgwd -n refused the restored store"
start_presgwd
log_has "store opened backend=sqlite path=$T/restored/presgw.db" ||
    fail "presgwd did not open the restored store"
log_has 'pa restored users=3 publications=2' ||
    fail "the publications did not come back: $(log_since | grep 'pa restored')"
sipp_run watch subscribe-watch bob -set want '*' ||
    fail "SUBSCRIBE on the restored store failed"
sipp_log watch | grep -q '^notify note=On the phone' ||
    fail "bob is not on the phone after the restore: $(sipp_log watch)"
ok "restored store: presgwd starts and the publications are back"
exit 0
