#!/usr/bin/env bash
# fuzz/run.sh BUILD SECONDS HARNESS... -- run each libFuzzer harness of BUILD
# (a LISPBT_FUZZ build) for SECONDS, one after the other, and print a table.
#
# Each run is `BUILD/fuzz/fuzz_<h> -fork=1 ...` on BUILD/fuzz-corpus/<h>/
# (new inputs go there, outside the source tree) plus the seeds in
# fuzz/corpus/<h>/.  Fork mode, because the language has no step budget: a
# program that loops forever is a timeout of one child (written to the
# artifacts and counted), not the end of the run.  A crash, a sanitizer
# report, a failed harness check or an out-of-memory (-ignore_ooms=0) stops
# the harness: its reproducer is in BUILD/fuzz-artifacts/<h>/ and the run
# fails after the other harnesses have run.
# Environment: FUZZ_TIMEOUT (seconds per input, default 10), FUZZ_MAX_LEN
# (default 4096), FUZZ_RSS_MB (default 2048), FUZZ_ARGS (more libFuzzer
# flags), LISPBT_FUZZ_HEAP_LIMIT (the harness hosts' heap_limit).
set -euo pipefail
build=$1 secs=$2
shift 2
timeout_s=${FUZZ_TIMEOUT:-10}
max_len=${FUZZ_MAX_LEN:-4096}
rss=${FUZZ_RSS_MB:-2048}
root=$(pwd)
sandbox=$root/$build/fuzz-sandbox
mkdir -p "$sandbox"
export LISPBT_FUZZ_SANDBOX=$sandbox
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:strict_string_checks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
status=0
summary=()
for h in "$@"; do
    bin=$build/fuzz/fuzz_$h
    seeds=fuzz/corpus/$h
    corpus=$build/fuzz-corpus/$h
    arts=$build/fuzz-artifacts/$h
    log=$build/fuzz_$h.log
    if [ ! -x "$bin" ]; then
        echo "fuzz: no harness $bin (FUZZERS names '$h')" >&2
        exit 1
    fi
    if [ ! -d "$seeds" ]; then
        echo "fuzz: no seed corpus $seeds for harness '$h'" >&2
        exit 1
    fi
    mkdir -p "$corpus" "$arts"
    echo "fuzz: $h for ${secs}s (log $log)"
    rc=0
    # shellcheck disable=SC2086
    "$bin" -fork=1 -ignore_timeouts=1 -ignore_ooms=0 -ignore_crashes=0 \
        -max_total_time="$secs" -timeout="$timeout_s" -max_len="$max_len" -rss_limit_mb="$rss" \
        -close_fd_mask=1 -artifact_prefix="$root/$arts/" ${FUZZ_ARGS:-} \
        "$corpus" "$seeds" >"$log" 2>&1 || rc=$?
    # the last status line: "#N: cov: C ft: F corp: K exec/s: E oom/timeout/crash: a/b/c ..."
    last=$(grep -E '^#[0-9]+: cov: ' "$log" | tail -n 1 || true)
    cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
    runs=$(sed -n 's/^#\([0-9]*\):.*/\1/p' <<<"$last")
    took=$(sed -n 's/.* time: \([0-9]*\)s.*/\1/p' <<<"$last")
    eps='?'
    if [ -n "$runs" ] && [ -n "$took" ] && [ "$took" -gt 0 ]; then
        eps=$((runs / took)) # the average; the status line's exec/s is the last job's
    fi
    otc=$(sed -n 's/.* oom\/timeout\/crash: \([0-9\/]*\).*/\1/p' <<<"$last")
    corp=$(sed -n 's/.* corp: \([0-9]*\).*/\1/p' <<<"$last")
    if [ "$rc" -ne 0 ] || grep -qE '^(==[0-9]+==ERROR|SUMMARY: (Address|Undefined|Leak)Sanitizer|SUMMARY: libFuzzer)|runtime error:' "$log"; then
        status=1
        echo "fuzz: $h FAILED (exit $rc); the report:" >&2
        grep -nE 'ERROR|SUMMARY|runtime error|^fuzz: |Test unit written|artifact' "$log" | head -n 20 >&2 || true
        summary+=("$(printf '%-6s FAILED  see %s and %s/' "$h" "$log" "$arts")")
    else
        summary+=("$(printf '%-6s ok  runs %s  exec/s %s  cov %s  corpus %s  oom/timeout/crash %s' \
            "$h" "${runs:-?}" "${eps:-?}" "${cov:-?}" "${corp:-?}" "${otc:-?}")")
    fi
done
echo "fuzz: summary (${secs}s each)"
printf '  %s\n' "${summary[@]}"
exit $status
