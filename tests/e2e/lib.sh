# A local network of real Ethereum nodes for the end-to-end tests and the
# demo: members 1..N on 127.0.0.1, each a ganache node (mining a block a
# second) under quorum-backup-gate, and a quorum-backup-agent, with its own
# data directory; the backup volume is shared (member<N>/ each).
#
# The caller sets E2E (a fresh directory), top_srcdir and top_builddir,
# and defines e2e_track PID (remember a process to stop) and e2e_fail MSG.
# ganache is started as `node .../cli.js`, never through npx, so that the
# gate's SIGTERM reaches node itself.
: "${GANACHE_CLI:=$top_srcdir/tests/e2e/node_modules/ganache/dist/node/cli.js}"
: "${GATE:=$top_builddir/quorum-backup-gate}"
: "${AGENT:=$top_builddir/quorum-backup-agent}"
: "${CONTROLLER:=$top_builddir/quorum-backup}"
E2E_TOKEN=e2e-token
E2E_PORT_NEXT=$((20000 + ($$ % 400) * 100 + 50))
# ganache's deterministic accounts 0 and 1 (unlocked).
ACCT0=0x90F8bf6A479f320ead074411a4B0e7944Ea8c9C1
ACCT1=0xFFcf8FDEE72ac11b5c542428B35EEF5769C409f0

e2e_check_tools() {
	[ -f "$GANACHE_CLI" ] || e2e_fail "ganache is not installed at \
$GANACHE_CLI: run scripts/install-deps.sh (npm ci in tests/e2e)"
	command -v node >/dev/null 2>&1 || e2e_fail "node is not installed"
	for b in "$GATE" "$AGENT" "$CONTROLLER"; do
		[ -x "$b" ] || e2e_fail "$b is not built"
	done
	mkdir -p "$E2E/backups"
	printf '%s\n' "$E2E_TOKEN" >"$E2E/token"
	chmod 600 "$E2E/token"
}

# rpc PORT METHOD [PARAMS-JSON]: the whole JSON-RPC reply.
rpc() {
	curl -s -m 10 -X POST -H 'Content-Type: application/json' \
		--data "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"$2\",\"params\":${3:-[]}}" \
		"http://127.0.0.1:$1/"
}
# rpc_result PORT METHOD [PARAMS-JSON]: its "result", as jq prints it.
rpc_result() { rpc "$@" | jq -r .result; }

node_port() { eval "echo \$E2E_NPORT_$1"; }
agent_port() { eval "echo \$E2E_APORT_$1"; }
gate_pid() { eval "echo \$E2E_GPID_$1"; }
agent_pid() { eval "echo \$E2E_APID_$1"; }

# height K: member K's head, in decimal.
height() { printf '%d\n' "$(rpc_result "$(node_port "$1")" eth_blockNumber)"; }

# e2e_start_node K: ganache for member K under its gate; waits until it
# answers JSON-RPC (a port in use: the next one).
e2e_start_node() {
	k=$1
	d=$E2E/m$k
	mkdir -p "$d/data/chain"
	tries=0
	while :; do
		port=$E2E_PORT_NEXT
		E2E_PORT_NEXT=$((E2E_PORT_NEXT + 1))
		"$GATE" --socket "$d/gate.sock" \
			--state-dir "$d/data/.quorum-backup/gate" -- \
			node "$GANACHE_CLI" --database.dbPath "$d/data/chain" \
			--wallet.deterministic --chain.chainId 1337 \
			--chain.networkId 1337 --server.host 127.0.0.1 \
			--server.port "$port" --miner.blockTime 1 --logging.quiet \
			>>"$d/node.log" 2>&1 &
		gpid=$!
		e2e_track "$gpid"
		n=0
		while [ $n -lt 300 ]; do
			case $(rpc_result "$port" eth_blockNumber 2>/dev/null) in
			0x*)
				eval "E2E_NPORT_$k=$port E2E_GPID_$k=$gpid"
				return 0 ;;
			esac
			kill -0 "$gpid" 2>/dev/null || break
			sleep 0.1
			n=$((n + 1))
		done
		kill "$gpid" 2>/dev/null || true
		wait "$gpid" 2>/dev/null || true
		tries=$((tries + 1))
		[ $tries -lt 5 ] || e2e_fail "ganache of member $k did not start: \
$(tail -5 "$d/node.log")"
	done
}

# e2e_start_agent K [OPTION...]: member K's agent; waits for /healthz.
e2e_start_agent() {
	k=$1
	shift
	d=$E2E/m$k
	tries=0
	while :; do
		ap=$E2E_PORT_NEXT
		E2E_PORT_NEXT=$((E2E_PORT_NEXT + 1))
		"$AGENT" --data-dir "$d/data" --backup-dir "$E2E/backups" \
			--member "$k" --set agent.listen="127.0.0.1:$ap" \
			--set agent.token_file="$E2E/token" \
			--set archive.lock_files=chain/LOCK \
			--set node.ganache.gate_socket="$d/gate.sock" \
			--set node.ganache.rpc_url="http://127.0.0.1:$(node_port "$k")" \
			--set node.ganache.stop_timeout=60 \
			--set agent.ready_timeout=120 "$@" serve \
			>>"$d/agent.log" 2>&1 &
		apid=$!
		e2e_track "$apid"
		n=0
		while [ $n -lt 100 ]; do
			if grep -q "event=listening address=127.0.0.1:$ap" \
				"$d/agent.log" 2>/dev/null; then
				eval "E2E_APORT_$k=$ap E2E_APID_$k=$apid"
				return 0
			fi
			kill -0 "$apid" 2>/dev/null || break
			sleep 0.1
			n=$((n + 1))
		done
		kill "$apid" 2>/dev/null || true
		wait "$apid" 2>/dev/null || true
		tries=$((tries + 1))
		[ $tries -lt 5 ] || e2e_fail "the agent of member $k did not start: \
$(tail -5 "$d/agent.log")"
	done
}

# e2e_write_conf N: the controller's configuration for members 1..N. The
# ganache members are separate chains, not one network: their heads differ
# by how long each was stopped, so max_lag is wide; they offer no
# validator-set calls, so the validator flags count (all true).
e2e_write_conf() {
	{
		printf '[controller]\nmembers = 1-%s\ntoken_file = %s\n' "$1" \
			"$E2E/token"
		printf 'ready_timeout = 120\nlease_ttl = 60\nmax_lag = 1000000\n'
		k=1
		while [ $k -le "$1" ]; do
			printf '\n[member.%s]\nurl = http://127.0.0.1:%s\n' "$k" \
				"$(agent_port $k)"
			k=$((k + 1))
		done
	} >"$E2E/ctl.ini"
}

# e2e_start N: the whole network, ready.
e2e_start() {
	k=1
	while [ $k -le "$1" ]; do
		e2e_start_node $k
		e2e_start_agent $k
		k=$((k + 1))
	done
	e2e_write_conf "$1"
	e2e_wait_ready "$1"
}

# e2e_wait_ready N: every agent's /readyz answers 200 (60 s at most).
e2e_wait_ready() {
	t=0
	while [ $t -lt 300 ]; do
		all=1
		k=1
		while [ $k -le "$1" ]; do
			[ "$(curl -s -m 5 -o /dev/null -w '%{http_code}' \
				"http://127.0.0.1:$(agent_port $k)/readyz")" = 200 ] || all=0
			k=$((k + 1))
		done
		[ $all = 1 ] && return 0
		sleep 0.2
		t=$((t + 1))
	done
	e2e_fail "the members did not all become ready"
}

# send_tx K WEI: a value transfer from account 0 to account 1 on member K;
# prints the transaction hash.
send_tx() {
	h=$(rpc_result "$(node_port "$1")" eth_sendTransaction \
		"[{\"from\":\"$ACCT0\",\"to\":\"$ACCT1\",\"value\":\"$2\"}]")
	case $h in
	0x*) printf '%s\n' "$h" ;;
	*) return 1 ;;
	esac
}

# wait_receipt K HASH: until the transaction is mined (20 s at most); its
# block number in decimal.
wait_receipt() {
	n=0
	while [ $n -lt 200 ]; do
		b=$(rpc_result "$(node_port "$1")" eth_getTransactionReceipt \
			"[\"$2\"]" | jq -r '.blockNumber // empty' 2>/dev/null || true)
		if [ -n "$b" ]; then
			printf '%d\n' "$b"
			return 0
		fi
		sleep 0.1
		n=$((n + 1))
	done
	return 1
}

# receipt K HASH: "null" when member K does not know the transaction.
receipt() {
	rpc_result "$(node_port "$1")" eth_getTransactionReceipt "[\"$2\"]" |
		jq -r 'if . == null then "null" else .blockNumber end'
}

# block K HEIGHT: "HASH STATEROOT" of member K's block at HEIGHT.
block() {
	rpc_result "$(node_port "$1")" eth_getBlockByNumber \
		"[\"$(printf '0x%x' "$2")\",false]" |
		jq -r 'if . == null then "none none" else "\(.hash) \(.stateRoot)" end'
}

# meta K FIELD: a field of member K's newest backup's node facts.
meta() {
	f=$(ls "$E2E/backups/member$1/"*.json 2>/dev/null | sort | tail -1)
	jq -r ".node.$2" "$f"
}
