#!/usr/bin/env bash
# demo.sh BUILDDIR: presgwd against the bundled Graph simulator, with sipp
# playing desk phones.  Shows presence going phone -> Teams and
# Teams -> phone, then leaves the files in run/demo/.  Run through
# "./quickstart.sh demo".  Everything listens on 127.0.0.1 only.
set -euo pipefail

build=$1
top=$(cd "$(dirname "$0")/.." && pwd)
run="$top/run/demo"
sip_port=5070
sim_port=8099
tenant=00000000-0000-4000-8000-0000000d3e00
client=11111111-2222-4333-8444-555555555555
alice=4a5d2c1e-0b7f-4c1a-9e3d-a11ce0000001
bob=4a5d2c1e-0b7f-4c1a-9e3d-b0b000000002
pids=()

say()  { printf '\n\033[1m==> %s\033[0m\n' "$*"; }
info() { printf '    %s\n' "$*"; }

cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
}
trap cleanup EXIT INT TERM

# sim METHOD PATH [JSON]: the simulator's control API.
sim() {
    python3 - "$@" <<'PY'
import json, sys, urllib.request
method, path = sys.argv[1], sys.argv[2]
data = sys.argv[3].encode() if len(sys.argv) > 3 else None
req = urllib.request.Request("http://127.0.0.1:8099" + path, data=data,
                             method=method,
                             headers={"Content-Type": "application/json"})
with urllib.request.urlopen(req, timeout=5) as r:
    sys.stdout.write(r.read().decode())
PY
}

# The Graph requests for one user since request number $1, one a line.
graph_calls() {
    sim GET /_sim/requests | python3 -c '
import json, sys
after, who = int(sys.argv[1]), sys.argv[2]
for i, r in enumerate(json.load(sys.stdin)):
    if i < after or who not in r["path"]:
        continue
    body = r.get("body") or {}
    pair = "/".join(str(body[k]) for k in ("availability", "activity")
                    if k in body)
    print("%s %s %s -> %s" % (r["method"], r["path"].split("/presence/")[-1],
                              pair, r["status"]))
' "$1" "$2"
}

nreq() { sim GET /_sim/requests | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))'; }

teams_state() {
    sim GET "/_sim/users/$1" | python3 -c '
import json, sys
a = json.load(sys.stdin)["aggregate"]
print("%s / %s" % (a["availability"], a["activity"]))'
}

wait_log() {
    for _ in $(seq 1 "${2:-50}"); do
        grep -Eq "$1" "$run/presgwd.log" && return 0
        sleep 0.2
    done
    echo "demo: timed out waiting for '$1' in $run/presgwd.log" >&2
    return 1
}

port_free() {
    ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

for p in $sip_port $sim_port; do
    port_free "$p" || { echo "demo: port $p on 127.0.0.1 is in use" >&2; exit 1; }
done

say "Setting up $run"
rm -rf "$run"
mkdir -p "$run"
cp "$top/docs/examples/presgwd.conf" "$top/docs/examples/users.csv" \
    "$top/docs/examples/client-secret" "$run/"
chmod 600 "$run/client-secret"
awk -F, '!/^#/ && NF >= 2 { gsub(/ /, ""); print $2 "," $3 }' \
    "$run/users.csv" > "$run/graph-users.csv"
info "configuration: $run/presgwd.conf"
info "user map:      $run/users.csv"
"$build/presgwd" -n -c "$run/presgwd.conf" | sed 's/^/    /'

say "Starting the Graph simulator (a stand-in for Microsoft Graph) on 127.0.0.1:$sim_port"
python3 "$top/tests/graphsim/graphsim.py" --port $sim_port --tenant $tenant \
    --client-id $client --client-secret "$(cat "$run/client-secret")" \
    --users "$run/graph-users.csv" --log "$run/graphsim-requests.jsonl" \
    > "$run/graphsim.out" 2>&1 &
pids+=($!)
for _ in $(seq 1 50); do
    grep -q "graphsim listening" "$run/graphsim.out" && break
    sleep 0.1
done
# The demo users are signed in to Teams on their desktops.
for id in $alice $bob; do
    sim POST "/_sim/users/$id/client" \
        '{"availability":"Available","activity":"Available"}' >/dev/null
done
info "alice and bob are signed in to Teams: Available"

say "Starting presgwd on sip:127.0.0.1:$sip_port"
"$build/presgwd" -f -c "$run/presgwd.conf" > "$run/presgwd.log" 2>&1 &
pids+=($!)
wait_log "gateway started"
wait_log "graph poll-done"
info "log: $run/presgwd.log"

sipp_phone() {
    local name=$1 scen=$2 user=$3 port=$4
    shift 4
    sipp "127.0.0.1:$sip_port" -sf "$top/tests/sipp/$scen.xml" -s "$user" \
        -i 127.0.0.1 -p "$port" -m 1 -nostdin -timeout 30s -timeout_error \
        -trace_msg -message_file "$run/phone-$name.msg" \
        -trace_logs -log_file "$run/phone-$name.log" "$@" \
        > "$run/phone-$name.out" 2>&1 </dev/null
}

say "Phone to Teams: alice's desk phone starts a call"
n0=$(nreq)
sipp_phone alice-call publish-call alice 5090 -d 3000 &
phone=$!
wait_log "graph write-done user=$alice op=setPresence"
info "presgwd: $(grep -m1 'publish new user=alice' "$run/presgwd.log" | cut -d' ' -f3-)"
graph_calls "$n0" "$alice" | sed 's/^/    Graph: /'
info "alice in Teams now: $(teams_state $alice)"

say "Phone to Teams: the call ends"
n1=$(nreq)
wait "$phone" || true
sleep 1
graph_calls "$n1" "$alice" | sed 's/^/    Graph: /'
info "alice in Teams now: $(teams_state $alice)"

say "Teams to phone: a phone watches bob, and bob turns on Do not disturb in Teams"
sipp_phone bob-watch subscribe-watch bob 5094 -set want "Do not disturb" \
    -recv_timeout 20000 &
phone=$!
wait_log "subscribe accepted user=bob@"
info "the phone's first NOTIFY says: $(grep -m1 -o '<note>[^<]*</note>' "$run/phone-bob-watch.msg" || echo '?')"
sim POST "/_sim/users/$bob/preferred" \
    '{"availability":"DoNotDisturb","activity":"DoNotDisturb"}' >/dev/null
info "bob in Teams now: $(teams_state $bob)"
wait "$phone" && watch_ok=1 || watch_ok=0
info "presgwd: $(grep -m1 'pa teams user=bob.*DoNotDisturb' "$run/presgwd.log" | cut -d' ' -f3-)"
info "the NOTIFYs the phone got said: $(grep -o '<note>[^<]*</note>' "$run/phone-bob-watch.msg" | sed 's/<[^>]*>//g' | paste -sd, -)"
[ "$watch_ok" = 1 ] || { echo "demo: the watching phone did not see Do not disturb" >&2; exit 1; }

say "Done: presence went both ways"
info "files: $run (presgwd.log, graphsim-requests.jsonl, phone-*.msg)"
if [ -t 0 ] && [ "${DEMO_NO_WAIT:-}" = "" ]; then
    info "presgwd and the simulator keep running; press Enter to stop them."
    info "try: python3 -c \"import urllib.request as u; print(u.urlopen('http://127.0.0.1:$sim_port/_sim/users/$alice').read().decode())\""
    read -r _
fi
