#!/bin/sh
# Golden test: every dialog-info document of the shared corpus through the
# dialog-info codec and map_dialog_status(), compared with
# dialog-expect.tsv.
# The corpus lives outside the repository; without it the test is skipped.

: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
corpus=${PRESGW_CORPUS:-$top_srcdir/../shared/corpus}

if [ ! -d "$corpus" ]; then
    echo "SKIP: corpus not found at $corpus (set PRESGW_CORPUS)"
    exit 77
fi
exec "$top_builddir/tests/golden/golden_dialog" dialog "$corpus" \
    "$top_srcdir/tests/golden/dialog-expect.tsv"
