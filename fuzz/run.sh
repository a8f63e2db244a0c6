#!/usr/bin/env bash
# fuzz/run.sh BUILD SECONDS HARNESS... -- run each libFuzzer harness of BUILD
# (a LISPBT_FUZZ build) for SECONDS, one after the other, and print a table.
#
# Each run is `BUILD/fuzz/fuzz_<h> -fork=1 ...` on BUILD/fuzz-corpus/<h>/
# (new inputs go there, outside the source tree) plus the seeds in
# fuzz/corpus/<h>/.  Fork mode, because the language has no step budget: a
# program that loops forever is a timeout of one child (written to the
# artifacts and counted), not the end of the run.  Crashes (a sanitizer
# report, a failed harness check) and out-of-memory inputs do not stop it
# either (-ignore_crashes=1): each one's reproducer is written to
# BUILD/fuzz-artifacts/<h>/, run again afterwards and matched against the
# known findings of fuzz/crashes-found/known.tsv.  A finding that is not
# known fails the run, after every harness has run.
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
known_file=fuzz/crashes-found/known.tsv
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
    stamp=$build/fuzz_$h.stamp
    : >"$stamp"
    echo "fuzz: $h for ${secs}s (log $log)"
    rc=0
    # shellcheck disable=SC2086
    "$bin" -fork=1 -ignore_timeouts=1 -ignore_ooms=0 -ignore_crashes=1 \
        -max_total_time="$secs" -timeout="$timeout_s" -max_len="$max_len" -rss_limit_mb="$rss" \
        -close_fd_mask=1 -artifact_prefix="$root/$arts/" ${FUZZ_ARGS:-} \
        "$corpus" "$seeds" >"$log" 2>&1 || rc=$?
    # the last status line: "#N: cov: C ft: F corp: K exec/s E oom/timeout/crash: a/b/c time: Ts ..."
    last=$(grep -E '^#[0-9]+: cov: ' "$log" | tail -n 1 || true)
    cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
    runs=$(sed -n 's/^#\([0-9]*\):.*/\1/p' <<<"$last")
    took=$(sed -n 's/.* time: \([0-9]*\)s.*/\1/p' <<<"$last")
    eps='?'
    if [ -n "$runs" ] && [ -n "$took" ] && [ "$took" -gt 0 ]; then
        eps=$((runs / took)) # the average; the status line's exec/s is the last job's
    fi
    corp=$(sed -n 's/.* corp: \([0-9]*\).*/\1/p' <<<"$last")
    # Every crash, leak or out-of-memory input of this run is run again and
    # its report compared with the known findings (fuzz/crashes-found/known.tsv:
    # harness, extended regexp of the report, what it is).  A known one is
    # listed; anything else fails the run.  Timeouts are listed, not failures.
    nknown=0 nnew=0 ntimeout=0
    while IFS= read -r a; do
        case $(basename "$a") in
            timeout-*) ntimeout=$((ntimeout + 1)); continue ;;
            crash-* | leak-* | oom-*) ;;
            *) continue ;;
        esac
        report=$(timeout 300 "$bin" -runs=1 -rss_limit_mb="$rss" -timeout="$timeout_s" "$a" 2>&1 || true)
        what=
        if [ -f "$known_file" ]; then
            while IFS=$'\t' read -r kh pat desc; do
                case $kh in '#'* | '') continue ;; esac
                if [ "$kh" = "$h" ] && grep -qaE -- "$pat" <<<"$report"; then
                    what=$desc
                    break
                fi
            done <"$known_file"
        fi
        if [ -n "$what" ]; then
            nknown=$((nknown + 1))
            echo "fuzz: $h: known finding ($what): $a"
        else
            nnew=$((nnew + 1))
            echo "fuzz: $h: NEW finding: $a; its report:" >&2
            grep -aE 'ERROR|SUMMARY|runtime error|^fuzz: |^  [a-z-]+: |^    #[0-9] ' <<<"$report" | cut -c1-300 | head -n 25 >&2 || true
        fi
    done < <(find "$arts" -type f -newer "$stamp" | sort)
    if [ "$ntimeout" -gt 0 ]; then
        echo "fuzz: $h: $ntimeout input(s) ran longer than ${timeout_s}s (the language has no step budget): $arts/timeout-*"
    fi
    # In fork mode libFuzzer exits with the status of its last child: 70
    # when that one timed out, a crash's status when it crashed.  Such an
    # exit is explained by the artifacts classified above; any other
    # non-zero exit, or one with no artifact to show for it, is a failure.
    if [ "$rc" -ne 0 ] && [ "$rc" -ne 70 ] && [ $((nknown + nnew)) -eq 0 ]; then
        :
    elif [ "$rc" -eq 70 ] && [ "$ntimeout" -eq 0 ]; then
        :
    else
        rc=0
    fi
    if [ "$rc" -ne 0 ] || [ "$nnew" -gt 0 ] || [ -z "$last" ]; then
        status=1
        if [ "$rc" -ne 0 ]; then
            echo "fuzz: $h: libFuzzer exited with $rc; the end of $log:" >&2
            tail -n 20 "$log" >&2
        fi
        summary+=("$(printf '%-6s FAILED  exit %s, %s new finding(s); see %s and %s/' "$h" "$rc" "$nnew" "$log" "$arts")")
    else
        summary+=("$(printf '%-6s ok  runs %s  exec/s %s  cov %s  corpus %s  known %s  timeouts %s' \
            "$h" "${runs:-?}" "$eps" "${cov:-?}" "${corp:-?}" "$nknown" "$ntimeout")")
    fi
done
echo "fuzz: summary (${secs}s each)"
printf '  %s\n' "${summary[@]}"
exit $status
