# lib.sh: shared code of the presgw integration tests (POSIX sh).
#
# A test sources this file, then typically:
#
#   it_init                 temp dir, cleanup trap, free ports
#   need_sipp               skip (exit 77) when sipp is missing
#   start_graphsim          the Graph simulator, on a free port
#   write_users alice bob   the user map
#   write_config            presgwd.conf (knobs: CALL_END, POLL_INTERVAL, ...)
#   start_presgwd           presgwd -f, waits for "gateway started"
#   sipp_run NAME SCENARIO USER [sipp options]
#   wait_for_log PATTERN [SECONDS]
#   wait_for_request [ittool.py filters]
#
# Exit status: 0 pass, 1 fail, 77 skip.  Everything listens on 127.0.0.1
# only, on ports checked free, so tests may run in parallel.  Every process
# a test starts is ended by PID when the test exits.

set -u

it_name=$(basename "$0" .sh)

if [ -z "${top_srcdir:-}" ]; then
    top_srcdir=$(cd "$(dirname "$0")/../.." && pwd)
fi
if [ -z "${top_builddir:-}" ]; then
    if [ -x "$PWD/presgwd" ]; then
        top_builddir=$PWD
    else
        top_builddir=$top_srcdir
    fi
fi

# Debian's own Python: the simulator needs its python3-cryptography.
if [ -z "${PYTHON:-}" ]; then
    if [ -x /usr/bin/python3 ]; then PYTHON=/usr/bin/python3; else PYTHON=python3; fi
fi
PRESGWD=${PRESGWD:-$top_builddir/presgwd}
SIPP=${SIPP:-sipp}
BARESIP=${BARESIP:-baresip}
GRAPHSIM=$top_srcdir/tests/graphsim/graphsim.py
ITTOOL=$top_srcdir/tests/integration/ittool.py
SIPP_SCENARIOS=$top_srcdir/tests/sipp

# The tenant, the application and the users both sides agree on.
TENANT=00000000-0000-4000-8000-0000000d3e00
CLIENT_ID=11111111-2222-4333-8444-555555555555
CLIENT_SECRET=it-secret-$$
DOMAIN=example.com
ALICE_ID=4a5d2c1e-0b7f-4c1a-9e3d-a11ce0000001
BOB_ID=4a5d2c1e-0b7f-4c1a-9e3d-b0b000000002
CAROL_ID=4a5d2c1e-0b7f-4c1a-9e3d-ca4010000003
# Known to Graph, left out of the user map unless a test adds him.
DAVE_ID=4a5d2c1e-0b7f-4c1a-9e3d-da7e00000004

T=
it_pids=
IT_NPORT=0
IT_MARK=0
PRESGWD_PID=
SIM_PID=
SIM_PORT=
SIM_URL=
SIP_PORT=
SIPP_PID=
SIPP_LAST=

note() {
    printf '%s: %s\n' "$it_name" "$*"
}

# The Entra object id of a user name.
user_id() {
    case $1 in
    alice) echo "$ALICE_ID" ;;
    bob)   echo "$BOB_ID" ;;
    carol) echo "$CAROL_ID" ;;
    dave)  echo "$DAVE_ID" ;;
    *)     printf '00000000-0000-4000-8000-%s\n' "$(printf '%s' "$1" |
               od -An -tx1 | tr -d ' \n' | sed 's/$/000000000000/' |
               cut -c1-12)" ;;
    esac
}

# ---------------------------------------------------------------------------
# Outcome.

it_dump() {
    local f
    [ -n "$T" ] && [ -d "$T" ] || return 0
    if [ -s "$T/presgwd.log" ]; then
        echo "----- presgwd log (last 60 lines, Graph polls left out) -----"
        grep -Ev ' graph poll(-done)? ' "$T/presgwd.log" | tail -n 60
    fi
    if [ -n "$SIPP_LAST" ]; then
        for f in "$T/sipp-$SIPP_LAST.err" "$T/sipp-$SIPP_LAST.log"; do
            [ -s "$f" ] || continue
            echo "----- $(basename "$f") (last 40 lines) -----"
            tail -n 40 "$f"
        done
        f=$T/sipp-$SIPP_LAST.msg
        if [ -s "$f" ]; then
            echo "----- $(basename "$f") (last 80 lines) -----"
            tail -n 80 "$f"
        fi
    fi
    if [ -s "$T/graphsim.out" ]; then
        echo "----- graphsim output (last 20 lines) -----"
        tail -n 20 "$T/graphsim.out"
    fi
    echo "-----"
}

fail() {
    note "FAIL: $*"
    it_dump
    exit 1
}

skip() {
    note "SKIP: $*"
    exit 77
}

ok() {
    note "ok: $*"
}

it_cleanup() {
    local rc=$? pid n
    set +e
    trap - EXIT INT TERM HUP
    for pid in $it_pids; do
        kill -TERM "$pid" 2>/dev/null
    done
    for pid in $it_pids; do
        n=80
        while kill -0 "$pid" 2>/dev/null && [ $n -gt 0 ]; do
            sleep 0.1
            n=$((n - 1))
        done
        if kill -0 "$pid" 2>/dev/null; then
            note "pid $pid still running after SIGTERM; sending SIGKILL"
            kill -KILL "$pid" 2>/dev/null
        fi
    done
    cd / || :
    if [ -n "$T" ] && [ -d "$T" ]; then
        if [ -n "${IT_KEEP:-}" ]; then
            note "kept $T"
        else
            rm -rf "$T"
        fi
    fi
    exit "$rc"
}

# Forgets pid once the test has waited for it itself.
it_forget() {
    local pid rest=
    for pid in $it_pids; do
        [ "$pid" = "$1" ] || rest="$rest $pid"
    done
    it_pids=$rest
}

# ---------------------------------------------------------------------------
# Set-up.

need_python() {
    command -v "$PYTHON" >/dev/null 2>&1 || skip "$PYTHON not found"
}

need_presgwd() {
    [ -x "$PRESGWD" ] || skip "$PRESGWD not built"
}

need_sipp() {
    command -v "$SIPP" >/dev/null 2>&1 ||
        skip "sipp not found (Debian: apt-get install sip-tester)"
}

need_baresip() {
    command -v "$BARESIP" >/dev/null 2>&1 ||
        skip "baresip not found (Debian: apt-get install baresip-core)"
}

# A temp dir as the working directory, the trap, and presgwd's SIP port.
it_init() {
    need_python
    need_presgwd
    T=$(mktemp -d "${TMPDIR:-/tmp}/presgw-it.XXXXXX") ||
        fail "cannot make a temp dir"
    trap it_cleanup EXIT
    trap 'exit 1' INT TERM HUP
    cd "$T" || fail "cannot enter $T"
    take_port
    SIP_PORT=$PORT
    unset PRESGW_CLIENT_SECRET
}

# Sets PORT to a block of 8 ports, from PORT up, that is free right now.
# Each block is picked just before its use, so that other tests running
# in parallel cannot take it in between.
take_port() {
    IT_NPORT=$((IT_NPORT + 1))
    PORT=$("$PYTHON" "$ITTOOL" ports 1 --seed $(($$ * 64 + IT_NPORT))) ||
        fail "no free ports"
}

# ---------------------------------------------------------------------------
# Graph simulator.

start_graphsim() {
    local n
    {
        echo "# entra-object-id,upn"
        for u in alice bob carol dave; do
            echo "$(user_id $u),$u@contoso.example"
        done
    } >"$T/sim-users.csv"
    rm -f "$T/sim.port"
    "$PYTHON" "$GRAPHSIM" --port 0 --port-file "$T/sim.port" \
        --tenant "$TENANT" --client-id "$CLIENT_ID" \
        --client-secret "$CLIENT_SECRET" --users "$T/sim-users.csv" \
        --log "$T/sim-requests.jsonl" ${GRAPHSIM_ARGS:-} \
        >"$T/graphsim.out" 2>&1 &
    SIM_PID=$!
    it_pids="$it_pids $SIM_PID"
    n=100
    until [ -s "$T/sim.port" ] &&
        grep -q 'graphsim listening' "$T/graphsim.out"; do
        kill -0 "$SIM_PID" 2>/dev/null || fail "graphsim exited at start-up"
        n=$((n - 1))
        [ $n -gt 0 ] || fail "graphsim did not start within 10 s"
        sleep 0.1
    done
    SIM_PORT=$(cat "$T/sim.port")
    SIM_URL=http://127.0.0.1:$SIM_PORT
    export SIM_URL
}

sim_get() {
    "$PYTHON" "$ITTOOL" get "$1"
}

sim_post() {
    local body='{}'
    [ $# -lt 2 ] || body=$2
    "$PYTHON" "$ITTOOL" post "$1" "$body"
}

sim_delete() {
    "$PYTHON" "$ITTOOL" delete "$1"
}

# The newest simulator request number; later waits pass --after it.
sim_seq() {
    "$PYTHON" "$ITTOOL" last-seq
}

# wait_for_request [--method M] [--path RE] [--field K=V]... [--after N]
#   [--ok] [--status N] [--timeout S]: prints the matching request (JSON)
#   or returns 1.
wait_for_request() {
    "$PYTHON" "$ITTOOL" wait-request "$@"
}

# no_request [filters] [--for S]: 0 if nothing matching arrives in S s.
no_request() {
    "$PYTHON" "$ITTOOL" no-request "$@"
}

# ---------------------------------------------------------------------------
# presgwd.

# write_users NAME...: the user map, one mapped user per name.
write_users() {
    local u
    {
        echo "# SIP address of record, Entra object id, user principal name"
        for u in "$@"; do
            echo "sip:$u@$DOMAIN, $(user_id "$u"), $u@contoso.example"
        done
    } >"$T/users.csv"
}

# write_config: presgwd.conf in $T.  Knobs (environment or variables):
# CALL_END, POLL_INTERVAL, LOG_LEVEL, MIN_EXPIRES, AWAY_MODE, ON_STOP,
# NOTIFY_RETRIES, NOTIFY_TIMEOUT.
write_config() {
    printf '%s\n' "$CLIENT_SECRET" >"$T/client-secret"
    chmod 600 "$T/client-secret"
    cat >"$T/presgwd.conf" <<EOF
# written by $it_name
[sip]
listen = sip:127.0.0.1:$SIP_PORT
domain = $DOMAIN
aliases = 127.0.0.1 localhost
min_expires = ${MIN_EXPIRES:-60}
max_expires = 3600
on_stop = ${ON_STOP:-keep}
notify_retries = ${NOTIFY_RETRIES:-3}
notify_timeout = ${NOTIFY_TIMEOUT:-32}

[graph]
login_url = http://127.0.0.1:$SIM_PORT
graph_url = http://127.0.0.1:$SIM_PORT/v1.0
tenant_id = $TENANT
client_id = $CLIENT_ID
client_secret_file = client-secret
call_end = ${CALL_END:-available}
away_mode = ${AWAY_MODE:-preferred}
poll_interval = ${POLL_INTERVAL:-1}
timeout = 5

[store]
path = presgw.db

[users]
map = users.csv

[log]
level = ${LOG_LEVEL:-info}
EOF
    # Change notifications: an HTTP listener and the URL Graph posts to.
    if [ -n "${HTTP_PORT:-}" ]; then
        printf '[http]\nlisten = 127.0.0.1:%s\n' "$HTTP_PORT" \
            >>"$T/presgwd.conf"
    fi
    if [ -n "${NOTIFY:-}" ]; then
        sed -i "s|^timeout = 5\$|timeout = 5\\
notify_url = http://127.0.0.1:$HTTP_PORT/graph/notify\\
lifecycle_url = http://127.0.0.1:$HTTP_PORT/graph/lifecycle\\
sub_lifetime = ${SUB_LIFETIME:-3300}\\
reconcile_interval = ${RECONCILE:-600}\\
cloud = ${CLOUD:-global}|" "$T/presgwd.conf"
    fi
    # A lists file written by the test becomes users.lists.
    if [ -f "$T/lists.csv" ]; then
        sed -i 's/^map = users.csv$/map = users.csv\nlists = lists.csv/' \
            "$T/presgwd.conf"
    fi
}

# Remembers how long the log is; wait_for_log looks only after it.
log_mark() {
    if [ -f "$T/presgwd.log" ]; then
        IT_MARK=$(wc -l <"$T/presgwd.log")
    else
        IT_MARK=0
    fi
}

# The log lines after the last log_mark.
log_since() {
    tail -n "+$((IT_MARK + 1))" "$T/presgwd.log" 2>/dev/null
}

# wait_for_log ERE [SECONDS]: 0 once a line after the mark matches.
wait_for_log() {
    local n=$(( ${2:-10} * 10 ))
    while [ $n -gt 0 ]; do
        log_since | grep -Eq -- "$1" && return 0
        n=$((n - 1))
        sleep 0.1
    done
    log_since | grep -Eq -- "$1"
}

# log_has ERE: a line after the mark matches, now.
log_has() {
    log_since | grep -Eq -- "$1"
}

presgwd_alive() {
    [ -n "$PRESGWD_PID" ] && kill -0 "$PRESGWD_PID" 2>/dev/null
}

start_presgwd() {
    local n=100
    touch "$T/presgwd.log"
    log_mark
    "$PRESGWD" -c "$T/presgwd.conf" -f >>"$T/presgwd.log" 2>&1 &
    PRESGWD_PID=$!
    it_pids="$it_pids $PRESGWD_PID"
    until log_has 'gateway started'; do
        if ! presgwd_alive; then
            it_port_lost && { start_presgwd; return; }
            fail "presgwd exited during start-up"
        fi
        n=$((n - 1))
        [ $n -gt 0 ] || fail "presgwd did not log 'gateway started' within 10 s"
        sleep 0.1
    done
    log_has "sip listening url=sip:127.0.0.1:$SIP_PORT" ||
        fail "presgwd does not say it listens on port $SIP_PORT"
    IT_PORT_USED=1
}

# The SIP port is picked free at it_init, but a test may do much before
# presgwd first binds it, and a test running beside it may take it
# meanwhile.  Before presgwd's first start only, such a port is picked
# anew (once) and the configuration follows; 0 when that was done.
it_port_lost() {
    local old=$SIP_PORT
    [ -z "${IT_PORT_USED:-}" ] &&
        log_since | grep -q 'bind(127.0.0.1:'"$old"'.*Address already in use' ||
        return 1
    IT_PORT_USED=1
    take_port
    SIP_PORT=$PORT
    sed -i "s|sip:127.0.0.1:$old\b|sip:127.0.0.1:$SIP_PORT|" "$T/presgwd.conf"
    note "SIP port $old was taken by another process; using $SIP_PORT"
    return 0
}

# stop_presgwd [SIGNAL] [SECONDS]: signals presgwd, waits for it to exit
# and sets PRESGWD_RC (124 if it did not exit in time).
stop_presgwd() {
    local sig=${1:-TERM} n=$(( ${2:-10} * 10 ))
    PRESGWD_RC=
    kill -"$sig" "$PRESGWD_PID" 2>/dev/null || { PRESGWD_RC=255; return; }
    while presgwd_alive && [ $n -gt 0 ]; do
        sleep 0.1
        n=$((n - 1))
    done
    if presgwd_alive; then
        PRESGWD_RC=124
        return
    fi
    wait "$PRESGWD_PID"
    PRESGWD_RC=$?
    it_forget "$PRESGWD_PID"
}

# Everything up to a running presgwd with alice, bob and carol mapped.
start_all() {
    it_init
    start_graphsim
    write_users alice bob carol
    write_config
    start_presgwd
}

# ---------------------------------------------------------------------------
# sipp.  Each run gets its own ports and its own files in $T:
# sipp-NAME.msg (messages), .err (unexpected messages), .log (<log>
# actions), .out (the statistics screen).

# sipp_start NAME SCENARIO USER [sipp options]: one call, in the
# background; SIPP_PID is its PID.  SIPP_TRANSPORT (u1, t1) picks UDP or
# TCP, SIPP_TIMEOUT (s) and SIPP_RECV_TIMEOUT (ms) bound the run.
sipp_start() {
    local name=$1 sc=$2 user=$3
    shift 3
    take_port
    SIPP_LAST=$name
    "$SIPP" "127.0.0.1:$SIP_PORT" -sf "$SIPP_SCENARIOS/$sc.xml" -s "$user" \
        -i 127.0.0.1 -bind_local -t "${SIPP_TRANSPORT:-u1}" -p "$PORT" \
        -cp $((PORT + 1)) -mp $((PORT + 4)) -m 1 -nostdin \
        -timeout "${SIPP_TIMEOUT:-20}s" -timeout_error \
        -recv_timeout "${SIPP_RECV_TIMEOUT:-5000}" \
        -trace_msg -message_file "$T/sipp-$name.msg" \
        -trace_err -error_file "$T/sipp-$name.err" \
        -trace_logs -log_file "$T/sipp-$name.log" \
        "$@" >"$T/sipp-$name.out" 2>&1 </dev/null &
    SIPP_PID=$!
    it_pids="$it_pids $SIPP_PID"
}

# sipp_wait PID [SECONDS]: sipp's exit status (124 if it had to be killed).
sipp_wait() {
    local pid=$1 n=$(( ${2:-30} * 10 )) rc
    while kill -0 "$pid" 2>/dev/null && [ $n -gt 0 ]; do
        sleep 0.1
        n=$((n - 1))
    done
    if kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
        it_forget "$pid"
        return 124
    fi
    wait "$pid"
    rc=$?
    it_forget "$pid"
    return $rc
}

# sipp_run NAME SCENARIO USER [sipp options]: one call in the foreground;
# returns sipp's exit status (0: the call passed).
sipp_run() {
    sipp_start "$@"
    sipp_wait "$SIPP_PID" $(( ${SIPP_TIMEOUT:-20} + 10 ))
}

# The <log> lines a sipp run wrote.
sipp_log() {
    cat "$T/sipp-$1.log" 2>/dev/null
}
