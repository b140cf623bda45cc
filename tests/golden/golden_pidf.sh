#!/bin/sh
# Golden test: every PIDF document of the shared corpus through the PIDF
# codec and the phone mapping, compared with pidf-expect.tsv.  Without
# the corpus the test is skipped (golden_corpus.sh).

: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$top_srcdir/tests/golden/golden_corpus.sh"
exec "$top_builddir/tests/golden/golden_pidf" "$corpus" \
    "$top_srcdir/tests/golden/pidf-expect.tsv"
