#!/bin/sh
# presgwd killed with SIGKILL at random moments, at least 20 times, while
# phones publish (PIDF and dialog-info, modified and refreshed with
# SIP-If-Match), watchers hold presence, dialog and list subscriptions
# and refresh them in their dialogs, and Teams clients change state; each
# time it starts again on the same store.  faultload.py drives it all and
# checks, as NOTIFYs come and at the end:
#
#   - every NOTIFY is in its subscription's dialog (Call-ID, both tags),
#     its CSeq above every earlier one, its dialog-info and RLMI versions
#     never going back, its Subscription-State active;
#   - every refresh, of a publication or a subscription, is answered 200,
#     also with an entity tag or a dialog from before a restart (a 412 is
#     taken only for a PUBLISH whose answer a kill swallowed);
#   - after the load, one last change per phone reaches every watcher,
#     Teams holds each phone's last state (docs/mapping.md, section 3),
#     and each watcher's last NOTIFY shows what Teams shows;
#   - no Graph write is sent twice in a row for the same user and state
#     without a restart between the two (docs/known-issues.md).
#
# FAULT_SEED replays a run; FAULT_KILLS sets the number of kills (22).
. "$(dirname "$0")/lib.sh"

it_init
start_graphsim
users="alice bob carol dave erin frank grace heidi"
ids=
for u in $users; do
    ids="$ids${ids:+,}$u=$(user_id "$u")"
    case $u in
    alice|bob|carol|dave) ;;
    *) sim_post /_sim/users \
           "{\"id\":\"$(user_id "$u")\",\"upn\":\"$u@contoso.example\"}" \
           >/dev/null || fail "cannot add $u to the simulator" ;;
    esac
done
# shellcheck disable=SC2086
write_users $users
{
    printf 'sip:keys@%s' "$DOMAIN"
    for u in $users; do printf ', %s' "$u"; done
    printf '\n'
} >"$T/lists.csv"
POLL_INTERVAL=1 write_config
touch "$T/presgwd.log"

seed=${FAULT_SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}
note "seed $seed (FAULT_SEED=$seed replays this run)"
rc=0
"$PYTHON" "$top_srcdir/tests/integration/faultload.py" \
    --presgwd "$PRESGWD" --conf "$T/presgwd.conf" --log "$T/presgwd.log" \
    --pidfile "$T/presgwd.pid" --sip-port "$SIP_PORT" --sim "$SIM_URL" \
    --domain "$DOMAIN" --client-id "$CLIENT_ID" \
    --users "$(echo $users | tr ' ' ,)" --ids "$ids" --list keys \
    --kills "${FAULT_KILLS:-22}" --seed "$seed" || rc=$?
# faultload.py ends presgwd itself; this is for when it could not.
if [ -s "$T/presgwd.pid" ]; then
    pid=$(cat "$T/presgwd.pid")
    kill -0 "$pid" 2>/dev/null && it_pids="$it_pids $pid"
fi
[ "$rc" = 0 ] || fail "the fault run failed (FAULT_SEED=$seed replays it)"
ok "SIGKILL under load: dialogs, publications, Teams and Graph writes hold"
exit 0
