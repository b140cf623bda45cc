#!/bin/sh
# A Yealink BLF key on bob follows bob's calls.
#   1. The key subscribes the way a Yealink T46G does (Event dialog,
#      Accept dialog-info, Expires 1800).  bob's Teams client starts a
#      call (Busy/InACall), then ends it (Available).  The key gets three
#      NOTIFYs: terminated, confirmed, terminated; each a full-state
#      dialog-info document for bob with one <dialog id=...>, versions
#      0, 1, 2; never early.  The key then unsubscribes.
#   2. A call to bob rings and the caller gives up at once, published by
#      a proxy as dialog-info (early, then every dialog terminated, back
#      to back).  A second key sees terminated, early, terminated and
#      nothing after it: no early behind the terminated.
# Reading Teams and a ringing call write nothing to Teams.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-phones.sh"

need_sipp
it_init
start_graphsim
write_users alice bob carol
POLL_INTERVAL=1 write_config
start_presgwd

BOBP="/v1.0/users/$BOB_ID/presence"
YEALINK="Yealink SIP-T46G 66.86.0.15"
seq0=$(sim_seq) || fail "cannot read the simulator's request log"

# check_blf NAME STATE...: the active NOTIFYs blf-watch run NAME logged
# are full-state dialog-info for bob, each with a dialog id, versions
# 0, 1, 2..., and show these dialog states in this order.
check_blf() {
    name=$1
    shift
    sipp_lines "$name" '^notify sub=active' >"$T/$name.notifies"
    IT_WANT="$*" IT_ENTITY="sip:bob@$DOMAIN" awk '
        {
            n++
            split("", f)
            for (i = 2; i <= NF; i++) {
                k = $i; sub(/=.*/, "", k)
                v = $i; sub(/^[^=]*=/, "", v)
                f[k] = v
            }
            if (f["ctype"] != "application/dialog-info+xml")
                bad = bad "\n  NOTIFY " n ": Content-Type " f["ctype"]
            if (f["doc"] != "full")
                bad = bad "\n  NOTIFY " n ": state=\"" f["doc"] "\", not full"
            if (f["entity"] != ENVIRON["IT_ENTITY"])
                bad = bad "\n  NOTIFY " n ": entity " f["entity"]
            if (f["id"] == "")
                bad = bad "\n  NOTIFY " n ": no <dialog id=...>"
            if (f["version"] != n - 1)
                bad = bad "\n  NOTIFY " n ": version " f["version"] \
                    ", want " n - 1
            states = states (n > 1 ? " " : "") f["state"]
        }
        END {
            if (states != ENVIRON["IT_WANT"])
                bad = bad "\n  dialog states \"" states "\", want \"" \
                    ENVIRON["IT_WANT"] "\""
            if (bad != "") {
                print substr(bad, 2)
                exit 1
            }
        }' "$T/$name.notifies" ||
        fail "[$name] the BLF NOTIFYs are not what the key needs"
    sipp_count "$name" '^notify sub=terminated .*after unsubscribe' \
        | grep -qx 1 || fail "[$name] no NOTIFY terminated after the un-SUBSCRIBE"
}

# 1. A Teams call.
log_mark
SIPP_TIMEOUT=25 SIPP_RECV_TIMEOUT=10000 sipp_start key1 blf-watch bob \
    -set ua "$YEALINK" -set until terminated -set min 3
key1=$SIPP_PID
wait_for_log "subscribe accepted user=bob@$DOMAIN watcher=blf event=dialog expires=1800" 5 ||
    fail "presgwd did not accept the BLF SUBSCRIBE"

sim_post "/_sim/users/$BOB_ID/client" \
    '{"availability":"Busy","activity":"InACall"}' >/dev/null ||
    fail "cannot start bob's Teams call"
wait_for_log "pa teams user=bob@$DOMAIN availability=Busy activity=InACall status=in-call" 5 ||
    fail "presgwd did not read bob's Teams call"
sim_post "/_sim/users/$BOB_ID/client" \
    '{"availability":"Available","activity":"Available"}' >/dev/null ||
    fail "cannot end bob's Teams call"
wait_for_log_order 5 "pa view user=bob@$DOMAIN old=[a-z-]+ new=in-call" \
    "pa teams user=bob@$DOMAIN availability=Available activity=Available status=available" ||
    fail "presgwd did not read the end of bob's Teams call"

sipp_wait "$key1" 20 || fail "the BLF key did not see the call begin and end"
check_blf key1 terminated confirmed terminated
sipp_count key1 'state=early' | grep -qx 0 || fail "[key1] an early state"
ok "a Teams call: terminated, confirmed, terminated; versions 0, 1, 2"
wait_for_log "subscribe ended user=bob@$DOMAIN reason=terminated event=dialog" 3 ||
    fail "presgwd did not end the BLF subscription"

# 2. A call that rings and is given up at once, from a proxy.
log_mark
SIPP_TIMEOUT=20 SIPP_RECV_TIMEOUT=8000 sipp_start key2 blf-watch bob \
    -set ua "$YEALINK" -set until terminated -set min 3
key2=$SIPP_PID
wait_for_log "subscribe accepted user=bob@$DOMAIN watcher=blf event=dialog" 5 ||
    fail "presgwd did not accept the second BLF SUBSCRIBE"
sipp_run ring publish-dialog bob -set ring yes -set answer no -d 0 ||
    fail "publish-dialog (ring, given up) failed"
sipp_wait "$key2" 15 || fail "the second key did not see the ring end"
check_blf key2 terminated early terminated
sipp_lines key2 '^notify sub=active .*state=early' |
    grep -q 'direction=recipient' ||
    fail "[key2] the ringing dialog is not direction=recipient"
log_has "publish new user=bob@$DOMAIN etag=[^ ]+ status=ringing" ||
    fail "presgwd did not take the early dialog as ringing"
ok "a ring given up: terminated, early (recipient), terminated, no early after"

# Nothing of this is written to Teams.
[ "$(sim_count --after "$seq0" --path "^$BOBP/(set|clear)")" = 0 ] ||
    fail "a Graph write for bob: $(grep "$BOB_ID/presence/[sc]" "$T/sim-requests.jsonl")"
log_has "notify failed" && fail "a NOTIFY failed"
presgwd_alive || fail "presgwd died"
exit 0
