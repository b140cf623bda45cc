# lib-gwq.sh: shared by the Graph outage tests (sourced after lib.sh).

# The states each phone goes through (rpid:activities contents).
GWQ_CALL='<rpid:on-the-phone/>'
GWQ_DND='<ce:dnd/>'
GWQ_IDLE='<!---->'

# write_config, with a short backoff cap so the probes keep coming.
gwq_config() {
    write_config
    sed -i 's/^timeout = 5$/timeout = 5\nretry_max_delay = 2/' \
        "$T/presgwd.conf"
    grep -q '^retry_max_delay = 2$' "$T/presgwd.conf" ||
        fail "cannot set graph.retry_max_delay"
}

# Graph down: the first two requests dropped unanswered, then 503 until
# the faults are cleared.  Only /v1.0: tokens still come.
gwq_graph_down() {
    sim_post /_sim/faults '{"match":"/v1.0/","drop":true,"count":2}' \
        >/dev/null || fail "cannot arm the drop fault"
    sim_post /_sim/faults '{"match":"/v1.0/","status":503,"count":-1}' \
        >/dev/null || fail "cannot arm the 503 fault"
}

gwq_graph_up() {
    sim_delete /_sim/faults >/dev/null || fail "cannot clear the faults"
}

# gwq_phone NAME USER S1 S2 S3: a phone going through three states, in
# the background; its PID is appended to GWQ_PHONES.
gwq_phone() {
    sipp_start "$1" publish-states "$2" -d 600 -set s1 "$3" -set s2 "$4" \
        -set s3 "$5"
    GWQ_PHONES="${GWQ_PHONES:-} $SIPP_PID"
}

gwq_phones_wait() {
    local pid
    for pid in $GWQ_PHONES; do
        sipp_wait "$pid" 30 || fail "a phone's PUBLISH scenario failed"
    done
    GWQ_PHONES=
}

# gwq_check_writes AFTER EXPECT: the successful presence writes after
# simulator request AFTER, per user, must be exactly EXPECT, a list of
# "USER-ID ACTION [AVAILABILITY/ACTIVITY]" lines in order per user and
# mechanism.  Waits up to 30 s for them; prints what differs.
gwq_check_writes() {
    "$PYTHON" - "$SIM_URL" "$1" "$2" <<'PY'
import json, sys, time, urllib.request
sim, after, expect = sys.argv[1], int(sys.argv[2]), sys.argv[3]
want = {}
for line in expect.strip().splitlines():
    uid, what = line.split(None, 1)
    want.setdefault(uid, []).append(what)
mech = lambda w: "pref" if "Preferred" in w else "session"
def writes():
    with urllib.request.urlopen(sim + "/_sim/requests", timeout=5) as r:
        log = json.load(r)
    got = {}
    for e in log:
        parts = e["path"].split("/")
        if e["seq"] <= after or e["method"] != "POST" or len(parts) != 6 \
                or parts[2] != "users" or parts[4] != "presence":
            continue
        st = e["status"] or 0
        if not (200 <= st < 300 or (st == 404 and parts[5] == "clearPresence")):
            continue
        what = parts[5]
        b = e["body"] or {}
        if "availability" in b:
            what += " %s/%s" % (b["availability"], b["activity"])
        got.setdefault(parts[3], []).append(what)
    return got
def same(got):
    for uid in set(want) | set(got):
        for m in ("session", "pref"):
            w = [x for x in want.get(uid, []) if mech(x) == m]
            g = [x for x in got.get(uid, []) if mech(x) == m]
            if w != g:
                return False
    return True
deadline = time.time() + 30
got = writes()
while not same(got) and time.time() < deadline:
    time.sleep(0.3)
    got = writes()
if not same(got):
    print("writes after recovery differ:\n want %s\n got  %s" % (want, got))
    sys.exit(1)
PY
}

# gwq_presence USER-ID AVAILABILITY ACTIVITY [aggregate|preferred]: the
# simulator's aggregate presence of the user, or its preferred presence
# (which shows only once the user has a session).
gwq_presence() {
    sim_get "/_sim/users/$1" | "$PYTHON" -c '
import json, sys
a = json.load(sys.stdin)[sys.argv[4]] or {}
want = (sys.argv[1], sys.argv[2])
got = (a.get("availability"), a.get("activity"))
if got != want:
    print("%s of %s: want %s, got %s" % (sys.argv[4], sys.argv[3], want, got))
    sys.exit(1)
' "$2" "$3" "$1" "${4:-aggregate}"
}
