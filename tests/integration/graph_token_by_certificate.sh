#!/bin/sh
# The application token with a certificate credential: presgwd signs a
# client assertion with graph.client_key_file (certificate made here with
# openssl and registered with the simulator by --client-cert), gets its
# token, and a phone's DND is written to Teams; the simulator's request
# log shows the assertion and no secret.  With a certificate the
# application does not know, the token is refused with a clear log line,
# nothing is written, and presgwd keeps serving.
. "$(dirname "$0")/lib.sh"

need_sipp
command -v openssl >/dev/null 2>&1 || skip "openssl not found"
"$PYTHON" -c 'import cryptography' 2>/dev/null ||
    skip "$PYTHON lacks the cryptography package (python3-cryptography)"
it_init
for name in app wrong; do
    openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/$name.key" \
        -out "$T/$name.pem" -days 2 -subj "/CN=presgw-$name" \
        >"$T/openssl.out" 2>&1 || fail "openssl: $(cat "$T/openssl.out")"
done
GRAPHSIM_ARGS="--client-cert $T/app.pem" start_graphsim
write_users alice bob carol
write_config
sed -i 's|^client_secret_file = client-secret$|client_cert_file = app.pem\
client_key_file = app.key|' "$T/presgwd.conf"
grep -q '^client_cert_file = app.pem$' "$T/presgwd.conf" ||
    fail "cannot switch the configuration to the certificate"
rm -f "$T/client-secret"

seq0=$(sim_seq)
start_presgwd
tok=$(wait_for_request --after "$seq0" --method POST \
    --path "^/$TENANT/oauth2/v2.0/token\$" \
    --field grant_type=client_credentials \
    --field client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer \
    --field 'client_assertion=[redacted]' --field 'client_secret!' \
    --ok --timeout 10) ||
    fail "no token request with a client assertion was granted"
wait_for_log "graph token renewed" 5 || fail "presgwd did not log its token"
ok "the token was granted for a client assertion, no secret sent"

# A DND key press reaches Teams with that token.
sim_post "/_sim/users/$ALICE_ID/client" \
    '{"availability":"Available","activity":"Available"}' >/dev/null ||
    fail "cannot sign alice's Teams client in"
seq0=$(sim_seq)
sipp_run dnd publish-dnd alice -d 1000 || fail "the DND PUBLISH failed"
wait_for_request --after "$seq0" --method POST \
    --path "^/v1.0/users/$ALICE_ID/presence/setUserPreferredPresence\$" \
    --field availability=DoNotDisturb --ok --timeout 5 >/dev/null ||
    fail "alice's DND was not written to Teams"
"$PYTHON" -c 'import json, sys
for line in open(sys.argv[1]):
    e = json.loads(line)
    if "client_secret" in json.dumps(e.get("body")):
        sys.exit(1)' "$T/sim-requests.jsonl" ||
    fail "a request carried a client secret"
ok "presence written with the certificate's token"

# A certificate the application does not know.
stop_presgwd
[ "$PRESGWD_RC" = 0 ] || fail "presgwd did not stop cleanly"
sed -i 's|^client_cert_file = app.pem$|client_cert_file = wrong.pem|;
    s|^client_key_file = app.key$|client_key_file = wrong.key|' \
    "$T/presgwd.conf"
seq0=$(sim_seq)
start_presgwd
wait_for_request --after "$seq0" --method POST \
    --path "^/$TENANT/oauth2/v2.0/token\$" --status 401 --timeout 10 \
    >/dev/null || fail "the simulator did not refuse the wrong certificate"
wait_for_log "graph token failed status=401 error=invalid_client code=AADSTS700027 .*credential=certificate" 5 ||
    fail "no clear log line for the refused certificate"
seq0=$(sim_seq)
sipp_run dnd2 publish-dnd bob -d 1000 ||
    fail "presgwd did not serve a PUBLISH without a token"
no_request --after "$seq0" --path '^/v1.0/' --for 1 ||
    fail "presgwd wrote to Graph without a token"
presgwd_alive || fail "presgwd died"
ok "a wrong certificate is refused with a clear log line; presgwd serves on"
exit 0
