#!/bin/sh
# Bad PUBLISHes are refused with the right status and a reason, and do no
# harm: unknown entity tag 412, short Expires 423 with Min-Expires, Event
# message-summary 489, text/plain 415 with Accept, not well-formed XML, a DTD with
# nested entities and a non-PIDF document 400 "Bad PIDF: <why>", no body
# 400, unknown user 404.  Afterwards presgwd still serves a good PUBLISH
# and a SUBSCRIBE, logs each refusal, and no refused body reached Graph.
. "$(dirname "$0")/lib.sh"

need_sipp
it_init
start_graphsim
write_users alice bob carol
write_config
start_presgwd

seq0=$(sim_seq)
log_mark
sipp_run errors publish-errors alice -key dtd_open '[' ||
    fail "publish-errors scenario failed"

# The reason phrases the phone saw.
for want in \
    'step1 unknown-etag 412' \
    'step2 short-expires 423 min-expires=60' \
    'step3 event-unknown 489' \
    'step4 text-plain 415 accept=application/pidf+xml' \
    'step5 not-well-formed SIP/2.0 400 Bad PIDF: PIDF not well-formed' \
    'step6 dtd SIP/2.0 400 Bad PIDF: DTD not allowed' \
    'step7 not-pidf SIP/2.0 400 Bad PIDF: not a PIDF document' \
    'step8 no-body SIP/2.0 400 ' \
    'step9 expires-0-initial SIP/2.0 400 ' \
    'step10 unknown-user 404' \
    'step11 good 200 etag=' \
    'step12 remove 200'
do
    sipp_log errors | grep -qF -- "$want" || fail "sipp did not log '$want'"
done
ok "each bad PUBLISH got its status and reason"

# presgwd's own account of the refusals.
for want in \
    'sip refused method=PUBLISH status=412 ' \
    'sip refused method=PUBLISH status=423 ' \
    'sip refused method=PUBLISH status=415 ' \
    'sip refused method=PUBLISH status=400 reason="Bad PIDF: PIDF not well-formed"' \
    'sip refused method=PUBLISH status=400 reason="Bad PIDF: DTD not allowed"' \
    'sip refused method=PUBLISH status=400 reason="Bad PIDF: not a PIDF document"' \
    'sip refused method=PUBLISH status=400 reason="Initial PUBLISH without body"' \
    'sip refused method=PUBLISH status=404 reason="Unknown presentity"'
do
    log_since | grep -qF -- "$want" || fail "presgwd did not log '$want'"
done
[ "$(log_since | grep -c 'publish new user=alice@')" = 1 ] ||
    fail "a refused PUBLISH created a publication"
ok "presgwd logged every refusal and kept only the good publication"

# The entity bomb was not expanded: the process is small and alive.
presgwd_alive || fail "presgwd died"
rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$PRESGWD_PID/status" 2>/dev/null)
[ -z "$rss" ] || [ "$rss" -lt 204800 ] ||
    fail "presgwd uses ${rss} kB after the DTD document"

# Still serving: a watcher gets its NOTIFYs.
sipp_run watch subscribe-watch alice -set want '*' ||
    fail "presgwd no longer serves SUBSCRIBE after the bad PUBLISHes"

# Nothing refused reached Graph, and the one good document (open, no
# call) needs no Graph write.
no_request --after "$seq0" --path "^/v1.0/users/$ALICE_ID/presence/(set|clear)" \
    --field availability=Busy --for 0.5 ||
    fail "a refused PUBLISH reached Graph"
presgwd_alive || fail "presgwd died"
exit 0
