#!/bin/sh
# crypto_interop.sh: the crypto module against Python's cryptography
# package (Debian's python3-cryptography); skipped when it is missing.
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
# Debian's own Python, which has python3-cryptography.
if [ -z "${PYTHON:-}" ]; then
    PYTHON=python3
    [ -x /usr/bin/python3 ] && PYTHON=/usr/bin/python3
fi
if ! "$PYTHON" -c 'import cryptography' 2>/dev/null; then
    echo "skip: $PYTHON has no cryptography module (python3-cryptography)"
    exit 77
fi
tool=$top_builddir/tests/tools/cryptotool
if [ ! -x "$tool" ]; then
    echo "missing $tool (make check builds it)"
    exit 1
fi
exec "$PYTHON" "$top_srcdir/tests/unit/crypto_interop.py" "$tool"
