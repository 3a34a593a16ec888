#!/bin/sh
# The sidecar driving a real node: a test node under a real gate, the agent
# over HTTP on 127.0.0.1. Readiness follows the node; archive?quiesce=1
# stops, archives (with the node's facts) and resumes, also when the archive
# fails; quiesce holds expire and the agent resumes; unpack then resume
# discards the previous tree; a kill -9 of the agent while it holds the node
# is repaired at its restart.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/gate_lib.sh"

start_gate quorum exec
D="$T/quorum.data"
mkdir -p "$T/backups"
printf 'tok\n' >"$T/token"
TOKEN=tok

start_agent() {
	tries=0
	while :; do
		APORT=$((20000 + ($$ * 3 + tries * 11) % 20000))
		"$AGENT" --data-dir "$D" --backup-dir "$T/backups" --member 1 \
			--set agent.listen=127.0.0.1:$APORT \
			--set agent.token_file="$T/token" \
			--set node.quorum.gate_socket="$T/quorum.sock" \
			--set node.quorum.rpc_url="http://127.0.0.1:$PORT" \
			--set node.quorum.stop_timeout=20 \
			--set agent.ready_timeout=30 "$@" serve \
			>>"$T/agent.out" 2>>"$T/agent.err" &
		AGENT_PID=$!
		track_pid "$AGENT_PID"
		n=0
		while [ $n -lt 50 ]; do
			curl -s -o /dev/null "http://127.0.0.1:$APORT/healthz" && return 0
			kill -0 "$AGENT_PID" 2>/dev/null || break
			sleep 0.1
			n=$((n + 1))
		done
		kill "$AGENT_PID" 2>/dev/null || true
		wait "$AGENT_PID" 2>/dev/null || true
		tries=$((tries + 1))
		[ $tries -lt 5 ] || fail "the agent did not start: $(tail -5 "$T/agent.err")"
	done
}
call() {
	m=$1 p=$2
	shift 2
	STATUS=$(curl -s -o "$T/body" -w '%{http_code}' -X "$m" \
		-H "Authorization: Bearer $TOKEN" "$@" "http://127.0.0.1:$APORT$p" || true)
}
ready_is() {
	n=0
	while [ $n -lt "${2:-150}" ]; do
		code=$(curl -s -m 5 -o "$T/ready" -w '%{http_code}' "http://127.0.0.1:$APORT/readyz" || true)
		[ "$code" = "$1" ] && return 0
		sleep 0.2
		n=$((n + 1))
	done
	fail "readyz stayed $(cat "$T/ready"), expected $1"
}

start_agent
ready_is 200
call GET /v1/status
[ "$(jq -r '.nodes[0].state' "$T/body")" = running ] || fail "status: $(cat "$T/body")"
ok "readyz 200 and status show the running node"

call POST "/v1/archive?wait=30"
[ "$(jq -r .error.code "$T/body")" = node_running ] || fail "archive while running: $(cat "$T/body")"
ok "archive without quiesce while the node runs: node_running"

pid_before=$(cat "$T/quorum.pid")
call POST "/v1/archive?quiesce=1&wait=90"
[ "$(jq -r .state "$T/body")" = succeeded ] || fail "archive?quiesce=1: $(cat "$T/body")"
id=$(jq -r .result.backup "$T/body")
ready_is 200
[ "$(cat "$T/quorum.pid")" != "$pid_before" ] || fail "the node was not restarted"
[ "$(jq -r '.node | type' "$T/backups/member1/$id.json")" = object ] ||
	fail "no node facts in the metadata: $(jq .node "$T/backups/member1/$id.json")"
grep -q "journal.log" "$T/backups/member1/$id.json" || fail "journal not archived"
ok "archive?quiesce=1: stopped, archived with the node's facts, resumed and ready"

call POST "/v1/quiesce?hold=3&wait=30"
[ "$(jq -r .state "$T/body")" = succeeded ] || fail "quiesce: $(cat "$T/body")"
ready_is 503 25
call GET /v1/status
[ "$(jq -r '.nodes[0].held' "$T/body")" = true ] || fail "not held: $(cat "$T/body")"
STATUS=$(curl -s -o "$T/metrics" -w '%{http_code}' "http://127.0.0.1:$APORT/metrics" || true)
grep -q '^quorum_backup_node_up{node="quorum"} 0' "$T/metrics" || fail "metrics node_up"
ready_is 200 100
grep -q "event=auto_resume" "$T/agent.err" || fail "no auto_resume logged"
ok "quiesce?hold=3: held, readyz 503, node_up 0; the hold expired and the agent resumed the node"

call POST "/v1/quiesce?wait=30"
[ "$(jq -r '.result.facts.client_version' "$T/body")" = testnode/v1 ] || fail "quiesce facts: $(cat "$T/body")"
call POST "/v1/archive?wait=60"
[ "$(jq -r .state "$T/body")" = succeeded ] || fail "archive after quiesce: $(cat "$T/body")"
qid=$(jq -r .result.backup "$T/body")
[ "$(jq -r .node.client_version "$T/backups/member1/$qid.json")" = testnode/v1 ] ||
	fail "the quiesce's facts are not in the next archive's metadata"
printf 'after the backup\n' >"$D/geth/extra-file"
call POST "/v1/unpack?backup=$id&wait=60"
[ "$(jq -r .state "$T/body")" = succeeded ] || fail "unpack: $(cat "$T/body")"
[ ! -e "$D/geth/extra-file" ] || fail "unpack did not restore"
mkdir -p "$T/restored"
tar --zstd -xf "$T/backups/member1/$id.tar.zst" -C "$T/restored"
same_tree "$T/restored" "$D"   # while the node is held: exactly the backup
call POST "/v1/resume?wait=60"
[ "$(jq -r .state "$T/body")" = succeeded ] || fail "resume: $(cat "$T/body")"
[ "$(jq -r .result.previous_discarded "$T/body")" = true ] || fail "previous not discarded"
[ ! -e "$D/.quorum-backup/previous" ] || fail "previous tree left"
ready_is 200
ok "quiesce, unpack, resume: restored, node ready, previous tree discarded"

# An archive that fails after the stop still resumes the node.
mkdir -p "$D/tm"
: >"$D/tm/db.mv.db"
hold_lock fcntl "$D/tm/db.mv.db"
call POST "/v1/archive?quiesce=1&wait=90"
[ "$(jq -r .state "$T/body")" = failed ] || fail "archive should fail: $(cat "$T/body")"
release_lock
ready_is 200
ok "archive?quiesce=1 that fails (a lock held) resumes the node all the same"

# kill -9 of the agent while its archive job holds the node.
seq 1 30000000 >"$D/geth/chaindata/big.ldb"
kill "$AGENT_PID"
wait "$AGENT_PID" 2>/dev/null || true
start_agent --set archive.level=19
ready_is 200
call POST "/v1/archive?quiesce=1"
job=$(jq -r .id "$T/body")
wait_for "[ -n \"\$(find '$T/backups/member1' -maxdepth 1 -name '*.partial')\" ]" 200
kill -9 "$AGENT_PID"
wait "$AGENT_PID" 2>/dev/null || true
start_agent
call GET "/v1/jobs/$job"
[ "$(jq -r .state "$T/body")" = interrupted ] || fail "job: $(cat "$T/body")"
ready_is 200 150
grep -q "was interrupted" "$T/agent.err" || fail "no resume of the interrupted job's hold"
ok "agent killed while holding the node: at restart the job is interrupted and the node resumed"

# SIGTERM during archive?quiesce=1: the job is cancelled, its partial file
# removed, the node resumed, and the agent exits 0 (a request waiting for
# the job gets its answer first).
kill "$AGENT_PID"
wait "$AGENT_PID" || { tail -60 "$T/agent.err" >&2; fail "agent exit on SIGTERM"; }
start_agent --set archive.level=19
ready_is 200
call POST "/v1/prune?wait=30"   # removes the partial the kill -9 left
[ -z "$(find "$T/backups/member1" -maxdepth 1 -name '*.partial')" ] || fail "prune kept a partial file"
curl -s -o "$T/waiter" -X POST -H "Authorization: Bearer $TOKEN" \
	"http://127.0.0.1:$APORT/v1/archive?quiesce=1&wait=600" &
waiter=$!
track_pid "$waiter"
wait_for "[ -n \"\$(find '$T/backups/member1' -maxdepth 1 -name '*.partial')\" ]" 200
kill "$AGENT_PID"
wait "$AGENT_PID" || { tail -60 "$T/agent.err" >&2; fail "agent exit on SIGTERM mid-job"; }
wait "$waiter" || true
[ "$(jq -r .state "$T/waiter")" = failed ] || { tail -30 "$T/agent.err" >&2; fail "the waiting request: $(cat "$T/waiter")"; }
[ -z "$(find "$T/backups/member1" -maxdepth 1 -name '*.partial')" ] || fail "partial left after SIGTERM"
ctl quorum status
[ "$(field .state)" = running ] || fail "node not resumed after SIGTERM: $REPLY"
ok "SIGTERM mid-archive: job cancelled, partial removed, node resumed, waiting request answered, exit 0"
finish
