#!/bin/sh
# The webhook and the subscription's life: the validation handshake is
# answered with the decoded token; a notification with a wrong clientState
# is refused, logged and changes nothing; a lifecycle
# reauthorizationRequired renews the subscription (PATCH);
# subscriptionRemoved has it created again; a renewal Graph answers 404
# creates it again, and the 409 that follows (Graph still has the old
# one) is met by deleting the old one first.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-notify.sh"

POLL_INTERVAL=0 start_notify_env alice bob carol
start_presgwd
wait_for_log "graph sub-created account=svc1 sub=[^ ]+ users=3" 10 ||
    fail "no subscription"
sub=$(log_since | sed -n 's/.*graph sub-created account=svc1 sub=\([^ ]*\).*/\1/p' |
    tail -n 1)

# The handshake: 200, text/plain, the token decoded.
out=$(notify_post '' '?validationToken=a%20b%3Cc%3E%26d')
[ "$(printf '%s\n' "$out" | sed -n 1p)" = 200 ] ||
    fail "the handshake did not get 200: $out"
[ "$(printf '%s\n' "$out" | sed -n 2p)" = 'a b<c>&d' ] ||
    fail "the handshake did not echo the decoded token: $out"
ok "validation handshake"

# A forged notification: bob DoNotDisturb under a wrong clientState.
seq0=$(sim_seq)
log_mark
forged="{\"value\":[{\"subscriptionId\":\"$sub\",\"clientState\":\"not-ours\",
  \"changeType\":\"updated\",\"resource\":\"communications/presences/$BOB_ID\",
  \"resourceData\":{\"id\":\"$BOB_ID\"}}]}"
out=$(notify_post "$forged")
[ "$(printf '%s\n' "$out" | sed -n 1p)" = 202 ] ||
    fail "a parsable batch did not get 202: $out"
wait_for_log "graph notify-refused reason=clientstate sub=$sub known=yes" 5 ||
    fail "the wrong clientState was not refused and logged"
no_request --after "$seq0" --path getPresencesByUserId --for 1 ||
    fail "a refused notification made presgwd read Graph"
log_has "pa teams user=bob" && fail "a refused notification changed bob"
out=$(notify_post 'not json')
[ "$(printf '%s\n' "$out" | sed -n 1p)" = 400 ] ||
    fail "a body that is not a batch did not get 400: $out"
wait_for_log "graph notify-refused reason=format" 5 ||
    fail "a body that is not a batch was not logged"
ok "wrong clientState refused and logged, nothing changed"

# reauthorizationRequired: a PATCH of the same subscription.
seq0=$(sim_seq)
log_mark
sim_post "/_sim/subscriptions/$sub/lifecycle" \
    '{"event":"reauthorizationRequired"}' >/dev/null ||
    fail "the simulator did not send the lifecycle event"
wait_for_request --after "$seq0" --method PATCH --path "/subscriptions/$sub" \
    --ok --timeout 10 >/dev/null || fail "no renewal after reauthorizationRequired"
wait_for_log "graph sub-renewed account=svc1 sub=$sub" 5 ||
    fail "presgwd did not log the renewal"
ok "reauthorizationRequired renews"

# subscriptionRemoved: a new subscription.
log_mark
sim_post "/_sim/subscriptions/$sub/lifecycle" \
    '{"event":"subscriptionRemoved"}' >/dev/null ||
    fail "the simulator did not remove the subscription"
wait_for_log "graph sub-created account=svc1 sub=[^ ]+ users=3" 10 ||
    fail "no new subscription after subscriptionRemoved"
sub2=$(log_since | sed -n 's/.*graph sub-created account=svc1 sub=\([^ ]*\).*/\1/p' |
    tail -n 1)
[ "$sub2" != "$sub" ] || fail "the removed subscription was reused"
ok "subscriptionRemoved recreates"

# A renewal answered 404 while Graph still has it: 404, then 409, then
# the old one deleted and a new one made.
log_mark
sim_post /_sim/faults "{\"match\":\"/subscriptions/$sub2\",\"status\":404}" \
    >/dev/null || fail "cannot arm the fault"
sim_post "/_sim/subscriptions/$sub2/lifecycle" \
    '{"event":"reauthorizationRequired"}' >/dev/null ||
    fail "the simulator did not send the lifecycle event"
wait_for_log "graph sub-gone account=svc1 sub=$sub2 action=recreate" 10 ||
    fail "a 404 to the renewal did not lead to a new subscription"
wait_for_log "graph sub-conflict account=svc1 existing=$sub2 action=replace" 10 ||
    fail "the 409 did not lead to the old subscription"
wait_for_log "graph sub-created account=svc1 sub=[^ ]+ users=3" 10 ||
    fail "no subscription after the conflict"
n=$(sim_subs | grep -o '"id": *"[^"]*"' | wc -l)
[ "$n" -eq 1 ] || fail "the simulator holds $n subscriptions, not 1"
ok "404 then 409 end with one subscription"

presgwd_alive || fail "presgwd died"
exit 0
