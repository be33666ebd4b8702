#!/usr/bin/env bash
# t/integ/login.sh: `container system install | uninstall` on Linux (issue
# #6): the systemd user unit's content with HOME in a scratch dir (ExecStart
# is this binary with --foreground --log-file, state dirs passed on,
# KillMode=process), checked by systemd-analyze when present; the printed
# systemctl line; uninstall refusing while the unit is enabled; and the
# unit's ExecStart command itself run by hand: it serves and logs to
# $DATA/apiserver.log.  No systemd manager is touched.
set -u
: "${CONTAINER_BIN:?}"
C=$CONTAINER_BIN
n=0 failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
nok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; }
is() { if [ "$1" = "$2" ]; then ok "$3"; else nok "$3"; echo "#   got:  '$1'"; echo "#   want: '$2'"; return 1; fi; }
like() { case "$1" in *"$2"*) ok "$3" ;; *) nok "$3"; echo "#   got:  '$1'"; echo "#   want: *$2*"; return 1 ;; esac; }
W=$(mktemp -d "${TMPDIR:-/tmp}/login.XXXXXX")
SPID=
cleanup() { [ -n "$SPID" ] && kill "$SPID" 2>/dev/null; wait 2>/dev/null; rm -rf "$W"; }
trap cleanup EXIT
export HOME="$W/home" CONTAINER_DATA_DIR="$W/da ta%1" CONTAINER_RUN_DIR="$W/run"
unset XDG_CONFIG_HOME
mkdir -p "$HOME"
UNIT=$HOME/.config/systemd/user/container-apiserver.service
EXE=$(readlink -f "$C")

out=$("$C" system install 2>&1); rc=$?
is "$rc" 0 "system install: exit 0"
[ -f "$UNIT" ] && ok "the unit is in ~/.config/systemd/user" || nok "no $UNIT"
like "$out" "systemctl --user daemon-reload && systemctl --user enable --now container-apiserver.service" \
	"the exact systemctl line is printed"
is "$(grep '^ExecStart=' "$UNIT")" "ExecStart=\"$EXE\" apiserver --foreground --log-file" \
	"ExecStart: this binary, apiserver --foreground --log-file"
is "$(grep -c '^Environment="CONTAINER_DATA_DIR=.*da ta%%1"$' "$UNIT")" 1 "the data dir passed on, quoted, % doubled"
like "$(cat "$UNIT")" "KillMode=process" "KillMode=process: containers outlive a stop"
like "$(cat "$UNIT")" "WantedBy=default.target" "installed for the user's default target"
is "$(stat -c %a "$UNIT")" 644 "mode 0644"
if command -v systemd-analyze >/dev/null; then
	v=$(systemd-analyze verify "$UNIT" 2>&1); rc=$?
	is "$rc:$v" "0:" "systemd-analyze verify: exit 0, no complaint"
else
	ok "# SKIP systemd-analyze not installed"
fi
is "$("$C" system install --print)" "$(cat "$UNIT")" "--print shows the same text"

# uninstall: refused while enabled, then removes
mkdir -p "$HOME/.config/systemd/user/default.target.wants"
ln -s "$UNIT" "$HOME/.config/systemd/user/default.target.wants/container-apiserver.service"
out=$("$C" system uninstall 2>&1); rc=$?
[ $rc -ne 0 ] && like "$out" "systemctl --user disable --now container-apiserver.service" \
	"uninstall while enabled: refused, with the disable line" || nok "uninstall while enabled: $rc $out"
rm "$HOME/.config/systemd/user/default.target.wants/container-apiserver.service"
"$C" system uninstall >/dev/null 2>&1
[ ! -e "$UNIT" ] && ok "uninstall removes the unit" || nok "unit still there"

# what systemd would run: in the foreground, logging to the file
mkdir -p "$CONTAINER_DATA_DIR"
"$EXE" apiserver --foreground --log-file & SPID=$!
for i in $(seq 50); do [ -S "$CONTAINER_RUN_DIR/container.sock" ] && break; sleep 0.1; done
is "$(curl -s --max-time 5 --unix-socket "$CONTAINER_RUN_DIR/container.sock" http://d/_ping)" OK \
	"ExecStart's command serves"
kill -0 "$SPID" 2>/dev/null && ok "it stays in the foreground (the pid systemd started)" || nok "it exited or forked"
like "$(cat "$CONTAINER_DATA_DIR/apiserver.log")" "listening on" "it logs to <data>/apiserver.log"
kill "$SPID"; wait "$SPID" 2>/dev/null; SPID=
echo "1..$n"
[ $failed -eq 0 ]
