#!/bin/sh
# A service account whose refresh token was revoked: presgwd's next
# renewal is refused with invalid_grant; presgwd logs
# account-signin-required, /healthz lists the account and says failing
# (its only account), the refusal is kept across a restart, and a new
# presgwctl login taken in with SIGHUP makes it work again.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-notify.sh"

# Tokens live 10 s, so presgwd renews every few seconds.
GRAPHSIM_ARGS="--token-lifetime 10" start_notify_env alice bob
start_presgwd
wait_for_log "graph sub-created account=svc1" 10 || fail "no subscription"
out=$(healthz)
[ "$(printf '%s\n' "$out" | sed -n 1p)" = 200 ] ||
    fail "/healthz is not 200 with a working account: $out"

log_mark
sim_post "/_sim/accounts/$SVC_UPN/revoke" >/dev/null ||
    fail "cannot revoke the account's sign-in"
wait_for_log "graph account-signin-required account=svc1 reason=invalid_grant" 15 ||
    fail "the revoked refresh token was not reported"
out=$(healthz)
[ "$(printf '%s\n' "$out" | sed -n 1p)" = 503 ] ||
    fail "/healthz does not say failing: $out"
printf '%s\n' "$out" | grep -q '"name":"svc1"[^}]*"state":"signin-required"' ||
    fail "/healthz does not list the account: $out"
log_has 'refresh_token=' && fail "a refresh token reached the log"
ok "revoked sign-in reported in the log and /healthz"

# presgwctl accounts says so too, while presgwd runs (the store is busy)
# and after it stopped.
stop_presgwd
[ "$PRESGWD_RC" = 0 ] || fail "presgwd did not stop cleanly"
"$PRESGWCTL" -c "$T/presgwd.conf" accounts >"$T/accounts.out" 2>&1 ||
    fail "presgwctl accounts failed"
grep -q '^svc1 .*signin-required' "$T/accounts.out" ||
    fail "presgwctl accounts does not show the state: $(cat "$T/accounts.out")"

# A new sign-in while presgwd runs goes through the spool and SIGHUP.
start_presgwd
wait_for_log "graph account-loaded account=svc1 upn=$SVC_UPN state=signin-required" 5 ||
    fail "the state was not kept across a restart"
ctl_login svc1 || fail "presgwctl login failed: $(cat "$T/ctl-svc1.out")"
grep -q 'left for presgwd' "$T/ctl-svc1.out" ||
    fail "presgwctl did not use the spool: $(cat "$T/ctl-svc1.out")"
log_mark
kill -HUP "$PRESGWD_PID"
wait_for_log "graph account-imported account=svc1 action=login" 5 ||
    fail "presgwd did not take the spooled account"
wait_for_log "graph account-token account=svc1" 10 ||
    fail "the new sign-in did not give a token"
out=$(healthz)
[ "$(printf '%s\n' "$out" | sed -n 1p)" = 200 ] ||
    fail "/healthz is not back to 200: $out"
ok "a new sign-in through SIGHUP clears it"
presgwd_alive || fail "presgwd died"
exit 0
