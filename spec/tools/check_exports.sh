#!/bin/sh
# check_exports.sh SO -- fail unless luaopen_lispbt is the only symbol SO defines
# in its dynamic symbol table (everything else is -fvisibility=hidden).
set -eu
so=${1:?usage: check_exports.sh path/to/lispbt.so}
syms=$(nm -D --defined-only "$so" | awk 'NF >= 3 { print $3 }' | sort)
if [ "$syms" != "luaopen_lispbt" ]; then
    echo "check_exports: $so must export only luaopen_lispbt; it defines:" >&2
    printf '  %s\n' $syms >&2
    exit 1
fi
echo "check_exports: $so exports only luaopen_lispbt"
