#!/bin/sh
# check_layers.sh -- fail when a file includes a header of a higher layer,
# of a peer layer, or a private header of another folder.
#
# The layers, lowest first (docs/architecture.md; CMakeLists.txt builds them
# in this order):
#
#   0 base      services that know nothing of Lisp or BT
#   1 lisp      the language
#   2 bt        the behaviour-tree engine
#   3 sched     worker threads; plugs into bt as leaves
#   3 planner   MCTS planner; plugs into bt as leaves
#   4 obs       exporters that read the layers below
#   5 host      one host assembles every layer
#   6 lua       the Lua binding
#
# A file may include headers of its own folder and of lower ranks; sched and
# planner share a rank and may not include each other.  Private headers
# (lisp_obj.h, lisp_code.h, bt_node.h, planner_int.h, obs_evt_int.h,
# sched_int.h) stay in their folder; the one
# exception is csrc/lua/lua_test.c, the test-only surface (as Lua's ltests.c).
# Run by `make test` (ctest "layers"); prints every violation and exits 1
# if there is any.  It also derives the layer graph from the includes (each
# layer and the layers it includes) and checks that docs/architecture.md
# shows exactly that graph between its "layers:begin" and "layers:end"
# markers; `check_layers.sh --graph` prints it.
set -u
cd "$(dirname "$0")/../.." || exit 2

rank() {
    case $1 in
    base) echo 0 ;; lisp) echo 1 ;; bt) echo 2 ;; sched | planner) echo 3 ;;
    obs) echo 4 ;; host) echo 5 ;; lua) echo 6 ;; *) echo "" ;;
    esac
}

# header name -> folder
index=$(mktemp)
for h in csrc/*/*.h; do
    printf '%s %s\n' "$(basename "$h")" "$(basename "$(dirname "$h")")"
done >"$index"

edges=$(mktemp)
trap 'rm -f "$index" "$edges"' EXIT
bad=0
for f in csrc/*/*.c csrc/*/*.h; do
    dir=$(basename "$(dirname "$f")")
    r=$(rank "$dir")
    if [ -z "$r" ]; then
        echo "check_layers: $f: folder '$dir' is not a layer"
        bad=1
        continue
    fi
    for inc in $(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$f"); do
        hdir=$(awk -v h="$inc" '$1 == h { print $2 }' "$index")
        if [ -z "$hdir" ]; then
            echo "check_layers: $f includes \"$inc\", which is no header under csrc/"
            bad=1
            continue
        fi
        [ "$hdir" = "$dir" ] && continue
        echo "$dir $hdir" >>"$edges"
        case $inc in
        lisp_obj.h | lisp_code.h | bt_node.h | planner_int.h | obs_evt_int.h | sched_int.h)
            if [ "$f" != csrc/lua/lua_test.c ]; then
                echo "check_layers: $f ($dir) includes $inc, private to $hdir/"
                bad=1
            fi
            continue ;;
        esac
        hr=$(rank "$hdir")
        if [ "$hr" -ge "$r" ]; then
            echo "check_layers: $f ($dir, layer $r) includes $inc ($hdir, layer $hr)"
            bad=1
        fi
    done
done
# The graph: one line per layer, lowest first: "layer <- what it includes".
graph() {
    for l in base lisp bt sched planner obs host lua; do
        uses=$(awk -v l="$l" '$1 == l { print $2 }' "$edges" | sort -u |
            while read -r u; do echo "$(rank "$u") $u"; done | sort -n | cut -d' ' -f2 | tr '\n' ' ')
        printf '%-8s <- %s\n' "$l" "${uses:-(nothing)}" | sed 's/ *$//'
    done
}
if [ "${1:-}" = --graph ]; then
    graph
    exit $bad
fi
doc=$(sed -n '/<!-- layers:begin -->/,/<!-- layers:end -->/p' docs/architecture.md | sed '1,2d;$d' | sed '$d')
if [ "$doc" != "$(graph)" ]; then
    echo "check_layers: docs/architecture.md's layer graph differs from the includes; it should read:"
    graph
    bad=1
fi
[ $bad -eq 0 ] && echo "check_layers: every include points to a lower layer; the documented graph matches"
exit $bad
