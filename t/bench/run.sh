#!/bin/sh
# Runs each benchmark script given (t/bench/*.sh listed in BENCHES by the
# module fragments); each prints its own table.  Timing lives here, never in
# tests.
set -u
[ $# -gt 0 ] || { echo "bench: no benchmarks registered"; exit 0; }
rc=0
for b in "$@"; do
	echo "== $b"
	sh "$b" || { echo "bench $b failed"; rc=1; }
	echo
done
exit $rc
