#!/bin/sh
# RFC 3903 entity tags: an initial PUBLISH gets a SIP-ETag and Expires; a
# refresh (SIP-If-Match, no body) and a modify (SIP-If-Match, body) each
# get a new tag; the replaced tag is refused with 412; a remove (Expires 0)
# ends the publication, after which its tag is refused with 412 too.
# Over UDP, then over TCP.
. "$(dirname "$0")/lib.sh"

need_sipp
it_init
start_graphsim
write_users alice bob carol
write_config
start_presgwd

# tag NAME STEP: the entity tag sipp logged at step STEP.
tag() {
    sipp_log "$1" | sed -n "s/^$2 .* etag=\([^ ]*\).*/\1/p"
}

for tr in u1 t1; do
    log_mark
    SIPP_TRANSPORT=$tr sipp_run "cycle-$tr" publish-cycle alice ||
        fail "[$tr] publish-cycle scenario failed"
    for want in 'step1 initial 200 etag=.* expires=120$' \
        'step2 refresh 200 etag=.* expires=120$' \
        'step3 modify 200 etag=.* expires=120$' \
        '^step4 stale 412$' '^step5 remove 200$' '^step6 after-remove 412$'
    do
        sipp_log "cycle-$tr" | grep -q -- "$want" ||
            fail "[$tr] sipp did not log '$want'"
    done
    e1=$(tag "cycle-$tr" step1)
    e2=$(tag "cycle-$tr" step2)
    e3=$(tag "cycle-$tr" step3)
    [ -n "$e1" ] && [ -n "$e2" ] && [ -n "$e3" ] ||
        fail "[$tr] missing entity tags: '$e1' '$e2' '$e3'"
    [ "$e1" != "$e2" ] && [ "$e2" != "$e3" ] && [ "$e1" != "$e3" ] ||
        fail "[$tr] entity tags repeat: $e1 $e2 $e3"

    # presgwd tells the same story.
    for want in \
        "publish new user=alice@$DOMAIN etag=$e1 status=in-call expires=120" \
        "publish refresh user=alice@$DOMAIN old-etag=$e1 etag=$e2 status=in-call expires=120" \
        "publish modify user=alice@$DOMAIN old-etag=$e2 etag=$e3 status=away expires=120" \
        "publish remove user=alice@$DOMAIN etag=$e3"
    do
        log_since | grep -qF -- "$want" || fail "[$tr] presgwd did not log '$want'"
    done
    [ "$(log_since | grep -c 'sip refused method=PUBLISH status=412')" = 2 ] ||
        fail "[$tr] presgwd did not log two 412 refusals"
    log_has "pa local user=alice@$DOMAIN old=in-call new=away cause=publish" ||
        fail "[$tr] the modify did not change alice's status to away"
    log_has "pa local user=alice@$DOMAIN old=away new=unknown cause=unpublish" ||
        fail "[$tr] the remove did not clear alice's status"
    ok "[$tr] new tag on refresh and modify, 412 for replaced and removed tags"
done

# Tags from the two runs never meet.
[ "$(tag cycle-u1 step1)" != "$(tag cycle-t1 step1)" ] ||
    fail "two publications got the same entity tag"
presgwd_alive || fail "presgwd died"
exit 0
