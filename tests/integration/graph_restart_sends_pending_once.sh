#!/bin/sh
# Writes pending while Graph fails survive a crash: presgwd is killed
# with SIGKILL while alice's call and bob's DND wait for Graph; started
# again on the same store it says what it restored, and once Graph is
# back each write is sent once, with nothing re-derived on top.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-gwq.sh"

need_sipp
it_init
start_graphsim
write_users alice bob carol
gwq_config
start_presgwd
wait_for_log 'graph poll-done' 10 || fail "presgwd never read Graph"

seq0=$(sim_seq) || fail "cannot read the simulator's request log"
gwq_graph_down
gwq_phone alice alice "$GWQ_IDLE" "$GWQ_CALL" "$GWQ_CALL"
gwq_phone bob bob "$GWQ_CALL" "$GWQ_IDLE" "$GWQ_DND"
gwq_phones_wait
wait_for_log 'graph outage-start reason=' 10 || fail "no outage-start line"

stop_presgwd KILL 5
[ "$PRESGWD_RC" != 124 ] || fail "presgwd did not die on SIGKILL"
ok "presgwd killed with writes pending"

start_presgwd
log_has 'graph restored pending=3 users=2' ||
    fail "presgwd did not restore the three pending writes"
wait_for_log 'graph outage-start reason=restored pending=3' 5 ||
    fail "the restored writes did not start as an outage"
ok "restart: three writes restored, Graph probed"

gwq_graph_up
wait_for_log 'graph outage-end pending=' 20 || fail "no outage-end line"
gwq_check_writes "$seq0" "
$ALICE_ID setPresence Busy/InACall
$BOB_ID setPresence Available/Available
$BOB_ID setUserPreferredPresence DoNotDisturb/DoNotDisturb
" || fail "the restored writes were not sent once each"
seq1=$(sim_seq)
no_request --after "$seq1" --method POST --path '/presence/' --for 2 ||
    fail "a write came again after the queue drained"
ok "after the restart: each pending write sent once"

gwq_presence "$ALICE_ID" Busy InACall || fail "alice's presence"
presgwd_alive || fail "presgwd died"
exit 0
