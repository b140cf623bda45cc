#!/bin/sh
# A store whose disk fills up while presgwd runs: PUBLISH and SUBSCRIBE
# are still served from memory, "store write-failed" is logged once (not
# per request), and once space is freed the state is written again, so a
# restart on the same store brings the publication back.  The store lives
# on a small tmpfs in a mount namespace of the test's own.
. "$(dirname "$0")/lib.sh"

if [ -z "${PRESGW_IT_MOUNT_NS:-}" ]; then
    command -v unshare >/dev/null 2>&1 || skip "unshare not found"
    for how in -m -rm; do
        if unshare $how true 2>/dev/null; then
            PRESGW_IT_MOUNT_NS=1 exec unshare $how sh "$0" "$@"
        fi
    done
    skip "no private mount namespace here (unshare -m is not permitted)"
fi

need_sipp
it_init
DISK=$T/disk
mkdir "$DISK"
mount -t tmpfs -o size=1m tmpfs "$DISK" 2>/dev/null ||
    skip "mounting a tmpfs is not permitted here"
# The tmpfs goes first, so that the cleanup can remove $T.
trap 'rc=$?; umount -l "$DISK" 2>/dev/null; (exit $rc); it_cleanup' EXIT
start_graphsim
write_users alice bob carol
write_config
sed -i "s|^path = presgw.db$|path = $DISK/presgw.db|" "$T/presgwd.conf"
start_presgwd

# 1. The disk fills up.
dd if=/dev/zero of="$DISK/filler" bs=4k 2>/dev/null
[ "$(df --output=avail "$DISK" | tail -n 1 | tr -d ' ')" = 0 ] ||
    fail "the tmpfs is not full"
log_mark
sipp_run once publish-once alice -set expires 600 ||
    fail "PUBLISH was not answered 200 with the disk full"
etag=$(sipp_log once | sed -n 's/.*etag=\([^ ]*\).*/\1/p')
[ -n "$etag" ] || fail "no entity tag for the PUBLISH"
wait_for_log "store write-failed path=$DISK/presgw.db op=pub-put .*serving=from-memory" 5 ||
    fail "no 'store write-failed' line for the PUBLISH"
sipp_run watch subscribe-watch alice -set want '*' ||
    fail "SUBSCRIBE was not served with the disk full"
sipp_log watch | grep -q '^notify note=On the phone' ||
    fail "the watcher did not see alice on the phone: $(sipp_log watch)"
sipp_run once2 publish-once bob -set expires 600 ||
    fail "a second PUBLISH was not answered 200"
# A watcher that stays: its subscription can only reach the disk later.
SIPP_RECV_TIMEOUT=30000 sipp_start hold subscribe-hold carol
wait_for_log "subscribe accepted user=carol@$DOMAIN" 5 ||
    fail "a SUBSCRIBE for carol was not accepted with the disk full"
wait_for_log "subscribe keep-failed dialogs=1" 3 ||
    fail "the subscription's record was not refused by the full disk"
[ "$(log_since | grep -c 'store write-failed ')" = 1 ] ||
    fail "more than one 'store write-failed' line: $(log_since | grep 'store write-failed')"
presgwd_alive || fail "presgwd died with its disk full"
ok "PUBLISH and SUBSCRIBE served with the disk full, one log line"

# 2. Space comes back: the state is written again.
rm -f "$DISK/filler"
wait_for_log "store write-resumed path=$DISK/presgw.db" 10 ||
    fail "no 'store write-resumed' after space was freed"
log_has 'pa resync users=3 publications=2' ||
    fail "the agent did not write its publications again"
stop_presgwd TERM 10
[ "$PRESGWD_RC" = 0 ] || fail "presgwd exited with $PRESGWD_RC"
start_presgwd
log_has 'pa restored users=3 publications=2' ||
    fail "the publications did not come back after a restart"
log_has "subscribe resumed user=carol@$DOMAIN" ||
    fail "the subscription made with the disk full was not resumed"
sipp_run watch2 subscribe-watch alice -set want '*' ||
    fail "SUBSCRIBE after the restart failed"
sipp_log watch2 | grep -q '^notify note=On the phone' ||
    fail "after the restart alice is not on the phone: $(sipp_log watch2)"
ok "once space is back the state (publications, subscriptions) is written again and survives a restart"
exit 0
