# golden_corpus.sh: sourced by the golden_*.sh wrappers once they have
# set top_srcdir.  Sets corpus to the shared corpus directory, which
# lives outside the repository, and top_builddir if the caller did not;
# without a corpus the test is skipped.

: "${top_builddir:=$top_srcdir}"
corpus=${PRESGW_CORPUS:-$top_srcdir/../shared/corpus}

if [ ! -d "$corpus" ]; then
    echo "SKIP: corpus not found at $corpus (set PRESGW_CORPUS)"
    exit 77
fi
