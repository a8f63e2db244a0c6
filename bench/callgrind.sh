#!/usr/bin/env bash
# bench/callgrind.sh -- instruction counts (Ir) of one bench kernel, lispbt vs
# the Lua reference, under valgrind --tool=callgrind.  Instruction counts do not
# depend on the load of a shared machine, so these ratios repeat run to run.
#
#   bench/callgrind.sh [-a] [-k] [KERNEL [N]]      (default: fib 20)
#   bench/callgrind.sh -l                          list kernels
#
#   -a   also print the top functions of the lispbt side (callgrind_annotate,
#        exclusive Ir), after the table
#   -k   keep the callgrind.out files (printed paths) instead of a temp dir
#
# Kernels are registered by the bench/*_bench.lua files with B.kernel (see
# bench/lib.lua).  Each side runs in its own process: `lua5.4 bench/run.lua
# --kernel K --side S --n N`; a third run with --side none does the same setup
# (Lua start, module load, host creation, definitions) without the kernel, and
# its Ir is subtracted, so "kernel Ir" is the kernel alone (to within a few
# hundred instructions of call and conversion overhead).
#
# The module is found as in run.lua: LUA_CPATH if set, else build-bench/?.so,
# then build/?.so.  For line-level annotation build with debug info, e.g.
#   cmake -S . -B build-prof -DCMAKE_BUILD_TYPE=RelWithDebInfo
#   cmake --build build-prof -j2
#   LUA_CPATH='./build-prof/?.so;;' bench/callgrind.sh -a fib 20
set -eu -o pipefail

cd "$(dirname "$0")/.."
LUA=${LUA:-lua5.4}
annotate=0
keep=0
while getopts "akl" o; do
    case $o in
        a) annotate=1 ;;
        k) keep=1 ;;
        l) exec "$LUA" bench/run.lua --list | sed -n '/^callgrind kernels:/,$p' ;;
        *) sed -n '2,14p' "$0" >&2; exit 2 ;;
    esac
done
shift $((OPTIND - 1))
kernel=${1:-fib}
n=${2:-}

command -v valgrind >/dev/null || { echo "callgrind.sh: valgrind not installed (apt-get install valgrind)" >&2; exit 1; }

out=$(mktemp -d "${TMPDIR:-/tmp}/lispbt-callgrind.XXXXXX")
if [ $keep = 0 ]; then
    trap 'rm -rf "$out"' EXIT
fi

# The kernel's sides, in its print order (first = lispbt).
sides=$("$LUA" bench/run.lua --list | awk -v k="$kernel" '$1 == k { for (i = 1; i <= NF; i++) if ($i == "sides:") { print $(i + 1); exit } }')
if [ -z "$sides" ]; then
    echo "callgrind.sh: no kernel '$kernel'; kernels:" >&2
    "$LUA" bench/run.lua --list | sed -n '/^callgrind kernels:/,$p' >&2
    exit 2
fi
# lisp first, then the others
order="lisp $(echo "$sides" | tr ',' '\n' | { grep -vx lisp || true; } | tr '\n' ' ')"

nargs=()
if [ -n "$n" ]; then nargs=(--n "$n"); fi

ir_of() { # total Ir of a callgrind.out file
    awk '/^(summary|totals):/ { print $2; exit }' "$1"
}

run_side() { # side -> prints Ir, leaves $out/callgrind.<kernel>.<side>.out
    local f="$out/callgrind.$kernel.$1.out"
    valgrind --tool=callgrind --callgrind-out-file="$f" --dump-instr=no \
        "$LUA" bench/run.lua --kernel "$kernel" --side "$1" "${nargs[@]}" \
        >"$out/$1.stdout" 2>"$out/$1.stderr" || {
        echo "callgrind.sh: side $1 failed:" >&2; cat "$out/$1.stderr" >&2; exit 1; }
    ir_of "$f"
}

base=$(run_side none)
result_line=$(cat "$out/none.stdout")
nval=$(echo "$result_line" | awk '{ print $6 }')
echo "kernel $kernel  n=$nval  (callgrind Ir; baseline = setup only = $base Ir, subtracted)"
printf '%-8s %16s %16s %10s  %s\n' side "total Ir" "kernel Ir" "vs lisp" result
first=""
for s in $order; do
    [ -n "$s" ] || continue
    tot=$(run_side "$s")
    k=$((tot - base))
    res=$(awk '{ for (i = 1; i <= NF; i++) if ($i == "result") { print $(i + 1); exit } }' "$out/$s.stdout")
    if [ -z "$first" ]; then
        first=$k
        ratio="1.00x"
    else
        ratio=$(awk -v a="$first" -v b="$k" 'BEGIN { if (b > 0) printf "%.2fx", a / b; else print "-" }')
    fi
    printf '%-8s %16d %16d %10s  %s\n' "$s" "$tot" "$k" "$ratio" "$res"
done
echo "(vs lisp = lispbt kernel Ir / this side's kernel Ir: how many times the reference)"

if [ $annotate = 1 ]; then
    # Per-function exclusive Ir of the lispbt side minus the baseline: the
    # kernel's own profile, as a share of its kernel Ir.
    fns() {
        callgrind_annotate --auto=no --inclusive=no --threshold=100 "$1" 2>/dev/null |
            awk '/^ *[0-9][0-9,]* +\(/ && !/PROGRAM TOTALS/ {
                     ir = $1; gsub(",", "", ir); fn = $0
                     sub(/^ *[0-9,]+ +\( *[0-9.]+%\) +/, "", fn)
                     print ir "\t" fn }'
    }
    fns "$out/callgrind.$kernel.none.out" >"$out/none.fns"
    fns "$out/callgrind.$kernel.lisp.out" >"$out/lisp.fns"
    echo
    echo "top functions of the lispbt kernel (exclusive Ir, lisp run minus baseline):"
    awk -F '\t' -v total="$first" '
        NR == FNR { base[$2] = $1; next }
        { d = $1 - base[$2]; if (d > 0) printf "%14d %6.2f%%  %s\n", d, 100 * d / total, $2 }
    ' "$out/none.fns" "$out/lisp.fns" | sort -k1,1nr | head -${TOP:-20}
fi
if [ $keep = 1 ]; then
    echo "callgrind output kept in $out"
fi
