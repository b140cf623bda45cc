#!/bin/sh
# style.sh: the mechanical part of the house style, over src/ and tests/:
# 80 columns, no tabs, none of the unsafe libc string calls, and no
# assignment inside an if or while condition.
top=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
cd "$top" || exit 1
files=$(find src tests/unit tests/golden -name '*.[ch]' | sort)
bad=0

wide=$(awk 'length($0) > 80 { print FILENAME ":" FNR ": wider than 80" }' \
    $files)
tabs=$(grep -n "$(printf '\t')" $files | sed 's/:\([0-9]*\):.*/:\1: tab/')
unsafe=$(grep -nE '\b(strcpy|strcat|sprintf|vsprintf|strtok|atoi|gets|strncpy)[[:space:]]*\(' \
    $files | sed 's/^\([^:]*:[0-9]*\):.*/\1: unsafe libc call/')
assign=$(grep -nE '\b(if|while) \([a-z_>.-]+ = ' $files |
    sed 's/^\([^:]*:[0-9]*\):.*/\1: assignment in a condition/')

for list in "$wide" "$tabs" "$unsafe" "$assign"; do
    [ -n "$list" ] || continue
    printf '%s\n' "$list"
    bad=1
done
if [ $bad -eq 0 ]; then
    echo "style: $(echo "$files" | wc -l) files clean"
fi
exit $bad
