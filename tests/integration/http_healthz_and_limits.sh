#!/bin/sh
# The HTTP listener (http.listen) of a running presgwd:
#   1. GET /healthz answers 200 with the JSON status document, and the
#      request is logged;
#   2. an unknown path gets 404;
#   3. a body over http.max_body gets 413, by its Content-Length and
#      chunked, and the daemon keeps serving;
#   4. http.max_conns idle connections fill it: one more is closed at
#      once, and once they go it serves again;
#   5. SIGHUP with the same settings keeps the listener; a reload whose
#      certificate file is missing is refused and the listener stays;
#   6. SIGHUP with a certificate and key (self-signed, made here) brings
#      up HTTPS on the same port;
#   7. presgwd -n names a certificate file it cannot read.
. "$(dirname "$0")/lib.sh"

command -v curl >/dev/null 2>&1 || skip "curl not found (Debian: apt-get install curl)"
command -v openssl >/dev/null 2>&1 || skip "openssl not found (Debian: apt-get install openssl)"

MAX_CONNS=4
MAX_BODY=4096

it_init
start_graphsim
write_users alice bob
LOG_LEVEL=debug write_config
take_port
HTTP_PORT=$PORT
base_conf=$(cat "$T/presgwd.conf")

# http_section [CERT KEY]: the [http] section, plain or with TLS.
http_section() {
    printf '%s\n\n[http]\nlisten = 127.0.0.1:%s\nmax_body = %s\n' \
        "$base_conf" "$HTTP_PORT" "$MAX_BODY"
    printf 'max_conns = %s\ntimeout = 30\n' "$MAX_CONNS"
    if [ $# -eq 2 ]; then
        printf 'cert_file = %s\nkey_file = %s\n' "$1" "$2"
    fi
}
http_section >"$T/presgwd.conf"
start_presgwd
log_has "http listening listen=127.0.0.1:$HTTP_PORT port=$HTTP_PORT tls=no" ||
    fail "presgwd does not say it serves HTTP on port $HTTP_PORT"
URL=http://127.0.0.1:$HTTP_PORT

# code URL [curl options]: the status curl got ("000": no answer).
code() {
    curl -sS -o "$T/body" -w '%{http_code}' --max-time 10 "$@" 2>"$T/curl.err"
}

# healthz_ok URL [curl options]: 200 and every field of the document.
healthz_ok() {
    [ "$(code "$@")" = 200 ] || return 1
    "$PYTHON" - "$T/body" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
assert d["status"] == "ok", d
assert isinstance(d["uptime"], int) and d["uptime"] >= 0, d
assert isinstance(d["version"], str) and d["version"], d
assert isinstance(d["sip"]["subscriptions"], int), d
assert isinstance(d["sip"]["publications"], int), d
assert isinstance(d["graph"]["pending"], int), d
assert d["store"]["ok"] is True, d
PY
}

# 1. /healthz.
log_mark
healthz_ok "$URL/healthz" || fail "GET /healthz: $(cat "$T/body" "$T/curl.err")"
wait_for_log "debug http request method=GET path=/healthz status=200 peer=127.0.0.1:[0-9]+" 5 ||
    fail "the /healthz request was not logged"
[ "$(code -X POST "$URL/healthz")" = 405 ] || fail "POST /healthz was not 405"
ok "/healthz answers 200 with status, uptime, version, sip, graph, store"

# 2. Unknown path.
log_mark
[ "$(code "$URL/no/such/path")" = 404 ] || fail "an unknown path did not get 404"
wait_for_log "info http request method=GET path=/no/such/path status=404 .*reason=no-route" 5 ||
    fail "the 404 was not logged at info"
ok "an unknown path gets 404"

# 3. Bodies over max_body.
head -c $((MAX_BODY + 1)) /dev/zero | tr '\0' a >"$T/big"
head -c "$MAX_BODY" /dev/zero | tr '\0' a >"$T/fits"
log_mark
[ "$(code --data-binary @"$T/big" "$URL/healthz")" = 413 ] ||
    fail "a body one byte over max_body was not refused with 413"
[ "$(code -H 'Transfer-Encoding: chunked' --data-binary @"$T/big" \
    "$URL/healthz")" = 413 ] ||
    fail "a chunked body over max_body was not refused with 413"
[ "$(code --data-binary @"$T/fits" "$URL/healthz")" = 405 ] ||
    fail "a body of exactly max_body did not reach the handler"
wait_for_log "info http request method=POST path=/healthz status=413 .*reason=body-too-large" 5 ||
    fail "the 413 was not logged at info"
healthz_ok "$URL/healthz" || fail "presgwd stopped serving after a 413"
ok "a body over max_body gets 413, and presgwd keeps serving"

# 4. max_conns: the connections are accepted in the order they came, so
# the idle ones hold every place when the last one arrives.
log_mark
"$PYTHON" - "$HTTP_PORT" "$MAX_CONNS" <<'PY' || fail "the connection limit was not enforced"
import socket, sys
port, n = int(sys.argv[1]), int(sys.argv[2])
idle = [socket.create_connection(("127.0.0.1", port)) for _ in range(n)]
extra = socket.create_connection(("127.0.0.1", port))
extra.settimeout(10)
try:
    extra.sendall(b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
    got = extra.recv(64)
except (ConnectionResetError, BrokenPipeError):
    got = b""
except socket.timeout:
    sys.exit("connection %d was neither served nor closed" % (n + 1))
if got:
    sys.exit("connection %d was served: %r" % (n + 1, got))
PY
wait_for_log "http refused reason=connection-limit max_conns=$MAX_CONNS peer=127.0.0.1:" 5 ||
    fail "the refused connection was not logged"
n=50
until healthz_ok "$URL/healthz"; do
    n=$((n - 1))
    [ $n -gt 0 ] || fail "no /healthz after the idle connections closed"
    sleep 0.1
done
ok "connection $((MAX_CONNS + 1)) is closed while $MAX_CONNS are open"

# 5. Reloads that keep the listener.
log_mark
kill -HUP "$PRESGWD_PID" || fail "cannot signal presgwd"
wait_for_log "gateway reload path=" 5 || fail "no reload on SIGHUP"
healthz_ok "$URL/healthz" || fail "/healthz after SIGHUP"
log_has "http (listening|stopped)" &&
    fail "SIGHUP with the same settings replaced the listener"
http_section "$T/missing-cert.pem" "$T/missing-key.pem" >"$T/presgwd.conf"
log_mark
kill -HUP "$PRESGWD_PID" || fail "cannot signal presgwd"
wait_for_log "gateway reload-failed keeping=old-config" 5 ||
    fail "a reload with a missing certificate was not refused"
log_has "$T/missing-cert.pem: cannot read http.cert_file" ||
    fail "the refused reload does not name the certificate file"
healthz_ok "$URL/healthz" || fail "/healthz after a refused reload"
ok "SIGHUP keeps the listener; a reload with a missing certificate is refused"

# 6. HTTPS on the same port, by SIGHUP.
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 \
    -addext subjectAltName=IP:127.0.0.1 -keyout "$T/key.pem" \
    -out "$T/cert.pem" >"$T/openssl.out" 2>&1 ||
    fail "openssl could not make a certificate: $(cat "$T/openssl.out")"
chmod 600 "$T/key.pem"
http_section "$T/cert.pem" "$T/key.pem" >"$T/presgwd.conf"
log_mark
kill -HUP "$PRESGWD_PID" || fail "cannot signal presgwd"
wait_for_log "http listening listen=127.0.0.1:$HTTP_PORT port=$HTTP_PORT tls=yes" 5 ||
    fail "SIGHUP did not bring up HTTPS"
wait_for_log "http stopped listen=127.0.0.1:$HTTP_PORT" 5 ||
    fail "the plain listener was not closed"
healthz_ok --cacert "$T/cert.pem" "https://127.0.0.1:$HTTP_PORT/healthz" ||
    fail "GET /healthz over HTTPS: $(cat "$T/body" "$T/curl.err")"
[ "$(code "$URL/healthz")" = 000 ] || fail "plain HTTP still answered"
presgwd_alive || fail "presgwd died"
ok "HTTPS with the certificate and key from files, after SIGHUP"

# 7. presgwd -n and an unreadable certificate.
http_section "$T/missing-cert.pem" "$T/key.pem" >"$T/bad.conf"
if "$PRESGWD" -n -c "$T/bad.conf" >"$T/check.out" 2>&1; then
    fail "presgwd -n accepted a missing certificate file"
fi
grep -q "$T/missing-cert.pem: cannot read http.cert_file" "$T/check.out" ||
    fail "presgwd -n does not name the file: $(cat "$T/check.out")"
"$PRESGWD" -n -c "$T/presgwd.conf" >"$T/check.out" 2>&1 ||
    fail "presgwd -n refused a good [http] section: $(cat "$T/check.out")"
ok "presgwd -n names a certificate file it cannot read"

stop_presgwd TERM
[ "$PRESGWD_RC" = 0 ] || fail "presgwd exited with $PRESGWD_RC"
log_has "http stopped listen=127.0.0.1:$HTTP_PORT" ||
    fail "the listener was not closed at stop"
exit 0
