#!/bin/sh
# Golden test: every resource list NOTIFY body of the shared corpus, split
# as a watcher would, each part through the codec for its type, compared
# with rls-expect.tsv.
# Without the corpus the test is skipped (golden_corpus.sh).

: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$top_srcdir/tests/golden/golden_corpus.sh"
exec "$top_builddir/tests/golden/golden_dialog" rls "$corpus" \
    "$top_srcdir/tests/golden/rls-expect.tsv"
