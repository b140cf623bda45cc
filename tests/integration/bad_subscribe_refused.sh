#!/bin/sh
# SUBSCRIBEs presgwd cannot serve are refused, none leaves a watcher
# behind, and a good one is served afterwards: Event message-summary 489, an Accept
# without PIDF 406 (with Accept: application/pidf+xml), Expires below
# min_expires 423 (with Min-Expires), an unmapped user 404.  The good
# SUBSCRIBE also runs over TCP.
. "$(dirname "$0")/lib.sh"

need_sipp
it_init
start_graphsim
write_users alice bob carol
write_config
start_presgwd

log_mark
sipp_run errors subscribe-errors alice || fail "subscribe-errors scenario failed"
for want in \
    'step1 event-unknown 489' \
    'step2 xpidf-only 406 accept=application/pidf+xml' \
    'step3 short-expires 423 min-expires=60' \
    'step4 unknown-user 404'
do
    sipp_log errors | grep -qF -- "$want" || fail "sipp did not log '$want'"
done
log_has 'subscribe accepted' && fail "a refused SUBSCRIBE was accepted"
for want in \
    'sip refused method=SUBSCRIBE status=406 ' \
    'sip refused method=SUBSCRIBE status=423 ' \
    'sip refused method=SUBSCRIBE status=404 reason="Unknown presentity"'
do
    log_since | grep -qF -- "$want" || fail "presgwd did not log '$want'"
done
ok "each bad SUBSCRIBE got its status"

sipp_run watch-udp subscribe-watch alice -set want '*' ||
    fail "a good SUBSCRIBE over UDP failed after the refusals"
SIPP_TRANSPORT=t1 sipp_run watch-tcp subscribe-watch carol -set want '*' ||
    fail "a good SUBSCRIBE over TCP failed"
sipp_log watch-tcp | grep -q '^notify state=terminated' ||
    fail "no terminating NOTIFY over TCP"
ok "good SUBSCRIBEs over UDP and TCP are served"
wait_for_log "subscribe ended user=carol@$DOMAIN" 3 ||
    fail "the TCP subscription did not end"
presgwd_alive || fail "presgwd died"
exit 0
