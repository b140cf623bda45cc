#!/bin/sh
# SIGTERM stops presgwd cleanly.  With sip.on_stop = terminate it ends
# its subscriptions (the watcher gets NOTIFY terminated;reason=deactivated),
# logs that it stopped, and exits 0 within 10 s; with the default (keep)
# the watcher hears nothing (restart_resumes_subscriptions.sh goes on).
# It also stops within 10 s when a watcher has vanished without a word,
# and a new presgwd can take the same port and store at once.
. "$(dirname "$0")/lib.sh"

need_sipp
it_init
start_graphsim
write_users alice bob carol
ON_STOP=terminate write_config
start_presgwd

# 1. A live watcher.
SIPP_RECV_TIMEOUT=20000 sipp_start hold subscribe-hold bob
holder=$SIPP_PID
wait_for_log "subscribe accepted user=bob@$DOMAIN" 5 ||
    fail "the SUBSCRIBE for bob was not accepted"
log_mark
stop_presgwd TERM 10
[ "$PRESGWD_RC" = 124 ] && fail "presgwd did not exit within 10 s of SIGTERM"
[ "$PRESGWD_RC" = 0 ] || fail "presgwd exited with $PRESGWD_RC on SIGTERM"
for want in 'gateway stopping' 'sip stopped how=clean' 'gateway stopped'; do
    log_has "$want" || fail "no '$want' in the log"
done
sipp_wait "$holder" 10 || fail "the watcher was not told of the stop"
sipp_log hold | grep -q '^notify state=terminated reason=deactivated' ||
    fail "the watcher got no NOTIFY terminated;reason=deactivated"
ok "SIGTERM: NOTIFY terminated to the watcher, exit 0"

# 2. Same port, same store, straight away; then a watcher that vanished.
start_presgwd
SIPP_RECV_TIMEOUT=20000 sipp_start gone subscribe-hold alice
gone=$SIPP_PID
wait_for_log "subscribe accepted user=alice@$DOMAIN" 5 ||
    fail "the SUBSCRIBE for alice was not accepted"
kill -KILL "$gone"
sipp_wait "$gone" 5
log_mark
stop_presgwd TERM 10
[ "$PRESGWD_RC" = 124 ] &&
    fail "presgwd did not exit within 10 s of SIGTERM with a vanished watcher"
[ "$PRESGWD_RC" = 0 ] || fail "presgwd exited with $PRESGWD_RC"
log_has 'gateway stopped' || fail "no 'gateway stopped' in the log"
ok "restart on the same port; SIGTERM with a vanished watcher: exit 0"

# 3. The default keeps subscriptions: a stop within 10 s, watcher told
# nothing.
write_config
start_presgwd
SIPP_RECV_TIMEOUT=4000 sipp_start kept subscribe-hold carol
kept=$SIPP_PID
wait_for_log "subscribe accepted user=carol@$DOMAIN" 5 ||
    fail "the SUBSCRIBE for carol was not accepted"
sleep 0.5
log_mark
stop_presgwd TERM 10
[ "$PRESGWD_RC" = 0 ] || fail "presgwd exited with $PRESGWD_RC (keep)"
for want in 'subscribe kept-for-restart dialogs=1' 'sip stopped how=kept' \
    'gateway stopped'; do
    log_has "$want" || fail "no '$want' in the log"
done
sipp_wait "$kept" 10
sipp_log kept | grep -q 'state=terminated' &&
    fail "the watcher was told its subscription ended (keep)"
ok "SIGTERM with on_stop = keep: the watcher is told nothing, exit 0"
exit 0
