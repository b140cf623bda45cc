#!/bin/sh
# 651 watched users need two subscriptions: Graph takes at most 650 users
# in one, and one per service account.  With one account signed in,
# presgwd subscribes the first 650 users (id order), logs the one left
# over by its id and polls; a Teams change of that user reaches presgwd by
# the poll, not by a notification.  Once a second account is signed in
# (presgwctl login while presgwd runs, then SIGHUP) the simulator holds
# exactly two subscriptions whose resources name all 651 ids once, the
# first one kept as it was; polling stops, and a Teams change of a user
# in each subscription reaches a phone through the webhook.  When the
# second account leaves again, the 651st user is named and polled again.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-notify.sh"

NUSERS=651
SVC2_UPN=svc2@contoso.example
SVC2_ID=5e4c1a00-0000-4000-8000-5e4c00000002

uid() {
    printf '00000000-0000-4000-8000-%012d\n' "$1"
}
FIRST_ID=$(uid 1)
LAST_ID=$(uid $NUSERS)

need_sipp
need_presgwctl
it_init
GRAPHSIM_ARGS="--device-code-interval 1" start_graphsim
{
    echo "# SIP address of record, Entra object id, user principal name"
    i=1
    while [ $i -le $NUSERS ]; do
        printf 'sip:u%03d@%s, %s, u%03d@contoso.example\n' \
            $i "$DOMAIN" "$(uid $i)" $i
        i=$((i + 1))
    done
} >"$T/users.csv"
# The same users in the simulator, in one go.
"$PYTHON" -c 'import json, sys, urllib.request
for i in range(1, int(sys.argv[2]) + 1):
    body = {"id": "00000000-0000-4000-8000-%012d" % i,
            "upn": "u%03d@contoso.example" % i}
    req = urllib.request.Request(sys.argv[1] + "/_sim/users",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"})
    urllib.request.urlopen(req, timeout=5).read()' "$SIM_URL" $NUSERS ||
    fail "cannot add the users to the simulator"
take_port
HTTP_PORT=$PORT
POLL_INTERVAL=2 NOTIFY=1 write_config
sim_service_account
sim_service_account "$SVC2_UPN" "$SVC2_ID"
ctl_login svc1 || fail "presgwctl login svc1 failed: $(cat "$T/ctl-svc1.out")"

# subs_check: the simulator's subscriptions as "n=N sizes=A,B ids=U
# repeated=R over=O": how many, the ids each resource names, the distinct
# ids named in all, ids named twice, resources over 650.  Fails when a
# resource and the subscription's userIds disagree.
subs_check() {
    sim_subs | "$PYTHON" -c 'import json, re, sys
subs = json.load(sys.stdin)
sizes, seen, repeated = [], set(), 0
for s in subs:
    ids = re.findall(r"\x27([^\x27]+)\x27", s["resource"])
    if sorted(i.lower() for i in ids) != \
            sorted(i.lower() for i in s["userIds"]):
        sys.exit("resource and userIds differ: " + s["id"])
    sizes.append(len(ids))
    for i in ids:
        repeated += i in seen
        seen.add(i)
sizes.sort(reverse=True)
print("n=%d sizes=%s ids=%d repeated=%d over=%d" % (len(subs),
    ",".join(map(str, sizes)), len(seen), repeated,
    sum(1 for n in sizes if n > 650)))'
}

# sub_of ID: the subscription in the simulator whose resource names ID.
sub_of() {
    sim_subs | "$PYTHON" -c 'import json, sys
for s in json.load(sys.stdin):
    if sys.argv[1] in s["userIds"]:
        print(s["id"])' "$1"
}

# delivered_by ID: the subscriptions whose notifications about ID the
# webhook took (2xx), from the simulator's delivery record.
delivered_by() {
    sim_get /_sim/deliveries | "$PYTHON" -c 'import json, sys
subs = set()
for d in json.load(sys.stdin):
    if d["kind"] != "notification" or not d["ok"]:
        continue
    for it in (d.get("body") or {}).get("value", []):
        if it.get("resourceData", {}).get("id") == sys.argv[1]:
            subs.add(it["subscriptionId"])
print(" ".join(sorted(subs)))' "$1"
}

# --- One account: 650 subscribed, the 651st named and polled. ---------
start_presgwd
wait_for_log "graph sub-created account=svc1 sub=[^ ]+ users=650" 15 ||
    fail "no subscription of 650 users for svc1"
log_has "graph subs-short users=$NUSERS accounts=1 needed=2 uncovered=1 \
first=$LAST_ID last=$LAST_ID polled=yes" ||
    fail "the log does not name the user no subscription takes"
log_has "graph notifications active" &&
    fail "notifications called active while a user is not covered"
got=$(subs_check) || fail "$got"
[ "$got" = "n=1 sizes=650 ids=650 repeated=0 over=0" ] ||
    fail "one account: the simulator holds $got"
sub1=$(sub_of "$FIRST_ID")
[ -n "$sub1" ] || fail "the first user is in no subscription"
[ -z "$(sub_of "$LAST_ID")" ] || fail "the 651st user is subscribed"
ok "one account: 650 users subscribed, the 651st logged as uncovered"

log_mark
sim_post "/_sim/users/$FIRST_ID/client" \
    '{"availability":"Available","activity":"Available"}' >/dev/null ||
    fail "cannot sign u001's Teams client in"
sim_post "/_sim/users/$LAST_ID/client" \
    '{"availability":"Available","activity":"Available"}' >/dev/null ||
    fail "cannot sign u651's Teams client in"
wait_for_log "pa view user=u651@$DOMAIN old=[a-z-]+ new=available" 10 ||
    fail "u651's sign-in did not reach presgwd"
wait_for_log "graph poll users=$NUSERS" 5 || fail "no poll ran"
[ "$(delivered_by "$FIRST_ID")" = "$sub1" ] ||
    fail "u001's sign-in was not delivered through svc1's subscription"
[ -z "$(delivered_by "$LAST_ID")" ] ||
    fail "a notification about the uncovered user was delivered"
ok "the uncovered user's change came by the poll"

# --- A second account, taken in at SIGHUP: two subscriptions. ---------
ctl_login svc2 "$SVC2_UPN" ||
    fail "presgwctl login svc2 failed: $(cat "$T/ctl-svc2.out")"
grep -q 'send it SIGHUP' "$T/ctl-svc2.out" ||
    fail "presgwctl did not leave the account for the running presgwd"
log_mark
kill -HUP "$PRESGWD_PID"
wait_for_log "graph sub-created account=svc2 sub=[^ ]+ users=1" 15 ||
    fail "no subscription for the 651st user with svc2"
wait_for_log "graph subs-covered users=$NUSERS accounts=2" 5 ||
    fail "presgwd does not say every user is covered"
wait_for_log "graph notifications active interval=600" 5 ||
    fail "notifications did not become active"
got=$(subs_check) || fail "$got"
[ "$got" = "n=2 sizes=650,1 ids=$NUSERS repeated=0 over=0" ] ||
    fail "two accounts: the simulator holds $got"
[ "$(sub_of "$FIRST_ID")" = "$sub1" ] ||
    fail "svc1's subscription was replaced although its users stayed"
sub2=$(sub_of "$LAST_ID")
[ -n "$sub2" ] && [ "$sub2" != "$sub1" ] ||
    fail "the 651st user is not in a subscription of its own"
log_has "graph sub-delete" && fail "a subscription was deleted"
ok "two subscriptions: 650 + 1, every id once"

# --- A change in each subscription reaches a phone by the webhook. ----
log_mark
SIPP_TIMEOUT=25 SIPP_RECV_TIMEOUT=15000 \
    sipp_start watch1 subscribe-watch u001 -set want "Do not disturb"
w1=$SIPP_PID
SIPP_TIMEOUT=25 SIPP_RECV_TIMEOUT=15000 \
    sipp_start watch651 subscribe-watch u651 -set want "Do not disturb"
w651=$SIPP_PID
wait_for_log "subscribe accepted user=u001@$DOMAIN" 5 &&
    wait_for_log "subscribe accepted user=u651@$DOMAIN" 5 ||
    fail "presgwd did not accept both SUBSCRIBEs"
for id in "$FIRST_ID" "$LAST_ID"; do
    sim_post "/_sim/users/$id/preferred" \
        '{"availability":"DoNotDisturb","activity":"DoNotDisturb"}' \
        >/dev/null || fail "cannot set $id's preferred presence"
done
sipp_wait "$w1" 30 || fail "u001's watcher got no NOTIFY saying DND"
sipp_wait "$w651" 30 || fail "u651's watcher got no NOTIFY saying DND"
for u in 1 651; do
    sipp_log "watch$u" | grep -q '^notify note=Do not disturb' ||
        fail "the NOTIFY for u$u did not say Do not disturb"
done
log_has "pa teams user=u001@$DOMAIN availability=DoNotDisturb" &&
    log_has "pa teams user=u651@$DOMAIN availability=DoNotDisturb" ||
    fail "presgwd did not log both changes"
log_has "graph poll users=" && fail "a poll ran while every user is covered"
[ "$(delivered_by "$LAST_ID")" = "$sub2" ] ||
    fail "u651's change was not delivered through svc2's subscription"
ok "a change in each subscription reached its phone through the webhook"

# --- The second account leaves: the 651st is named and polled again. --
log_mark
"$PRESGWCTL" -c "$T/presgwd.conf" logout svc2 >"$T/ctl-logout.out" 2>&1 ||
    fail "presgwctl logout svc2 failed: $(cat "$T/ctl-logout.out")"
kill -HUP "$PRESGWD_PID"
wait_for_log "graph subs-short users=$NUSERS accounts=1 needed=2 \
uncovered=1 first=$LAST_ID last=$LAST_ID polled=yes" 10 ||
    fail "the uncovered user was not named again after svc2 left"
wait_for_log "graph notifications inactive interval=2" 5 ||
    fail "notifications still called active"
wait_for_log "graph poll users=$NUSERS" 5 || fail "polling did not resume"
ok "after svc2's logout the 651st user is named and polled again"

presgwd_alive || fail "presgwd died"
exit 0
