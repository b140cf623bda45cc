#!/bin/sh
# The store's files removed while presgwd runs (rm presgw.db*):
#   1. presgwd notices within seconds, logs "store file-missing" once,
#      creates a new store at the path and writes everything it holds
#      into it, so /healthz stays 200 and a restart brings the
#      publication and the subscription back;
#   2. another file moved over the store is left alone: "store
#      file-replaced" is logged and /healthz says failing (503).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-notify.sh"

need_sipp
it_init
start_graphsim
write_users alice bob carol
take_port
HTTP_PORT=$PORT
write_config
DB=$T/presgw.db
start_presgwd

sipp_run pub publish-once alice -set expires 600 ||
    fail "PUBLISH was not answered 200"
SIPP_RECV_TIMEOUT=30000 sipp_start hold subscribe-hold carol
wait_for_log "subscribe accepted user=carol@$DOMAIN" 5 ||
    fail "the SUBSCRIBE for carol was not accepted"
sleep 0.5

# 1. Removed: made again, full.
log_mark
rm -f "$DB" "$DB-wal" "$DB-shm" "$DB.lock"
wait_for_log "store file-missing path=$DB action=recreate" 5 ||
    fail "the removal was not noticed"
wait_for_log "store recreated path=$DB resynced=" 5 ||
    fail "no new store: $(log_since)"
log_has 'pa resync users=3 publications=1' ||
    fail "the agent did not write into the new store: $(log_since)"
[ -f "$DB" ] && [ -f "$DB.lock" ] || fail "no new store or lock file"
[ "$(stat -c %a "$DB")" = 600 ] || fail "the new store is not private"
out=$(healthz)
[ "$(printf '%s\n' "$out" | sed -n 1p)" = 200 ] ||
    fail "/healthz is not 200 with the new store: $out"
printf '%s\n' "$out" | grep -q '"file":"ok","recreated":1' ||
    fail "/healthz does not count the new store: $out"
sleep 1.5
[ "$(log_since | grep -c 'store file-missing')" = 1 ] ||
    fail "'store file-missing' logged more than once"
sipp_run pub2 publish-once bob -set expires 600 ||
    fail "PUBLISH after the new store was not answered 200"
stop_presgwd TERM 10
[ "$PRESGWD_RC" = 0 ] || fail "presgwd exited with $PRESGWD_RC"
start_presgwd
log_has 'pa restored users=3 publications=2' ||
    fail "the publications did not come back: $(log_since)"
log_has "subscribe resumed user=carol@$DOMAIN" ||
    fail "the subscription did not come back"
ok "a removed store is made again from memory and survives a restart"

# 2. Replaced: left alone, reported.
log_mark
printf 'not a store\n' >"$T/other"
mv "$T/other" "$DB"
wait_for_log "store file-replaced path=$DB action=none" 5 ||
    fail "the replaced file was not noticed"
out=$(healthz)
[ "$(printf '%s\n' "$out" | sed -n 1p)" = 503 ] ||
    fail "/healthz does not say failing: $out"
printf '%s\n' "$out" | grep -q '"file":"replaced"' ||
    fail "/healthz does not say the file was replaced: $out"
[ "$(cat "$DB")" = "not a store" ] || fail "the file put there was changed"
presgwd_alive || fail "presgwd died"
ok "a file put in the store's place is left alone and /healthz says failing"
exit 0
