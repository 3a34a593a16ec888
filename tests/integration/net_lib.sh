# A local network for the controller's tests, sourced after lib.sh and
# gate_lib.sh: members 1..N on 127.0.0.1, each a testnode under a real
# gate and a real agent with its own data directory; the backup volume
# ($T/backups) is shared, as in the cluster (member<N>/ each). The
# testnodes share one chain clock (--block-ms, --genesis-ms), so their
# heads agree as a live network's do.
: "${CONTROLLER:=$top_builddir/quorum-backup}"
BLOCK_MS=${BLOCK_MS:-500}
GENESIS_MS=$(($(date +%s) * 1000))
mkdir -p "$T/backups"
printf 'net-token\n' >"$T/token"

# rpc PORT METHOD: the result of a JSON-RPC call to a testnode.
rpc() {
	curl -s -m 5 -X POST -H 'Content-Type: application/json' \
		-d "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"$2\",\"params\":[]}" \
		"http://127.0.0.1:$1/" | jq -r .result
}

# start_node K [TESTNODE_OPTION...]: member K's testnode under its gate
# ($T/mK.sock, data in $T/mK.data); NPORT_K, GPID_K.
start_node() {
	sn_k=$1
	shift
	start_gate "m$sn_k" exec -- --block-ms "$BLOCK_MS" \
		--genesis-ms "$GENESIS_MS" "$@"
	eval "NPORT_$sn_k=$PORT GPID_$sn_k=$GPID"
}

# start_member_agent K [AGENT_OPTION...]: member K's agent on a free port
# of 127.0.0.1; APORT_K, APID_K. Its stderr is in $T/agentK.err.
start_member_agent() {
	sa_k=$1
	shift
	sa_tries=0
	while :; do
		sa_port=$PORT_NEXT
		PORT_NEXT=$((PORT_NEXT + 1))
		eval "sa_np=\$NPORT_$sa_k"
		"$AGENT" --data-dir "$T/m$sa_k.data" --backup-dir "$T/backups" \
			--member "$sa_k" \
			--set agent.listen="127.0.0.1:$sa_port" \
			--set agent.token_file="$T/token" \
			--set node.quorum.gate_socket="$T/m$sa_k.sock" \
			--set node.quorum.rpc_url="http://127.0.0.1:$sa_np" \
			--set node.quorum.stop_timeout=20 \
			--set agent.ready_timeout=30 "$@" serve \
			>>"$T/agent$sa_k.out" 2>>"$T/agent$sa_k.err" &
		sa_pid=$!
		track_pid "$sa_pid"
		n=0
		while [ $n -lt 100 ]; do
			if curl -s -o /dev/null "http://127.0.0.1:$sa_port/healthz"; then
				eval "APORT_$sa_k=$sa_port APID_$sa_k=$sa_pid"
				return 0
			fi
			kill -0 "$sa_pid" 2>/dev/null || break
			sleep 0.1
			n=$((n + 1))
		done
		kill "$sa_pid" 2>/dev/null || true
		wait "$sa_pid" 2>/dev/null || true
		sa_tries=$((sa_tries + 1))
		[ $sa_tries -lt 5 ] ||
			fail "agent $sa_k did not start: $(tail -5 "$T/agent$sa_k.err")"
	done
}

# stop_member_agent K: SIGTERM, and wait for it.
stop_member_agent() {
	eval "sm_pid=\$APID_$1"
	kill "$sm_pid" 2>/dev/null || true
	wait "$sm_pid" 2>/dev/null || true
}

# write_conf N [EXTRA_LINE...]: $T/ctl.ini for members 1..N.
write_conf() {
	wc_n=$1
	shift
	{
		printf '[controller]\nmembers = 1-%s\ntoken_file = %s\n' "$wc_n" \
			"$T/token"
		# job_timeout bounds every wait for a job: a stuck agent fails
		# the test in two minutes, not the default two hours.
		printf 'ready_timeout = 60\nlease_ttl = 30\nprogress_interval = 1\n'
		printf 'job_timeout = 120\n'
		for l in "$@"; do
			printf '%s\n' "$l"
		done
		k=1
		while [ $k -le "$wc_n" ]; do
			eval "wc_p=\$APORT_$k"
			printf '\n[member.%s]\nurl = http://127.0.0.1:%s\n' "$k" "$wc_p"
			k=$((k + 1))
		done
	} >"$T/ctl.ini"
}

# ctlr ARG...: the controller with $T/ctl.ini; stdout in $T/out, stderr in
# $T/err, exit status in CTL_RC.
ctlr() {
	set +e
	"$CONTROLLER" -c "$T/ctl.ini" "$@" >"$T/out" 2>"$T/err"
	CTL_RC=$?
	set -e
}

# expect_ctl CODE ARG...
expect_ctl() {
	ec_want=$1
	shift
	ctlr "$@"
	if [ "$CTL_RC" != "$ec_want" ]; then
		echo "--- stdout" >&2
		cat "$T/out" >&2
		echo "--- stderr" >&2
		cat "$T/err" >&2
		fail "quorum-backup $*: exit $CTL_RC, expected $ec_want"
	fi
}

# member_ready K: member K's agent says 200 on /readyz.
member_ready() {
	eval "mr_p=\$APORT_$1"
	[ "$(curl -s -m 5 -o /dev/null -w '%{http_code}' \
		"http://127.0.0.1:$mr_p/readyz")" = 200 ]
}

# wait_members_ready N: members 1..N ready, within 60 s.
wait_members_ready() {
	wr_t=0
	while [ $wr_t -lt 300 ]; do
		wr_all=1
		k=1
		while [ $k -le "$1" ]; do
			member_ready "$k" || wr_all=0
			k=$((k + 1))
		done
		[ $wr_all = 1 ] && return 0
		sleep 0.2
		wr_t=$((wr_t + 1))
	done
	fail "the members did not all become ready"
}

# node_pid K: member K's node PID as the gate wrote it.
node_pid() { cat "$T/m$1.pid"; }

# backups_of K: the complete backups of member K (their metadata files).
backups_of() {
	find "$T/backups/member$1" -maxdepth 1 -name '*.json' 2>/dev/null |
		grep -v '/jobs/' | sort
}
count_backups() { backups_of "$1" | wc -l; }

# start_monitor N: poll every member's /readyz in rounds (at most 20
# minutes) and write, per round, how many were down at the same moment
# into $T/monitor.log; stop_monitor stops it.
#
# A round asks members 1..N, then N..1. The answers of one pass are not
# one moment: on a busy machine member 1 can be seen down, come back and
# member 2 go down before member 2 is asked. A member down in both passes
# was down from its first answer to its second, and those spans nest, so
# every member down in both was down at once (one backup takes far longer
# than a round).
start_monitor() {
	(
		end=$(($(date +%s) + 1200))
		while [ "$(date +%s)" -lt $end ]; do
			first=""
			k=1
			while [ $k -le "$1" ]; do
				member_ready "$k" || first="$first $k "
				k=$((k + 1))
			done
			down=0
			k=$1
			while [ $k -ge 1 ]; do
				if ! member_ready "$k"; then
					case $first in *" $k "*) down=$((down + 1)) ;; esac
				fi
				k=$((k - 1))
			done
			echo "$down" >>"$T/monitor.log"
			sleep 0.05
		done
	) &
	MONITOR_PID=$!
	track_pid "$MONITOR_PID"
}
stop_monitor() {
	kill "$MONITOR_PID" 2>/dev/null || true
	wait "$MONITOR_PID" 2>/dev/null || true
}

# monitor_rounds_after N: wait (at most 60 s) until $T/monitor.log has more
# than N rounds.
monitor_rounds_after() {
	mr_n=0
	while [ "$(grep -c . "$T/monitor.log" 2>/dev/null || echo 0)" -le "$1" ]; do
		[ $mr_n -lt 600 ] || fail "the readiness monitor stopped sampling"
		sleep 0.1
		mr_n=$((mr_n + 1))
	done
}

# log_ts FILE EVENT [FROM]: the timestamp (ts=..., UTC with milliseconds)
# of the last line of FILE with event=EVENT, looking only past line FROM.
log_ts() {
	tail -n +$((${3:-0} + 1)) "$1" | grep "event=$2 " | tail -1 |
		sed -n 's/^ts=\([^ ]*\) .*/\1/p'
}

# ts_before A B: timestamp A is earlier than B (both as log_ts gives).
ts_before() {
	awk -v a="$1" -v b="$2" 'BEGIN { exit !(a != "" && b != "" && a < b) }'
}
