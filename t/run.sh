#!/bin/sh
# Run test programs under prove and end with one plain summary line,
# "N passed, N failed, N skipped", counted from the TAP they print.
# Usage: t/run.sh PROGRAM...   (each prints TAP; binaries and scripts alike)
set -u
[ $# -gt 0 ] || { echo "t/run.sh: no tests given" >&2; exit 2; }
# Tests talk only to loopback and to namespaces they make themselves, and
# containers join bridges (#7): run everything in a private network
# namespace, so no bridge, TAP or nf_tables rule ever lands on the
# machine's own network and no packet can leave it.  Without root (or
# unshare) the tests run where they are and the root-only ones skip.
if [ -z "${CONTAINER_TEST_NETNS:-}" ] && [ "$(id -u)" = 0 ] &&
	unshare -n true 2>/dev/null && command -v ip >/dev/null; then
	CONTAINER_TEST_NETNS=1 exec unshare -n -- sh -c 'ip link set lo up && exec "$0" "$@"' "$0" "$@"
fi
log=${TMPDIR:-/tmp}/container-test.$$.log
# -v so every TAP line is in the log to count; prove's own summary follows.
prove -v -f --timer "$@" >"$log" 2>&1
rc=$?
# Show failures and skips with context, not the whole verbose stream.
grep -E '^not ok|^(Failed|Dubious|Parse errors|Result|Files=|All tests)' "$log"
# Skips, grouped by reason: a skip always says why.
grep -E '^ok .*# SKIP' "$log" | sed -E 's/^ok [0-9]+ (- )?.*# SKIP */skipped: /' |
	sort | uniq -c | sort -rn | head -40
passed=$(grep -cE '^ok [0-9]' "$log")
skipped=$(grep -cE '^ok [0-9]+.*# SKIP' "$log")
failed=$(grep -cE '^not ok [0-9]' "$log")
passed=$((passed - skipped))
# A program that died without TAP lines still fails the run (prove's rc).
if [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then
	grep -E 'Dubious|Wstat|No plan|Bad plan' "$log" | head -20
	failed=1
fi
[ "$rc" -ne 0 ] && { echo "--- full log: $log"; }
echo "$passed passed, $failed failed, $skipped skipped"
[ "$rc" -eq 0 ] && rm -f "$log"
exit "$rc"
