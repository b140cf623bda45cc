#!/bin/sh
# A Cisco Enterprise phone's presence BLF: its SUBSCRIBE (User-Agent
# Cisco-CP...) gets PIDF in the old RPID namespace with Cisco's elements;
# when the colleague turns on Do not disturb in Teams, the NOTIFY carries
# <ce:dnd/>, which is what lights the phone's key.  A standard watcher of
# the same user gets standard RPID at the same time.
. "$(dirname "$0")/lib.sh"

need_sipp
it_init
start_graphsim
write_users alice bob
write_config
start_presgwd

sim_post "/_sim/users/$BOB_ID/client" \
    '{"availability":"Available","activity":"Available"}' >/dev/null ||
    fail "cannot sign bob in to Teams"
SIPP_RECV_TIMEOUT=15000 sipp_start cisco subscribe-cisco bob
cisco=$SIPP_PID
wait_for_log "subscribe accepted user=bob@$DOMAIN watcher=cisco event=presence expires=[0-9]+ body=cisco" 5 ||
    fail "the Cisco SUBSCRIBE was not taken as one"
sim_post "/_sim/users/$BOB_ID/preferred" \
    '{"availability":"DoNotDisturb","activity":"DoNotDisturb"}' >/dev/null ||
    fail "cannot set bob's DND in Teams"
sipp_wait "$cisco" 25 || fail "the Cisco phone never saw ce:dnd"
sipp_log cisco | grep -q "notify dnd=ce:dnd" || fail "no NOTIFY with ce:dnd"
grep -q "rpid:activities" "$T/sipp-cisco.msg" &&
    fail "the Cisco phone got standard RPID"
ok "a Cisco phone's BLF gets Cisco's PIDF, with ce:dnd for Teams DND"
exit 0
