# Toybox-shaped CLI tests, printing TAP.  Sourced by t/cli/*.sh.
#
#   testing NAME COMMAND EXPECTED_OUTPUT [EXPECTED_EXIT]
#     runs COMMAND with sh -c (stdout and stderr together), compares the
#     output exactly and the exit code (default 0).
#   matching NAME COMMAND EXTENDED_REGEX [EXPECTED_EXIT]
#     the same, but the output must contain a line matching the regex.
#   skipping N WHY
# $C is the binary under test; done_testing prints the plan.
_n=0
C=${CONTAINER_BIN:?set CONTAINER_BIN to the binary under test}
export C

_report() { # name ok detail
	_n=$((_n + 1))
	if [ "$2" = 1 ]; then echo "ok $_n - $1"; else
		echo "not ok $_n - $1"; printf '%s\n' "$3" | sed 's/^/#   /'; fi
}

testing() {
	_out=$(sh -c "$2" 2>&1); _rc=$?
	_want_rc=${4:-0}
	if [ "$_out" = "$3" ] && [ "$_rc" = "$_want_rc" ]; then _report "$1" 1; else
		_report "$1" 0 "exit $_rc (want $_want_rc); output:
$_out
--- want:
$3"; fi
}

matching() {
	_out=$(sh -c "$2" 2>&1); _rc=$?
	_want_rc=${4:-0}
	if printf '%s\n' "$_out" | grep -Eq -- "$3" && [ "$_rc" = "$_want_rc" ]; then _report "$1" 1
	else _report "$1" 0 "exit $_rc (want $_want_rc); output:
$_out
--- want a line matching: $3"; fi
}

skipping() {
	_i=0
	while [ $_i -lt "$1" ]; do _n=$((_n + 1)); _i=$((_i + 1)); echo "ok $_n # SKIP $2"; done
}

done_testing() { echo "1..$_n"; }
