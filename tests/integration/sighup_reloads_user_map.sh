#!/bin/sh
# SIGHUP reloads the user map without a restart:
#   1. dave is not mapped: SUBSCRIBE and PUBLISH for him get 404;
#   2. dave is added, SIGHUP: SUBSCRIBE and PUBLISH get 200, his PUBLISH
#      reaches Graph under his Entra id, and he is polled;
#   3. carol is taken out while a watcher is subscribed to her: the watcher
#      gets NOTIFY terminated (reason noresource), then 404 for her;
#   4. a map with an error is refused and the last good one stays.
. "$(dirname "$0")/lib.sh"

need_sipp
it_init
start_graphsim
write_users alice bob carol
write_config
start_presgwd

# reload ERE: SIGHUP, then wait for the log line ERE.
reload() {
    log_mark
    kill -HUP "$PRESGWD_PID" || fail "cannot signal presgwd"
    wait_for_log "gateway reload path=$T/presgwd.conf" 5 ||
        fail "presgwd did not reload on SIGHUP"
    wait_for_log "$1" 5 || fail "after SIGHUP: no '$1' in the log"
    presgwd_alive || fail "presgwd died on SIGHUP"
}

# 1. Not mapped yet.
sipp_run unknown unknown-user dave || fail "dave was not refused with 404"
ok "unmapped dave: SUBSCRIBE and PUBLISH get 404"

# 2. Mapped.
write_users alice bob carol dave
reload "pa users-loaded path=$T/users.csv users=4 removed=0"
log_has "graph watch users=4" || wait_for_log "graph watch users=4" 3 ||
    fail "the Graph poll does not cover dave"
sipp_run watch-dave subscribe-watch dave -set want '*' ||
    fail "SUBSCRIBE for dave failed after the reload"
log_has "subscribe accepted user=dave@$DOMAIN" ||
    fail "presgwd did not accept the SUBSCRIBE for dave"
seq0=$(sim_seq)
sipp_run dnd-dave publish-dnd dave -d 500 ||
    fail "PUBLISH for dave failed after the reload"
wait_for_request --after "$seq0" \
    --path "^/v1.0/users/$DAVE_ID/presence/setUserPreferredPresence\$" \
    --field availability=DoNotDisturb --ok --timeout 5 >/dev/null ||
    fail "dave's PUBLISH did not reach Graph under his Entra id"
ok "after SIGHUP dave is served and mapped to his Entra id"

# 3. carol leaves the map while watched.
SIPP_RECV_TIMEOUT=15000 sipp_start hold-carol subscribe-hold carol
holder=$SIPP_PID
wait_for_log "subscribe accepted user=carol@$DOMAIN" 5 ||
    fail "the SUBSCRIBE for carol was not accepted"
write_users alice bob dave
reload "pa users-loaded path=$T/users.csv users=3 removed=1"
log_has "pa user-removed user=carol@$DOMAIN" ||
    fail "presgwd did not log carol's removal"
sipp_wait "$holder" 20 || fail "carol's watcher was not told she is gone"
sipp_log hold-carol | grep -q '^notify state=terminated reason=noresource' ||
    fail "the terminating NOTIFY did not say reason=noresource"
sipp_run unknown-carol unknown-user carol || fail "carol is still served"
ok "carol removed: her watcher got NOTIFY terminated, then 404"

# 4. A broken map changes nothing.
{
    echo "sip:alice@$DOMAIN, $ALICE_ID, alice@contoso.example"
    echo "sip:alice@$DOMAIN, $BOB_ID, bob@contoso.example"
} >"$T/users.csv"
reload "gateway reload-failed keeping=old-config"
sipp_run watch-dave2 subscribe-watch dave -set want '*' ||
    fail "a failed reload lost dave"
sipp_run watch-bob subscribe-watch bob -set want '*' ||
    fail "a failed reload lost bob"
ok "a broken map is refused and the old one kept"
exit 0
