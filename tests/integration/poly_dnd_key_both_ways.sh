#!/bin/sh
# A Poly phone's DND key and Teams' Do not disturb follow each other, by
# device feature key sync (Event as-feature-event).  bob's Teams client is
# signed in (Teams shows a preferred presence only while it is).
#   1. The phone subscribes: the first NOTIFY is multipart/mixed with a
#      DoNotDisturbEvent (off) and three ForwardingEvents (immediate,
#      busy, no answer), all in the ECMA-323 ed3 namespace.
#   2. DND pressed on: setUserPreferredPresence DoNotDisturb/DoNotDisturb,
#      NOTIFY DND on.
#   3. DND pressed off: clearUserPreferredPresence, NOTIFY DND off.
#   4. bob sets Do not disturb in Teams by hand: NOTIFY DND on; he clears
#      it there: NOTIFY DND off.  Neither writes to Teams.
#   5. Forwarding to 1001 set on the phone: a ForwardingEvent comes back.
#   6. The phone unsubscribes: NOTIFY terminated.
# After each key press the phone may first get a repeat of the state it
# had (RFC 6665: a NOTIFY follows every SUBSCRIBE, and the SIP stack sends
# the one it last sent); at most one such repeat per press is allowed.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-phones.sh"

need_sipp
it_init
start_graphsim
write_users alice bob carol
POLL_INTERVAL=1 write_config
start_presgwd

BOBP="/v1.0/users/$BOB_ID/presence"
TEAMS_DND='{"availability":"DoNotDisturb","activity":"DoNotDisturb"}'

sim_post "/_sim/users/$BOB_ID/client" \
    '{"availability":"Available","activity":"Available"}' >/dev/null ||
    fail "cannot sign bob's Teams client in"
wait_for_log "pa teams user=bob@$DOMAIN availability=Available activity=Available status=available" 5 ||
    fail "presgwd did not read bob's Teams client"

seq0=$(sim_seq) || fail "cannot read the simulator's request log"
log_mark
# The pause between the presses lets Teams report the DND back first.
SIPP_TIMEOUT=28 SIPP_RECV_TIMEOUT=8000 sipp_start poly feature-sync bob \
    -d 2500
phone=$SIPP_PID
wait_for_log "subscribe accepted user=bob@$DOMAIN watcher=bob event=as-feature-event expires=3600" 5 ||
    fail "presgwd did not accept the as-feature-event SUBSCRIBE"

# 2. DND on, from the phone, reaches Teams and comes back from it.
on=$(wait_for_request --after "$seq0" --method POST \
    --path "^$BOBP/setUserPreferredPresence\$" \
    --field availability=DoNotDisturb --field activity=DoNotDisturb --ok \
    --timeout 5) || fail "no setUserPreferredPresence DoNotDisturb for bob"
on_seq=$(printf '%s\n' "$on" | sed -n 's/.*"seq": \([0-9]*\).*/\1/p')
wait_for_log_order 5 "pa dnd-key user=bob@$DOMAIN on=1" \
    "pa teams user=bob@$DOMAIN availability=DoNotDisturb activity=DoNotDisturb status=dnd" ||
    fail "presgwd did not see Teams take the DND"
ok "DND on at the phone: setUserPreferredPresence DoNotDisturb"

# 3. DND off, from the phone.
wait_for_request --after "$on_seq" --method POST \
    --path "^$BOBP/clearUserPreferredPresence\$" --ok --timeout 8 \
    >/dev/null || fail "no clearUserPreferredPresence for bob"
wait_for_log_order 5 "pa dnd-key user=bob@$DOMAIN on=0" \
    "pa teams user=bob@$DOMAIN availability=Available activity=Available status=available" ||
    fail "presgwd did not see Teams drop the DND"
ok "DND off at the phone: clearUserPreferredPresence"

# 4. Do not disturb by hand in Teams, then cleared there.
log_mark
sim_post "/_sim/users/$BOB_ID/preferred" "$TEAMS_DND" >/dev/null ||
    fail "cannot set bob's DND in Teams"
wait_for_log "pa view user=bob@$DOMAIN old=available new=dnd watchers=yes" 5 ||
    fail "presgwd did not see bob's DND set in Teams"
sim_post "/_sim/users/$BOB_ID/preferred" '{}' >/dev/null ||
    fail "cannot clear bob's DND in Teams"
wait_for_log "pa view user=bob@$DOMAIN old=dnd new=available watchers=yes" 5 ||
    fail "presgwd did not see bob's DND cleared in Teams"

sipp_wait "$phone" 20 || fail "feature-sync scenario failed"

# What the phone saw, step by step.
step() {
    sipp_lines poly "^$1 "
}
step initial | grep -q 'ctype=multipart/mixed root=DoNotDisturbEvent ns=ed3 dnd=false ' ||
    fail "the first NOTIFY is not multipart with DND off first: $(step initial)"
sipp_lines poly '^initial-parts ' |
    grep -q 'forwarding-ns=ed3 forwarding=forwardImmediate,forwardBusy,forwardNoAns$' ||
    fail "the first NOTIFY lacks a forwarding part: $(sipp_lines poly '^initial-parts')"
# check_step STEP DND MAX [BEFORE]: one NOTIFY, a single DoNotDisturbEvent
# with DND, ends the step; MAX NOTIFYs at most; any before the last one
# repeats the state before the step (DND BEFORE).
check_step() {
    last=$(step "$1" | tail -n 1)
    printf '%s\n' "$last" | grep -q "root=DoNotDisturbEvent ns=ed3 dnd=$2 " ||
        fail "[$1] the step did not end in DND $2: $last"
    printf '%s\n' "$last" |
        grep -q 'ctype=application/x-as-feature-event+xml ' ||
        fail "[$1] not a single as-feature-event body: $last"
    [ "$(step "$1" | wc -l)" -le "$3" ] ||
        fail "[$1] too many NOTIFYs: $(step "$1")"
    [ "$(step "$1" | sed '$d' | grep -cv "ns=ed3 dnd=${4:-x} ")" = 0 ] ||
        fail "[$1] a NOTIFY before the new state is no repeat: $(step "$1")"
}
check_step dnd-on true 2 false
check_step dnd-off false 2 true
check_step teams-on true 1
check_step teams-off false 1
ok "phone: multipart first; DND on, off (pressed); on, off (Teams)"

step forwarding | tail -n 1 |
    grep -q 'root=ForwardingEvent ns=ed3 dnd= type=forwardImmediate status=true to=1001$' ||
    fail "no ForwardingEvent immediate to 1001: $(step forwarding)"
[ "$(step forwarding | wc -l)" -le 2 ] ||
    fail "[forwarding] too many NOTIFYs: $(step forwarding)"
[ "$(step forwarding | sed '$d' | grep -cv 'root=DoNotDisturbEvent ns=ed3 dnd=false ')" = 0 ] ||
    fail "[forwarding] a NOTIFY before the ForwardingEvent is no repeat"
log_has "pa forwarding user=bob@$DOMAIN type=0 on=1 dn=1001" ||
    fail "presgwd did not log the forwarding"
sipp_log poly | grep -q '^notify state=terminated' ||
    fail "no NOTIFY terminated after the un-SUBSCRIBE"
ok "SetForwarding immediate to 1001: ForwardingEvent back; unsubscribed"

# Teams was written to exactly twice, by the key; by hand is by hand.
[ "$(sim_count --after "$seq0" --path "^$BOBP/setUserPreferredPresence\$")" = 1 ] ||
    fail "not exactly one setUserPreferredPresence"
[ "$(sim_count --after "$seq0" --path "^$BOBP/clearUserPreferredPresence\$")" = 1 ] ||
    fail "not exactly one clearUserPreferredPresence"
[ "$(sim_count --after "$seq0" --path "^$BOBP/(setPresence|clearPresence)\$")" = 0 ] ||
    fail "a session write for bob"
log_has "notify failed" && fail "a NOTIFY failed"
presgwd_alive || fail "presgwd died"
exit 0
