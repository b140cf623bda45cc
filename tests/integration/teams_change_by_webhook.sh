#!/bin/sh
# Teams to phone through change notifications, with polling off.  A
# service account signs in with presgwctl (the simulator's device code
# flow, approved while presgwctl polls); presgwd subscribes to the
# watched users with that account's delegated token, answers Graph's
# validation handshake, and when bob picks Do not disturb in Teams the
# notification, not a poll, brings the NOTIFY to the phone.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-notify.sh"

need_sipp
POLL_INTERVAL=0 start_notify_env alice bob carol
grep -q 'signed in as' "$T/ctl-svc1.out" ||
    fail "presgwctl did not say who signed in"
grep -qi 'refresh' "$T/ctl-svc1.out" &&
    fail "presgwctl printed something of the refresh token"

start_presgwd
wait_for_log "graph account-token account=svc1" 10 ||
    fail "presgwd did not renew the account's token"
wait_for_log "graph sub-created account=svc1 sub=[^ ]+ users=3" 10 ||
    fail "no subscription for the three users"
wait_for_log "graph notifications active" 5 ||
    fail "presgwd does not say notifications are active"
sim_get /_sim/deliveries | grep -q '"kind": *"validation"[^}]*"ok": *true' ||
    sim_get /_sim/deliveries | grep -q '"ok": *true' ||
    fail "the validation handshake did not pass"

# No poll runs: poll_interval is 0 and the reconcile poll is 600 s away.
seq0=$(sim_seq)
log_mark
SIPP_TIMEOUT=25 SIPP_RECV_TIMEOUT=12000 \
    sipp_start watch subscribe-watch bob -set want "Do not disturb"
watcher=$SIPP_PID
wait_for_log "subscribe accepted user=bob@$DOMAIN" 5 ||
    fail "presgwd did not accept the SUBSCRIBE"
sim_post "/_sim/users/$BOB_ID/client" \
    '{"availability":"Available","activity":"Available"}' >/dev/null ||
    fail "cannot sign bob's Teams client in"
wait_for_log "pa view user=bob@$DOMAIN old=[a-z-]+ new=available" 10 ||
    fail "the notification of bob's sign-in did not arrive"
sim_post "/_sim/users/$BOB_ID/preferred" \
    '{"availability":"DoNotDisturb","activity":"DoNotDisturb"}' >/dev/null ||
    fail "cannot set bob's preferred presence"
wait_for_log "pa teams user=bob@$DOMAIN availability=DoNotDisturb" 10 ||
    fail "the notification of bob's DoNotDisturb did not arrive"
sipp_wait "$watcher" 30 ||
    fail "the watcher did not get a NOTIFY saying Do not disturb"
sipp_log watch | grep -q '^notify note=Do not disturb basic=open' ||
    fail "the watcher's NOTIFY did not say Do not disturb"
log_has "graph poll users=" && fail "a poll ran although polling is off"
wait_for_request --after "$seq0" --method POST \
    --path 'getPresencesByUserId' --ok --timeout 1 >/dev/null ||
    fail "presgwd did not read the users the notifications named"
ok "bob's DoNotDisturb reached the phone through the webhook"

presgwd_alive || fail "presgwd died"
exit 0
