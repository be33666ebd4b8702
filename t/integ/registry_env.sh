# Sourced by t/integ/registry_*.sh: a real docker-registry on 127.0.0.1
# with TLS from a CA made here, optionally behind htpasswd Basic auth or a
# token realm (t/tools/token_server.js).  Everything lives under one
# scratch directory and is stopped on exit.
#
#   reg_need TOOL...          print "1..0 # SKIP" and exit when one is missing
#   reg_start none|basic|token
#       sets REG (127.0.0.1:PORT), REG_CA (CA file), REG_USER, REG_PASS,
#       REG_DIR, REG_CERTS (a --cert-dir for skopeo), TOKEN_LOG
#   regcli ARGS...            the driver, with --ca $REG_CA
#   api_use DATADIR           data and run dirs for the image commands' API server
#   tap_ok COND-EXIT-CODE NAME / tap_is GOT WANT NAME / tap_done

REG_USER=alice
REG_PASS='s3cret pass:word'
: "${TMPDIR:=/tmp}"
REG_DIR=$(mktemp -d "$TMPDIR/registry.XXXXXX")
REG_PIDS=
TAP_N=0
TAP_FAILED=0

# The image commands ask an API server (issue #6): api_use DIR points
# CONTAINER_DATA_DIR at DIR and CONTAINER_RUN_DIR at DIR/run and starts a
# server there (once) with the environment as it is now (its registry CA,
# DOCKER_CONFIG); reg_cleanup stops them.
API_RUNS=
api_use() {
	export CONTAINER_DATA_DIR=$1 CONTAINER_RUN_DIR=$1/run
	case " $API_RUNS " in *" $1/run "*) return 0 ;; esac
	API_RUNS="$API_RUNS $1/run"
	"$CONTAINER_BIN" system start >/dev/null 2>&1
}
api_stop() { # DIR: stop the server api_use started there
	CONTAINER_RUN_DIR=$1/run CONTAINER_DATA_DIR=$1 "$CONTAINER_BIN" system stop >/dev/null 2>&1
	API_RUNS=$(echo "$API_RUNS" | tr ' ' '\n' | grep -vxF "$1/run" | tr '\n' ' ')
}

reg_cleanup() {
	for r in $API_RUNS; do
		CONTAINER_RUN_DIR=$r CONTAINER_DATA_DIR=${r%/run} "$CONTAINER_BIN" system stop >/dev/null 2>&1
	done
	for p in $REG_PIDS; do kill "$p" 2>/dev/null; done
	for p in $REG_PIDS; do wait "$p" 2>/dev/null; done
	rm -rf "$REG_DIR"
}
trap reg_cleanup EXIT

tap_ok() {
	TAP_N=$((TAP_N + 1))
	if [ "$1" = 0 ]; then echo "ok $TAP_N - $2"; else echo "not ok $TAP_N - $2"; TAP_FAILED=$((TAP_FAILED + 1)); fi
}
tap_is() {
	TAP_N=$((TAP_N + 1))
	if [ "$1" = "$2" ]; then echo "ok $TAP_N - $3"
	else echo "not ok $TAP_N - $3"; echo "#   got:  '$1'"; echo "#   want: '$2'"; TAP_FAILED=$((TAP_FAILED + 1)); fi
}
tap_like() {
	TAP_N=$((TAP_N + 1))
	case "$1" in
	*"$2"*) echo "ok $TAP_N - $3" ;;
	*) echo "not ok $TAP_N - $3"; echo "#   got:  '$1'"; echo "#   want: *$2*"; TAP_FAILED=$((TAP_FAILED + 1)) ;;
	esac
}
tap_done() {
	echo "1..$TAP_N"
	[ "$TAP_FAILED" = 0 ]
}

reg_need() {
	for t in "$@"; do
		if ! command -v "$t" >/dev/null 2>&1; then
			echo "1..0 # SKIP $t not installed"
			exit 0
		fi
	done
	if [ -z "${TOOLS_DIR:-}" ] || [ ! -x "$TOOLS_DIR/regcli" ]; then
		echo "1..0 # SKIP regcli not built (TOOLS_DIR)"
		exit 0
	fi
}

free_port() {
	node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}

wait_port() {
	i=0
	while ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; do
		i=$((i + 1))
		if [ $i -gt 100 ]; then echo "# port $1 never opened" >&2; return 1; fi
		sleep 0.1
	done
}

reg_pki() {
	d=$REG_DIR
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=test CA" \
		-keyout "$d/ca.key" -out "$d/ca.crt" \
		-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign \
		>/dev/null 2>&1 || return 1
	openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" \
		-keyout "$d/server.key" -out "$d/server.csr" >/dev/null 2>&1 || return 1
	# mbedTLS 2.28 matches dNSName SANs only, so 127.0.0.1 is also a dNSName
	printf 'subjectAltName=DNS:localhost,DNS:127.0.0.1,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' >"$d/ext.cnf"
	openssl x509 -req -in "$d/server.csr" -CA "$d/ca.crt" -CAkey "$d/ca.key" -CAcreateserial \
		-days 2 -extfile "$d/ext.cnf" -out "$d/server.crt" >/dev/null 2>&1 || return 1
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=token signer" \
		-keyout "$d/token.key" -out "$d/token.crt" >/dev/null 2>&1 || return 1
	mkdir -p "$d/certs"
	cp "$d/ca.crt" "$d/certs/ca.crt"
	REG_CA=$d/ca.crt
	REG_CERTS=$d/certs
}

reg_start() {
	mode=$1
	reg_pki || { echo "1..0 # SKIP openssl could not make certificates"; exit 0; }
	port=$(free_port)
	REG=127.0.0.1:$port
	auth=
	case $mode in
	basic)
		htpasswd -Bbn "$REG_USER" "$REG_PASS" >"$REG_DIR/htpasswd" 2>/dev/null ||
			{ echo "1..0 # SKIP htpasswd failed"; exit 0; }
		auth="auth:
  htpasswd:
    realm: test-realm
    path: $REG_DIR/htpasswd"
		;;
	token)
		tport=$(free_port)
		TOKEN_LOG=$REG_DIR/token.log
		: >"$TOKEN_LOG"
		TLS_KEY=$REG_DIR/server.key TLS_CERT=$REG_DIR/server.crt \
		TOKEN_USER=$REG_USER TOKEN_PASS=$REG_PASS \
			node "${SRCDIR:-.}/t/tools/token_server.js" "$tport" "$REG_DIR/token.key" \
			"$REG_DIR/token.crt" "$TOKEN_LOG" 2>"$REG_DIR/token.err" &
		REG_PIDS="$REG_PIDS $!"
		wait_port "$tport" || { cat "$REG_DIR/token.err" >&2; return 1; }
		auth="auth:
  token:
    realm: https://127.0.0.1:$tport/token
    service: test-registry
    issuer: test-issuer
    rootcertbundle: $REG_DIR/token.crt"
		;;
	esac
	cat >"$REG_DIR/config.yml" <<EOF
version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $REG_DIR/data
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$port
  tls:
    certificate: $REG_DIR/server.crt
    key: $REG_DIR/server.key
$auth
EOF
	docker-registry serve "$REG_DIR/config.yml" >"$REG_DIR/registry.log" 2>&1 &
	REG_PIDS="$REG_PIDS $!"
	wait_port "$port" || { cat "$REG_DIR/registry.log" >&2; return 1; }
}

regcli() {
	"$TOOLS_DIR/regcli" --ca "$REG_CA" "$@"
}
