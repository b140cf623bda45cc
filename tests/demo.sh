#!/usr/bin/env bash
# demo.sh BUILDDIR: presgwd against the bundled Graph simulator, with sipp
# playing desk phones.  Shows presence going phone -> Teams and
# Teams -> phone, then leaves the files in run/demo/.  Run through
# "./quickstart.sh demo".  Everything listens on 127.0.0.1 only.
#
# Ports: PRESGW_DEMO_SIP_PORT (presgwd, default 5070) and
# PRESGW_DEMO_SIM_PORT (the simulator, default 8099).  A default that is
# taken is replaced by a free port; a port asked for must be free.
set -euo pipefail

build=$1
top=$(cd "$(dirname "$0")/.." && pwd)
run="$top/run/demo"
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
    python3 - "$1" "$2" "${3:-}" "$sim_port" <<'PY'
import json, sys, urllib.request
method, path = sys.argv[1], sys.argv[2]
data = sys.argv[3].encode() if sys.argv[3] else None
req = urllib.request.Request("http://127.0.0.1:%s%s" % (sys.argv[4], path),
                             data=data,
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

# The notes of the NOTIFYs a phone received, with their subscription
# state: "Available (active), ...".
notes() {
    awk '/^UDP message (received|sent)/ { inmsg = /received/ }
         inmsg && /^NOTIFY / { notify = 1 }
         inmsg && notify && /^Subscription-State:/ {
             split($2, st, ";"); state = st[1] }
         inmsg && notify && /<note>/ {
             gsub(/.*<note>|<\/note>.*/, "")
             out = out sep $0 " (" state ")"; sep = ", "; notify = 0 }
         END { print out }' "$1"
}

port_free() {
    ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null &&
        python3 -c 'import socket, sys
for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
    socket.socket(socket.AF_INET, kind).bind(("127.0.0.1", int(sys.argv[1])))' \
        "$1" 2>/dev/null
}

# A port free for TCP and UDP on 127.0.0.1, from the kernel's range.
free_port() {
    python3 -c 'import socket
while True:
    t = socket.socket(); t.bind(("127.0.0.1", 0)); p = t.getsockname()[1]
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        u.bind(("127.0.0.1", p)); print(p); break
    except OSError:
        pass'
}

# pick_port VAR DEFAULT WHAT: $VAR if set (it must be free), else DEFAULT
# if free, else any free port.
pick_port() {
    local asked=${!1:-} p
    if [ -n "$asked" ]; then
        port_free "$asked" ||
            { echo "demo: $1=$asked: port in use on 127.0.0.1" >&2; exit 1; }
        echo "$asked"
        return
    fi
    if port_free "$2"; then
        echo "$2"
    else
        p=$(free_port)
        echo "demo: port $2 ($3) is in use; using $p (set $1 to choose)" >&2
        echo "$p"
    fi
}

sip_port=$(pick_port PRESGW_DEMO_SIP_PORT 5070 presgwd)
sim_port=$(pick_port PRESGW_DEMO_SIM_PORT 8099 "the Graph simulator")

say "Setting up $run"
rm -rf "$run"
mkdir -p "$run"
cp "$top/docs/examples/presgwd.conf" "$top/docs/examples/users.csv" \
    "$top/docs/examples/client-secret" "$run/"
chmod 600 "$run/client-secret"
sed -i -e "s|127\.0\.0\.1:5070|127.0.0.1:$sip_port|" \
    -e "s|127\.0\.0\.1:8099|127.0.0.1:$sim_port|" "$run/presgwd.conf"
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
    local name=$1 scen=$2 user=$3 port
    shift 3
    port=$(free_port)
    sipp "127.0.0.1:$sip_port" -sf "$top/tests/sipp/$scen.xml" -s "$user" \
        -i 127.0.0.1 -p "$port" -m 1 -nostdin -timeout 30s -timeout_error \
        -trace_msg -message_file "$run/phone-$name.msg" \
        -trace_logs -log_file "$run/phone-$name.log" "$@" \
        > "$run/phone-$name.out" 2>&1 </dev/null
}

say "Phone to Teams: alice's desk phone starts a call"
n0=$(nreq)
sipp_phone alice-call publish-call alice -d 3000 &
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
sipp_phone bob-watch subscribe-watch bob -set want "Do not disturb" \
    -recv_timeout 20000 &
phone=$!
wait_log "subscribe accepted user=bob@"
info "the phone's first NOTIFY says: $(grep -m1 -o '<note>[^<]*</note>' "$run/phone-bob-watch.msg" || echo '?')"
sim POST "/_sim/users/$bob/preferred" \
    '{"availability":"DoNotDisturb","activity":"DoNotDisturb"}' >/dev/null
info "bob in Teams now: $(teams_state $bob)"
wait "$phone" && watch_ok=1 || watch_ok=0
info "presgwd: $(grep -m1 'pa teams user=bob.*DoNotDisturb' "$run/presgwd.log" | cut -d' ' -f3-)"
info "the NOTIFYs the phone got said: $(notes "$run/phone-bob-watch.msg")"
info "(the last one answers the phone's unsubscribe: RFC 6665 ends a"
info " subscription with a NOTIFY that carries the state once more)"
[ "$watch_ok" = 1 ] || { echo "demo: the watching phone did not see Do not disturb" >&2; exit 1; }

say "Done: presence went both ways"
info "files: $run (presgwd.log, graphsim-requests.jsonl, phone-*.msg)"
if [ -t 0 ] && [ "${DEMO_NO_WAIT:-}" = "" ]; then
    info "presgwd and the simulator keep running; press Enter to stop them."
    info "try: python3 -c \"import urllib.request as u; print(u.urlopen('http://127.0.0.1:$sim_port/_sim/users/$alice').read().decode())\""
    read -r _
fi
