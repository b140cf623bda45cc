#!/bin/sh
# Rich change notifications, with polling off: presgwd subscribes with
# its certificate (made here with openssl), fetches the simulator's
# signing keys for the validation tokens, and bob's Do not disturb
# reaches the phone from the notification's encrypted content, with no
# read of Graph.  Payloads made here and posted to the webhook with the
# subscription's clientState show what is refused: a flipped byte in
# data, a wrong dataSignature, a validation token signed by another key.
# Each is logged and changes nothing; the same payload unspoilt is taken.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-notify.sh"

RICHTOOL=$top_srcdir/tests/integration/richtool.py

need_sipp
command -v openssl >/dev/null 2>&1 || skip "openssl not found"
"$PYTHON" -c 'import cryptography' 2>/dev/null ||
    skip "$PYTHON lacks the cryptography package (python3-cryptography)"

POLL_INTERVAL=0 start_notify_env alice bob carol
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/notify.key" \
    -out "$T/notify.pem" -days 2 -subj /CN=presgw-notify \
    >"$T/openssl.out" 2>&1 || fail "openssl: $(cat "$T/openssl.out")"
cat >>"$T/presgwd.conf" <<EOF

[graph]
rich_notifications = yes
notify_cert_file = notify.pem
notify_key_file = notify.key
EOF

start_presgwd
wait_for_log "graph sub-create account=svc1 users=3 rich=yes" 10 ||
    fail "presgwd did not ask for a rich subscription"
wait_for_log "graph sub-created account=svc1 sub=[^ ]+ users=3" 10 ||
    fail "no subscription for the three users"
sim_subs | grep -q '"includeResourceData": *true' ||
    fail "the simulator's subscription does not include resource data"
wait_for_log "graph notifications active" 5 ||
    fail "presgwd does not say notifications are active"

# Bob's changes, through the webhook only.
seq0=$(sim_seq)
SIPP_TIMEOUT=25 SIPP_RECV_TIMEOUT=12000 \
    sipp_start watch subscribe-watch bob -set want "Do not disturb"
watcher=$SIPP_PID
wait_for_log "subscribe accepted user=bob@$DOMAIN" 5 ||
    fail "presgwd did not accept the SUBSCRIBE"
sim_post "/_sim/users/$BOB_ID/client" \
    '{"availability":"Available","activity":"Available"}' >/dev/null ||
    fail "cannot sign bob's Teams client in"
wait_for_log "pa view user=bob@$DOMAIN old=[a-z-]+ new=available" 10 ||
    fail "the rich notification of bob's sign-in was not taken"
sim_post "/_sim/users/$BOB_ID/preferred" \
    '{"availability":"DoNotDisturb","activity":"DoNotDisturb"}' >/dev/null ||
    fail "cannot set bob's preferred presence"
wait_for_log "pa teams user=bob@$DOMAIN availability=DoNotDisturb" 10 ||
    fail "the rich notification of bob's DoNotDisturb was not taken"
sipp_wait "$watcher" 30 ||
    fail "the watcher did not get a NOTIFY saying Do not disturb"
sipp_log watch | grep -q '^notify note=Do not disturb basic=open' ||
    fail "the watcher's NOTIFY did not say Do not disturb"
log_has "graph jwks-fetched" || fail "presgwd did not fetch the signing keys"
wait_for_request --after "$seq0" --method GET \
    --path '/common/discovery/v2.0/keys' --ok --timeout 1 >/dev/null ||
    fail "the keys were not fetched from the login host's common keys"
sim_get /_sim/deliveries | grep -q '"encryptedContent"' ||
    fail "the simulator sent no encrypted content"
no_request --after "$seq0" --path 'getPresencesByUserId|/presence' --for 1 ||
    fail "presgwd read Graph although the notifications carried presence"
log_has "graph notify-refused" && fail "a genuine notification was refused"
log_has "graph poll users=" && fail "a poll ran although polling is off"
ok "bob's DoNotDisturb reached the phone from a rich notification"

# post_payload TAMPER AVAILABILITY: a rich item for carol, posted; 202.
post_payload() {
    body=$("$PYTHON" "$RICHTOOL" payload --cert "$T/notify.pem" \
        --user "$CAROL_ID" --availability "$2" --activity "$2" \
        ${1:+--tamper "$1"}) || fail "richtool could not make a payload"
    out=$(notify_post "$body")
    [ "$(printf '%s\n' "$out" | sed -n 1p)" = 202 ] ||
        fail "a parsable batch did not get 202: $out"
}

# refused TAMPER REASON: posted, refused for REASON, nothing changed.
refused() {
    seq0=$(sim_seq)
    log_mark
    post_payload "$1" Away
    wait_for_log "graph notify-refused reason=$2 " 5 ||
        fail "a payload with a spoilt $1 was not refused for $2"
    no_request --after "$seq0" --path 'getPresencesByUserId' --for 1 ||
        fail "a refused payload ($1) made presgwd read Graph"
    log_has "pa teams user=carol" && fail "a spoilt $1 changed carol"
    presgwd_alive || fail "presgwd died on a spoilt $1"
    ok "a spoilt $1 is refused (reason=$2), logged, and changes nothing"
}

refused data signature
refused signature signature
refused token token

# The same payload unspoilt is taken: the refusals above were for cause.
log_mark
post_payload "" Away
wait_for_log "pa teams user=carol@$DOMAIN availability=Away" 5 ||
    fail "the unspoilt payload was not taken"
ok "the unspoilt payload sets carol Away"

presgwd_alive || fail "presgwd died"
exit 0
