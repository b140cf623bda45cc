#!/bin/sh
# Golden test: every as-feature-event document of the shared corpus through
# afe_parse(), a multipart one part by part, compared with afe-expect.tsv.
# Without the corpus the test is skipped (golden_corpus.sh).

: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$top_srcdir/tests/golden/golden_corpus.sh"
exec "$top_builddir/tests/golden/golden_dialog" afe "$corpus" \
    "$top_srcdir/tests/golden/afe-expect.tsv"
