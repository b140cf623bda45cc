#!/bin/sh
# A restart keeps subscriptions, clean (SIGTERM) or not (SIGKILL): the
# watcher hears nothing at the stop, and after the start it gets NOTIFYs
# in the same dialog (same Call-ID and tags) with a higher CSeq, without
# subscribing again.  A Teams change made while presgwd was down reaches
# it.  Its refresh is then answered in the dialog, its unsubscribe ends
# the subscription, and the next start resumes nothing.
. "$(dirname "$0")/lib.sh"

need_sipp
it_init
start_graphsim
write_users alice bob carol
POLL_INTERVAL=1 write_config
start_presgwd

# notifies: how many NOTIFYs the watcher has logged.
notifies() {
    local c
    c=$(grep -c '^notify cseq=' "$T/sipp-res.log" 2>/dev/null)
    echo "${c:-0}"
}

# wait_notifies N SECONDS
wait_notifies() {
    local n=$(( $2 * 10 ))
    while [ "$(notifies)" -lt "$1" ] && [ $n -gt 0 ]; do
        sleep 0.1
        n=$((n - 1))
    done
    [ "$(notifies)" -ge "$1" ]
}

# field NAME LINE: the value of NAME= in the watcher's NOTIFY number LINE.
field() {
    grep '^notify cseq=' "$T/sipp-res.log" | sed -n "$2p" |
        sed -n "s/.*$1=\([^ ]*\).*/\1/p"
}

same_dialog() {
    [ "$(field ftag "$1")" = "$(field ftag 1)" ] &&
        [ "$(field ttag "$1")" = "$(field ttag 1)" ] ||
        fail "NOTIFY $1 is not in the dialog of the first"
    [ "$(field cseq "$1")" -gt "$(field cseq "$(($1 - 1))")" ] ||
        fail "NOTIFY $1 has CSeq $(field cseq "$1"), not above $(field cseq "$(($1 - 1))")"
}

sim_post "/_sim/users/$BOB_ID/client" \
    '{"availability":"Available","activity":"Available"}' >/dev/null ||
    fail "cannot sign bob's Teams client in"
wait_for_log "pa view user=bob@$DOMAIN old=[a-z-]+ new=available" 5 ||
    fail "presgwd did not see bob Available"

SIPP_TIMEOUT=90 SIPP_RECV_TIMEOUT=30000 \
    sipp_start res subscribe-resume bob -set want "Do not disturb"
watcher=$SIPP_PID
wait_notifies 1 5 || fail "the watcher got no first NOTIFY"

# 1. SIGTERM: the subscription is kept, the watcher hears nothing.
log_mark
stop_presgwd TERM 10
[ "$PRESGWD_RC" = 0 ] || fail "presgwd exited with $PRESGWD_RC on SIGTERM"
log_has 'subscribe kept-for-restart dialogs=1' ||
    fail "presgwd did not keep the subscription at the stop"
sleep 0.5
grep -q 'state=terminated' "$T/sipp-res.log" &&
    fail "the watcher was told the subscription ended"
[ "$(notifies)" = 1 ] || fail "the watcher got a NOTIFY at the stop"

# bob takes a call in Teams while presgwd is down.
sim_post "/_sim/users/$BOB_ID/client" \
    '{"availability":"Busy","activity":"InACall"}' >/dev/null ||
    fail "cannot put bob in a Teams call"

start_presgwd
wait_for_log "subscribe resumed user=bob@$DOMAIN event=presence" 5 ||
    fail "presgwd did not resume the subscription"
wait_notifies 2 5 || fail "no NOTIFY after the restart"
same_dialog 2
wait_for_log "pa view user=bob@$DOMAIN old=[a-z-]+ new=in-call" 5 ||
    fail "presgwd did not read bob's call after the restart"
wait_notifies 3 5 || fail "no NOTIFY for bob's call after the restart"
same_dialog 3
ok "SIGTERM and start: NOTIFYs in the same dialog, CSeq rising"

# 2. SIGKILL, then start again.
n=$(notifies)
stop_presgwd KILL 5
start_presgwd
wait_for_log "subscribe resumed user=bob@$DOMAIN" 5 ||
    fail "presgwd did not resume the subscription after SIGKILL"
wait_notifies $((n + 1)) 5 || fail "no NOTIFY after the SIGKILL restart"
same_dialog $((n + 1))
ok "SIGKILL and start: NOTIFY in the same dialog, CSeq rising"

# 3. Teams DND: the watcher refreshes in the dialog, then unsubscribes.
sim_post "/_sim/users/$BOB_ID/preferred" \
    '{"availability":"DoNotDisturb","activity":"DoNotDisturb"}' >/dev/null ||
    fail "cannot set bob's preferred presence"
sipp_wait "$watcher" 20 || {
    cat "$T/sipp-res.log" >&2
    fail "the watcher's refresh or unsubscribe failed after the restarts"
}
grep -q '^refresh 200' "$T/sipp-res.log" ||
    fail "the refresh was not answered 200"
grep -q '^final-notify state=terminated' "$T/sipp-res.log" ||
    fail "the unsubscribe got no final NOTIFY"
ok "refresh and unsubscribe work in the resumed dialog"

log_mark
stop_presgwd TERM 10
start_presgwd
log_has 'subscribe resume-done resumed=0' ||
    fail "an ended subscription was resumed"
ok "an ended subscription is not resumed"
exit 0
