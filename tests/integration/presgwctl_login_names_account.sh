#!/bin/sh
# presgwctl login without a NAME: the account is named by the sign-in,
# the preferred_username of the id token the identity platform returns
# (the simulator's device code flow), and presgwd subscribes with it.
# presgwctl logout of an unknown account is refused with presgwd stopped
# and spooled, saying so, while presgwd holds the store; --help answers.
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

ctl() {
    "$PRESGWCTL" -c "$T/presgwd.conf" "$@" >"$T/ctl.out" 2>&1
}
ctl --help || fail "presgwctl --help failed: $(cat "$T/ctl.out")"
grep -q '^usage: presgwctl' "$T/ctl.out" || fail "no usage from --help"
ctl logout nosuch && fail "logout of an unknown account succeeded"
grep -q 'no account named nosuch' "$T/ctl.out" ||
    fail "logout of an unknown account does not say why: $(cat "$T/ctl.out")"
ctl accounts || fail "presgwctl accounts failed"
grep -q nosuch "$T/ctl.out" && fail "the refused logout was kept: $(cat "$T/ctl.out")"
ok "logout of an unknown account is refused and changes nothing"

start_presgwd
wait_for_log "graph sub-created account=$SVC_UPN sub=[^ ]+ users=3" 10 ||
    fail "presgwd did not subscribe with the account"
ok "presgwd subscribes with it"

ctl logout nosuch || fail "logout while presgwd runs failed: $(cat "$T/ctl.out")"
grep -q 'the logout is spooled and applies at SIGHUP if the account exists' \
    "$T/ctl.out" || fail "logout while presgwd runs does not say what happens: $(cat "$T/ctl.out")"
ctl accounts || fail "presgwctl accounts failed while presgwd runs"
grep -q 'the store is busy' "$T/ctl.out" ||
    fail "accounts does not say the store is busy: $(cat "$T/ctl.out")"
grep -Eq '^nosuch +- +logout ' "$T/ctl.out" ||
    fail "the spooled logout is not listed: $(cat "$T/ctl.out")"
ok "while presgwd runs a logout is spooled, and presgwctl says so"
presgwd_alive || fail "presgwd died"
exit 0
