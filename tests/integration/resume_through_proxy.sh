#!/bin/sh
# A subscription kept across restarts behind two Kamailio proxies that
# Record-Route (the watcher's outbound proxy A, then B in front of
# presgwd; both with kamailio-test.cfg.in, the test config of
# kamailio_proxy_routes_presence.sh).  After a SIGTERM and start and
# after a SIGKILL and start, the resumed NOTIFY and the NOTIFYs of the
# Teams changes that follow go along the stored route set, in order:
# presgwd -> B -> A -> watcher, with no Route left and no extra hop, in
# the same dialog with rising CSeqs; a second watcher's resumed
# subscription that runs out gets its terminated;reason=timeout along
# the route set.  The first watcher's refresh through the
# proxies gets 481 (the SIP stack holds no dialog for a resumed routed
# subscription, docs/known-issues.md); it subscribes anew, and that
# subscription's NOTIFYs, its unsubscribe's final NOTIFY included, go
# through the proxies too, while the old dialog ends at its next NOTIFY,
# which the watcher answers 481.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-phones.sh"

need_sipp
need_kamailio
it_init
start_graphsim
write_users alice bob carol
POLL_INTERVAL=1 MIN_EXPIRES=5 write_config
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

# teams AVAILABILITY ACTIVITY: bob's Teams state changes; his watcher
# gets a NOTIFY for it.
teams() {
    local n
    n=$(count)
    sim_post "/_sim/users/$BOB_ID/client" \
        "{\"availability\":\"$1\",\"activity\":\"$2\"}" >/dev/null ||
        fail "cannot set bob to $1/$2 in Teams"
    wait_notifies $((n + 1)) 5 || fail "no NOTIFY for bob's $1/$2"
    routed $((n + 1))
}
# all_routed FILE: every NOTIFY in sipp's FILE came presgwd -> B -> A
# with no Route left, and each dialog's CSeqs rose.
all_routed() {
    "$PYTHON" "$ITTOOL" notifies "$1" | awk -v via="127.0.0.1:$KA_PORT" '
        {
            for (i = 1; i <= NF; i++) {
                k = substr($i, 1, index($i, "=") - 1)
                f[k] = substr($i, index($i, "=") + 1)
            }
            if (f["vias"] != 3 || f["via"] != via || f["routes"] != 0) {
                print "not routed: " $0
                bad = 1
            }
            d = f["ftag"] " " f["ttag"]
            if ((d in last) && f["cseq"] + 0 <= last[d]) {
                print "CSeq not rising: " $0
                bad = 1
            }
            last[d] = f["cseq"] + 0
        }
        END { exit bad }' || fail "a NOTIFY in $1 missed the proxies or its order"
}

# The watcher subscribes through A.
SIP_PORT=$KA_PORT SIPP_TIMEOUT=120 SIPP_RECV_TIMEOUT=30000 \
    sipp_start res subscribe-resume-routed bob \
    -set want "Do not disturb"
watcher=$SIPP_PID
wait_notifies 1 5 || fail "the watcher got no first NOTIFY"
# B, nearest presgwd, recorded its route on top.
sipp_log res | grep -q "^subscribe 200 record-route=sip:127.0.0.1:$KB_PORT;lr" ||
    fail "the 200 has not B's Record-Route on top: $(sipp_log res | grep '^subscribe 200')"
routed 1
ok "subscribed through A and B; the first NOTIFY came back along them"

# A second watcher, of carol, subscribes through A for a short time and
# never refreshes.
SIP_PORT=$KA_PORT SIPP_TIMEOUT=60 SIPP_RECV_TIMEOUT=30000 \
    sipp_start short subscribe-expiring carol -set expires 8
short=$SIPP_PID
n=0
until sipp_log short | grep -q '^notify ' || [ $n -ge 50 ]; do
    n=$((n + 1))
    sleep 0.1
done
sipp_log short | grep -q '^notify ' || fail "carol's watcher got no NOTIFY"

log_mark
stop_presgwd TERM 10
[ "$PRESGWD_RC" = 0 ] || fail "presgwd exited with $PRESGWD_RC on SIGTERM"
log_has 'subscribe kept-for-restart dialogs=2' ||
    fail "presgwd did not keep the subscription"
n=$(count)
start_presgwd
wait_for_log "subscribe resumed user=bob@$DOMAIN event=presence" 5 ||
    fail "the subscription was not resumed"
wait_notifies $((n + 1)) 5 || fail "no NOTIFY after the start"
routed $((n + 1))
teams Away Away
teams Busy InACall
teams Busy InAMeeting
ok "SIGTERM and start: the resumed NOTIFY and three more went presgwd -> B -> A"

# carol's resumed subscription runs out while presgwd runs: its end goes
# along the route set too.
wait_for_log "subscribe expired user=carol@$DOMAIN event=presence routed=yes" 15 ||
    fail "carol's resumed subscription did not expire"
sipp_wait $short 10 || fail "carol's watcher got no final NOTIFY"
wait_for_log "subscribe ended user=carol@$DOMAIN reason=terminated" 5 ||
    fail "carol's subscription did not end"
"$PYTHON" "$ITTOOL" notifies "$T/sipp-short.msg" | tail -1 |
    grep -q 'sub=terminated;reason=timeout' ||
    fail "carol's last NOTIFY is not terminated;reason=timeout"
all_routed "$T/sipp-short.msg"
ok "a resumed routed subscription that runs out ends along its route set"

stop_presgwd KILL 5
n=$(count)
start_presgwd
wait_for_log "subscribe resumed user=bob@$DOMAIN event=presence" 5 ||
    fail "the subscription was not resumed after SIGKILL"
wait_notifies $((n + 1)) 5 || fail "no NOTIFY after the SIGKILL start"
routed $((n + 1))
teams Away Away
teams Busy Busy
log_mark
teams DoNotDisturb Presenting
ok "SIGKILL and start: the resumed NOTIFY and three more went presgwd -> B -> A"

# The watcher's refresh, through A and B, finds no dialog.
n=0
until sipp_log res | grep -q '^refresh ' || [ $n -ge 50 ]; do
    n=$((n + 1))
    sleep 0.1
done
sipp_log res | grep -q '^refresh 481' ||
    fail "the refresh did not get 481: $(sipp_log res | grep '^refresh')"
ok "the refresh through A and B got 481"

# The phone subscribes anew through A; that subscription is served along
# its route set, its refresh and unsubscribe too.  The change that ends
# it reaches the old dialog too, which the phone refuses with 481.
SIP_PORT=$KA_PORT SIPP_TIMEOUT=60 SIPP_RECV_TIMEOUT=20000 \
    sipp_start new subscribe-resume bob -set want "Available"
anew=$SIPP_PID
wait_for_log "subscribe accepted user=bob@$DOMAIN watcher=resumer" 5 ||
    fail "presgwd did not take the new subscription"
sim_post "/_sim/users/$BOB_ID/client" \
    '{"availability":"Available","activity":"Available"}' >/dev/null ||
    fail "cannot make bob available in Teams"
sipp_wait $anew 30 ||
    fail "the new subscription failed: $(tail -5 "$T/sipp-new.err" 2>/dev/null)"
sipp_wait $watcher 10 ||
    fail "the old dialog got no NOTIFY: $(tail -5 "$T/sipp-res.err" 2>/dev/null)"
wait_for_log "subscribe ended user=bob@$DOMAIN reason=notify-failed" 5 ||
    fail "the old dialog did not end at its 481"
sipp_log new | grep -q '^refresh 200' ||
    fail "the new subscription's refresh was not answered 200"
sipp_log new | grep -q '^final-notify state=terminated' ||
    fail "the unsubscribe got no final NOTIFY"
wait_for_log "subscribe ended user=bob@$DOMAIN reason=terminated" 5 ||
    fail "presgwd did not end the new subscription"
[ "$("$PYTHON" "$ITTOOL" notifies "$T/sipp-new.msg" | wc -l)" -ge 4 ] ||
    fail "the new subscription got fewer than 4 NOTIFYs"
all_routed "$T/sipp-res.msg"
all_routed "$T/sipp-new.msg"
ok "the new subscription's NOTIFYs (refresh and final ones too) and the old dialog's last went presgwd -> B -> A"

# The proxies routed the NOTIFYs in the dialogs.
for p in a b; do
    [ "$(grep -c 'proxy routes NOTIFY .*event=presence totag=[^<]' \
        "$T/kam-$p/kamailio.log")" -ge 12 ] ||
        fail "proxy $p did not route the NOTIFYs"
    grep -q 'proxy refuses' "$T/kam-$p/kamailio.log" &&
        fail "proxy $p refused: $(grep 'proxy refuses' "$T/kam-$p/kamailio.log")"
done
ok "each proxy routed the NOTIFYs"

KAM_PID=$KA_PID
stop_kamailio
KAM_PID=$KB_PID
stop_kamailio
exit 0
