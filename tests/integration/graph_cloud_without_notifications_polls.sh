#!/bin/sh
# A national cloud without presence change notifications (graph.cloud =
# usgov, login_url and graph_url pointing at the simulator): with
# notify_url set and a service account signed in, presgwd says once that
# it polls instead, creates no subscription, keeps polling at
# poll_interval, and a Teams change reaches it by the poll.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-notify.sh"

CLOUD=usgov POLL_INTERVAL=1 start_notify_env alice bob carol
grep -q '^cloud = usgov$' "$T/presgwd.conf" || fail "no cloud in the config"
start_presgwd
wait_for_log "graph cloud-no-notifications cloud=usgov" 5 ||
    fail "presgwd does not say the cloud has no notifications"
wait_for_log "graph poll users=3" 5 || fail "no poll"
sim_post "/_sim/users/$BOB_ID/client" \
    '{"availability":"Busy","activity":"InACall"}' >/dev/null ||
    fail "cannot change bob in Teams"
wait_for_log "pa teams user=bob@$DOMAIN availability=Busy" 5 ||
    fail "bob's change did not reach presgwd by the poll"
[ "$(log_since | grep -c 'graph cloud-no-notifications')" = 1 ] ||
    fail "the cloud warning was not said exactly once"
log_has "graph sub-create" && fail "a subscription was asked for"
log_has "graph notifications active" && fail "notifications called active"
[ "$(sim_subs)" = "[]" ] || fail "the simulator holds a subscription"
no_request --method POST --path '/subscriptions' --for 1 ||
    fail "presgwd asked Graph for a subscription"
ok "usgov: no subscription, Teams changes come by the poll"

presgwd_alive || fail "presgwd died"
exit 0
