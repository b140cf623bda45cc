#!/bin/sh
# A BLF list key (RFC 4662) kept across restarts.  After a SIGTERM and
# start, and after a SIGKILL and start, the key gets a full-state RLMI
# NOTIFY in its dialog (same Call-ID and tags) with a higher CSeq and a
# higher RLMI version, then partial NOTIFYs as members change in Teams.
# A list taken out of the lists file while presgwd was down ends at the
# next start with terminated;reason=noresource in its dialog.  A member
# taken out of the user map leaves the list: the next NOTIFY is full
# state without it.
. "$(dirname "$0")/lib.sh"

need_sipp
it_init
start_graphsim
write_users alice bob carol
printf 'sip:team@%s, alice, bob, carol\nsip:gone@%s, alice, bob\n' \
    "$DOMAIN" "$DOMAIN" >"$T/lists.csv"
POLL_INTERVAL=1 write_config
start_presgwd
wait_for_log "front lists-loaded lists=2" 3 || fail "the lists were not loaded"

# notifies NAME: one line per NOTIFY the key NAME got (ittool.py).
notifies() {
    "$PYTHON" "$ITTOOL" notifies "$T/sipp-$1.msg"
}

# field NAME KEY N: the value of KEY= in NOTIFY number N of key NAME.
field() {
    notifies "$1" | sed -n "$3p" | sed -n "s/.* $2=\([^ ]*\).*/\1/p;s/^$2=\([^ ]*\).*/\1/p"
}

count() {
    sipp_log "$1" | grep -c '^notify '
}

# wait_notifies NAME N SECONDS
wait_notifies() {
    local n=$(( $3 * 10 ))
    until [ "$(count "$1")" -ge "$2" ] || [ $n -le 0 ]; do
        n=$((n - 1))
        sleep 0.1
    done
    [ "$(count "$1")" -ge "$2" ]
}

# in_dialog NAME N: NOTIFY N of NAME is in the dialog of its first, with
# a CSeq above the one before.
in_dialog() {
    local k
    for k in callid ftag ttag; do
        [ "$(field "$1" $k "$2")" = "$(field "$1" $k 1)" ] ||
            fail "$1's NOTIFY $2 has $k $(field "$1" $k "$2"), not $(field "$1" $k 1)"
    done
    [ "$(field "$1" cseq "$2")" -gt "$(field "$1" cseq $(($2 - 1)))" ] ||
        fail "$1's NOTIFY $2 has CSeq $(field "$1" cseq "$2"), not above $(field "$1" cseq $(($2 - 1)))"
}

# full_after NAME N RESOURCES: NOTIFY N of NAME is full state with those
# resources (names, comma separated) and an RLMI version above the last.
full_after() {
    local got
    in_dialog "$1" "$2"
    [ "$(field "$1" full "$2")" = true ] ||
        fail "$1's NOTIFY $2 is not full state: $(notifies "$1" | sed -n "$2p")"
    got=$(field "$1" res "$2" | sed 's/:[a-z]*//g')
    [ "$got" = "$3" ] || fail "$1's NOTIFY $2 lists '$got', not '$3'"
    [ "$(field "$1" version "$2")" -gt "$(field "$1" version $(($2 - 1)))" ] ||
        fail "$1's NOTIFY $2 has RLMI version $(field "$1" version "$2"), not above $(field "$1" version $(($2 - 1)))"
}

# partial_after NAME N USER: NOTIFY N is partial state about USER alone,
# its RLMI version one above the NOTIFY before.
partial_after() {
    in_dialog "$1" "$2"
    [ "$(field "$1" full "$2")" = false ] ||
        fail "$1's NOTIFY $2 is not partial: $(notifies "$1" | sed -n "$2p")"
    [ "$(field "$1" res "$2")" = "$3:active" ] ||
        fail "$1's NOTIFY $2 is about '$(field "$1" res "$2")', not $3"
    [ "$(field "$1" version "$2")" -eq $(( $(field "$1" version $(($2 - 1))) + 1 )) ] ||
        fail "$1's NOTIFY $2 has RLMI version $(field "$1" version "$2") after $(field "$1" version $(($2 - 1)))"
}

# teams USER AVAILABILITY ACTIVITY VIEW: a Teams change presgwd has read.
teams() {
    log_mark
    sim_post "/_sim/users/$(user_id "$1")/client" \
        "{\"availability\":\"$2\",\"activity\":\"$3\"}" >/dev/null ||
        fail "cannot set $1's Teams presence"
    wait_for_log "pa view user=$1@$DOMAIN old=[a-z-]+ new=$4" 5 ||
        fail "presgwd did not read $1 as $4"
}

# change USER AVAILABILITY ACTIVITY VIEW: a Teams change, and the
# partial NOTIFY about it on the team key.
change() {
    local n
    n=$(count team)
    teams "$@"
    wait_notifies team $((n + 1)) 5 || fail "no NOTIFY about $1's change"
    partial_after team $((n + 1)) "$1"
}

# Teams' first answer, before the keys subscribe.
for u in alice bob carol; do
    wait_for_log "pa view user=$u@$DOMAIN old=unknown" 5 ||
        fail "presgwd did not read $u from Teams"
done

SIPP_TIMEOUT=60 SIPP_RECV_TIMEOUT=30000 sipp_start team \
    subscribe-list-resume team
team=$SIPP_PID
SIPP_TIMEOUT=60 SIPP_RECV_TIMEOUT=30000 sipp_start gone \
    subscribe-list-resume gone
gone=$SIPP_PID
wait_notifies team 1 5 || fail "the team key got no first NOTIFY"
wait_notifies gone 1 5 || fail "the gone key got no first NOTIFY"
[ "$(field team full 1)" = true ] || fail "the first NOTIFY is not full state"
change bob Busy InACall in-call
ok "full state, then partial NOTIFYs"

# 1. SIGTERM; alice starts a call in Teams while presgwd is down.
log_mark
stop_presgwd TERM 10
[ "$PRESGWD_RC" = 0 ] || fail "presgwd exited with $PRESGWD_RC on SIGTERM"
log_has 'subscribe kept-for-restart dialogs=2' ||
    fail "presgwd did not keep the two list subscriptions"
sim_post "/_sim/users/$ALICE_ID/client" \
    '{"availability":"Busy","activity":"InACall"}' >/dev/null ||
    fail "cannot put alice in a Teams call"
n=$(count team)
start_presgwd
wait_for_log "subscribe resumed user=team@$DOMAIN event=dialog" 5 ||
    fail "the team list subscription was not resumed"
wait_notifies team $((n + 1)) 5 || fail "no NOTIFY after the start"
full_after team $((n + 1)) alice,bob,carol
wait_for_log "pa view user=alice@$DOMAIN old=[a-z-]+ new=in-call" 5 ||
    fail "presgwd did not read alice's call after the start"
wait_notifies team $((n + 2)) 5 || fail "no NOTIFY about alice's call"
partial_after team $((n + 2)) alice
change carol Busy InACall in-call
ok "SIGTERM and start: full state in the dialog, then partial NOTIFYs"

# 2. SIGKILL; the gone list leaves the lists file while presgwd is down.
stop_presgwd KILL 5
printf 'sip:team@%s, alice, bob, carol\n' "$DOMAIN" >"$T/lists.csv"
n=$(count team)
g=$(count gone)
start_presgwd
wait_for_log "subscribe resumed-gone user=gone@$DOMAIN event=dialog" 5 ||
    fail "the gone list was not found gone"
wait_notifies team $((n + 1)) 5 || fail "no NOTIFY after the SIGKILL start"
full_after team $((n + 1)) alice,bob,carol
change bob Available Available available
ok "SIGKILL and start: full state in the dialog, then partial NOTIFYs"

sipp_wait "$gone" 10 || fail "the gone key did not end cleanly"
[ "$(count gone)" = $((g + 1)) ] || fail "the gone key got $(count gone) NOTIFYs"
case $(field gone sub $((g + 1))) in
terminated*reason=noresource*) ;;
*) fail "the gone key's last NOTIFY says $(field gone sub $((g + 1)))" ;;
esac
in_dialog gone $((g + 1))
grep -q "subscribe ended user=gone@$DOMAIN" "$T/presgwd.log" ||
    fail "the gone list's subscription did not end"
ok "a list gone while down ends with terminated;reason=noresource"

# 3. carol leaves the user map: she leaves the list.  (The next stop
# ends the subscriptions, so that the key's run ends.)
write_users alice bob
ON_STOP=terminate POLL_INTERVAL=1 write_config
n=$(count team)
log_mark
kill -HUP "$PRESGWD_PID"
wait_for_log "pa users-loaded .*users=2 removed=1" 5 ||
    fail "presgwd did not reload the user map"
wait_notifies team $((n + 1)) 5 || fail "no NOTIFY when carol left the map"
full_after team $((n + 1)) alice,bob
change alice Available Available available
ok "a member gone from the user map leaves the list"

stop_presgwd TERM 10
sipp_wait "$team" 10 || fail "the team key did not end cleanly"
exit 0
