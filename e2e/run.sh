#!/usr/bin/env bash
# Runs herald's end-to-end suites (every e2e/*.test.mjs) against the built
# binary, bin/herald (`make test-e2e` builds it first).
#
#   1. makes sure chromium is installed (apt-get, when running as root);
#   2. installs the pinned node packages (npm ci);
#   2b. builds bin/sioserver and bin/socketio-chat for the Socket.IO suites;
#   2c. starts Redis and NATS if they do not answer (the cluster suite);
#   3. starts one herald in dev mode on a free port for the suites to
#      share (E2E_HERALD_URL); suites may start more of their own;
#   4. runs `node --test` over every *.test.mjs here;
#   5. stops what it started, by PID, whatever happens.
#
# Environment: CHROMIUM (default /usr/bin/chromium), E2E_HERALD_BIN (default
# ../bin/herald), E2E_FILES (test files to run instead of all). Suites get
# E2E_HERALD_URL, the shared server (not HERALD_*: herald reads those).
set -euo pipefail
cd "$(dirname "$0")"
E2E_DIR=$(pwd)

export CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"
export E2E_HERALD_BIN="${E2E_HERALD_BIN:-$E2E_DIR/../bin/herald}"

# 1. A browser.
if [ ! -x "$CHROMIUM" ]; then
	if [ "$(id -u)" = 0 ] && [ "$CHROMIUM" = /usr/bin/chromium ]; then
		echo "e2e: $CHROMIUM is missing; installing chromium with apt-get" >&2
		export DEBIAN_FRONTEND=noninteractive
		apt-get update -q
		apt-get install -y -q --no-install-recommends chromium
	else
		echo "e2e: $CHROMIUM is missing. Install Debian's chromium first (as root: apt-get install -y --no-install-recommends chromium)," >&2
		echo "     or point CHROMIUM at a Chromium binary." >&2
		exit 1
	fi
fi

# The binary under test.
if [ ! -x "$E2E_HERALD_BIN" ]; then
	echo "e2e: $E2E_HERALD_BIN is missing; build it first (make build)" >&2
	exit 1
fi
command -v node >/dev/null || { echo "e2e: node (>= 20) is required" >&2; exit 1; }

# 2. Node packages, exactly as locked.
npm ci --no-audit --no-fund --loglevel=error

# 2b. The Socket.IO suites' servers, built from this tree: e2e/sioserver (herald
# embedded, with test handlers) and the seed demo, examples/socketio-chat.
(cd "$E2E_DIR/.." && export PATH="$PATH:/usr/local/go/bin" &&
	go build -o bin/sioserver ./e2e/sioserver && go build -o bin/socketio-chat ./examples/socketio-chat)
export E2E_SIOSERVER_BIN="$E2E_DIR/../bin/sioserver" E2E_SIOCHAT_BIN="$E2E_DIR/../bin/socketio-chat"

# 2c. Redis and NATS, for the cluster suite: started the way the machine
# starts them when they do not answer.
answers() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
if ! answers 6379; then
	echo "e2e: Redis does not answer on 127.0.0.1:6379; starting it" >&2
	mkdir -p /var/lib/redis /var/log/redis
	redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
		--dir /var/lib/redis --logfile /var/log/redis/ci.log
fi
if ! answers 4222; then
	echo "e2e: NATS does not answer on 127.0.0.1:4222; starting it" >&2
	start-stop-daemon --start --oknodo --background --exec /usr/sbin/nats-server -- \
		-a 127.0.0.1 -p 4222 -js -sd /var/lib/nats-server -l /var/log/nats-server.log
fi
for _ in $(seq 50); do answers 6379 && answers 4222 && break; sleep 0.1; done

# 3. A shared herald, in dev mode (no config, no secrets) on a free port.
pids=()
tmp=$(mktemp -d)
cleanup() {
	local pid
	for pid in "${pids[@]}"; do
		if kill -0 "$pid" 2>/dev/null; then
			kill -TERM "$pid" 2>/dev/null || true
			for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
			kill -KILL "$pid" 2>/dev/null || true
		fi
	done
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

port=$(node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
log="$tmp/herald.log"
# Dev mode needs no config and no secrets: drop every HERALD_* setting.
unset_herald=()
for v in $(compgen -e | grep '^HERALD_' || true); do unset_herald+=(-u "$v"); done
env "${unset_herald[@]}" HERALD_ADDR="127.0.0.1:$port" \
	"$E2E_HERALD_BIN" serve >"$log" 2>&1 &
pids+=($!)
export E2E_HERALD_URL="http://127.0.0.1:$port"
for i in $(seq 150); do
	if node -e 'fetch(process.argv[1]).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))' "$E2E_HERALD_URL/healthz"; then break; fi
	if ! kill -0 "${pids[0]}" 2>/dev/null; then echo "e2e: herald exited:" >&2; cat "$log" >&2; exit 1; fi
	if [ "$i" = 150 ]; then echo "e2e: herald did not answer /healthz:" >&2; cat "$log" >&2; exit 1; fi
	sleep 0.1
done
echo "e2e: herald $("$E2E_HERALD_BIN" version 2>/dev/null || true) at $E2E_HERALD_URL (pid ${pids[0]})"

# 4. Every suite.
mkdir -p artifacts
# shellcheck disable=SC2206
files=(${E2E_FILES:-*.test.mjs})
status=0
node --test --test-reporter=spec --test-timeout=120000 "${files[@]}" || status=$?
if [ "$status" != 0 ]; then
	echo "e2e: FAILED; the shared herald's log:" >&2
	tail -n 50 "$log" >&2
fi
exit "$status"
