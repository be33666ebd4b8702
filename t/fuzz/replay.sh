#!/bin/sh
# Replays every fuzz target's seed corpus (t/fuzz/corpus/<target>/) through
# the target built with t/fuzz/replay.c; one TAP line per target.
set -u
: "${FUZZ_DIR:?}" "${SRCDIR:?}"
n=0; fail=0
for bin in "$FUZZ_DIR"/*; do
	[ -x "$bin" ] || continue
	name=$(basename "$bin")
	corpus="$SRCDIR/t/fuzz/corpus/$name"
	n=$((n + 1))
	if [ ! -d "$corpus" ] || [ -z "$(ls -A "$corpus")" ]; then
		echo "not ok $n - $name: no seed corpus in t/fuzz/corpus/$name"
		continue
	fi
	count=$(ls -A "$corpus" | wc -l)
	if out=$("$bin" "$corpus" 2>&1); then
		echo "ok $n - $name: replayed $count inputs"
	else
		echo "not ok $n - $name: replay failed"
		printf '%s\n' "$out" | tail -20 | sed 's/^/# /'
	fi
done
echo "1..$n"
