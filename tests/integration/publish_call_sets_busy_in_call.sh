#!/bin/sh
# A phone in a call shows in Teams: PUBLISH on-the-phone for alice makes
# presgwd call setPresence Busy/InACall for alice's Entra id, with our
# client id as the session.  When the call ends (the phone publishes open,
# no activity) the idle session follows graph.call_end: setPresence
# Available/Available with "available", clearPresence with "clear".
# Run once with each setting.
. "$(dirname "$0")/lib.sh"

need_sipp
it_init
start_graphsim
write_users alice bob carol

APP="/v1.0/users/$ALICE_ID/presence"

# call_round MODE: one call of alice's phone with call_end = MODE.
call_round() {
    mode=$1
    CALL_END=$mode write_config
    start_presgwd
    log_mark
    seq0=$(sim_seq) || fail "cannot read the simulator's request log"

    sipp_start "call-$mode" publish-call alice -d 2000
    pub=$SIPP_PID

    # In a call: setPresence Busy/InACall, in our own session.
    busy=$(wait_for_request --after "$seq0" --method POST \
        --path "^$APP/setPresence\$" --field availability=Busy \
        --field activity=InACall --field "sessionId=$CLIENT_ID" --ok \
        --timeout 5) || fail "[$mode] no setPresence Busy/InACall for alice"
    printf '%s\n' "$busy" | grep -q '"expirationDuration": "PT' ||
        fail "[$mode] setPresence has no expirationDuration: $busy"
    busy_seq=$(printf '%s\n' "$busy" | sed -n 's/.*"seq": \([0-9]*\).*/\1/p')
    ok "[$mode] setPresence Busy/InACall for alice's Entra id"

    wait_for_log "publish new user=alice@$DOMAIN etag=[^ ]+ status=in-call expires=120" 3 ||
        fail "[$mode] no 'publish new ... status=in-call' line"
    wait_for_log "pa local user=alice@$DOMAIN old=unknown new=in-call cause=publish" 3 ||
        fail "[$mode] no 'pa local ... new=in-call' line"

    # The call ends.
    if [ "$mode" = available ]; then
        wait_for_request --after "$busy_seq" --method POST \
            --path "^$APP/setPresence\$" --field availability=Available \
            --field activity=Available --field "sessionId=$CLIENT_ID" --ok \
            --timeout 5 >/dev/null ||
            fail "[$mode] no setPresence Available/Available after the call"
        ok "[$mode] setPresence Available/Available when the call ended"
    else
        wait_for_request --after "$busy_seq" --method POST \
            --path "^$APP/clearPresence\$" --field "sessionId=$CLIENT_ID" \
            --ok --timeout 5 >/dev/null ||
            fail "[$mode] no clearPresence after the call"
        ok "[$mode] clearPresence when the call ended"
    fi

    sipp_wait "$pub" 20 || fail "[$mode] publish-call scenario failed"
    sipp_log "call-$mode" | grep -q '^remove PUBLISH 200' ||
        fail "[$mode] the publication was not removed"

    # The entity tag the phone was given is the one presgwd logged.
    etag1=$(sipp_log "call-$mode" | sed -n 's/.*etag1=\([^ ]*\).*/\1/p')
    [ -n "$etag1" ] && log_has "publish new user=alice@$DOMAIN etag=$etag1 " ||
        fail "[$mode] SIP-ETag '$etag1' is not the one presgwd logged"
    wait_for_log "publish remove user=alice@$DOMAIN etag=" 3 ||
        fail "[$mode] no 'publish remove' line"

    # What Teams holds of ours at the end: the idle session, or none.
    state=$(sim_get "/_sim/users/$ALICE_ID" | tr -d ' \n') ||
        fail "cannot read alice's state"
    if [ "$mode" = available ]; then
        printf '%s\n' "$state" | grep -q "\"$CLIENT_ID\":{\"activity\":\"Available\",\"availability\":\"Available\"" ||
            fail "[$mode] Teams does not hold our Available session: $state"
    else
        printf '%s\n' "$state" | grep -q "\"$CLIENT_ID\"" &&
            fail "[$mode] Teams still holds a session of ours: $state"
    fi

    # Nothing but these writes: no preferred presence for a call.
    no_request --after "$seq0" --path "^$APP/(set|clear)UserPreferredPresence" \
        --for 0.5 || fail "[$mode] a call touched the preferred presence"

    stop_presgwd TERM 10
    [ "$PRESGWD_RC" = 0 ] || fail "[$mode] presgwd exited with $PRESGWD_RC"
}

call_round available
call_round clear
ok "a call is Busy/InACall in Teams; its end follows graph.call_end"
exit 0
