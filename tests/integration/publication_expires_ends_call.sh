#!/bin/sh
# A publication that is neither refreshed nor removed expires: the phone
# said it was in a call (Busy/InACall in Teams, and a watcher of alice
# sees "On the phone"); when its Expires runs out presgwd drops it, writes
# the call-ended state (setPresence Available/Available) and tells the
# watcher.  min_expires is 1 here so the test need not wait long.
. "$(dirname "$0")/lib.sh"

need_sipp
it_init
start_graphsim
write_users alice bob carol
MIN_EXPIRES=1 write_config
start_presgwd

APP="/v1.0/users/$ALICE_ID/presence"
LIFE=3

SIPP_TIMEOUT=25 SIPP_RECV_TIMEOUT=$(( (LIFE + 5) * 1000 )) \
    sipp_start watch subscribe-watch alice -set want "Available"
watcher=$SIPP_PID
wait_for_log "subscribe accepted user=alice@$DOMAIN" 5 ||
    fail "the SUBSCRIBE for alice was not accepted"

seq0=$(sim_seq)
log_mark
sipp_run once publish-once alice -set expires "$LIFE" ||
    fail "publish-once scenario failed"
sipp_log once | grep -q "expires=$LIFE\$" ||
    fail "the 200 did not grant Expires $LIFE: $(sipp_log once)"
busy=$(wait_for_request --after "$seq0" --path "^$APP/setPresence\$" \
    --field availability=Busy --field activity=InACall --ok --timeout 5) ||
    fail "no setPresence Busy/InACall"
busy_seq=$(printf '%s\n' "$busy" | sed -n 's/.*"seq": \([0-9]*\).*/\1/p')

wait_for_log "publish expired user=alice@$DOMAIN etag=" $((LIFE + 4)) ||
    fail "the publication did not expire"
log_has "pa local user=alice@$DOMAIN old=in-call new=unknown cause=expiry" ||
    fail "the expiry did not end alice's call"
wait_for_request --after "$busy_seq" --path "^$APP/setPresence\$" \
    --field availability=Available --field activity=Available --ok \
    --timeout 5 >/dev/null ||
    fail "no setPresence Available/Available after the expiry"
ok "expired in-call publication: setPresence Available/Available"

sipp_wait "$watcher" 20 || fail "the watcher did not see the call end"
sipp_log watch | grep -q '^notify note=On the phone' ||
    fail "the watcher never saw alice on the phone"
ok "the watcher saw 'On the phone', then 'Available'"
exit 0
