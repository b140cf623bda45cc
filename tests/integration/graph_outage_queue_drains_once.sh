#!/bin/sh
# Graph goes down (the first requests dropped unanswered, then 503) while
# three phones change state three times each.  presgwd logs the outage
# once, keeps the writes queued and coalesced, probes Graph one write at
# a time; when Graph is back each user gets exactly the writes that reach
# its phone's last state, once, and the simulator shows that state:
#   alice  call, idle, call  ->  setPresence Busy/InACall
#   bob    DND, idle, DND    ->  setUserPreferredPresence DoNotDisturb
#   carol  call, DND, idle   ->  setPresence Available, clearUserPreferred
# While Graph is down /healthz says degraded, with the outage and how long
# it has lasted; once it is back, ok.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-gwq.sh"
. "$(dirname "$0")/lib-notify.sh"

need_sipp
it_init
start_graphsim
write_users alice bob carol
take_port
HTTP_PORT=$PORT
gwq_config
start_presgwd
wait_for_log 'graph poll-done' 10 || fail "presgwd never read Graph"

seq0=$(sim_seq) || fail "cannot read the simulator's request log"
gwq_graph_down
log_mark
gwq_phone alice alice "$GWQ_CALL" "$GWQ_IDLE" "$GWQ_CALL"
gwq_phone bob bob "$GWQ_DND" "$GWQ_IDLE" "$GWQ_DND"
gwq_phone carol carol "$GWQ_CALL" "$GWQ_DND" "$GWQ_IDLE"
gwq_phones_wait
wait_for_log 'graph outage-start reason=' 10 || fail "no outage-start line"
# A few probes fail while the queue holds.
wait_for_log 'graph write .*probe=yes' 10 || fail "no probe during the outage"
out=$(healthz)
[ "$(printf '%s\n' "$out" | sed -n 1p)" = 200 ] ||
    fail "/healthz is not 200 (degraded) during the outage: $out"
printf '%s\n' "$out" | grep -q '^{"status":"degraded"' ||
    fail "/healthz does not say degraded during the outage: $out"
printf '%s\n' "$out" |
    grep -Eq '"graph":\{[^}]*"outage":true,"outage_seconds":[0-9]+,' ||
    fail "/healthz does not show the outage and its length: $out"
ok "outage: writes held, Graph probed, /healthz degraded"

gwq_graph_up
wait_for_log 'graph outage-end pending=[0-9]+ duration=' 20 ||
    fail "no outage-end line"
out=$(healthz)
printf '%s\n' "$out" | grep -q '^{"status":"ok"' ||
    fail "/healthz is not ok after the outage: $out"
printf '%s\n' "$out" | grep -q '"outage":false' ||
    fail "/healthz still shows an outage: $out"
gwq_check_writes "$seq0" "
$ALICE_ID setPresence Busy/InACall
$BOB_ID setUserPreferredPresence DoNotDisturb/DoNotDisturb
$CAROL_ID setPresence Available/Available
$CAROL_ID clearUserPreferredPresence
" || fail "the writes after the outage are not the newest, once each"
# Nothing more comes: no write is sent twice.
seq1=$(sim_seq)
no_request --after "$seq1" --method POST --path '/presence/' --for 2 ||
    fail "a write came again after the queue drained"
ok "after the outage: one write per user and mechanism, the newest"

n=$(log_since | grep -c 'graph outage-start')
[ "$n" -eq 1 ] || fail "outage-start logged $n times"
n=$(log_since | grep -c 'graph outage-end')
[ "$n" -eq 1 ] || fail "outage-end logged $n times"
log_has 'graph write-dropped' && fail "a write was dropped"
ok "outage logged once, no write dropped"

gwq_presence "$ALICE_ID" Busy InACall || fail "alice's presence"
gwq_presence "$BOB_ID" DoNotDisturb DoNotDisturb preferred ||
    fail "bob's presence"
gwq_presence "$CAROL_ID" Available Available || fail "carol's presence"
sim_get "/_sim/users/$CAROL_ID" | grep -q '"preferred": null' ||
    fail "carol still has a preferred presence"
ok "Teams shows each phone's last state"
presgwd_alive || fail "presgwd died"
exit 0
