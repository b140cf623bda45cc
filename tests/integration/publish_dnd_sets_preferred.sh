#!/bin/sh
# The DND key of a phone shows in Teams: a PUBLISH with Cisco's ce:dnd
# for alice makes presgwd call setUserPreferredPresence
# DoNotDisturb/DoNotDisturb (preferred presence beats every session, so
# Teams shows DND); removing the publication calls
# clearUserPreferredPresence.  DND is no call: no Busy session is written.
. "$(dirname "$0")/lib.sh"

need_sipp
it_init
start_graphsim
write_users alice bob carol
write_config
start_presgwd

APP="/v1.0/users/$ALICE_ID/presence"

# Alice's Teams client is signed in, so Teams has a session to aggregate.
sim_post "/_sim/users/$ALICE_ID/client" \
    '{"availability":"Available","activity":"Available"}' >/dev/null ||
    fail "cannot sign alice's Teams client in"

seq0=$(sim_seq)
sipp_start dnd publish-dnd alice -d 3000
pub=$SIPP_PID

set_pref=$(wait_for_request --after "$seq0" --method POST \
    --path "^$APP/setUserPreferredPresence\$" \
    --field availability=DoNotDisturb --field activity=DoNotDisturb \
    --ok --timeout 5) || fail "no setUserPreferredPresence DoNotDisturb"
set_seq=$(printf '%s\n' "$set_pref" | sed -n 's/.*"seq": \([0-9]*\).*/\1/p')
ok "setUserPreferredPresence DoNotDisturb/DoNotDisturb for alice"

wait_for_log "publish new user=alice@$DOMAIN etag=[^ ]+ status=dnd " 3 ||
    fail "no 'publish new ... status=dnd' line"
# Teams showed it: presgwd's own poll read DoNotDisturb back (its
# view is the higher of the phone's dnd and Teams anyway, so only the
# "pa teams" line tells).
wait_for_log "pa teams user=alice@$DOMAIN availability=DoNotDisturb activity=DoNotDisturb" 4 ||
    fail "Teams did not show alice DoNotDisturb"
ok "Teams shows alice DoNotDisturb"

sipp_wait "$pub" 20 || fail "publish-dnd scenario failed"
wait_for_request --after "$set_seq" --method POST \
    --path "^$APP/clearUserPreferredPresence\$" --ok --timeout 5 >/dev/null ||
    fail "no clearUserPreferredPresence after the DND publication was removed"
ok "clearUserPreferredPresence when DND went off"

state=$(sim_get "/_sim/users/$ALICE_ID") || fail "cannot read alice's state"
printf '%s\n' "$state" | tr -d ' \n' | grep -q '"preferred":null' ||
    fail "Teams still holds a preferred presence for alice: $state"
printf '%s\n' "$state" | tr -d ' \n' |
    grep -q '"aggregate":{"activity":"Available","availability":"Available"}' ||
    fail "Teams does not show alice Available again: $state"

no_request --after "$seq0" --path "^$APP/setPresence\$" \
    --field availability=Busy --for 0.5 ||
    fail "DND wrote a Busy session"
exit 0
