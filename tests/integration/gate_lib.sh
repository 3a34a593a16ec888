# Helpers for the quorum-backup-gate tests, sourced after lib.sh. Real
# processes only: the gate, tests/helpers/testnode, on 127.0.0.1.
: "${GATE:=$top_builddir/quorum-backup-gate}"
: "${TESTNODE:=$top_builddir/tests/helpers/testnode}"
# Blocks of 100 ports per test process, so tests running side by side
# (make -j) do not pick the same ones.
PORT_NEXT=$((20000 + ($$ % 400) * 100))

# Testnodes that ignore SIGTERM would keep their gate (and lib.sh's cleanup)
# waiting: they go first, by the PID they wrote, then lib.sh's cleanup.
gate_cleanup() {
	gc_rc=$?
	for f in "$T"/*.pid; do
		[ -f "$f" ] || continue
		p=$(cat "$f" 2>/dev/null) || continue
		case "$({ tr '\0' ' ' <"/proc/$p/cmdline"; } 2>/dev/null)" in
		*testnode*) kill -KILL "$p" 2>/dev/null || true ;;
		esac
	done
	cleanup "$gc_rc"
}
trap gate_cleanup EXIT

# children_of PID: "PID STATE" for each child process of PID.
children_of() {
	cat /proc/[0-9]*/stat 2>/dev/null | awk -v p="$1" '{
		s = $0; sub(/.*\) /, "", s); split(s, f, " ");
		if (f[2] == p) print substr($0, 1, index($0, " ") - 1), f[1] }'
}

now_ms() { echo $(($(date +%s%N) / 1000000)); }

# gate_wait PID [TENTHS]: wait for the gate to exit; its status in GATE_RC.
gate_wait() {
	n=${2:-100}
	while alive "$1"; do
		[ "$n" -gt 0 ] || fail "process $1 did not exit"
		sleep 0.1
		n=$((n - 1))
	done
	set +e
	wait "$1"
	GATE_RC=$?
	set -e
}

# ctl NAME REQUEST...: the reply in $REPLY, the exit status in $CTL_RC.
ctl() {
	name=$1
	shift
	set +e
	REPLY=$("$GATE" ctl --socket "$T/$name.sock" "$@" 2>"$T/ctl.err")
	CTL_RC=$?
	set -e
}

# field FILTER: jq on $REPLY.
field() { printf '%s\n' "$REPLY" | jq -r "$1"; }

# expect_field FILTER VALUE
expect_field() {
	got=$(field "$1") || fail "not JSON: $REPLY"
	[ "$got" = "$2" ] || fail "$1 is '$got', expected '$2' in: $REPLY"
}

# launch NAME MODE PORT GATE_OPTS NODE_OPTS: the gate in the background on
# $T/NAME.sock and $T/NAME.state, its stdout and stderr in $T/NAME.out and
# $T/NAME.err, its PID in GPID. MODE exec: the gate runs testnode itself;
# sh: through `sh -c 'testnode ...; true'`, a shell that does not exec (dash,
# as in the Tessera image); none: a command that must not run.
launch() {
	name=$1 mode=$2 port=$3 gopts=$4 nopts=$5
	node="$TESTNODE --data $T/$name.data --port $port --pid-file $T/$name.pid $nopts"
	case $mode in
	exec)
		# shellcheck disable=SC2086
		"$GATE" --socket "$T/$name.sock" --state-dir "$T/$name.state" \
			$gopts -- $node >"$T/$name.out" 2>"$T/$name.err" & ;;
	sh)
		# shellcheck disable=SC2086
		"$GATE" --socket "$T/$name.sock" --state-dir "$T/$name.state" \
			$gopts -- sh -c "$node; true" >"$T/$name.out" 2>"$T/$name.err" & ;;
	esac
	GPID=$!
	track_pid "$GPID"
}

# start_gate NAME MODE [GATE_OPTION...] [-- TESTNODE_OPTION...]: launch and
# wait until testnode listens; PORT is its port, NPID its PID. A port that
# is taken is retried with the next one.
start_gate() {
	sg_name=$1 sg_mode=$2
	shift 2
	sg_gopts=""
	while [ $# -gt 0 ] && [ "$1" != "--" ]; do
		sg_gopts="$sg_gopts $1"
		shift
	done
	[ $# -gt 0 ] && shift
	sg_tries=0
	while :; do
		PORT=$PORT_NEXT
		PORT_NEXT=$((PORT_NEXT + 1))
		rm -f "$T/$sg_name.pid"
		launch "$sg_name" "$sg_mode" "$PORT" "$sg_gopts" "$*"
		n=100
		while [ $n -gt 0 ]; do
			if grep -q "listening on 127.0.0.1:$PORT" "$T/$sg_name.err" 2>/dev/null &&
				[ -s "$T/$sg_name.pid" ]; then
				NPID=$(cat "$T/$sg_name.pid")
				return 0
			fi
			alive "$GPID" || break
			sleep 0.05
			n=$((n - 1))
		done
		if grep -q "Address already in use" "$T/$sg_name.err" &&
			[ $sg_tries -lt 5 ]; then
			gate_wait "$GPID" 50
			sg_tries=$((sg_tries + 1))
			continue
		fi
		cat "$T/$sg_name.err" >&2
		fail "gate $sg_name did not start its node"
	done
}

# http_ok PORT: the node answers eth_blockNumber; the result in $HEIGHT.
http_ok() {
	HEIGHT=$(curl -s -m 2 -X POST -H 'Content-Type: application/json' \
		-d '{"jsonrpc":"2.0","id":1,"method":"eth_blockNumber","params":[]}' \
		"http://127.0.0.1:$1/" | jq -r .result 2>/dev/null) || return 1
	case $HEIGHT in 0x*) return 0 ;; *) return 1 ;; esac
}

# count_in FILE LINE: how many lines of FILE are exactly LINE.
count_in() { grep -cxF -- "$2" "$1" || true; }
