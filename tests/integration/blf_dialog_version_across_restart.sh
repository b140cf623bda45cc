#!/bin/sh
# A BLF key (Event: dialog) kept across a restart: the resumed NOTIFY is
# in the same dialog and its dialog-info version is above every version
# sent before the stop; a change after the start raises it again.
. "$(dirname "$0")/lib.sh"

need_sipp
it_init
start_graphsim
write_users alice bob carol
POLL_INTERVAL=1 write_config
start_presgwd

versions() {
    sipp_log key | sed -n 's/^notify sub=active .* version=\([0-9]*\) .*/\1/p'
}
wait_versions() {
    local n=$(( $2 * 10 ))
    until [ "$(versions | wc -l)" -ge "$1" ] || [ $n -le 0 ]; do
        n=$((n - 1))
        sleep 0.1
    done
    [ "$(versions | wc -l)" -ge "$1" ]
}

SIPP_TIMEOUT=60 SIPP_RECV_TIMEOUT=30000 sipp_start key blf-watch alice \
    -set ua "Yealink SIP-T46G 66.86.0.15" -set until never -set min 100
wait_versions 1 5 || fail "the BLF key got no first NOTIFY"
sim_post "/_sim/users/$ALICE_ID/client" \
    '{"availability":"Busy","activity":"InACall"}' >/dev/null ||
    fail "cannot put alice in a Teams call"
wait_versions 2 10 || fail "the BLF key got no NOTIFY for alice's call"
sleep 0.5

log_mark
stop_presgwd TERM 10
[ "$PRESGWD_RC" = 0 ] || fail "presgwd exited with $PRESGWD_RC"
before=$(versions | tail -n 1)
sim_post "/_sim/users/$ALICE_ID/client" \
    '{"availability":"Available","activity":"Available"}' >/dev/null ||
    fail "cannot end alice's Teams call"
start_presgwd
wait_for_log "subscribe resumed user=alice@$DOMAIN event=dialog" 5 ||
    fail "the BLF subscription was not resumed"
n=$(versions | wc -l)
wait_versions $((n + 1)) 5 || fail "no NOTIFY after the restart"
after=$(versions | tail -n 1)
[ "$after" -gt "$before" ] ||
    fail "dialog-info version $after after the restart, not above $before"
ok "resumed: version $after above $before"

sim_post "/_sim/users/$ALICE_ID/client" \
    '{"availability":"Busy","activity":"InACall"}' >/dev/null ||
    fail "cannot put alice in a Teams call again"
n=$(versions | wc -l)
wait_versions $((n + 1)) 10 || fail "no NOTIFY for the call after the restart"
last=$(versions | tail -n 1)
[ "$last" -gt "$after" ] ||
    fail "dialog-info version $last after a change, not above $after"
sipp_log key | grep -q 'sub=terminated' &&
    fail "the BLF key was told its subscription ended"
ok "a change after the restart raises the version again ($last)"
exit 0
