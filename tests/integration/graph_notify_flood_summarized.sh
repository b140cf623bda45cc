#!/bin/sh
# The webhook under a flood of items: one POST of 300000 empty items is
# refused whole with 413 and one log line; a POST of 1001 items too (the
# cap is 1000); a POST of 1000 items that are all refused gets 202, the
# first five refusals logged one by one and the rest in one summary
# line.  A genuine notification is still taken afterwards.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-notify.sh"

POLL_INTERVAL=0 start_notify_env alice bob
start_presgwd
wait_for_log "graph sub-created account=svc1 sub=[^ ]+ users=2" 10 ||
    fail "no subscription"

# status N: the status the webhook answered a POST of N empty items,
# {"value":[{},...]}; the body is made and sent by Python, being too
# large for an argument.
status() {
    "$PYTHON" -c 'import sys, urllib.request, urllib.error
body = ("{\"value\":[" + ",".join(["{}"] * int(sys.argv[2])) + "]}")
req = urllib.request.Request(sys.argv[1], data=body.encode(),
    headers={"Content-Type": "application/json"})
try:
    print(urllib.request.urlopen(req, timeout=10).status)
except urllib.error.HTTPError as e:
    print(e.code)' "http://127.0.0.1:$HTTP_PORT/graph/notify" "$1"
}

for n in 300000 1001; do
    log_mark
    [ "$(status $n)" = 413 ] ||
        fail "a POST of $n items did not get 413"
    wait_for_log "graph notify-refused reason=too-many-items items=$n max=1000 " 5 ||
        fail "the POST of $n items was not logged"
    [ "$(log_since | grep -c 'graph notify-refused')" = 1 ] ||
        fail "the POST of $n items was logged in more than one line"
done
ok "300000 and 1001 items: 413 and one line each"

log_mark
[ "$(status 1000)" = 202 ] || fail "1000 items did not get 202"
wait_for_log "graph notify-refused-summary items=1000 refused=1000 reasons=clientstate:1000 " 5 ||
    fail "no summary of the refused items"
[ "$(log_since | grep -c 'graph notify-refused reason=clientstate sub=- known=no')" = 5 ] ||
    fail "not exactly five refusals were logged one by one"
[ "$(log_since | grep -c 'graph notify-refused')" = 6 ] ||
    fail "the 1000 refusals took more than six lines"
ok "1000 refused items: 202, five lines and one summary"

seq0=$(sim_seq)
log_mark
sim_post "/_sim/users/$BOB_ID/client" \
    '{"availability":"Busy","activity":"Busy"}' >/dev/null ||
    fail "cannot set bob's Teams client"
wait_for_log "pa teams user=bob@$DOMAIN availability=Busy" 10 ||
    fail "a genuine notification was not taken after the flood"
log_has "graph notify-refused" && fail "a genuine notification was refused"
presgwd_alive || fail "presgwd died"
ok "a genuine notification is taken after the flood"
exit 0
