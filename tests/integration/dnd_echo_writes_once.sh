#!/bin/sh
# No echo: what a phone tells Teams comes back from Teams at the next
# poll, and that must be neither written again nor notified again.
# Each user has three watchers: a presence watcher (PIDF), a BLF key
# (dialog) and a phone with device feature key sync (as-feature-event).
# Both Teams clients are signed in (Available).
#   bob:   his phone presses DND on.  Teams gets one
#          setUserPreferredPresence; the presence watcher and the BLF key
#          get one NOTIFY each (Do not disturb, confirmed), the phone one
#          DoNotDisturbEvent on (after at most one repeat of the state
#          before, which follows any in-dialog SUBSCRIBE).  When Teams
#          reports the DND back, nothing more: no write, no NOTIFY, for
#          more than two poll intervals.
#   alice: a proxy publishes her call (dialog-info, confirmed), refreshes
#          it, ends it and removes it.  Teams gets one setPresence
#          Busy/InACall and, at the end, one Available/Available
#          (graph.call_end available); Teams reporting Busy/InACall back
#          adds nothing.  Her presence watcher sees Available, On the
#          phone, Available; her BLF key terminated, confirmed,
#          terminated; her feature phone nothing after its first NOTIFY.
# The counts are taken when presgwd stops and every watcher has been
# told so.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-phones.sh"

need_sipp
it_init
start_graphsim
write_users alice bob carol
# The watchers run until the stop ends their subscriptions.
ON_STOP=terminate POLL_INTERVAL=1 CALL_END=available write_config
start_presgwd

ALP="/v1.0/users/$ALICE_ID/presence"
BOBP="/v1.0/users/$BOB_ID/presence"
HOLD=30000     # ms a watcher waits for its next NOTIFY

for who in "$ALICE_ID" "$BOB_ID"; do
    sim_post "/_sim/users/$who/client" \
        '{"availability":"Available","activity":"Available"}' >/dev/null ||
        fail "cannot sign a Teams client in"
done
wait_for_log "pa teams user=alice@$DOMAIN availability=Available" 5 &&
    wait_for_log "pa teams user=bob@$DOMAIN availability=Available" 5 ||
    fail "presgwd did not read the Teams clients"
seq0=$(sim_seq) || fail "cannot read the simulator's request log"

# watchers USER: a presence watcher and a BLF key on USER, subscribed.
watchers() {
    log_mark
    SIPP_TIMEOUT=60 SIPP_RECV_TIMEOUT=$HOLD sipp_start "pres-$1" \
        subscribe-hold "$1"
    eval "pres_$1=\$SIPP_PID"
    SIPP_TIMEOUT=60 SIPP_RECV_TIMEOUT=$HOLD sipp_start "blf-$1" blf-watch \
        "$1" -set ua "Yealink SIP-T46G 66.86.0.15" -set until never \
        -set min 1
    eval "blf_$1=\$SIPP_PID"
    wait_for_log_order 5 \
        "subscribe accepted user=$1@$DOMAIN watcher=[a-z]+ event=(presence|dialog)" \
        "subscribe accepted user=$1@$DOMAIN watcher=[a-z]+ event=(presence|dialog)" ||
        fail "presgwd did not accept $1's presence and BLF watchers"
}

watchers bob
watchers alice

# alice: a feature phone that presses nothing; her call.
log_mark
SIPP_TIMEOUT=60 SIPP_RECV_TIMEOUT=$HOLD sipp_start feat-alice feature-hold \
    alice -set press none
feat_alice=$SIPP_PID
wait_for_log "subscribe accepted user=alice@$DOMAIN watcher=alice event=as-feature-event" 5 ||
    fail "presgwd did not accept alice's feature phone"
sipp_start call-alice publish-dialog alice -set ring no -set answer yes \
    -d 2500
call=$SIPP_PID

# bob: his phone presses DND on.
SIPP_TIMEOUT=60 SIPP_RECV_TIMEOUT=$HOLD sipp_start feat-bob feature-hold \
    bob -set press true
feat_bob=$SIPP_PID
wait_for_request --after "$seq0" --method POST \
    --path "^$BOBP/setUserPreferredPresence\$" \
    --field availability=DoNotDisturb --field activity=DoNotDisturb --ok \
    --timeout 5 >/dev/null || fail "no setUserPreferredPresence for bob"
wait_for_log_order 5 "pa dnd-key user=bob@$DOMAIN on=1" \
    "pa teams user=bob@$DOMAIN availability=DoNotDisturb activity=DoNotDisturb status=dnd" ||
    fail "Teams did not report bob's DND back"
ok "bob's DND key reached Teams, and Teams reported it back"

# alice's call, reported back by Teams while it lasts.
wait_for_request --after "$seq0" --method POST --path "^$ALP/setPresence\$" \
    --field availability=Busy --field activity=InACall --ok --timeout 5 \
    >/dev/null || fail "no setPresence Busy/InACall for alice"
wait_for_log "pa teams user=alice@$DOMAIN availability=Busy activity=InACall status=in-call" 5 ||
    fail "Teams did not report alice's call back"
sipp_wait "$call" 20 || fail "publish-dialog (alice's call) failed"
for want in "answer 200" "refresh 200" "hangup 200" "remove 200"; do
    sipp_log call-alice | grep -q "^$want" ||
        fail "alice's call: no '$want'"
done
wait_for_log "pa teams user=alice@$DOMAIN availability=Available activity=Available status=available" 5 ||
    fail "Teams did not report the end of alice's call"
ok "alice's call reached Teams, and Teams reported it back"

# Well past two poll intervals: no further Graph write for either.
last=$(sim_seq)
no_request --after "$last" --path "^($ALP|$BOBP)/(set|clear)" --for 2.5 ||
    fail "a Graph write after Teams reported the state back"

# Stop; every watcher is told and exits.
stop_presgwd TERM 10
[ "$PRESGWD_RC" = 0 ] || fail "presgwd exited with $PRESGWD_RC"
for pid in $pres_bob $blf_bob $feat_bob $pres_alice $blf_alice $feat_alice
do
    sipp_wait "$pid" 10 || fail "a watcher failed (pid $pid)"
done

# The Graph writes.
count() {
    sim_count --after "$seq0" "$@"
}
[ "$(count --path "^$BOBP/setUserPreferredPresence\$")" = 1 ] ||
    fail "bob: not exactly one setUserPreferredPresence"
[ "$(count --path "^$BOBP/(clearUserPreferredPresence|setPresence|clearPresence)\$")" = 0 ] ||
    fail "bob: a Graph write besides the DND"
[ "$(count --path "^$ALP/setPresence\$" --field availability=Busy --field activity=InACall)" = 1 ] ||
    fail "alice: not exactly one setPresence Busy/InACall"
[ "$(count --path "^$ALP/setPresence\$" --field availability=Available --field activity=Available)" = 1 ] ||
    fail "alice: not exactly one setPresence Available/Available"
[ "$(count --path "^$ALP/")" = 2 ] ||
    fail "alice: Graph writes besides the call and its end"
ok "Graph: one DND write for bob, one call and one call end for alice"

# The NOTIFYs.  states NAME SED: the active NOTIFYs' values, one line.
states() {
    sipp_log "$1" | sed -n "$2" | tr '\n' ' ' | sed 's/ $//'
}
expect() {
    [ "$2" = "$3" ] || fail "$1: saw '$2', want '$3'"
}
PRES='s/^notify state=active reason=[^ ]* note=\(.*\)$/\1/p'
BLF='s/^notify sub=active .* state=\([a-z]*\) .*/\1/p'
FEAT='s/^notify sub=active .* ctype=\([^ ]*\) root=[^ ]* dnd=\([a-z]*\)$/\1:\2/p'
expect "bob's presence watcher" "$(states pres-bob "$PRES")" \
    "Available Do not disturb"
expect "bob's BLF key" "$(states blf-bob "$BLF")" "terminated confirmed"
feat=$(states feat-bob "$FEAT")
case $feat in
"multipart/mixed:false application/x-as-feature-event+xml:true") ;;
"multipart/mixed:false multipart/mixed:false application/x-as-feature-event+xml:true") ;;
*) fail "bob's feature phone: saw '$feat', want the full state (off), at most one repeat of it, DND on" ;;
esac
expect "alice's presence watcher" "$(states pres-alice "$PRES")" \
    "Available On the phone Available"
expect "alice's BLF key" "$(states blf-alice "$BLF")" \
    "terminated confirmed terminated"
expect "alice's feature phone" "$(states feat-alice "$FEAT")" \
    "multipart/mixed:false"
for name in pres-bob blf-bob feat-bob pres-alice blf-alice feat-alice; do
    sipp_log "$name" | grep -Eq '^notify (state|sub)=terminated' ||
        fail "$name: no NOTIFY terminated when presgwd stopped"
done
ok "one NOTIFY per change at every watcher, none for the echo"
exit 0
