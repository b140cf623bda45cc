#!/bin/sh
# A burst of writes goes to Graph in $batch requests:
#   1. 27 phones change state three times each while Graph is down; when
#      it is back their writes go in batches of at most 20, one write per
#      user each, each write once, and Teams shows every phone's last
#      state;
#   2. presgwd is killed with 6 users' writes pending and started again;
#      the restored writes go in a batch in which Graph throttles three
#      (429, Retry-After 1): those three, and only those, are sent again.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-gwq.sh"

need_sipp
it_init
start_graphsim

BURST=
i=1
while [ $i -le 27 ]; do
    BURST="$BURST $(printf 'bst%03d' $i)"
    i=$((i + 1))
done
THR="thr001 thr002 thr003 thr004 thr005 thr006"
THR_429="thr004 thr005 thr006"

# Graph and the user map know them all.
for u in $BURST $THR; do
    echo "$(user_id "$u"),$u@contoso.example"
done | "$PYTHON" -c '
import json, sys, urllib.request
for line in sys.stdin:
    uid, upn = line.strip().split(",")
    req = urllib.request.Request(sys.argv[1] + "/_sim/users",
        data=json.dumps({"id": uid, "upn": upn}).encode(), method="POST",
        headers={"Content-Type": "application/json"})
    urllib.request.urlopen(req, timeout=5).close()
' "$SIM_URL" || fail "cannot add the users to the simulator"
write_users alice $BURST $THR
gwq_config
start_presgwd
log_has 'graph started .* batch=yes' || fail "batching is not on by default"
wait_for_log 'graph poll-done' 10 || fail "presgwd never read Graph"

# bst_states N, bst_writes ID N: the states phone N goes through, and what Graph must get
# once Graph is back, as in graph_outage_queue_drains_once.sh.
bst_states() {
    case $(($1 % 3)) in
    0) echo "$GWQ_CALL $GWQ_IDLE $GWQ_CALL" ;;
    1) echo "$GWQ_DND $GWQ_IDLE $GWQ_DND" ;;
    2) echo "$GWQ_CALL $GWQ_DND $GWQ_IDLE" ;;
    esac
}
bst_writes() {
    case $(($2 % 3)) in
    0) echo "$1 setPresence Busy/InACall" ;;
    1) echo "$1 setUserPreferredPresence DoNotDisturb/DoNotDisturb" ;;
    2) echo "$1 setPresence Available/Available"
       echo "$1 clearUserPreferredPresence" ;;
    esac
}

# check_batches AFTER MIN: every $batch after request AFTER carries 1 to
# 20 presence writes of distinct users, and the largest carries MIN or
# more.  Prints what is wrong.
check_batches() {
    "$PYTHON" - "$SIM_URL" "$1" "$2" <<'PY'
import json, re, sys, urllib.request
sim, after, least = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
with urllib.request.urlopen(sim + "/_sim/requests", timeout=5) as r:
    log = [e for e in json.load(r) if e["seq"] > after]
write = re.compile(r"^/v1\.0/users/([^/]+)/presence/[A-Za-z]+$")
batches = [e for e in log if re.search(r"/(\$|%24)batch$", e["path"])]
biggest = 0
for b in batches:
    inner = [e for e in log if e.get("batch") == b["seq"]]
    users = [write.match(e["path"]).group(1) for e in inner
             if write.match(e["path"])]
    if not 1 <= len(inner) <= 20 or len(users) != len(inner):
        sys.exit("batch %d carries %d requests: %s" % (b["seq"], len(inner),
                 [e["path"] for e in inner]))
    if len(set(users)) != len(users):
        sys.exit("batch %d has two writes of one user: %s" % (b["seq"],
                 users))
    if any(e["method"] != "POST" for e in inner):
        sys.exit("batch %d has a request that is no POST" % b["seq"])
    biggest = max(biggest, len(inner))
if biggest < least:
    sys.exit("the largest batch carried %d writes, want %d or more"
             % (biggest, least))
print("%d batches, the largest of %d" % (len(batches), biggest))
PY
}

# 1. The burst.
seq0=$(sim_seq) || fail "cannot read the simulator's request log"
gwq_graph_down
log_mark
# Nine phones at a time, to spare a machine running other tests.
i=1
for u in $BURST; do
    gwq_phone "$u" "$u" $(bst_states $i)
    [ $((i % 9)) -ne 0 ] || gwq_phones_wait
    i=$((i + 1))
done
gwq_phones_wait
wait_for_log 'graph outage-start reason=' 10 || fail "no outage-start line"
wait_for_log 'graph write .*probe=yes' 10 || fail "no probe during the outage"
ok "outage: 27 phones changed state, writes held"

gwq_graph_up
wait_for_log 'graph outage-end pending=[0-9]+ duration=' 20 ||
    fail "no outage-end line"
expect=$(i=1; for u in $BURST; do bst_writes "$(user_id "$u")" $i;
    i=$((i + 1)); done)
gwq_check_writes "$seq0" "$expect" ||
    fail "the writes after the outage are not the newest, once each"
seq1=$(sim_seq)
no_request --after "$seq1" --method POST --path '/presence/' --for 2 ||
    fail "a write came again after the queue drained"
# More than 20 users were waiting: a full batch, then the rest.
out=$(check_batches "$seq0" 20) || fail "$out"
note "$out"
log_has 'graph batch requests=20' || fail "presgwd did not log a batch of 20"
log_has 'graph write-dropped' && fail "a write was dropped"
ok "after the outage: batches of at most 20, one write per user, once each"

i=1
for u in $BURST; do
    id=$(user_id "$u")
    case $((i % 3)) in
    0) gwq_presence "$id" Busy InACall || fail "$u's presence" ;;
    1) gwq_presence "$id" DoNotDisturb DoNotDisturb preferred ||
           fail "$u's presence" ;;
    2) gwq_presence "$id" Available Available || fail "$u's presence"
       sim_get "/_sim/users/$id" | grep -q '"preferred": null' ||
           fail "$u still has a preferred presence" ;;
    esac
    i=$((i + 1))
done
ok "Teams shows each of the 27 phones' last state"

# 2. Throttled inside a batch.  The first three phones go first, so one
# of them is the restart's probe and the throttled three wait for the
# batch after it.
seq2=$(sim_seq)
gwq_graph_down
log_mark
for u in thr001 thr002 thr003; do
    gwq_phone "$u" "$u" "$GWQ_IDLE" "$GWQ_CALL" "$GWQ_CALL"
done
gwq_phones_wait
for u in $THR_429; do
    gwq_phone "$u" "$u" "$GWQ_IDLE" "$GWQ_CALL" "$GWQ_CALL"
done
gwq_phones_wait
wait_for_log 'graph outage-start reason=' 10 || fail "no outage-start line"
stop_presgwd KILL 5
[ "$PRESGWD_RC" != 124 ] || fail "presgwd did not die on SIGKILL"

gwq_graph_up
for u in $THR_429; do
    sim_post /_sim/faults "{\"match\":\"$(user_id "$u")/presence/setPresence\",
        \"status\":429,\"retry_after\":1,\"count\":1}" >/dev/null ||
        fail "cannot arm the 429 fault for $u"
done
start_presgwd
log_has 'graph restored pending=6 users=6' ||
    fail "presgwd did not restore the six pending writes"
ok "restart: six writes restored, three will be throttled"

# Each thr phone's call once; the burst's calls Graph had confirmed are
# refreshed once at the start.
expect=$(for u in $THR; do echo "$(user_id "$u") setPresence Busy/InACall";
    done; i=1; for u in $BURST; do
    [ $((i % 3)) -eq 0 ] && echo "$(user_id "$u") setPresence Busy/InACall"
    i=$((i + 1)); done)
gwq_check_writes "$seq2" "$expect" ||
    fail "the restored writes were not sent once each"
out=$(check_batches "$seq2" 2) || fail "$out"
note "$out"
"$PYTHON" - "$SIM_URL" "$seq2" $(for u in $THR_429; do user_id "$u"; done) \
    <<'PY' || fail "the throttled writes were not retried alone"
import json, sys, urllib.request
sim, after, ids = sys.argv[1], int(sys.argv[2]), set(sys.argv[3:])
with urllib.request.urlopen(sim + "/_sim/requests", timeout=5) as r:
    log = [e for e in json.load(r) if e["seq"] > after and
           "/presence/" in e["path"]]
throttled = [e for e in log if e["status"] == 429]
got = {e["path"].split("/")[3] for e in throttled}
if got != ids or len(throttled) != len(ids):
    sys.exit("429s: want one for each of %s, got %s" % (sorted(ids),
             [e["path"] for e in throttled]))
if any("batch" not in e for e in throttled):
    sys.exit("a 429 came to a write sent alone, not inside a batch")
# After the batch that was throttled, only the throttled writes go again.
first = min(e["seq"] for e in throttled)
held = {e["batch"] for e in throttled}
later = [e for e in log if e["seq"] > first and e.get("batch") not in held]
users = sorted(e["path"].split("/")[3] for e in later)
if users != sorted(ids) or any(e["status"] != 200 for e in later):
    sys.exit("after the 429s: want one 200 for each of %s, got %s" % (
        sorted(ids), [(e["path"], e["status"]) for e in later]))
PY
wait_for_log 'graph hold reason=throttled' 5 ||
    fail "a 429 inside a batch did not hold the tenant"
log_has "graph retry user=$(user_id thr004) op=setPresence status=429" ||
    fail "presgwd did not log the retry of a throttled write"
ok "429 inside a batch: those writes alone sent again, after Retry-After"

for u in $THR; do
    gwq_presence "$(user_id "$u")" Busy InACall || fail "$u's presence"
done
ok "Teams shows the throttled users' calls"
presgwd_alive || fail "presgwd died"
exit 0
