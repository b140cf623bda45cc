#!/bin/sh
# Teams to phone: a SIP watcher subscribed to bob is told when bob picks
# Do not disturb in Teams.  bob's Teams client signs in (Available), then
# he sets DoNotDisturb by hand; presgwd polls Graph every poll_interval
# (1 s here) and the watcher gets a NOTIFY whose PIDF note says "Do not
# disturb" within the interval plus a margin.  Reading Teams writes
# nothing back to Teams.
. "$(dirname "$0")/lib.sh"

need_sipp
it_init
start_graphsim
write_users alice bob carol
POLL_INTERVAL=1 write_config
start_presgwd

BOBP="/v1.0/users/$BOB_ID/presence"
MARGIN=5

seq0=$(sim_seq)
log_mark
SIPP_TIMEOUT=25 SIPP_RECV_TIMEOUT=$(( (1 + MARGIN) * 1000 + 3000 )) \
    sipp_start watch subscribe-watch bob -set want "Do not disturb"
watcher=$SIPP_PID
wait_for_log "subscribe accepted user=bob@$DOMAIN watcher=watcher" 5 ||
    fail "presgwd did not accept the SUBSCRIBE"

# bob signs in to Teams: the watcher sees him Available.
sim_post "/_sim/users/$BOB_ID/client" \
    '{"availability":"Available","activity":"Available"}' >/dev/null ||
    fail "cannot sign bob's Teams client in"
wait_for_log "pa view user=bob@$DOMAIN old=[a-z-]+ new=available watchers=yes" \
    $((1 + MARGIN)) || fail "presgwd did not see bob's Teams client sign in"

# bob picks Do not disturb.
log_mark
t0=$(date +%s.%N)
sim_post "/_sim/users/$BOB_ID/preferred" \
    '{"availability":"DoNotDisturb","activity":"DoNotDisturb"}' >/dev/null ||
    fail "cannot set bob's preferred presence"
wait_for_log "pa teams user=bob@$DOMAIN availability=DoNotDisturb activity=DoNotDisturb status=dnd" \
    $((1 + MARGIN)) || fail "presgwd did not read bob's DoNotDisturb from Graph"
wait_for_log "pa view user=bob@$DOMAIN old=available new=dnd watchers=yes" 2 ||
    fail "bob's view did not turn dnd"

sipp_wait "$watcher" $((1 + MARGIN + 10)) ||
    fail "the watcher did not get a NOTIFY saying Do not disturb"
t1=$(date +%s.%N)
awk -v a="$t0" -v b="$t1" -v m=$((1 + MARGIN)) 'BEGIN { exit !(b - a <= m) }' ||
    fail "the NOTIFY took longer than poll_interval + ${MARGIN}s"
sipp_log watch | grep -q '^notify note=Available basic=open' ||
    fail "the watcher never saw bob Available"
sipp_log watch | grep -q '^notify note=Do not disturb basic=open' ||
    fail "the watcher's NOTIFY did not say Do not disturb"
sipp_log watch | grep -q '^notify state=terminated' ||
    fail "no terminating NOTIFY after the un-SUBSCRIBE"
ok "the watcher got 'Do not disturb' within poll_interval + ${MARGIN}s"

wait_for_log "subscribe ended user=bob@$DOMAIN" 3 ||
    fail "presgwd did not end the subscription"
log_has "notify failed" && fail "a NOTIFY failed"

# What presgwd read from Teams is not written back to Teams.
no_request --after "$seq0" --path "^$BOBP/(set|clear)" --for 0.5 ||
    fail "reading bob's Teams presence caused a Graph write"
presgwd_alive || fail "presgwd died"
exit 0
