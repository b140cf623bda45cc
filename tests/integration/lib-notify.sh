# lib-notify.sh: Teams change notifications in integration tests: a
# service account signed in through the simulator's device code flow,
# and presgwd with an HTTP listener Graph posts to.  Source after lib.sh.

PRESGWCTL=${PRESGWCTL:-$top_builddir/presgwctl}
SVC_UPN=svc1@contoso.example
SVC_ID=5e4c1a00-0000-4000-8000-5e4c00000001

need_presgwctl() {
    [ -x "$PRESGWCTL" ] || skip "$PRESGWCTL not built"
}

# sim_service_account [UPN ID]: a Teams user to sign in as.
sim_service_account() {
    sim_post /_sim/users \
        "{\"id\":\"${2:-$SVC_ID}\",\"upn\":\"${1:-$SVC_UPN}\"}" >/dev/null ||
        fail "cannot add the service account to the simulator"
}

# ctl_login NAME [UPN]: presgwctl login, approved through the simulator's
# control API while presgwctl polls; an empty NAME is left out, so the
# account is named by the sign-in.  presgwctl's output goes to
# $T/ctl-NAME.out; returns presgwctl's exit status.
ctl_login() {
    local name=$1 upn=${2:-$SVC_UPN} out=$T/ctl-$1.out pid n code
    "$PRESGWCTL" -c "$T/presgwd.conf" login ${name:+"$name"} >"$out" 2>&1 &
    pid=$!
    it_pids="$it_pids $pid"
    n=100
    until grep -q 'enter the code' "$out" 2>/dev/null; do
        if ! kill -0 "$pid" 2>/dev/null; then
            wait "$pid"
            it_forget "$pid"
            return 1
        fi
        n=$((n - 1))
        [ $n -gt 0 ] || fail "presgwctl printed no code"
        sleep 0.1
    done
    code=$(sed -n 's/.*enter the code \([A-Z0-9-]*\).*/\1/p' "$out")
    sim_post /_sim/devicecode/approve \
        "{\"user_code\":\"$code\",\"upn\":\"$upn\"}" >/dev/null ||
        fail "the simulator did not take the approval of $code"
    n=300
    while kill -0 "$pid" 2>/dev/null && [ $n -gt 0 ]; do
        sleep 0.1
        n=$((n - 1))
    done
    wait "$pid"
    n=$?
    it_forget "$pid"
    return $n
}

# start_notify_env USERS...: simulator (device codes polled every
# second), user map, a configuration with an HTTP listener and
# notify_url, and one service account "svc1" signed in.
start_notify_env() {
    need_presgwctl
    it_init
    GRAPHSIM_ARGS="--device-code-interval 1 ${GRAPHSIM_ARGS:-}" \
        start_graphsim
    write_users "$@"
    take_port
    HTTP_PORT=$PORT
    NOTIFY=1 write_config
    sim_service_account
    ctl_login svc1 ||
        fail "presgwctl login failed: $(cat "$T/ctl-svc1.out")"
}

# The simulator's subscriptions (JSON array).
sim_subs() {
    sim_get /_sim/subscriptions
}

# healthz: presgwd's /healthz status line, then its body.
healthz() {
    "$PYTHON" -c 'import sys, urllib.request, urllib.error
try:
    r = urllib.request.urlopen(sys.argv[1], timeout=5)
    print(r.status); print(r.read().decode())
except urllib.error.HTTPError as e:
    print(e.code); print(e.read().decode())' \
        "http://127.0.0.1:$HTTP_PORT/healthz"
}

# notify_post BODY [QUERY]: POSTs to presgwd's webhook as Graph would;
# prints the status, then the body.
notify_post() {
    "$PYTHON" -c 'import sys, urllib.request, urllib.error
req = urllib.request.Request(sys.argv[1], data=sys.argv[2].encode(),
    headers={"Content-Type": "application/json"})
try:
    r = urllib.request.urlopen(req, timeout=5)
    print(r.status); print(r.read().decode())
except urllib.error.HTTPError as e:
    print(e.code); print(e.read().decode())' \
        "http://127.0.0.1:$HTTP_PORT/graph/notify${2:-}" "$1"
}
