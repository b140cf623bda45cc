#!/bin/sh
# Golden test: every dialog-info document of the shared corpus through the
# dialog-info codec and map_dialog_status(), compared with
# dialog-expect.tsv.
# Without the corpus the test is skipped (golden_corpus.sh).

: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$top_srcdir/tests/golden/golden_corpus.sh"
exec "$top_builddir/tests/golden/golden_dialog" dialog "$corpus" \
    "$top_srcdir/tests/golden/dialog-expect.tsv"
