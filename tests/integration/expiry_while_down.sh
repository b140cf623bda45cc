#!/bin/sh
# Subscriptions whose time runs out while presgwd is stopped: at the next
# start the expired one gets NOTIFY terminated;reason=timeout in its
# dialog and its record leaves the store; the one still valid is resumed
# with the time it has left in its Subscription-State.
. "$(dirname "$0")/lib.sh"

need_sipp
it_init
start_graphsim
write_users alice bob carol
MIN_EXPIRES=5 write_config
start_presgwd

# The watcher's NOTIFY lines, and one field of line N.
notifies() { sipp_log "$1" | grep '^notify '; }
field() {
    notifies "$1" | sed -n "$3p" | sed -n "s/.* $2=\([^ ]*\).*/\1/p"
}
wait_notifies() {
    local n=$(( $3 * 10 ))
    until [ "$(notifies "$1" | wc -l)" -ge "$2" ] || [ $n -le 0 ]; do
        n=$((n - 1))
        sleep 0.1
    done
    [ "$(notifies "$1" | wc -l)" -ge "$2" ]
}

t0=$(date +%s)
SIPP_TIMEOUT=90 SIPP_RECV_TIMEOUT=60000 sipp_start short subscribe-expiring \
    alice -set expires 6
short=$SIPP_PID
SIPP_TIMEOUT=90 SIPP_RECV_TIMEOUT=60000 sipp_start long subscribe-expiring \
    bob -set expires 600
long=$SIPP_PID
wait_notifies short 1 5 || fail "alice's watcher got no first NOTIFY"
wait_notifies long 1 5 || fail "bob's watcher got no first NOTIFY"
sleep 0.5

log_mark
stop_presgwd TERM 10
[ "$PRESGWD_RC" = 0 ] || fail "presgwd exited with $PRESGWD_RC"
log_has 'subscribe kept-for-restart dialogs=2' ||
    fail "the two subscriptions were not kept"
# Down for longer than alice's subscription has left.
sleep 7

start_presgwd
wait_for_log "subscribe resumed-expired user=alice@$DOMAIN event=presence" 5 ||
    fail "alice's expired subscription was not found expired"
wait_notifies short 2 5 || fail "alice's watcher got no NOTIFY after the start"
case $(field short sub 2) in
terminated*reason=timeout*) ;;
*) fail "alice's last NOTIFY is $(field short sub 2), not terminated;reason=timeout" ;;
esac
[ "$(field short ftag 2)" = "$(field short ftag 1)" ] &&
    [ "$(field short ttag 2)" = "$(field short ttag 1)" ] ||
    fail "alice's final NOTIFY is not in her dialog"
[ "$(field short cseq 2)" -gt "$(field short cseq 1)" ] ||
    fail "alice's final NOTIFY has no higher CSeq"
wait_for_log "subscribe ended user=alice@$DOMAIN" 5 ||
    fail "alice's subscription did not end"
ok "expired while down: NOTIFY terminated;reason=timeout in its dialog"

wait_for_log "subscribe resumed user=bob@$DOMAIN event=presence" 5 ||
    fail "bob's subscription was not resumed"
wait_notifies long 2 5 || fail "bob's watcher got no NOTIFY after the start"
t1=$(date +%s)
sub=$(field long sub 2)
left=$(printf '%s\n' "$sub" | sed -n 's/^active;expires=\([0-9]*\).*/\1/p')
[ -n "$left" ] || fail "bob's resumed NOTIFY says '$sub'"
# At least the 7 s down have gone, at most the whole run so far.
[ "$left" -le 593 ] && [ "$left" -ge $((600 - (t1 - t0) - 1)) ] ||
    fail "bob's resumed NOTIFY has expires=$left after $((t1 - t0)) s"
[ "$(field long ftag 2)" = "$(field long ftag 1)" ] ||
    fail "bob's resumed NOTIFY is not in his dialog"
ok "still valid: resumed with expires=$left left"

sipp_wait "$short" 10 || fail "alice's watcher failed"
log_mark
stop_presgwd TERM 10
start_presgwd
log_has 'subscribe resume-done resumed=1' ||
    fail "not just bob's subscription resumed: $(log_since | grep resum)"
log_has "subscribe resumed.* user=alice@" &&
    fail "alice's expired subscription was still in the store"
ok "the expired subscription's record is gone"
exit 0
