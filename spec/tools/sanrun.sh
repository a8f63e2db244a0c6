#!/usr/bin/env bash
# sanrun.sh LOG CMD... -- run CMD (a sanitizer build) with its output copied to
# LOG; fail if CMD exits non-zero or if LOG holds any ASan, LSan, UBSan or TSan
# report.  If TSan cannot map its shadow memory (kernels with high
# vm.mmap_rnd_bits), retry once with address-space randomisation off.
set -uo pipefail
log=${1:?usage: sanrun.sh LOG CMD...}
shift
mkdir -p "$(dirname "$log")"

run() {
    "$@" 2>&1 | tee "$log"
    return "${PIPESTATUS[0]}"
}

run "$@"
rc=$?
if grep -q "unexpected memory mapping" "$log" && command -v setarch >/dev/null; then
    echo "sanrun: retrying with ASLR disabled (setarch -R)" >&2
    run setarch "$(uname -m)" -R "$@"
    rc=$?
fi

reports='ERROR: AddressSanitizer|ERROR: LeakSanitizer|:[0-9]+:[0-9]+: runtime error: |WARNING: ThreadSanitizer|SUMMARY: (Address|Undefined|Thread|Leak)Sanitizer'
if grep -Eq "$reports" "$log"; then
    echo "sanrun: sanitizer report(s) in $log:" >&2
    grep -E "$reports" "$log" | sort | uniq -c | head -20 >&2
    exit 1
fi
if [ "$rc" -ne 0 ]; then
    echo "sanrun: '$*' exited with status $rc (log: $log)" >&2
    exit "$rc"
fi
