#!/bin/sh
# A rich notification seen once cannot set a presence again.  Bob goes
# Busy, then Available, each by a genuine rich delivery; the Busy
# delivery, saved and posted again (202), is refused as a replay, and
# bob stays Available.  Repacked under the newest tokens, its item is
# still known.  An item made under the tokens of an older delivery than
# the last one taken for its user is refused as stale.  Bob's next
# genuine Busy is taken although it says what the replay said.
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
printf '\n[graph]\nrich_notifications = yes\nnotify_cert_file = %s\n%s\n' \
    notify.pem "notify_key_file = notify.key" >>"$T/presgwd.conf"

start_presgwd
wait_for_log "graph notifications active" 10 ||
    fail "presgwd does not say notifications are active"

# client AVAILABILITY: bob's Teams client says it; presgwd takes it.
client() {
    log_mark
    sim_post "/_sim/users/$BOB_ID/client" \
        "{\"availability\":\"$1\",\"activity\":\"$1\"}" >/dev/null ||
        fail "cannot set bob's Teams client $1"
    wait_for_log "pa teams user=bob@$DOMAIN availability=$1" 10 ||
        fail "the rich notification of bob $1 was not taken"
}

# posted FILE: FILE posted to the webhook; 202.
posted() {
    out=$(notify_post "$(cat "$1")")
    [ "$(printf '%s\n' "$out" | sed -n 1p)" = 202 ] ||
        fail "a parsable batch did not get 202: $out"
}

client Busy
"$PYTHON" "$RICHTOOL" delivery >"$T/busy.json" ||
    fail "no rich delivery to save"
grep -q '"encryptedContent"' "$T/busy.json" ||
    fail "the saved delivery has no encrypted content"
# The next tokens are issued later than those saved.
sim_post /_sim/clock '{"advance":5}' >/dev/null ||
    fail "cannot move the simulator's clock"
client Available
ok "bob Busy, then Available, by genuine rich notifications"

seq0=$(sim_seq)
log_mark
posted "$T/busy.json"
wait_for_log "graph notify-refused reason=replay sub=" 5 ||
    fail "the saved delivery was not refused as a replay"
no_request --after "$seq0" --path getPresencesByUserId --for 1 ||
    fail "the replay made presgwd read Graph"
log_has "pa teams user=bob" && fail "the replay changed bob"
ok "the saved Busy delivery posted again is refused; bob stays Available"

"$PYTHON" "$RICHTOOL" repack "$T/busy.json" >"$T/repacked.json" ||
    fail "richtool could not repack the delivery"
log_mark
posted "$T/repacked.json"
wait_for_log "graph notify-refused reason=replay sub=" 5 ||
    fail "the repacked delivery was not refused as a replay"
log_has "pa teams user=bob" && fail "the repacked replay changed bob"
ok "the same item under the newest tokens is still a replay"

# Carol: Away under the newest tokens, then Busy under the oldest.
"$PYTHON" "$RICHTOOL" payload --cert "$T/notify.pem" --user "$CAROL_ID" \
    --availability Away --activity Away >"$T/away.json" ||
    fail "richtool could not make a payload"
log_mark
posted "$T/away.json"
wait_for_log "pa teams user=carol@$DOMAIN availability=Away" 5 ||
    fail "a new item under the newest tokens was not taken"
"$PYTHON" "$RICHTOOL" payload --cert "$T/notify.pem" --user "$CAROL_ID" \
    --availability Busy --activity Busy --tokens oldest >"$T/old.json" ||
    fail "richtool could not make a payload"
log_mark
posted "$T/old.json"
wait_for_log "graph notify-refused reason=stale sub=[^ ]+ user=$CAROL_ID " 5 ||
    fail "an item under older tokens than carol's last was not refused"
log_has "pa teams user=carol" && fail "the stale item changed carol"
ok "an item under older tokens than the user's last is refused as stale"

client Busy
log_has "graph notify-refused" && fail "bob's genuine Busy was refused"
ok "bob's next genuine Busy is taken"

presgwd_alive || fail "presgwd died"
exit 0
