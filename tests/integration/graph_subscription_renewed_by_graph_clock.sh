#!/bin/sh
# Subscription expiries are on Graph's clock, which presgwd learns from
# the Date header of Graph's answers (here the reconcile poll's, every
# second).  Moving the simulator's clock past two thirds of the
# subscription's life has presgwd renew it (PATCH) while Graph still has
# it; moving it past the expiry has presgwd create a new one, which then
# carries notifications.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-notify.sh"

# sub_expires_in: seconds the simulator's one subscription has left.
sub_expires_in() {
    sim_subs | sed -n 's/.*"expires_in": *\([0-9]*\).*/\1/p' | head -n 1
}

POLL_INTERVAL=30 RECONCILE=1 SUB_LIFETIME=3300 start_notify_env alice bob carol
start_presgwd
wait_for_log "graph sub-created account=svc1 sub=[^ ]+ users=3" 10 ||
    fail "no subscription"
sub=$(log_since | sed -n 's/.*graph sub-created account=svc1 sub=\([^ ]*\).*/\1/p' |
    tail -n 1)
wait_for_log "graph notifications active" 5 ||
    fail "presgwd does not say notifications are active"
left=$(sub_expires_in)
[ -n "$left" ] && [ "$left" -gt 3000 ] ||
    fail "the subscription has ${left:-no} seconds left, not about 3300"

# Two thirds of 3300 s is 2200 s: at 2300 s Graph still has it.
seq0=$(sim_seq)
log_mark
sim_post /_sim/clock '{"advance":2300}' >/dev/null ||
    fail "cannot move the simulator's clock"
wait_for_log "graph clock skew=2[0-9]{3} " 10 ||
    fail "presgwd did not take Graph's clock from its answers"
wait_for_request --after "$seq0" --method PATCH --path "/subscriptions/$sub" \
    --ok --timeout 10 >/dev/null ||
    fail "the subscription was not renewed before its expiry"
wait_for_log "graph sub-renewed account=svc1 sub=$sub" 5 ||
    fail "presgwd did not log the renewal"
left=$(sub_expires_in)
[ -n "$left" ] && [ "$left" -gt 3000 ] ||
    fail "the renewal left ${left:-no} seconds, not about 3300"
log_has "graph sub-created" && fail "a renewal due created a new subscription"
ok "past two thirds of its life the subscription is renewed"

# Past the renewed expiry Graph has dropped it: a new one.
seq0=$(sim_seq)
log_mark
sim_post /_sim/clock '{"advance":3400}' >/dev/null ||
    fail "cannot move the simulator's clock"
wait_for_log "graph sub-expired account=svc1 sub=$sub ago=[0-9]+ action=recreate" 10 ||
    fail "presgwd did not see the subscription expire"
wait_for_log "graph sub-created account=svc1 sub=[^ ]+ users=3" 15 ||
    fail "no new subscription after the expiry"
sub2=$(log_since | sed -n 's/.*graph sub-created account=svc1 sub=\([^ ]*\).*/\1/p' |
    tail -n 1)
[ "$sub2" != "$sub" ] || fail "the expired subscription was reused"
n=$(sim_subs | grep -o '"clientState"' | wc -l)
[ "$n" -eq 1 ] || fail "the simulator holds $n subscriptions, not 1"
no_request --after "$seq0" --method PATCH --path "/subscriptions/$sub" \
    --for 0 || fail "presgwd tried to renew a subscription past its expiry"
ok "past its expiry the subscription is created anew"

# The new subscription carries notifications.
delivered() {
    sim_get /_sim/deliveries | "$PYTHON" -c 'import json, sys
sys.exit(0 if any(e["kind"] == "notification" and e["ok"] and
                  e["subscriptionId"] == sys.argv[1]
                  for e in json.load(sys.stdin)) else 1)' "$1"
}
log_mark
sim_post "/_sim/users/$BOB_ID/client" \
    '{"availability":"Busy","activity":"InACall"}' >/dev/null ||
    fail "cannot put bob in a Teams call"
wait_for_log "pa teams user=bob@$DOMAIN availability=Busy" 10 ||
    fail "bob's call did not arrive"
n=50
until delivered "$sub2"; do
    n=$((n - 1))
    [ $n -gt 0 ] || fail "no notification was delivered for the new subscription"
    sleep 0.2
done
ok "the new subscription delivers"

presgwd_alive || fail "presgwd died"
exit 0
