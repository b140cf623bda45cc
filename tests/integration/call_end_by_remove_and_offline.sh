#!/bin/sh
# How a call ends when the phone does not publish "idle" (docs/mapping.md,
# section 3):
#   1. call_end = available: the phone removes its in-call publication
#      (PUBLISH Expires 0): nothing is left, the call has ended, so
#      setPresence Available/Available;
#   2. call_end = clear: the same removal calls clearPresence;
#   3. call_end = available: after the call ended (idle, Available held in
#      Teams) the phone goes offline (basic closed): "never claim the user
#      available for it", so clearPresence, and Teams holds no session of
#      ours for alice.
. "$(dirname "$0")/lib.sh"

need_sipp
it_init
start_graphsim
write_users alice bob carol

APP="/v1.0/users/$ALICE_ID/presence"

# seq_of JSON: the "seq" of a request ittool.py printed.
seq_of() {
    printf '%s\n' "$1" | sed -n 's/.*"seq": \([0-9]*\).*/\1/p'
}

# busy_then AFTER: waits for setPresence Busy/InACall; prints its seq.
busy_then() {
    r=$(wait_for_request --after "$1" --path "^$APP/setPresence\$" \
        --field availability=Busy --field activity=InACall --ok \
        --timeout 5) || return 1
    seq_of "$r"
}

# 1. call_end = available, publication removed.
CALL_END=available write_config
start_presgwd
seq0=$(sim_seq)
sipp_run remove-available publish-call alice -d 1500 -set ending remove ||
    fail "publish-call (ending remove) failed"
sipp_log remove-available | grep -q '^idle PUBLISH' &&
    fail "the scenario sent the idle PUBLISH although told not to"
busy=$(busy_then "$seq0") || fail "[available] no setPresence Busy/InACall"
wait_for_request --after "$busy" --path "^$APP/setPresence\$" \
    --field availability=Available --field activity=Available \
    --field "sessionId=$CLIENT_ID" --ok --timeout 5 >/dev/null ||
    fail "[available] in-call publication removed: no setPresence Available"
ok "[available] in-call publication removed: setPresence Available/Available"
stop_presgwd TERM 10
[ "$PRESGWD_RC" = 0 ] || fail "presgwd exited with $PRESGWD_RC"

# 2. call_end = clear, publication removed.
CALL_END=clear write_config
start_presgwd
seq0=$(sim_seq)
sipp_run remove-clear publish-call alice -d 1500 -set ending remove ||
    fail "publish-call (ending remove) failed"
busy=$(busy_then "$seq0") || fail "[clear] no setPresence Busy/InACall"
wait_for_request --after "$busy" --path "^$APP/clearPresence\$" \
    --field "sessionId=$CLIENT_ID" --ok --timeout 5 >/dev/null ||
    fail "[clear] in-call publication removed: no clearPresence"
no_request --after "$busy" --path "^$APP/setPresence\$" --for 0.5 ||
    fail "[clear] a setPresence followed the removal"
ok "[clear] in-call publication removed: clearPresence"
stop_presgwd TERM 10
[ "$PRESGWD_RC" = 0 ] || fail "presgwd exited with $PRESGWD_RC"

# 3. call_end = available: call, idle, then offline.
CALL_END=available write_config
start_presgwd
seq0=$(sim_seq)
log_mark
sipp_run offline publish-call alice -d 1500 -set ending offline ||
    fail "publish-call (ending offline) failed"
sipp_log offline | grep -q '^offline PUBLISH 200' ||
    fail "the scenario did not publish closed"
busy=$(busy_then "$seq0") || fail "[offline] no setPresence Busy/InACall"
avail=$(wait_for_request --after "$busy" --path "^$APP/setPresence\$" \
    --field availability=Available --field activity=Available --ok \
    --timeout 5) || fail "[offline] no setPresence Available when the call ended"
log_has "pa local user=alice@$DOMAIN old=available new=offline cause=publish" ||
    fail "[offline] presgwd did not see alice's phone go offline"
wait_for_request --after "$(seq_of "$avail")" --path "^$APP/clearPresence\$" \
    --field "sessionId=$CLIENT_ID" --ok --timeout 3 >/dev/null ||
    fail "[offline] phone offline after a call: no clearPresence, Teams keeps our Available session"
state=$(sim_get "/_sim/users/$ALICE_ID") || fail "cannot read alice's state"
printf '%s\n' "$state" | grep -q "\"$CLIENT_ID\"" &&
    fail "[offline] Teams still holds our session for alice: $state"
ok "[offline] phone offline after a call: clearPresence"
exit 0
