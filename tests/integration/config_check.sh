#!/bin/sh
# presgwd -n checks the configuration and the user map and exits: 0 and
# "configuration FILE is valid (N users in MAP)" when both are good, 1 and
# one "FILE:LINE: message" per problem otherwise (all problems, not only
# the first).  The check has no side effects: no store is created.
. "$(dirname "$0")/lib.sh"

it_init
SIM_PORT=9          # never contacted: -n only reads files
write_users alice bob carol
write_config
CONF=$T/presgwd.conf
MAP=$T/users.csv

# check FILE: runs presgwd -n FILE; sets RC, OUT (stdout) and ERR (stderr).
check() {
    "$PRESGWD" -c "$1" -n >"$T/check.out" 2>"$T/check.err"
    RC=$?
    OUT=$(cat "$T/check.out")
    ERR=$(cat "$T/check.err")
}

# expect_err TEXT: stderr has TEXT as (part of) a line.
expect_err() {
    printf '%s\n' "$ERR" | grep -qF -- "$1" ||
        fail "no '$1' in the output of presgwd -n:
$ERR"
}

# 1. A good configuration.
check "$CONF"
[ "$RC" = 0 ] || fail "presgwd -n on a good configuration exited $RC: $ERR"
[ "$OUT" = "presgwd: configuration $CONF is valid (3 users in $MAP)" ] ||
    fail "unexpected message for a good configuration: '$OUT'"
[ -e "$T/presgw.db" ] && fail "presgwd -n created the store"
ok "a good configuration is valid"

# 2. An unknown key and a bad number, and the lines they are on.
sed -e 's/^min_expires = .*/min_expires = soon/' \
    -e 's/^\[sip\]$/[sip]\ncolour = blue/' "$CONF" >"$T/bad.conf"
key_line=$(grep -n '^colour = blue$' "$T/bad.conf" | cut -d: -f1)
num_line=$(grep -n '^min_expires = soon$' "$T/bad.conf" | cut -d: -f1)
[ -n "$key_line" ] && [ -n "$num_line" ] || fail "cannot build bad.conf"
check "$T/bad.conf"
[ "$RC" = 1 ] || fail "presgwd -n on a bad configuration exited $RC"
expect_err "$T/bad.conf:$key_line: unknown key 'colour' in [sip]"
expect_err "$T/bad.conf:$num_line: sip.min_expires must be a number from 1 to 86400, not 'soon'"
expect_err "presgwd: configuration $T/bad.conf has errors"
[ -z "$OUT" ] || fail "a bad configuration printed '$OUT'"
ok "unknown key and bad number reported with their lines"

# 3. A word outside its choices, a required key missing.
sed -e 's/^call_end = .*/call_end = sometimes/' -e '/^domain = /d' \
    "$CONF" >"$T/bad2.conf"
word_line=$(grep -n '^call_end = sometimes$' "$T/bad2.conf" | cut -d: -f1)
check "$T/bad2.conf"
[ "$RC" = 1 ] || fail "presgwd -n with a bad word exited $RC"
expect_err "$T/bad2.conf:$word_line: graph.call_end must be one of available|clear, not 'sometimes'"
expect_err "$T/bad2.conf: sip.domain is required"
ok "bad word and missing required key reported"

# 4. A user map with a duplicate and an id that is no Entra object id.
cat >"$T/bad-users.csv" <<EOF
# SIP address of record, Entra object id, user principal name
sip:alice@$DOMAIN, $ALICE_ID, alice@contoso.example
sip:alice@$DOMAIN, $BOB_ID, bob@contoso.example
sip:carol@$DOMAIN, not an id!, carol@contoso.example
EOF
sed -e 's/^map = .*/map = bad-users.csv/' "$CONF" >"$T/badmap.conf"
check "$T/badmap.conf"
[ "$RC" = 1 ] || fail "presgwd -n with a bad user map exited $RC"
expect_err "$T/bad-users.csv:3: alice@$DOMAIN is mapped twice"
expect_err "$T/bad-users.csv:4: 'not an id!' is not an Entra object id"
expect_err "presgwd: user map $T/bad-users.csv has errors"
ok "duplicate user and bad id reported with their lines"

# 5. The secret may come from the environment instead of a file.
sed -e 's/^client_secret_file = .*/client_secret_file =/' "$CONF" >"$T/env.conf"
check "$T/env.conf"
[ "$RC" = 1 ] || fail "no secret at all was accepted"
expect_err "PRESGW_CLIENT_SECRET is not set"
PRESGW_CLIENT_SECRET=from-the-environment "$PRESGWD" -c "$T/env.conf" -n \
    >"$T/check.out" 2>"$T/check.err" ||
    fail "the secret from PRESGW_CLIENT_SECRET was not accepted: $(cat "$T/check.err")"
ok "client secret from PRESGW_CLIENT_SECRET"

# 6. graph.batch takes yes or no.
sed -e 's/^call_end = /batch = no\ncall_end = /' "$CONF" >"$T/nobatch.conf"
check "$T/nobatch.conf"
[ "$RC" = 0 ] || fail "presgwd -n with graph.batch = no exited $RC: $ERR"
sed -e 's/^call_end = /batch = maybe\ncall_end = /' "$CONF" >"$T/badbatch.conf"
batch_line=$(grep -n '^batch = maybe$' "$T/badbatch.conf" | cut -d: -f1)
check "$T/badbatch.conf"
[ "$RC" = 1 ] || fail "presgwd -n with graph.batch = maybe exited $RC"
expect_err "$T/badbatch.conf:$batch_line: graph.batch must be one of yes|no, not 'maybe'"
ok "graph.batch: yes or no"

# 7. A file that is not there.
check "$T/missing.conf"
[ "$RC" = 1 ] || fail "presgwd -n on a missing file exited $RC"
expect_err "$T/missing.conf: cannot open"
exit 0
