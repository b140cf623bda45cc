#!/bin/sh
# Golden test: every as-feature-event document of the shared corpus through
# afe_parse(), a multipart one part by part, compared with afe-expect.tsv.
# The corpus lives outside the repository; without it the test is skipped.

: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
corpus=${PRESGW_CORPUS:-$top_srcdir/../shared/corpus}

if [ ! -d "$corpus" ]; then
    echo "SKIP: corpus not found at $corpus (set PRESGW_CORPUS)"
    exit 77
fi
exec "$top_builddir/tests/golden/golden_dialog" afe "$corpus" \
    "$top_srcdir/tests/golden/afe-expect.tsv"
