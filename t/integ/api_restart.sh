#!/usr/bin/env bash
# t/integ/api_restart.sh: restart policies through the API with the real
# docker CLI and real VMs (issue #6): on-failure:N restarts a failing
# workload N times and then leaves it exited with RestartCount N; a success
# is not restarted under on-failure; always restarts a workload that
# succeeded; docker stop / docker kill are never followed by a restart;
# docker start starts the count over; a restarted server (SIGKILL) still
# applies the policy to the runtime it reattached to; bad policies are 400s.
set -u
TOTAL=20 NAME=apirestart
command -v docker >/dev/null 2>&1 || { echo "1..0 # SKIP docker CLI not installed"; exit 0; }
command -v curl >/dev/null 2>&1 || { echo "1..0 # SKIP curl not installed"; exit 0; }
. "$(dirname "$0")/vm_env.sh"
IMG=test/bb:1
trap '"$C" system stop >/dev/null 2>&1; cleanup' EXIT
"$C" system start >/dev/null 2>&1 || { nok "system start"; skip_rest "no API server"; }
SOCK=$CONTAINER_RUN_DIR/container.sock
export DOCKER_HOST=unix://$SOCK
D() { timeout 180 docker "$@"; }
insp() { D inspect -f "$2" "$1" 2>&1; }
# Wait (up to 180 s) until inspect's template $2 of $1 reads $3.
until_is() {
	local i
	for i in $(seq 1 180); do
		[ "$(insp "$1" "$2")" = "$3" ] && return 0
		sleep 1
	done
	return 1
}

# --- on-failure:2 -------------------------------------------------------------
D run -d --name f2 -m 256m --restart on-failure:2 $IMG sh -c 'echo run; exit 1' >/dev/null
until_is f2 '{{.RestartCount}} {{.State.Status}}' "2 exited"
is "$(insp f2 '{{.RestartCount}} {{.State.Status}} {{.State.ExitCode}}')" "2 exited 1" \
	"on-failure:2 and exit 1: exited with RestartCount 2"
sleep 2
is "$(insp f2 '{{.RestartCount}} {{.State.Status}}')" "2 exited" "no third restart"
is "$(D logs f2 2>&1 | grep -c '^run$')" 3 "the workload ran 3 times (its log holds each run)"
is "$(insp f2 '{{.HostConfig.RestartPolicy.Name}}:{{.HostConfig.RestartPolicy.MaximumRetryCount}}')" \
	"on-failure:2" "inspect shows the policy"
is "$(qemus)" 0 "no QEMU left"

# --- on-failure and a success ---------------------------------------------------
D run -d --name f0 -m 256m --restart on-failure $IMG true >/dev/null
until_is f0 '{{.State.Status}}' exited
sleep 2
is "$(insp f0 '{{.RestartCount}} {{.State.Status}} {{.State.ExitCode}}')" "0 exited 0" \
	"on-failure and exit 0: not restarted"

# --- always, then docker stop ----------------------------------------------------
D run -d --name al -m 256m --restart always $IMG sh -c 'sleep 1; exit 0' >/dev/null
until_is al '{{ge .RestartCount 2}}' true &&
	ok "always: a workload that succeeded was restarted ($(insp al '{{.RestartCount}}') times)" ||
	nok "always: not restarted twice in 180 s ($(insp al '{{.RestartCount}} {{.State.Status}}'))"
until_is al '{{.State.Status}}' running
D stop -t 1 al >/dev/null 2>&1
c1=$(insp al '{{.RestartCount}}')
sleep 4
is "$(insp al '{{.State.Status}} {{.RestartCount}}')" "exited $c1" "always + docker stop: stays stopped"
is "$(qemus)" 0 "no QEMU after the stop"
D start al >/dev/null
is "$(insp al '{{.RestartCount}}')" 0 "docker start starts the count over"
until_is al '{{ge .RestartCount 1}}' true &&
	ok "and the policy applies again after docker start" ||
	nok "not restarted after docker start ($(insp al '{{.RestartCount}} {{.State.Status}}'))"
until_is al '{{.State.Status}}' running
D rm -f al >/dev/null
sleep 2
is "$(D ps -aq --filter name=al | wc -l):$(qemus)" "0:0" "rm -f of an always container: gone, not restarted"

# --- unless-stopped, then docker kill ---------------------------------------------
D run -d --name us -m 256m --restart unless-stopped $IMG sleep 1000 >/dev/null
D kill us >/dev/null
sleep 4
is "$(insp us '{{.State.Status}} {{.RestartCount}}')" "exited 0" "unless-stopped + docker kill: stays stopped"

# --- the policy survives a SIGKILL of the server -----------------------------------
D run -d --name sv -m 256m --restart on-failure:1 $IMG sh -c 'sleep 6; exit 7' >/dev/null
kill -9 "$(cat "$CONTAINER_RUN_DIR/apiserver.pid")"
sleep 1
"$C" system start >/dev/null 2>&1
until_is sv '{{.RestartCount}} {{.State.Status}}' "1 exited"
is "$(insp sv '{{.RestartCount}} {{.State.Status}} {{.State.ExitCode}}')" "1 exited 7" \
	"after a restart of the server the reattached runtime's exit follows the policy"

D run -d --name dn -m 256m --restart on-failure:1 $IMG sh -c 'echo ran; sleep 2; exit 5' >/dev/null
dn=$(insp dn '{{.Id}}')
kill -9 "$(cat "$CONTAINER_RUN_DIR/apiserver.pid")"
for i in $(seq 1 60); do # the workload ends while no server runs
	grep -q '"status": *"exited"' "$CONTAINER_DATA_DIR/containers/$dn/state.json" && break
	sleep 1
done
"$C" system start >/dev/null 2>&1
until_is dn '{{.RestartCount}} {{.State.Status}}' "1 exited"
is "$(insp dn '{{.RestartCount}} {{.State.Status}} {{.State.ExitCode}}')" "1 exited 5" \
	"a workload that failed while the server was down is restarted once the server is back"
is "$(D logs dn 2>&1 | grep -c '^ran$')" 2 "it ran twice"

# --- bad policies -------------------------------------------------------------------
cr() {
	curl -s -o /dev/null -w '%{http_code}' --unix-socket "$SOCK" -X POST \
		-H 'Content-Type: application/json' -d "$1" http://d/v1.45/containers/create
}
is "$(cr "{\"Image\":\"$IMG\",\"HostConfig\":{\"RestartPolicy\":{\"Name\":\"sometimes\"}}}")" 400 \
	"an unknown policy: 400"
is "$(cr "{\"Image\":\"$IMG\",\"HostConfig\":{\"RestartPolicy\":{\"Name\":\"always\",\"MaximumRetryCount\":3}}}")" \
	400 "a retry count with always: 400"
is "$(cr "{\"Image\":\"$IMG\",\"HostConfig\":{\"AutoRemove\":true,\"RestartPolicy\":{\"Name\":\"always\"}}}")" \
	400 "a policy with AutoRemove: 400"

D rm -f f2 f0 us sv dn >/dev/null 2>&1
is "$(D ps -aq | wc -l):$(qemus)" "0:0" "all removed, no QEMU left"
echo "1..$n"
[ $failed -eq 0 ]
