#!/usr/bin/env bash
# Usage: scripts/test-stress.sh
#
# make test under load, twice: first while a CPU hog keeps every core busy
# (one busy loop per core, each bounded to HOG_LIMIT seconds and stopped as
# soon as the tests end), then two make test runs at once, each with its
# own throwaway servers on ports of their own. Both must pass; the script
# prints how long each took.
set -euo pipefail
cd "$(dirname "$0")/.."
HOG_LIMIT=${HOG_LIMIT:-1800}
MAKE=${MAKE:-make}

hogs=()
stop_hogs() {
	for p in "${hogs[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done
	for p in "${hogs[@]:-}"; do [ -n "$p" ] && wait "$p" 2>/dev/null || true; done
	hogs=()
}
trap stop_hogs EXIT

echo "== test-stress: make test with every core busy"
for _ in $(seq "$(nproc)"); do
	timeout "$HOG_LIMIT" sh -c 'while :; do :; done' &
	hogs+=("$!")
done
start=$(date +%s)
status=0
$MAKE --no-print-directory test >/tmp/test-stress-hog.$$.log 2>&1 || status=$?
stop_hogs
hog_time=$(($(date +%s) - start))
tail -n 8 /tmp/test-stress-hog.$$.log
if [ "$status" -ne 0 ]; then
	echo "== test-stress: make test under a CPU hog FAILED after ${hog_time}s (log: /tmp/test-stress-hog.$$.log)"
	exit 1
fi
rm -f /tmp/test-stress-hog.$$.log

echo "== test-stress: two make test runs at once"
start=$(date +%s)
$MAKE --no-print-directory test >/tmp/test-stress-a.$$.log 2>&1 &
a=$!
$MAKE --no-print-directory test >/tmp/test-stress-b.$$.log 2>&1 &
b=$!
sa=0; sb=0
wait "$a" || sa=$?
wait "$b" || sb=$?
pair_time=$(($(date +%s) - start))
tail -n 6 /tmp/test-stress-a.$$.log /tmp/test-stress-b.$$.log
if [ "$sa" -ne 0 ] || [ "$sb" -ne 0 ]; then
	echo "== test-stress: concurrent runs FAILED (status $sa, $sb) after ${pair_time}s (logs: /tmp/test-stress-[ab].$$.log)"
	exit 1
fi
rm -f /tmp/test-stress-a.$$.log /tmp/test-stress-b.$$.log
echo "== test-stress: ok: under a CPU hog ${hog_time}s; two runs at once ${pair_time}s"
