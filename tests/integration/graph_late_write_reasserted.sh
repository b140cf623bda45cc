#!/bin/sh
# A write that times out on our side but that Graph applies later must not
# override a newer one.  carol's phone goes into a call; the simulator
# holds that setPresence Busy/InACall for 12 s (longer than graph.timeout)
# and then applies it.  3 s into the call the phone is idle again.
# presgwd gives up on the call write, probes Graph with Available (200),
# and the late Busy/InACall lands after it.  Once the late write can no
# longer land, presgwd writes Available once more
# ("graph write-reassert"), and Teams shows carol Available.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-gwq.sh"

need_sipp
it_init
start_graphsim
write_users alice bob carol
write_config
start_presgwd
wait_for_log 'graph poll-done' 10 || fail "presgwd never read Graph"

SETP="/v1.0/users/$CAROL_ID/presence/setPresence"

# carol's setPresence requests after simulator request $1, in order, one
# line each: "seq availability/activity status" (status "-" while the
# simulator still holds the request).
carol_writes() {
    "$PYTHON" - "$SIM_URL" "$1" "$SETP" <<'PY'
import json, sys, urllib.request
sim, after, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
with urllib.request.urlopen(sim + "/_sim/requests", timeout=5) as r:
    log = json.load(r)
for e in log:
    if e["seq"] > after and e["method"] == "POST" and e["path"] == path:
        b = e["body"] or {}
        st = "-" if e["status"] is None else e["status"]
        print("%d %s/%s %s" % (e["seq"], b.get("availability"),
                               b.get("activity"), st))
PY
}

seq0=$(sim_seq) || fail "cannot read the simulator's request log"
sim_post /_sim/faults "{\"match\":\"$CAROL_ID/presence/setPresence\",\
\"status\":0,\"delay_ms\":12000,\"count\":1}" >/dev/null ||
    fail "cannot arm the delay fault"
log_mark

# Call, then idle 3 s later (and idle once more, which changes nothing).
sipp_start carol publish-states carol -d 3000 -set s1 "$GWQ_CALL" \
    -set s2 "$GWQ_IDLE" -set s3 "$GWQ_IDLE"
phone=$SIPP_PID

wait_for_log "graph outage-start reason=no-answer" 20 ||
    fail "the held call write did not time out"
wait_for_request --after "$seq0" --method POST --path "^$SETP\$" \
    --field availability=Available --ok --timeout 20 >/dev/null ||
    fail "no setPresence Available for carol after the timeout"
wait_for_log "graph outage-end" 10 || fail "no outage-end line"
sipp_wait "$phone" 30 || fail "the phone's PUBLISH scenario failed"
ok "the call write timed out; Available was written and confirmed"

# The held call write lands at the simulator, after Available.
n=300
until carol_writes "$seq0" >"$T/carol-writes" &&
    grep -q '^[0-9]* Busy/InACall [0-9]' "$T/carol-writes"; do
    n=$((n - 1))
    [ $n -gt 0 ] || fail "the held write never finished at the simulator"
    sleep 0.1
done
# Teams says "In a call" now, unless presgwd has already written again.
if gwq_presence "$CAROL_ID" Busy InACall >/dev/null; then
    ok "the late call write overrode Available at Graph"
elif log_has 'graph write-reassert'; then
    note "Available was written again before the late write was seen"
else
    fail "the late call write left no trace at Graph"
fi

wait_for_log "graph write-reassert user=$CAROL_ID mech=session reason=uncertain state=available" 60 ||
    fail "no write-reassert line for carol"
wait_for_log "graph write-done user=$CAROL_ID op=setPresence status=200" 10 ||
    fail "the re-asserted write was not confirmed"
ok "Available written once more after the late write: write-reassert"

# The simulator's log: the late call, the probe, the re-assertion.
seq1=$(sim_seq)
got=$(carol_writes "$seq0" | awk '{ print $2 }' | tr '\n' ' ')
[ "$got" = "Busy/InACall Available/Available Available/Available " ] ||
    fail "carol's setPresence requests: $got"
ok "the simulator saw the call, Available, and Available again"

gwq_presence "$CAROL_ID" Available Available ||
    fail "Teams does not show carol Available"
ok "Teams shows carol Available"

# Once: nothing follows.
no_request --after "$seq1" --method POST --path '/presence/' --for 3 ||
    fail "a write came after the re-assertion"
n=$(log_since | grep -c 'graph write-reassert')
[ "$n" -eq 1 ] || fail "write-reassert logged $n times"
ok "one re-assertion, nothing after it"
presgwd_alive || fail "presgwd died"
exit 0
