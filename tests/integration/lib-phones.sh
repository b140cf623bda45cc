# lib-phones.sh: what the desk-phone tests share, on top of lib.sh (source
# lib.sh first):
#
#   wait_for_log_order SECONDS ERE...   log lines in this order, after the mark
#   sim_count [--after N] [--method M] [--path ERE] [--field K=V]...
#                                        how many Graph requests matched
#   sipp_count NAME ERE                 how many of a sipp run's log lines match
#   sipp_lines NAME ERE                 those lines
#   need_kamailio / start_kamailio TEMPLATE / stop_kamailio
#                                        a Kamailio proxy on 127.0.0.1

KAMAILIO=${KAMAILIO:-kamailio}
KAM_PID=
KAM_PORT=

# in_order ERE...: 0 if stdin has lines matching each ERE, in this order.
in_order() {
    IT_ORDER=$(printf '%s\n' "$@") awk '
        BEGIN { n = split(ENVIRON["IT_ORDER"], p, "\n"); i = 1 }
        i <= n && $0 ~ p[i] { i++ }
        END { exit !(i > n) }'
}

# wait_for_log_order SECONDS ERE...: 0 once lines after the mark match the
# EREs one after the other.
wait_for_log_order() {
    local n=$(( $1 * 10 ))
    shift
    while [ $n -gt 0 ]; do
        log_since | in_order "$@" && return 0
        n=$((n - 1))
        sleep 0.1
    done
    log_since | in_order "$@"
}

# sim_count [--after N] [--method M] [--path ERE] [--field NAME=VALUE]...:
# prints how many answered Graph requests in the simulator's log match.
sim_count() {
    "$PYTHON" - "$T/sim-requests.jsonl" "$@" <<'EOF'
import json, re, sys
path, args = sys.argv[1], sys.argv[2:]
after, method, pattern, fields = 0, None, None, []
while args:
    opt, val, args = args[0], args[1], args[2:]
    if opt == "--after":
        after = int(val)
    elif opt == "--method":
        method = val
    elif opt == "--path":
        pattern = val
    elif opt == "--field":
        fields.append(val.partition("="))
    else:
        sys.exit("sim_count: unknown option " + opt)
count = 0
with open(path) as f:
    for line in f:
        e = json.loads(line)
        body = e.get("body") if isinstance(e.get("body"), dict) else {}
        if e.get("seq", 0) <= after:
            continue
        if method and e.get("method") != method:
            continue
        if pattern and not re.search(pattern, e.get("path") or ""):
            continue
        if any(str(body.get(k)) != v for k, _, v in fields):
            continue
        count += 1
print(count)
EOF
}

sipp_count() {
    sipp_log "$1" | grep -cE -- "$2"
}

sipp_lines() {
    sipp_log "$1" | grep -E -- "$2"
}

# ---------------------------------------------------------------------------
# Kamailio (Debian package kamailio), on loopback only, in the foreground
# (-DD), logging to $T/kamailio.log, with its runtime directory and PID file
# in $T and no control socket.

need_kamailio() {
    if ! command -v "$KAMAILIO" >/dev/null 2>&1; then
        [ -x /usr/sbin/kamailio ] ||
            skip "kamailio not found (Debian: apt-get install kamailio)"
        KAMAILIO=/usr/sbin/kamailio
    fi
}

# start_kamailio TEMPLATE: fills in the template's @KAM_PORT@, @PRESGW_URI@
# and @SNIPPET@ (sip-configs/kamailio-presgw.cfg), checks the result with
# kamailio -c and starts it; waits for the "proxy ready" line its first
# worker logs.
start_kamailio() {
    local n=100
    take_port
    KAM_PORT=$PORT
    mkdir -p "$T/kamailio-run" || fail "cannot make $T/kamailio-run"
    sed -e "s|@KAM_PORT@|$KAM_PORT|g" \
        -e "s|@PRESGW_URI@|sip:127.0.0.1:$SIP_PORT|g" \
        -e "s|@SNIPPET@|$top_srcdir/sip-configs/kamailio-presgw.cfg|g" \
        "$1" >"$T/kamailio.cfg" || fail "cannot write kamailio.cfg"
    "$KAMAILIO" -c -f "$T/kamailio.cfg" >"$T/kamailio-check.out" 2>&1 || {
        tail -n 20 "$T/kamailio-check.out"
        fail "kamailio -c refuses $T/kamailio.cfg"
    }
    "$KAMAILIO" -f "$T/kamailio.cfg" -DD -E -Y "$T/kamailio-run" \
        -P "$T/kamailio.pid" -m 64 -M 8 >"$T/kamailio.log" 2>&1 </dev/null &
    KAM_PID=$!
    it_pids="$it_pids $KAM_PID"
    until grep -q 'proxy ready' "$T/kamailio.log"; do
        kill -0 "$KAM_PID" 2>/dev/null || {
            tail -n 20 "$T/kamailio.log"
            fail "kamailio exited at start-up"
        }
        n=$((n - 1))
        [ $n -gt 0 ] || fail "kamailio did not get ready within 10 s"
        sleep 0.1
    done
}

# kamailio_children: the PIDs whose parent is Kamailio's main process.
kamailio_children() {
    local d ppid
    for d in /proc/[0-9]*; do
        ppid=$(sed -n 's/^[0-9]* ([^)]*) [A-Za-z] \([0-9]*\).*/\1/p' \
            "$d/stat" 2>/dev/null)
        [ "$ppid" = "$KAM_PID" ] && printf '%s\n' "${d#/proc/}"
    done
}

# alive PID: the process runs (a zombie waiting to be reaped does not).
alive() {
    [ -r "/proc/$1/stat" ] &&
        ! sed -n 's/^[0-9]* ([^)]*) \([A-Za-z]\).*/\1/p' "/proc/$1/stat" |
            grep -q '[ZX]'
}

# stop_kamailio: SIGTERM to Kamailio's main process, which stops its
# workers; fails unless it and every worker it had are gone within 10 s.
stop_kamailio() {
    local kids pid n=100
    kids=$(kamailio_children)
    kill -TERM "$KAM_PID" 2>/dev/null || fail "kamailio was not running"
    while kill -0 "$KAM_PID" 2>/dev/null && [ $n -gt 0 ]; do
        sleep 0.1
        n=$((n - 1))
    done
    kill -0 "$KAM_PID" 2>/dev/null && fail "kamailio did not stop on SIGTERM"
    wait "$KAM_PID" 2>/dev/null
    it_forget "$KAM_PID"
    for pid in $kids; do
        n=50
        while alive "$pid" && [ $n -gt 0 ]; do
            sleep 0.1
            n=$((n - 1))
        done
        alive "$pid" && fail "kamailio worker $pid outlived its parent"
    done
    return 0
}
