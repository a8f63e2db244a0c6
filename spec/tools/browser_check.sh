#!/usr/bin/env bash
# spec/tools/browser_check.sh OUTDIR [--demo PAGE] [PAGE...]
#
# Open each HTML report in headless Chromium (make browser-check): fail on
# any console message (the page logs nothing, so any message is an error
# or a warning), then check with browser_check.lua what the page drew
# (its JSON summary in the dumped DOM).  The PAGE after --demo must have
# every panel, and is saved as a screenshot OUTDIR/NAME.png, an artefact.
# CHROMIUM (default chromium) names the browser.  Runs as root: --no-sandbox.
set -euo pipefail
out=$1
shift
mkdir -p "$out"
browser=${CHROMIUM:-chromium}
profile=$(mktemp -d "${TMPDIR:-/tmp}/lispbt-chromium.XXXXXX")
trap 'rm -rf "$profile"' EXIT
flags=(--headless --no-sandbox --disable-gpu --no-first-run --no-default-browser-check
    --disable-extensions --disable-background-networking --disable-sync
    --disable-component-update --user-data-dir="$profile" --hide-scrollbars)
demo=0
status=0
for page in "$@"; do
    if [ "$page" = --demo ]; then
        demo=1
        continue
    fi
    name=$(basename "$page" .html)
    url="file://$(realpath "$page")"
    log="$out/$name.console.log"
    timeout 120 "$browser" "${flags[@]}" --enable-logging=stderr --v=0 \
        --virtual-time-budget=10000 --dump-dom "$url" >"$out/$name.dom.html" 2>"$log"
    if grep -n 'CONSOLE' "$log" >&2; then
        echo "browser-check: $page: console messages (above; full log in $log)" >&2
        status=1
    elif ! lua5.4 spec/tools/browser_check.lua "$page" "$out/$name.dom.html" \
        $([ $demo = 1 ] && echo --demo); then
        status=1
    fi
    if [ $demo = 1 ]; then
        rm -f "$out/$name.png"
        timeout 120 "$browser" "${flags[@]}" --window-size=1400,2600 \
            --screenshot="$out/$name.png" "$url" >/dev/null 2>&1
        if [ -s "$out/$name.png" ]; then
            echo "browser-check: screenshot $out/$name.png"
        else
            echo "browser-check: $page: no screenshot" >&2
            status=1
        fi
    fi
    demo=0
done
exit $status
