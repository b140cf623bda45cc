#!/bin/sh
# A subscription kept across restarts behind two Kamailio proxies that
# Record-Route (the watcher's outbound proxy A, then B in front of
# presgwd; both with kamailio-test.cfg.in, the test config of
# kamailio_proxy_routes_presence.sh).  After a SIGTERM and start and
# after a SIGKILL and start, the resumed NOTIFY goes along the stored
# route set, in order: presgwd -> B -> A -> watcher, with no Route left
# and no extra hop.  Later NOTIFYs stay in the dialog with rising CSeqs.
# (The NOTIFYs after the first resumed one, and so the watcher's refresh
# through the proxies, are not checked: they take the direct way, see
# docs/known-issues.md.)
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-phones.sh"

need_sipp
need_kamailio
it_init
start_graphsim
write_users alice bob carol
POLL_INTERVAL=1 write_config
start_presgwd
wait_for_log "pa view user=bob@$DOMAIN old=unknown" 5 ||
    fail "presgwd did not read bob from Teams"

# Two proxies, each with its own files: B relays to presgwd, A to B.
cfg=$top_srcdir/tests/integration/kamailio-test.cfg.in
top=$T
mkdir -p "$top/kam-b" "$top/kam-a" || fail "cannot make the proxies' dirs"
T=$top/kam-b
start_kamailio "$cfg"
T=$top
KB_PORT=$KAM_PORT
KB_PID=$KAM_PID
direct_port=$SIP_PORT
SIP_PORT=$KB_PORT
T=$top/kam-a
start_kamailio "$cfg"
T=$top
SIP_PORT=$direct_port
KA_PORT=$KAM_PORT
KA_PID=$KAM_PID
note "proxy A on $KA_PORT, proxy B on $KB_PORT, presgwd on $SIP_PORT"

notifies() {
    "$PYTHON" "$ITTOOL" notifies "$T/sipp-res.msg"
}
count() {
    local c
    c=$(grep -c '^notify cseq=' "$T/sipp-res.log" 2>/dev/null)
    echo "${c:-0}"
}
# field KEY N: KEY= of NOTIFY number N.
field() {
    notifies | sed -n "$2p" | sed -n "s/.* $1=\([^ ]*\).*/\1/p;s/^$1=\([^ ]*\).*/\1/p"
}
wait_notifies() {
    local n=$(( $2 * 10 ))
    until [ "$(count)" -ge "$1" ] || [ $n -le 0 ]; do
        n=$((n - 1))
        sleep 0.1
    done
    [ "$(count)" -ge "$1" ]
}
# in_dialog N: NOTIFY N is in the first one's dialog with a higher CSeq.
in_dialog() {
    local k
    for k in callid ftag ttag; do
        [ "$(field $k "$1")" = "$(field $k 1)" ] ||
            fail "NOTIFY $1 has $k $(field $k "$1"), not $(field $k 1)"
    done
    [ "$1" = 1 ] || [ "$(field cseq "$1")" -gt "$(field cseq $(($1 - 1)))" ] ||
        fail "NOTIFY $1 has CSeq $(field cseq "$1"), not above $(field cseq $(($1 - 1)))"
}
# routed N: in_dialog, and NOTIFY N came from A with the Vias of presgwd,
# B and A, and no Route left.
routed() {
    in_dialog "$1"
    [ "$(field via "$1")" = "127.0.0.1:$KA_PORT" ] &&
        [ "$(field vias "$1")" = 3 ] && [ "$(field routes "$1")" = 0 ] ||
        fail "NOTIFY $1 did not come presgwd -> B -> A: $(notifies | sed -n "$1p")"
}

# The watcher subscribes through A.
SIP_PORT=$KA_PORT SIPP_TIMEOUT=60 SIPP_RECV_TIMEOUT=30000 \
    sipp_start res subscribe-resume bob -set want "Do not disturb"
watcher=$SIPP_PID
wait_notifies 1 5 || fail "the watcher got no first NOTIFY"
# B, nearest presgwd, recorded its route on top.
sipp_log res | grep -q "^subscribe 200 record-route=sip:127.0.0.1:$KB_PORT;lr" ||
    fail "the 200 has not B's Record-Route on top: $(sipp_log res | grep '^subscribe 200')"
routed 1
ok "subscribed through A and B; the first NOTIFY came back along them"

log_mark
stop_presgwd TERM 10
[ "$PRESGWD_RC" = 0 ] || fail "presgwd exited with $PRESGWD_RC on SIGTERM"
log_has 'subscribe kept-for-restart dialogs=1' ||
    fail "presgwd did not keep the subscription"
n=$(count)
start_presgwd
wait_for_log "subscribe resumed user=bob@$DOMAIN event=presence" 5 ||
    fail "the subscription was not resumed"
wait_notifies $((n + 1)) 5 || fail "no NOTIFY after the start"
routed $((n + 1))
ok "SIGTERM and start: the resumed NOTIFY went presgwd -> B -> A"

# A change after the start.
sim_post "/_sim/users/$BOB_ID/client" \
    '{"availability":"Busy","activity":"InACall"}' >/dev/null ||
    fail "cannot put bob in a Teams call"
n=$(count)
wait_notifies $((n + 1)) 5 || fail "no NOTIFY for bob's call"
in_dialog $((n + 1))

stop_presgwd KILL 5
n=$(count)
start_presgwd
wait_for_log "subscribe resumed user=bob@$DOMAIN event=presence" 5 ||
    fail "the subscription was not resumed after SIGKILL"
wait_notifies $((n + 1)) 5 || fail "no NOTIFY after the SIGKILL start"
routed $((n + 1))
ok "SIGKILL and start: the resumed NOTIFY went presgwd -> B -> A"

# The proxies routed the first and both resumed NOTIFYs in the dialog.
for p in a b; do
    [ "$(grep -c 'proxy routes NOTIFY .*event=presence totag=[^<]' \
        "$T/kam-$p/kamailio.log")" -ge 3 ] ||
        fail "proxy $p did not route the resumed NOTIFYs"
    grep -q 'proxy refuses' "$T/kam-$p/kamailio.log" &&
        fail "proxy $p refused: $(grep 'proxy refuses' "$T/kam-$p/kamailio.log")"
done
ok "each proxy routed the resumed NOTIFYs"

KAM_PID=$KA_PID
stop_kamailio
KAM_PID=$KB_PID
stop_kamailio
exit 0
