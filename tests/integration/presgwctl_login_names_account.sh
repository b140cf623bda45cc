#!/bin/sh
# presgwctl login without a NAME: the account is named by the sign-in,
# the preferred_username of the id token the identity platform returns
# (the simulator's device code flow), and presgwd subscribes with it.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-notify.sh"

need_presgwctl
it_init
GRAPHSIM_ARGS="--device-code-interval 1" start_graphsim
write_users alice bob carol
take_port
HTTP_PORT=$PORT
POLL_INTERVAL=0 NOTIFY=1 write_config
sim_service_account
ctl_login "" || fail "presgwctl login without a NAME failed: $(cat "$T/ctl-.out")"
grep -q "signed in as $SVC_UPN (object id $SVC_ID)" "$T/ctl-.out" ||
    fail "presgwctl did not name who signed in: $(cat "$T/ctl-.out")"
grep -q "account $SVC_UPN saved" "$T/ctl-.out" ||
    fail "the account is not named by the sign-in: $(cat "$T/ctl-.out")"
"$PRESGWCTL" -c "$T/presgwd.conf" accounts >"$T/accounts.out" 2>&1 ||
    fail "presgwctl accounts failed: $(cat "$T/accounts.out")"
grep -Eq "^$SVC_UPN +$SVC_UPN +ok " "$T/accounts.out" ||
    fail "presgwctl accounts does not list it: $(cat "$T/accounts.out")"
ok "the sign-in names the account"

start_presgwd
wait_for_log "graph sub-created account=$SVC_UPN sub=[^ ]+ users=3" 10 ||
    fail "presgwd did not subscribe with the account"
ok "presgwd subscribes with it"
presgwd_alive || fail "presgwd died"
exit 0
