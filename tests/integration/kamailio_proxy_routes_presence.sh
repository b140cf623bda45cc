#!/bin/sh
# presgwd behind Kamailio: phones reach presgwd through a Kamailio proxy
# that routes with sip-configs/kamailio-presgw.cfg (the test's config,
# kamailio-test.cfg.in, wraps it: 127.0.0.1 only, no control socket).
#   1. A BLF key on alice subscribes (Event dialog) through the proxy; the
#      200 carries the proxy's Record-Route.
#   2. alice's phone publishes a call (PIDF, over TCP to the proxy): in a
#      call, call ended, publication removed.  Teams gets setPresence
#      Busy/InACall, then Available/Available.
#   3. The key's NOTIFYs (terminated, confirmed, terminated) come back
#      through the proxy; the key unsubscribes along the recorded route
#      and gets NOTIFY terminated, through the proxy too.
#   4. bob's phone presses DND through the proxy (as-feature-event, an
#      in-dialog SUBSCRIBE with a body): setUserPreferredPresence, NOTIFY
#      DND on through the proxy.  When presgwd stops, its NOTIFY
#      terminated reaches the phone through the proxy.
# Kamailio is stopped by its PID at the end, and none of its workers may
# outlive it.  Skipped when kamailio is not installed.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-phones.sh"

need_sipp
need_kamailio
it_init
start_graphsim
write_users alice bob carol
# The watchers run until the stop ends their subscriptions.
ON_STOP=terminate POLL_INTERVAL=1 CALL_END=available write_config
start_presgwd
start_kamailio "$top_srcdir/tests/integration/kamailio-test.cfg.in"
note "kamailio on 127.0.0.1:$KAM_PORT, presgwd on 127.0.0.1:$SIP_PORT"

ALP="/v1.0/users/$ALICE_ID/presence"
BOBP="/v1.0/users/$BOB_ID/presence"
PROXY_VIA="SIP/2.0/UDP 127.0.0.1:$KAM_PORT"

# via_proxy sipp_start ARGS...: a sipp run aimed at the proxy.
via_proxy() {
    direct_port=$SIP_PORT
    SIP_PORT=$KAM_PORT
    "$@"
    SIP_PORT=$direct_port
}

seq0=$(sim_seq) || fail "cannot read the simulator's request log"
log_mark

# 1. The BLF key.
SIPP_TIMEOUT=25 SIPP_RECV_TIMEOUT=10000 via_proxy sipp_start key blf-watch \
    alice -set ua "Yealink SIP-T46G 66.86.0.15" -set until terminated \
    -set min 3
key=$SIPP_PID
wait_for_log "subscribe accepted user=alice@$DOMAIN watcher=blf event=dialog" 5 ||
    fail "the BLF SUBSCRIBE did not reach presgwd through the proxy"

# 2. The call, published over TCP.
SIPP_TRANSPORT=t1 via_proxy sipp_run call publish-call alice -d 1500 ||
    fail "publish-call through the proxy failed"
busy=$(wait_for_request --after "$seq0" --method POST \
    --path "^$ALP/setPresence\$" --field availability=Busy \
    --field activity=InACall --ok --timeout 5) ||
    fail "no setPresence Busy/InACall for alice"
busy_seq=$(printf '%s\n' "$busy" | sed -n 's/.*"seq": \([0-9]*\).*/\1/p')
wait_for_request --after "$busy_seq" --method POST \
    --path "^$ALP/setPresence\$" --field availability=Available \
    --field activity=Available --ok --timeout 5 >/dev/null ||
    fail "no setPresence Available/Available after the call"
sipp_log call | grep -q '^remove PUBLISH 200' ||
    fail "the publication was not removed through the proxy"
ok "PUBLISH through the proxy: Busy/InACall, then Available/Available"

# 3. The key's NOTIFYs and its un-SUBSCRIBE, all through the proxy.
sipp_wait "$key" 20 || fail "the BLF key failed"
sipp_log key | grep -q "^subscribe 200 .*record-route=sip:127.0.0.1:$KAM_PORT" ||
    fail "the 200 to the SUBSCRIBE has no Record-Route of the proxy: $(sipp_lines key '^subscribe 200')"
got=$(sipp_log key | sed -n 's/^notify sub=active .* state=\([a-z]*\) .*/\1/p' |
    tr '\n' ' ')
[ "$got" = "terminated confirmed terminated " ] ||
    fail "the BLF key saw '$got'"
[ "$(sipp_count key '^notify ')" = 4 ] ||
    fail "the BLF key did not get 4 NOTIFYs: $(sipp_lines key '^notify ')"
[ "$(sipp_count key "^notify .*via=$PROXY_VIA( |\$)")" = 4 ] ||
    fail "a NOTIFY did not come through the proxy: $(sipp_lines key '^notify ')"
wait_for_log "subscribe removed user=alice@$DOMAIN event=dialog" 3 ||
    fail "the un-SUBSCRIBE did not reach presgwd through the proxy"
ok "BLF: NOTIFYs and un-SUBSCRIBE along the proxy's Record-Route"

# 4. bob's DND key through the proxy; presgwd stops.
SIPP_TIMEOUT=25 SIPP_RECV_TIMEOUT=15000 via_proxy sipp_start dnd \
    feature-hold bob -set press true
phone=$SIPP_PID
wait_for_request --after "$seq0" --method POST \
    --path "^$BOBP/setUserPreferredPresence\$" \
    --field availability=DoNotDisturb --ok --timeout 5 >/dev/null ||
    fail "the DND key did not reach Teams through the proxy"
wait_for_log "pa view user=bob@$DOMAIN old=[a-z-]+ new=dnd watchers=yes" 3 ||
    fail "presgwd did not turn bob's view to dnd"
sleep 0.5
stop_presgwd TERM 10
[ "$PRESGWD_RC" = 0 ] || fail "presgwd exited with $PRESGWD_RC"
sipp_wait "$phone" 10 || fail "the feature phone failed"
sipp_log dnd | grep -q '^pressed dnd=true' || fail "the key press got no 200"
sipp_lines dnd '^notify sub=active .*dnd=true$' |
    grep -q 'ctype=application/x-as-feature-event+xml' ||
    fail "no NOTIFY DND on: $(sipp_lines dnd '^notify')"
sipp_log dnd | grep -q '^notify sub=terminated' ||
    fail "no NOTIFY terminated when presgwd stopped"
[ "$(sipp_count dnd '^notify ')" = "$(sipp_count dnd "^notify .*via=$PROXY_VIA ")" ] ||
    fail "a feature NOTIFY did not come through the proxy: $(sipp_lines dnd '^notify')"
ok "DND key through the proxy: Teams set, NOTIFYs back through the proxy"

# What the proxy routed.
kam() {
    grep -c "proxy routes $1" "$T/kamailio.log"
}
[ "$(kam 'PUBLISH .*event=presence totag=<null>')" = 3 ] ||
    fail "the proxy did not route 3 PUBLISHes: $(grep 'proxy routes PUBLISH' "$T/kamailio.log")"
[ "$(kam 'SUBSCRIBE .*event=dialog totag=<null>')" = 1 ] &&
    [ "$(kam 'SUBSCRIBE .*event=dialog totag=[^<]')" = 1 ] ||
    fail "the proxy did not route the SUBSCRIBE and the un-SUBSCRIBE"
[ "$(kam 'NOTIFY .*event=dialog totag=[^<]')" = 4 ] ||
    fail "the proxy did not route the 4 dialog NOTIFYs"
[ "$(kam 'SUBSCRIBE .*event=as-feature-event totag=[^<]')" = 1 ] ||
    fail "the proxy did not route the in-dialog SUBSCRIBE of the DND key"
grep -q 'proxy refuses' "$T/kamailio.log" &&
    fail "the proxy refused: $(grep 'proxy refuses' "$T/kamailio.log")"

stop_kamailio
ok "kamailio stopped by PID, no worker left"
exit 0
