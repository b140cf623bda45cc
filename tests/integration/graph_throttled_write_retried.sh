#!/bin/sh
# Graph refuses a write for now and presgwd tries again:
#   1. the setPresence for alice's call gets 429 with Retry-After 1: it is
#      sent again, no sooner than a second later, and the call shows;
#   2. the setUserPreferredPresence for her DND key gets 503: it is sent
#      again and DND shows;
#   3. while a 429 with Retry-After 8 holds Graph requests, /healthz says
#      degraded and "throttled", and ok once the hold is over.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-notify.sh"

need_sipp
it_init
start_graphsim
write_users alice bob carol
take_port
HTTP_PORT=$PORT
write_config
start_presgwd

APP="/v1.0/users/$ALICE_ID/presence"

sim_post /_sim/faults "{\"match\":\"$ALICE_ID/presence/setPresence\",
    \"status\":429,\"retry_after\":1,\"count\":1}" >/dev/null ||
    fail "cannot arm the 429 fault"
sim_post /_sim/faults "{\"match\":\"$ALICE_ID/presence/setUserPreferredPresence\",
    \"status\":503,\"retry_after\":1,\"count\":1}" >/dev/null ||
    fail "cannot arm the 503 fault"

# 1. 429 on the call.
seq0=$(sim_seq)
sipp_run call publish-call alice -d 2500 -set ending remove ||
    fail "publish-call scenario failed"
first=$(wait_for_request --after "$seq0" --path "^$APP/setPresence\$" \
    --field availability=Busy --status 429 --timeout 5) ||
    fail "no throttled setPresence Busy/InACall"
first_seq=$(printf '%s\n' "$first" | sed -n 's/.*"seq": \([0-9]*\).*/\1/p')
retry=$(wait_for_request --after "$first_seq" --path "^$APP/setPresence\$" \
    --field availability=Busy --field activity=InACall --ok --timeout 5) ||
    fail "the throttled setPresence was not sent again"
# The simulator's own clock: the retry came at least Retry-After later.
"$PYTHON" - "$first" "$retry" <<'PY' || fail "the retry did not wait for Retry-After"
import datetime, json, sys
t = [datetime.datetime.strptime(json.loads(a)["time"], "%Y-%m-%dT%H:%M:%S.%fZ")
     for a in sys.argv[1:3]]
sys.exit(0 if (t[1] - t[0]).total_seconds() >= 0.95 else 1)
PY
wait_for_log "graph retry user=$ALICE_ID op=setPresence status=429" 1 ||
    fail "presgwd did not log the retry"
ok "429 with Retry-After: setPresence sent again after the delay"

# 2. 503 on the DND key.
seq1=$(sim_seq)
sipp_run dnd publish-dnd alice -d 2500 || fail "publish-dnd scenario failed"
first=$(wait_for_request --after "$seq1" \
    --path "^$APP/setUserPreferredPresence\$" --field availability=DoNotDisturb \
    --status 503 --timeout 5) || fail "no refused setUserPreferredPresence"
first_seq=$(printf '%s\n' "$first" | sed -n 's/.*"seq": \([0-9]*\).*/\1/p')
wait_for_request --after "$first_seq" --path "^$APP/setUserPreferredPresence\$" \
    --field availability=DoNotDisturb --ok --timeout 5 >/dev/null ||
    fail "setUserPreferredPresence was not sent again after 503"
wait_for_request --after "$first_seq" \
    --path "^$APP/clearUserPreferredPresence\$" --ok --timeout 5 >/dev/null ||
    fail "no clearUserPreferredPresence after DND went off"
ok "503: setUserPreferredPresence sent again"

# 3. A longer hold shows in /healthz.
sim_post /_sim/faults "{\"match\":\"$BOB_ID/presence/setPresence\",
    \"status\":429,\"retry_after\":8,\"count\":1}" >/dev/null ||
    fail "cannot arm the second 429 fault"
log_mark
sipp_run call2 publish-call bob -d 500 -set ending remove ||
    fail "publish-call scenario for bob failed"
wait_for_log 'graph hold reason=throttled after=' 5 || fail "no hold"
out=$(healthz)
printf '%s\n' "$out" | grep -q '^{"status":"degraded"' ||
    fail "/healthz does not say degraded during the hold: $out"
printf '%s\n' "$out" |
    grep -Eq '"throttled":true,"throttled_seconds_left":[1-9]' ||
    fail "/healthz does not show the hold: $out"
wait_for_log 'graph hold-over' 15 || fail "the hold did not end"
out=$(healthz)
printf '%s\n' "$out" | grep -q '^{"status":"ok".*"throttled":false' ||
    fail "/healthz is not ok after the hold: $out"
ok "a 429 hold shows in /healthz as degraded until it is over"
presgwd_alive || fail "presgwd died"
exit 0
