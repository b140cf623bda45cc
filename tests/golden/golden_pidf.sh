#!/bin/sh
# Golden test: every PIDF document of the shared corpus through the PIDF
# codec and the phone mapping, compared with pidf-expect.tsv.  The corpus
# lives outside the repository; without it the test is skipped.

: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
corpus=${PRESGW_CORPUS:-$top_srcdir/../shared/corpus}

if [ ! -d "$corpus" ]; then
    echo "SKIP: corpus not found at $corpus (set PRESGW_CORPUS)"
    exit 77
fi
exec "$top_builddir/tests/golden/golden_pidf" "$corpus" \
    "$top_srcdir/tests/golden/pidf-expect.tsv"
