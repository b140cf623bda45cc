#!/bin/sh
# A proxy's dialog module (Kamailio pua_dialoginfo, OpenSIPS) publishes
# alice's calls as dialog-info (PUBLISH Event dialog):
#   ring      early, direction recipient: ringing, nothing written to Teams
#   answer    two dialogs, one confirmed, one terminated: in a call, one
#             setPresence Busy/InACall
#   refresh   SIP-If-Match, no body: a new entity tag, nothing written
#   hang-up   every dialog terminated: the call ends the graph.call_end
#             way (setPresence Available/Available, or clearPresence)
#   remove    Expires 0: nothing more written
# The proxy asks for Expires 7200 and is granted sip.max_expires (3600).
# A BLF key on alice meanwhile sees terminated, early, confirmed,
# terminated.  Run with call_end = available, then clear.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-phones.sh"

need_sipp
it_init
start_graphsim
write_users alice bob carol

ALP="/v1.0/users/$ALICE_ID/presence"

# round MODE RING: one call with call_end = MODE; RING yes has it ring first.
round() {
    mode=$1
    ring=$2
    CALL_END=$mode write_config
    start_presgwd
    seq0=$(sim_seq) || fail "cannot read the simulator's request log"
    log_mark

    if [ "$ring" = yes ]; then
        SIPP_TIMEOUT=25 SIPP_RECV_TIMEOUT=12000 sipp_start "blf-$mode" \
            blf-watch alice -set ua "snom D785/10.1.141.13" \
            -set until terminated -set min 4
        key=$SIPP_PID
        wait_for_log "subscribe accepted user=alice@$DOMAIN watcher=blf event=dialog" 5 ||
            fail "[$mode] presgwd did not accept the BLF SUBSCRIBE"
    fi
    sipp_run "pub-$mode" publish-dialog alice -set ring "$ring" \
        -set answer yes -d 1500 || fail "[$mode] publish-dialog failed"

    # The entity tags the proxy was given are those presgwd logged.
    tag() {
        sipp_log "pub-$mode" | sed -n "s/^$1 200 etag=\([^ ]*\)\$/\1/p"
    }
    e2=$(tag answer)
    e3=$(tag refresh)
    e4=$(tag hangup)
    [ -n "$e2" ] && [ -n "$e3" ] && [ -n "$e4" ] ||
        fail "[$mode] missing entity tags"
    sipp_log "pub-$mode" | grep -q '^remove 200$' ||
        fail "[$mode] the publication was not removed"
    if [ "$ring" = yes ]; then
        e1=$(tag ring)
        log_has "publish new user=alice@$DOMAIN etag=$e1 status=ringing expires=3600" ||
            fail "[$mode] the early dialog was not taken as ringing"
        log_has "publish modify user=alice@$DOMAIN old-etag=$e1 etag=$e2 status=in-call expires=3600" ||
            fail "[$mode] the answered call was not taken as in-call"
    else
        log_has "publish new user=alice@$DOMAIN etag=$e2 status=in-call expires=3600" ||
            fail "[$mode] the call was not taken as in-call"
    fi
    for want in \
        "publish refresh user=alice@$DOMAIN old-etag=$e2 etag=$e3 status=in-call expires=3600" \
        "publish modify user=alice@$DOMAIN old-etag=$e3 etag=$e4 status=available expires=3600" \
        "publish remove user=alice@$DOMAIN etag=$e4"
    do
        log_since | grep -qF -- "$want" ||
            fail "[$mode] presgwd did not log '$want'"
    done

    # Graph: the call, then its end, and nothing else.
    if [ "$mode" = available ]; then
        end="setPresence Available/Available"
        wait_for_request --after "$seq0" --method POST \
            --path "^$ALP/setPresence\$" --field availability=Available \
            --field activity=Available --field "sessionId=$CLIENT_ID" --ok \
            --timeout 5 >/dev/null || fail "[$mode] no $end"
    else
        end="clearPresence"
        wait_for_request --after "$seq0" --method POST \
            --path "^$ALP/clearPresence\$" --field "sessionId=$CLIENT_ID" \
            --ok --timeout 5 >/dev/null || fail "[$mode] no $end"
    fi
    no_request --after "$(sim_seq)" --path "^$ALP/" --for 1 ||
        fail "[$mode] a Graph write after the call ended"
    writes=$("$PYTHON" -c '
import json, sys
for line in open(sys.argv[1]):
    e = json.loads(line)
    if e["seq"] > int(sys.argv[2]) and e["path"].startswith(sys.argv[3]):
        b = e.get("body") or {}
        print(e["path"].rsplit("/", 1)[1], b.get("availability", "-"),
              b.get("activity", "-"), e["status"])
' "$T/sim-requests.jsonl" "$seq0" "$ALP/" | tr '\n' ';')
    if [ "$mode" = available ]; then
        want="setPresence Busy InACall 200;setPresence Available Available 200;"
    else
        want="setPresence Busy InACall 200;clearPresence - - 200;"
    fi
    [ "$writes" = "$want" ] ||
        fail "[$mode] Graph writes '$writes', want '$want'"
    steps="answer: Busy/InACall; refresh: nothing; hang-up: $end; remove: nothing"
    [ "$ring" = yes ] && steps="ring: nothing; $steps"
    ok "[$mode] $steps"

    if [ "$ring" = yes ]; then
        sipp_wait "$key" 15 || fail "[$mode] the BLF key failed"
        got=$(sipp_log "blf-$mode" |
            sed -n 's/^notify sub=active .* state=\([a-z]*\) .*/\1/p' |
            tr '\n' ' ')
        [ "$got" = "terminated early confirmed terminated " ] ||
            fail "[$mode] the BLF key saw '$got'"
        ok "[$mode] BLF key: terminated, early, confirmed, terminated"
    fi
    log_has "notify failed" && fail "[$mode] a NOTIFY failed"
    stop_presgwd TERM 10
    [ "$PRESGWD_RC" = 0 ] || fail "[$mode] presgwd exited with $PRESGWD_RC"
}

round available yes
round clear no
exit 0
