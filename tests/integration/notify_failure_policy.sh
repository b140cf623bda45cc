#!/bin/sh
# RFC 6665 section 4.2.2: a NOTIFY that fails does not always end its
# subscription.  With sip.notify_retries = 2 and sip.notify_timeout = 4 s:
#   bob (1)  answers two NOTIFYs 503 with Retry-After: 2, then 200: the
#            SIP stack sends each again after 2 s; the subscription goes
#            on and the watcher ends up with bob's state of the moment;
#   bob (2)  answers two NOTIFYs 486 (about the NOTIFY only): presgwd
#            tries again after 2 s, then 4 s, each time with bob's state
#            of that moment; the subscription goes on;
#   alice    one watcher answers 481, another 503 without Retry-After:
#            both subscriptions end at once, no NOTIFY follows;
#   carol    answers three NOTIFYs 503 with Retry-After: one more than
#            notify_retries: it ends;
#   dave     does not answer one NOTIFY at all: it times out (408) after
#            notify_timeout and is tried again; the subscription goes on.
# A restart then resumes the three that went on, not the ended ones:
# their records left the store when they ended.
. "$(dirname "$0")/lib.sh"

need_sipp
it_init
start_graphsim
write_users alice bob carol dave
NOTIFY_RETRIES=2 NOTIFY_TIMEOUT=4 POLL_INTERVAL=1 write_config
start_presgwd

# teams NAME AVAILABILITY ACTIVITY VIEW-ERE: sets the user's Teams
# client and waits for presgwd to see the view.
teams() {
    sim_post "/_sim/users/$(user_id "$1")/client" \
        "{\"availability\":\"$2\",\"activity\":\"$3\"}" >/dev/null ||
        fail "cannot set $1's Teams client"
    wait_for_log "pa view user=$1@$DOMAIN old=[a-z-]+ new=$4" 5 ||
        fail "presgwd did not see $1 $4"
}

# watch RUN USER SCENARIO-ARGS...: a notify-fail watcher of USER, in the
# background, until its first NOTIFY is answered; its PID lands in w_RUN.
watch() {
    local run=$1 user=$2 n=50
    shift 2
    SIPP_TIMEOUT=90 SIPP_RECV_TIMEOUT=60000 \
        sipp_start "$run" notify-fail "$user" "$@"
    eval "w_$run=\$SIPP_PID"
    until sipp_log "$run" | grep -q '^notify cseq='; do
        n=$((n - 1))
        [ $n -gt 0 ] || fail "$run's watcher got no first NOTIFY"
        sleep 0.1
    done
}

# wait_sipp_log RUN ERE SECONDS
wait_sipp_log() {
    local n=$(( $3 * 10 ))
    until sipp_log "$1" | grep -Eq -- "$2" || [ $n -le 0 ]; do
        n=$((n - 1))
        sleep 0.1
    done
    sipp_log "$1" | grep -Eq -- "$2"
}

note_of() {
    case $1 in
    busy) echo Busy ;;
    dnd) echo "Do not disturb" ;;
    away) echo Away ;;
    *) echo "?$1" ;;
    esac
}

# view_before ERE: bob's view in the last "pa view" line before the
# first line that matches ERE.
view_before() {
    log_since | awk -v re="$1" '
        /pa view user=bob@/ { v = $0; sub(/.* new=/, "", v); sub(/ .*/, "", v) }
        $0 ~ re { print v; exit }'
}

for u in alice bob carol dave; do
    teams "$u" Available Available available
done
log_mark
watch bob503 bob -set code 503 -set fails 2 -set ra 2 -set after hold
watch bob486 bob -set code 486 -set fails 2 -set ra 0 -set after hold
watch alice481 alice -set code 481 -set fails 1 -set ra 0 -set after quiet
watch alice503 alice -set code 503 -set fails 1 -set ra 0 -set after quiet
watch carol carol -set code 503 -set fails 3 -set ra 1 -set after quiet
watch dave dave -set code silent -set fails 1 -set ra 0 -set after hold
sleep 0.5

# 1. bob: 503 with Retry-After (the stack) and 486 (presgwd).
teams bob Busy Busy busy
wait_for_log "notify failed user=bob@$DOMAIN status=486 action=retry try=1 delay=2" 5 ||
    fail "no retry after bob's first 486"
wait_for_log "notify failed user=bob@$DOMAIN status=5xx action=retry by=stack delay=2" 5 ||
    fail "the stack did not take bob's 503 with Retry-After"
teams bob DoNotDisturb Presenting dnd
wait_for_log "notify failed user=bob@$DOMAIN status=486 action=retry try=2 delay=4" 8 ||
    fail "no retry after bob's second 486 (backoff 4 s)"
teams bob Away Away away
wait_for_log "notify retry user=bob@$DOMAIN try=2" 8 ||
    fail "bob's NOTIFY was not tried a second time"
for run in bob503 bob486; do
    wait_sipp_log $run '^notify cseq=.* note=Away ' 10 ||
        fail "$run never got Away after the failures: $(sipp_log $run)"
    sipp_log $run | grep -q 'state=terminated' &&
        fail "$run's subscription was ended: $(sipp_log $run)"
    [ "$(sipp_log $run | grep -c '^fail ')" = 2 ] ||
        fail "$run did not fail two NOTIFYs: $(sipp_log $run)"
done
sipp_log bob486 | grep '^fail ' | sed -n 1p | grep -q 'note=Busy ' ||
    fail "bob's first failed NOTIFY was not Busy: $(sipp_log bob486)"
want=$(note_of "$(view_before "notify retry user=bob@$DOMAIN try=1")")
sipp_log bob486 | grep '^fail ' | sed -n 2p | grep -q "note=$want " ||
    fail "bob's first retry is not '$want': $(sipp_log bob486)"
want=$(note_of "$(view_before "notify retry user=bob@$DOMAIN try=2")")
sipp_log bob486 | grep '^notify ' | sed -n 2p | grep -q "note=$want " ||
    fail "bob's second retry is not '$want': $(sipp_log bob486)"
ok "486: retried after 2 s and 4 s, each time with the state of the moment"
ok "503 with Retry-After: sent again by the stack; the subscription goes on"

# 2. alice: 481 and 503 without Retry-After end at once.
teams alice Busy Busy busy
wait_for_log "notify failed user=alice@$DOMAIN status=481 action=end" 5 ||
    fail "a 481 did not end alice's subscription"
wait_for_log "notify failed user=alice@$DOMAIN status=503 action=end" 5 ||
    fail "a 503 without Retry-After did not end alice's subscription"
[ "$(log_since | grep -c "subscribe ended user=alice@$DOMAIN reason=notify-failed")" = 2 ] ||
    fail "alice's subscriptions were not both ended"
teams alice DoNotDisturb Presenting "dnd watchers=no"
ok "481 and 503 without Retry-After: the subscription ends at once"

# 3. carol: three 503s with Retry-After, one more than notify_retries.
teams carol Busy Busy busy
wait_for_log "notify failed user=carol@$DOMAIN status=503 action=end" 10 ||
    fail "carol's third failure did not end the subscription"
[ "$(log_since | grep -c "notify failed user=carol@$DOMAIN status=5xx action=retry by=stack")" = 2 ] ||
    fail "carol's NOTIFY was not sent again twice"
teams carol DoNotDisturb Presenting "dnd watchers=no"
ok "failures beyond notify_retries end the subscription"

# 4. dave: silence; timer F (4 s) ends the transaction, then a retry.
teams dave Busy Busy busy
wait_for_log "notify failed user=dave@$DOMAIN status=408 action=retry try=1 delay=2" 10 ||
    fail "an unanswered NOTIFY to dave did not time out into a retry"
wait_for_log "notify retry user=dave@$DOMAIN try=1" 5 ||
    fail "the NOTIFY to dave was not tried again"
wait_sipp_log dave '^notify cseq=.* state=active note=Busy ' 5 ||
    fail "dave's retry did not reach him: $(sipp_log dave)"
same=$(sipp_log dave | grep '^notify ' | sed 's/.* ftag=//' | sort -u | wc -l)
[ "$same" = 1 ] || fail "dave's retry is not in his dialog: $(sipp_log dave)"
ok "an unanswered NOTIFY times out after notify_timeout and is tried again"

# No active NOTIFY after an end (the stack's terminated one may come).
for run in alice481 alice503 carol; do
    eval "pid=\$w_$run"
    sipp_wait "$pid" 20 || fail "$run's watcher failed"
    sipp_log "$run" | grep '^late ' | grep -qv 'state=terminated' &&
        fail "$run got a NOTIFY after the end: $(sipp_log "$run" | grep '^late ')"
done
ok "no NOTIFY after the end"

# 5. A restart resumes the three that went on, not the ended ones.
log_mark
stop_presgwd TERM 10
[ "$PRESGWD_RC" = 0 ] || fail "presgwd exited with $PRESGWD_RC"
start_presgwd
log_has 'subscribe resume-done resumed=3' ||
    fail "not 3 subscriptions resumed: $(log_since | grep 'subscribe resum')"
for u in alice carol; do
    log_has "subscribe resumed user=$u@$DOMAIN" &&
        fail "$u's ended subscription was resumed"
done
ok "the ended subscriptions left the store, the others were resumed"
for run in bob503 bob486 dave; do
    eval "pid=\$w_$run"
    sipp_wait "$pid" 30 || fail "$run's watcher failed"
done
exit 0
