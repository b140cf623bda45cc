#!/bin/sh
# Slow clients cannot lock the HTTP listener out (http.max_conns 8):
#   1. http.max_conns_per_ip 3: a fourth connection from 127.0.0.2 is
#      closed at once, while /healthz from 127.0.0.1 is served;
#   2. http.request_timeout 2: a client that sends a header line every
#      half second (never idle for http.timeout 30) is closed before it
#      has sent its request;
#   3. ten such clients from one address leave /healthz and the webhook
#      to the others; their refusals are logged in one line and a
#      summary, not one line each.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-notify.sh"

POLL_INTERVAL=0 start_notify_env alice bob
base_conf=$(cat "$T/presgwd.conf")

# conf REQUEST_TIMEOUT: the configuration with the limits above.
conf() {
    printf '%s\nmax_conns = 8\nmax_conns_per_ip = 3\ntimeout = 30\n' \
        "$base_conf"
    printf 'request_timeout = %s\n' "$1"
}
conf 3600 >"$T/presgwd.conf"
start_presgwd
log_has "http listening .* max_conns=8 max_conns_per_ip=3 request_timeout=3600" ||
    fail "presgwd does not say its connection limits"

# The client: slow.py SOURCE COUNT LINES. COUNT connections from SOURCE,
# each sending "GET /healthz" and then LINES header lines, one every half
# second, all at once.  Prints per connection "served", "closed" (the
# server closed it before the request was whole) or "refused" (closed
# before a byte came back, right after the connect).
cat >"$T/slow.py" <<'PY'
import socket, sys, time
port, src, count, lines = (int(sys.argv[1]), sys.argv[2],
                           int(sys.argv[3]), int(sys.argv[4]))
conns = []
for _ in range(count):
    s = socket.create_connection(("127.0.0.1", port), source_address=(src, 0))
    s.sendall(b"GET /healthz HTTP/1.1\r\nHost: t\r\n")
    conns.append(s)
state = ["open"] * count
for i in range(lines + 1):
    if "open" not in state:
        break
    time.sleep(0.5)
    for k, s in enumerate(conns):
        if state[k] != "open":
            continue
        try:
            s.sendall(b"\r\n" if i == lines else b"X-Slow: %d\r\n" % i)
        except OSError:
            state[k] = "refused" if i == 0 else "closed"
            continue
        s.setblocking(False)
        try:
            got = s.recv(64)
            state[k] = ("served" if got else
                        "refused" if i == 0 else "closed")
        except BlockingIOError:
            pass
        except OSError:
            state[k] = "refused" if i == 0 else "closed"
        s.setblocking(True)
for k, s in enumerate(conns):
    if state[k] == "open":
        s.settimeout(10)
        try:
            state[k] = "served" if s.recv(64) else "closed"
        except OSError:
            state[k] = "closed"
print(" ".join(state))
PY

# healthz_from SOURCE: the status of GET /healthz from SOURCE.
healthz_from() {
    "$PYTHON" - "$HTTP_PORT" "$1" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])),
                             source_address=(sys.argv[2], 0), timeout=10)
s.sendall(b"GET /healthz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
print(s.recv(64).split(b" ")[1].decode())
PY
}

# 1. Four from 127.0.0.2, accepted in the order they came.
log_mark
"$PYTHON" "$T/slow.py" "$HTTP_PORT" 127.0.0.2 4 8 >"$T/four.out" &
four=$!
it_pids="$it_pids $four"
wait_for_log "http refused reason=per-address-limit max_conns_per_ip=3 peer=127.0.0.2:" 5 ||
    fail "the refused connection was not logged"
[ "$(healthz_from 127.0.0.1)" = 200 ] ||
    fail "/healthz from 127.0.0.1 was not served"
wait "$four" || fail "the slow clients failed"
it_forget "$four"
[ "$(cat "$T/four.out")" = "served served served refused" ] ||
    fail "not three served and the fourth refused: $(cat "$T/four.out")"
ok "a fourth connection from one address is refused; the others served"

# 2. http.request_timeout 2 by SIGHUP; a client 20 s slow.
conf 2 >"$T/presgwd.conf"
log_mark
kill -HUP "$PRESGWD_PID" || fail "cannot signal presgwd"
wait_for_log "http listening .* request_timeout=2$" 5 ||
    fail "SIGHUP did not bring in request_timeout 2"
"$PYTHON" "$T/slow.py" "$HTTP_PORT" 127.0.0.3 1 40 >"$T/slow.out" ||
    fail "the slow client failed"
[ "$(cat "$T/slow.out")" = closed ] ||
    fail "a client slower than request_timeout was not closed: $(cat "$T/slow.out")"
wait_for_log "http closed reason=request-timeout request_timeout=2 peer=127.0.0.3:" 5 ||
    fail "the closed client was not logged"
ok "a request not whole within request_timeout is closed"

# 3. Ten slow clients from one address.
log_mark
"$PYTHON" "$T/slow.py" "$HTTP_PORT" 127.0.0.4 10 40 >"$T/ten.out" &
ten=$!
it_pids="$it_pids $ten"
wait_for_log "http refused reason=per-address-limit|http refused-summary" 5 ||
    fail "the ten slow clients were not refused"
[ "$(healthz_from 127.0.0.1)" = 200 ] ||
    fail "/healthz was not served while ten slow clients tried"
out=$(notify_post '{"value":[]}')
[ "$(printf '%s\n' "$out" | sed -n 1p)" = 202 ] ||
    fail "the webhook was not served while ten slow clients tried: $out"
wait "$ten"
it_forget "$ten"
[ "$(tr ' ' '\n' <"$T/ten.out" | grep -c refused)" = 7 ] ||
    fail "not seven of the ten were refused: $(cat "$T/ten.out")"
[ "$(tr ' ' '\n' <"$T/ten.out" | grep -c closed)" = 3 ] ||
    fail "the three let in were not closed: $(cat "$T/ten.out")"
wait_for_log "http refused-summary listen=127.0.0.1:$HTTP_PORT seconds=10 .*per-address-limit=([7-9]|1[0-9])" 15 ||
    fail "no summary of the refused connections"
[ "$(log_since | grep -c 'http refused reason=per-address-limit')" -le 1 ] ||
    fail "the refused connections were logged one by one"
[ "$(log_since | grep -c 'http closed reason=request-timeout')" -le 1 ] ||
    fail "the closed connections were logged one by one"
presgwd_alive || fail "presgwd died"
ok "ten slow clients from one address leave the listener to the others"
exit 0
