#!/bin/sh
# Golden test: every resource list NOTIFY body of the shared corpus, split
# as a watcher would, each part through the codec for its type, compared
# with rls-expect.tsv.
# The corpus lives outside the repository; without it the test is skipped.

: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
corpus=${PRESGW_CORPUS:-$top_srcdir/../shared/corpus}

if [ ! -d "$corpus" ]; then
    echo "SKIP: corpus not found at $corpus (set PRESGW_CORPUS)"
    exit 77
fi
exec "$top_builddir/tests/golden/golden_dialog" rls "$corpus" \
    "$top_srcdir/tests/golden/rls-expect.tsv"
