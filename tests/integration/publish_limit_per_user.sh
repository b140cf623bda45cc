#!/bin/sh
# A phone that sends initial PUBLISHes instead of refreshing its own:
# alice may hold sip.max_publications_per_user (default 16) live
# publications; the 17th and later initial PUBLISHes get 403 "Too many
# publications" and a "sip refused" line; other users are not affected,
# and a restart restores the 16, no more.
. "$(dirname "$0")/lib.sh"

need_sipp
start_all

log_mark
sipp_run flood publish-new alice -m 20 -r 50 ||
    fail "the PUBLISH scenario failed: $(tail -n 5 "$T/sipp-flood.out")"
ok200=$(sipp_log flood | grep -c '^PUBLISH 200 ')
no403=$(sipp_log flood | grep -c '^PUBLISH 403 Too many publications$')
[ "$ok200" = 16 ] && [ "$no403" = 4 ] ||
    fail "want 16 answered 200 and 4 refused, got $ok200 and $no403"
n=$(log_since | grep -c 'sip refused method=PUBLISH status=403 reason="Too many publications"')
[ "$n" = 4 ] || fail "want 4 'sip refused' lines, got $n"
ok "16 live publications for one user, the next initial PUBLISHes get 403"

sipp_run bob publish-once bob -set expires 600 ||
    fail "bob's PUBLISH was refused"
ok "another user still publishes"

stop_presgwd TERM 10
[ "$PRESGWD_RC" = 0 ] || fail "presgwd exited with $PRESGWD_RC"
start_presgwd
log_has 'pa restored users=3 publications=17' ||
    fail "the restart did not restore 17 publications: $(log_since | grep 'pa restored')"
sipp_run again publish-new alice ||
    fail "the PUBLISH after the restart failed"
sipp_log again | grep -q '^PUBLISH 403 Too many publications$' ||
    fail "after the restart alice's limit is not in force: $(sipp_log again)"
ok "after a restart the restored publications count toward the limit"
exit 0
