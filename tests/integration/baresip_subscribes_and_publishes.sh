#!/bin/sh
# A real SIP client against presgwd: baresip, headless, as carol, with bob
# in its contacts (;presence=p2p).  baresip PUBLISHes carol's presence and
# SUBSCRIBEs to bob; when bob picks Do not disturb in Teams, baresip gets a
# NOTIFY, answers it and shows bob busy.  When baresip quits (-t) it
# removes its publication and ends its subscription.
. "$(dirname "$0")/lib.sh"

need_baresip
# Where baresip's modules are: Debian's place first, then others.
MODULES=
for d in ${BARESIP_MODULES:-} /usr/lib/baresip/modules \
    /usr/lib/*/baresip/modules /usr/local/lib/baresip/modules; do
    if [ -f "$d/presence.so" ] && [ -f "$d/account.so" ]; then
        MODULES=$d
        break
    fi
done
[ -n "$MODULES" ] || skip "baresip's presence module not found"
it_init
start_graphsim
write_users alice bob carol
POLL_INTERVAL=1 write_config
start_presgwd

# baresip's configuration is written before its first run: started with
# an empty directory it writes defaults that listen on every interface.
take_port
BARESIP_PORT=$PORT
B=$T/baresip
mkdir -p "$B"
cat >"$B/config" <<EOF
# headless, loopback only: no audio devices, no STUN/TURN/ICE
poll_method		epoll
sip_listen		127.0.0.1:$BARESIP_PORT
net_interface		127.0.0.1
module_path		$MODULES
module			g711.so
module			ausine.so
module_tmp		uuid.so
module_tmp		account.so
module_app		contact.so
module_app		menu.so
module_app		presence.so
audio_player		aufile,/dev/null
audio_source		ausine,440
audio_alert		aufile,/dev/null
EOF
cat >"$B/accounts" <<EOF
<sip:carol@127.0.0.1:$SIP_PORT>;regint=0;pubint=120;outbound="sip:127.0.0.1:$SIP_PORT"
EOF
cat >"$B/contacts" <<EOF
"Bob" <sip:bob@127.0.0.1:$SIP_PORT>;presence=p2p
EOF

RUN_FOR=7
log_mark
"$BARESIP" -f "$B" -n 127.0.0.1 -s -t "$RUN_FOR" -e /presence_online \
    </dev/null >"$T/baresip.out" 2>&1 &
BARESIP_PID=$!
it_pids="$it_pids $BARESIP_PID"

# bare: baresip's output without its colours.
bare() {
    sed 's/\x1b\[[0-9;]*m//g' "$T/baresip.out"
}

baresip_fail() {
    echo "----- baresip output (last 60 lines) -----"
    bare | tail -n 60
    fail "$@"
}

wait_for_log "publish new user=carol@$DOMAIN etag=[^ ]+ status=" 8 ||
    baresip_fail "baresip's PUBLISH for carol did not reach presgwd"
wait_for_log "subscribe accepted user=bob@$DOMAIN watcher=carol" 8 ||
    baresip_fail "baresip's SUBSCRIBE to bob was not accepted"
ok "baresip published carol and subscribed to bob"
log_since | grep -Eq "publish (new|modify) user=carol@$DOMAIN .*status=available" ||
    wait_for_log "publish (new|modify) user=carol@$DOMAIN .*status=available" 3 ||
    baresip_fail "carol's published presence is not available"

sim_post "/_sim/users/$BOB_ID/client" \
    '{"availability":"Available","activity":"Available"}' >/dev/null ||
    fail "cannot sign bob's Teams client in"
wait_for_log "pa view user=bob@$DOMAIN old=[a-z-]+ new=available watchers=yes" 4 ||
    baresip_fail "presgwd did not see bob sign in to Teams"
sim_post "/_sim/users/$BOB_ID/preferred" \
    '{"availability":"DoNotDisturb","activity":"DoNotDisturb"}' >/dev/null ||
    fail "cannot set bob's preferred presence"
wait_for_log "pa view user=bob@$DOMAIN old=available new=dnd watchers=yes" 4 ||
    baresip_fail "presgwd did not see bob's DoNotDisturb"

n=40
until bare | grep -q "bob@127.0.0.1:$SIP_PORT> changed status from .* to Busy"; do
    n=$((n - 1))
    [ $n -gt 0 ] || baresip_fail "baresip does not show bob busy"
    sleep 0.1
done
bare | grep -q '<note>Do not disturb</note>' ||
    baresip_fail "baresip's NOTIFY did not carry 'Do not disturb'"
ok "baresip got the NOTIFY and shows bob busy"

# baresip quits by itself after RUN_FOR seconds.
n=$(( (RUN_FOR + 8) * 10 ))
while kill -0 "$BARESIP_PID" 2>/dev/null && [ $n -gt 0 ]; do
    sleep 0.1
    n=$((n - 1))
done
kill -0 "$BARESIP_PID" 2>/dev/null && baresip_fail "baresip did not quit"
wait "$BARESIP_PID"
rc=$?
it_forget "$BARESIP_PID"
[ "$rc" = 0 ] || baresip_fail "baresip exited with $rc"

wait_for_log "publish remove user=carol@$DOMAIN" 3 ||
    baresip_fail "baresip did not remove its publication"
wait_for_log "subscribe ended user=bob@$DOMAIN" 3 ||
    baresip_fail "baresip's subscription did not end"
log_has "notify failed" && baresip_fail "a NOTIFY to baresip failed"
ok "baresip unpublished and unsubscribed when it quit"
presgwd_alive || fail "presgwd died"
exit 0
