#!/bin/sh
# CLI behaviour of the dispatcher: help, version, unknown commands, usage
# errors and exit codes, role selection by program name.
. "${SRCDIR:-.}/t/cli/lib.sh"
T=${TMPDIR:-/tmp}/cli.$$
mkdir -p "$T" && trap 'rm -rf "$T"' EXIT
# nothing here may touch the user's state, even by mistake
export CONTAINER_DATA_DIR="$T/data" CONTAINER_RUN_DIR="$T/run"

matching "--version names version, commit, target, date" "\$C --version" \
	'^container version [0-9]+\.[0-9]+\.[0-9]+ \(commit [0-9a-f]{7,}(-dirty)?, linux-(amd64|arm64), built [0-9]{4}-[0-9]{2}-[0-9]{2}\)$'
testing "-v is --version" "\$C -v | cut -d' ' -f1-2" "container version"
matching "version lists linked libraries" "\$C version" '^Libraries: libuv 1\.[0-9.]+, mbedTLS 2\.[0-9.]+, zlib [0-9.]+, zstd [0-9.]+, jansson [0-9.]+$'
matching "version --format json" "\$C version --format json" '"target": "linux-(amd64|arm64)"'
testing "version --format xml is a usage error" "\$C version --format xml" \
	"container version: unknown format 'xml' (want text or json)" 2
matching "--help starts with usage" "\$C --help | head -1" '^Usage: container \[--debug\] COMMAND'
matching "--help lists commands with summaries" "\$C --help" '^  version +Show version, build and library information$'
matching "no arguments shows help, exit 0" "\$C" '^Commands:$'
testing "help COMMAND equals COMMAND --help" "[ \"\$(\$C help version)\" = \"\$(\$C version --help)\" ] && echo same" "same"
matching "COMMAND --help shows generated options" "\$C version --help" '^  -f, --format FORMAT +Output format: text or json$'
matching "every command has -h, --help" "\$C version -h" '^  -h, --help +Show this help$'
testing "help of an unknown command" "\$C help frobnicate 2>&1 | head -1" "container: unknown command 'frobnicate'"
testing "unknown command: one line, then the list, exit 2" "\$C frobnicate 2>&1 >/dev/null | head -1; exit \$(\$C frobnicate >/dev/null 2>&1; echo \$?)" \
	"container: unknown command 'frobnicate'" 2
matching "unknown command lists the commands" "\$C frobnicate" '^  help +Show help for a command$' 2
testing "unknown option" "\$C version --bogus" "container version: unknown option --bogus
Run 'container version --help' for usage." 2
testing "unknown global option" "\$C --bogus" "container: unknown option --bogus
Run 'container --help' for usage." 2
testing "too many operands" "\$C version extra" "container version: too many operands: 'extra' and after
Run 'container version --help' for usage." 2
testing "missing operand" "\$C runtime" "container runtime: missing operand (usage: CONTAINER-ID)
Run 'container runtime --help' for usage." 2
testing "--debug before the command is accepted" "\$C --debug version --format json >/dev/null && echo ok" "ok"

# Roles by program name (symlink) and by subcommand.
for role in container-apiserver container-runtime container-network init; do
	ln -s "$C" "$T/$role"
done
matching "container-apiserver link reaches the apiserver" "$T/container-apiserver --help | head -1" '^Usage: container-apiserver \[--foreground\]'
matching "container-runtime link reaches the runtime" "$T/container-runtime --help | head -1" '^Usage: container-runtime CONTAINER-ID$'
matching "container-network link reaches the network helper" "$T/container-network --help | head -1" '^Usage: container-network NETWORK$'
matching "init link reaches the guest init" "$T/init --help | head -1" '^Usage: init$'
matching "apiserver as a subcommand" "\$C apiserver --help | head -1" '^Usage: container apiserver'
testing "the network helper refuses a network that does not exist" "$T/container-network x 2>&1" \
	"container-network x: no such network: x" 1
ln -s "$C" "$T/container-linux-amd64"
matching "an unknown program name is the CLI" "$T/container-linux-amd64 --version" '^container version '
done_testing
