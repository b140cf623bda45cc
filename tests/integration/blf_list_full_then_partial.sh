#!/bin/sh
# A BLF list key (RFC 4662): a list of 20 users in the lists file; a
# SUBSCRIBE without Supported: eventlist gets 421 with Require: eventlist;
# with it, the first NOTIFY is multipart/related with an RLMI document in
# full state and one dialog-info part per user; when one user starts a
# call, the next NOTIFY is partial and carries that user alone.
. "$(dirname "$0")/lib.sh"

need_sipp
it_init
start_graphsim

members=
for i in 01 02 03 04 05 06 07 08 09 10 11 12 13 14 15 16 17 18 19 20; do
    members="$members u$i"
done
# shellcheck disable=SC2086
write_users $members
{
    printf 'sip:keys@%s' "$DOMAIN"
    for m in $members; do printf ', %s' "$m"; done
    printf '\n'
} >"$T/lists.csv"
write_config
start_presgwd
wait_for_log "front lists-loaded lists=1" 3 || fail "the list was not loaded"

sipp_start keys subscribe-list keys -recv_timeout 15000
keys=$SIPP_PID
wait_for_log "subscribe accepted list=keys@$DOMAIN watcher=keys event=dialog members=20" 5 ||
    fail "the list SUBSCRIBE was not accepted"

# u07's phone starts a call.
sipp_run call publish-call u07 -d 3000 || fail "u07's PUBLISH failed"
sipp_wait "$keys" 20 || fail "the list watcher did not see full then partial state"

log=$(sipp_log keys)
printf '%s\n' "$log" | grep -q "no eventlist 421 require=eventlist" ||
    fail "no 421 with Require: eventlist for a list SUBSCRIBE without it"
printf '%s\n' "$log" | grep -q "partial notify resource=u07" ||
    fail "the partial NOTIFY was not about u07: $log"

# The full NOTIFY lists all 20 users, each with a dialog-info part.
python3 - "$T/sipp-keys.msg" <<'PY' || fail "the full-state NOTIFY is wrong"
import re, sys
text = open(sys.argv[1], errors="replace").read()
notifies = re.split(r"\n(?=NOTIFY sip:)", text)[1:]
full = notifies[0]
partial = notifies[1]
uris = re.findall(r'<resource uri="sip:(u\d\d)@', full)
assert uris == ["u%02d" % i for i in range(1, 21)], uris
assert len(re.findall(r"<dialog-info ", full)) == 20
assert 'fullState="true"' in full and 'version="0"' in full
assert re.findall(r'<resource uri="sip:(u\d\d)@', partial) == ["u07"]
assert 'fullState="false"' in partial and 'version="1"' in partial
print("rlmi ok")
PY
ok "421 without eventlist; full state of 20, then a partial NOTIFY for u07"
exit 0
