#!/usr/bin/env bash
# spec/tools/readme_recipe.sh -- run README.md's "install with LuaRocks, and
# run your own specs with busted" recipe the way a new user would, so the
# README cannot drift from what works.
#
# The commands and the spec are read from README.md itself:
#   ```lua spec      the busted spec, written to spec/patrol_spec.lua of a
#                    fresh project directory outside the checkout
#   ```sh checkout   run at the top of the checkout (luarocks make --local)
#   ```sh project    run in the project directory; each such block is one
#                    way to run busted, and each must pass the spec
# HOME is a scratch directory (mktemp -d), so `--local` installs into a
# throw-away ~/.luarocks and nothing outside it changes (except the
# checkout's build.luarocks/ build directory, as with `make rock-check`).
# Each block runs in `bash -euo pipefail` with no LUA_PATH/LUA_CPATH
# inherited.  Exit status 0 when every block succeeded and busted ran the
# spec's tests with no failure.
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
readme=$repo/README.md
scratch=$(mktemp -d /tmp/lispbt-readme.XXXXXX)
trap 'rm -rf "$scratch"' EXIT
mkdir -p "$scratch/home" "$scratch/project/spec"

# blocks INFO: the fenced blocks of README.md whose info string is exactly
# INFO, each ended by a NUL.
blocks() {
    awk -v info="$1" '
        inb && /^```[ \t]*$/ { inb = 0; printf "%c", 0; next }
        inb { print; next }
        /^```/ { s = $0; sub(/^```[ \t]*/, "", s); sub(/[ \t]*$/, "", s); if (s == info) inb = 1 }
    ' "$readme"
}

# run DIR LABEL SCRIPT: run SCRIPT as a user would type it, in DIR; its
# output goes to $scratch/LABEL.log and is shown on failure.
run() {
    local dir=$1 label=$2 script=$3
    echo "readme-check: [$label] in ${dir/#$scratch/\$SCRATCH}:"
    sed 's/^/    /' <<<"${script%$'\n'}"
    if ! (cd "$dir" && env -u LUA_PATH -u LUA_CPATH -u LUA_PATH_5_4 -u LUA_CPATH_5_4 \
              HOME="$scratch/home" bash -euo pipefail -c "$script") \
              >"$scratch/$label.log" 2>&1 </dev/null; then
        cat "$scratch/$label.log"
        echo "readme-check: [$label] failed" >&2
        exit 1
    fi
}

# The spec, verbatim.
spec=$(blocks "lua spec" | tr -d '\0')
if [ -z "$spec" ]; then
    echo "readme-check: README.md has no \`\`\`lua spec block" >&2
    exit 1
fi
printf '%s\n' "$spec" >"$scratch/project/spec/patrol_spec.lua"
tests=$(grep -c '^ *it(' "$scratch/project/spec/patrol_spec.lua" || true)

# Install from the checkout.
mapfile -d '' install < <(blocks "sh checkout")
if [ "${#install[@]}" -ne 1 ]; then
    echo "readme-check: README.md needs exactly one \`\`\`sh checkout block, found ${#install[@]}" >&2
    exit 1
fi
run "$repo" install "${install[0]}"
if [ ! -f "$scratch/home/.luarocks/lib/lua/5.4/lispbt.so" ]; then
    cat "$scratch/install.log"
    echo "readme-check: the install did not put lispbt.so in ~/.luarocks/lib/lua/5.4" >&2
    exit 1
fi

# Run the project's specs, every documented way.
mapfile -d '' ways < <(blocks "sh project")
if [ "${#ways[@]}" -eq 0 ]; then
    echo "readme-check: README.md has no \`\`\`sh project block" >&2
    exit 1
fi
n=0
for way in "${ways[@]}"; do
    n=$((n + 1))
    run "$scratch/project" "project-$n" "$way"
    # busted must have run every test of the spec, against the rock just
    # installed (the project has no other lispbt.so on its paths).
    if ! grep -Eq "^$tests successes / 0 failures / 0 errors" "$scratch/project-$n.log"; then
        cat "$scratch/project-$n.log"
        echo "readme-check: [project-$n] did not run the spec's $tests tests cleanly" >&2
        exit 1
    fi
    tail -n 1 "$scratch/project-$n.log" | sed 's/^/    => /'
done
loaded=$(cd "$scratch/project" && env -u LUA_PATH -u LUA_CPATH HOME="$scratch/home" bash -c \
    'eval "$(luarocks --lua-version=5.4 path)"; lua5.4 -e "print(package.searchpath(\"lispbt\", package.cpath))"')
case $loaded in
    "$scratch"/home/.luarocks/*) ;;
    *)
        echo "readme-check: the project would load lispbt from '$loaded', not from the rock just installed" >&2
        exit 1
        ;;
esac
echo "readme-check: README recipe OK ($n way(s) to run busted, $tests tests each)"
