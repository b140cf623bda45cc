#!/bin/sh
# Do not disturb set again in Teams right after a phone's DND key released
# it.  bob's phone (feature key sync) presses DND on; Teams reports it
# back.  He presses DND off: presgwd clears it in Teams and shows him as
# before at once, without waiting for Teams.  Within the same poll
# interval, before presgwd has read Teams again, bob sets Do not disturb in
# Teams by hand.  The next read shows DND under a newer sequence number:
# that is bob's new DND, not the one presgwd asked Teams to drop, so the
# phone's DND key goes on again.  (A poll interval of 3 s leaves room to
# set it before that read.)  Clearing it in Teams turns the key off.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-phones.sh"

need_sipp
it_init
start_graphsim
write_users alice bob carol
POLL_INTERVAL=3 write_config
start_presgwd

BOBP="/v1.0/users/$BOB_ID/presence"
TEAMS_DND='{"availability":"DoNotDisturb","activity":"DoNotDisturb"}'

sim_post "/_sim/users/$BOB_ID/client" \
    '{"availability":"Available","activity":"Available"}' >/dev/null ||
    fail "cannot sign bob's Teams client in"
wait_for_log "pa teams user=bob@$DOMAIN availability=Available" 8 ||
    fail "presgwd did not read bob's Teams client"

seq0=$(sim_seq) || fail "cannot read the simulator's request log"
log_mark
# The pause between on and off lets Teams report the DND back first.
SIPP_TIMEOUT=40 SIPP_RECV_TIMEOUT=12000 sipp_start phone feature-sync bob \
    -d 4000
phone=$SIPP_PID
wait_for_log_order 8 "pa dnd-key user=bob@$DOMAIN on=1" \
    "pa teams user=bob@$DOMAIN availability=DoNotDisturb" ||
    fail "Teams did not report the phone's DND back"

# DND off at the phone, and at once DND by hand in Teams.
wait_for_log "pa dnd-key user=bob@$DOMAIN on=0" 8 ||
    fail "the phone did not press DND off"
sim_post "/_sim/users/$BOB_ID/preferred" "$TEAMS_DND" >/dev/null ||
    fail "cannot set bob's DND in Teams"
wait_for_request --after "$seq0" --method POST \
    --path "^$BOBP/clearUserPreferredPresence\$" --ok --timeout 5 \
    >/dev/null || fail "the key's DND off was not cleared in Teams"
between=$(log_since | sed -n "/pa dnd-key user=bob@$DOMAIN on=0/,\$p" |
    grep -c "pa teams user=bob@$DOMAIN availability=Available")
[ "$between" = 0 ] ||
    note "presgwd read Teams between the key and the hand; the race was not met this time"

wait_for_log_order 8 "pa dnd-key user=bob@$DOMAIN on=0" \
    "pa view user=bob@$DOMAIN old=dnd new=available" \
    "pa view user=bob@$DOMAIN old=available new=dnd" ||
    fail "bob's DND set again in Teams did not reach presgwd's view"
ok "DND set in Teams right after the key released it: shown again"

# bob clears it in Teams; the phone goes on to its forwarding step.
sim_post "/_sim/users/$BOB_ID/preferred" '{}' >/dev/null ||
    fail "cannot clear bob's DND in Teams"
sipp_wait "$phone" 30 || fail "feature-sync scenario failed"
sipp_lines phone '^teams-on ' | tail -n 1 | grep -q ' dnd=true ' ||
    fail "the phone's DND key did not go on again: $(sipp_lines phone '^teams-on')"
sipp_lines phone '^teams-off ' | tail -n 1 | grep -q ' dnd=false ' ||
    fail "the phone's DND key did not go off: $(sipp_lines phone '^teams-off')"
ok "the phone's DND key: on again, then off"

# The hand changes are bob's own; presgwd wrote only for the key.
[ "$(sim_count --after "$seq0" --path "^$BOBP/setUserPreferredPresence\$")" = 1 ] ||
    fail "not exactly one setUserPreferredPresence"
[ "$(sim_count --after "$seq0" --path "^$BOBP/clearUserPreferredPresence\$")" = 1 ] ||
    fail "not exactly one clearUserPreferredPresence"
presgwd_alive || fail "presgwd died"
exit 0
