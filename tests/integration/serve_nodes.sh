#!/bin/sh
# The sidecar driving a real node: a test node under a real gate, the agent
# over HTTP on 127.0.0.1. Readiness follows the node; archive?quiesce=1
# stops, archives (with the node's facts) and resumes, also when the archive
# fails; quiesce holds expire and the agent resumes; unpack then resume
# discards the previous tree; a kill -9 of the agent while it holds the node
# is repaired at its restart. /v1/status carries each node's validator facts
# (signer address, validator set) without them touching readiness; a
# syncing node is not ready; test nodes on one chain clock agree on the
# height.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/gate_lib.sh"

start_gate quorum exec -- --ignore-term-file "$T/noterm"
QPORT=$PORT
D="$T/quorum.data"
mkdir -p "$T/backups"
printf 'tok\n' >"$T/token"
TOKEN=tok

# start_agent [OPTION...]: the agent on a free port (APORT), PID in
# AGENT_PID, guarding the test node.
start_agent() {
	serve_agent 3 --data-dir "$D" --backup-dir "$T/backups" --member 1 \
		--set agent.token_file="$T/token" \
		--set node.quorum.gate_socket="$T/quorum.sock" \
		--set node.quorum.rpc_url="http://127.0.0.1:$QPORT" \
		--set node.quorum.stop_timeout=20 \
		--set agent.ready_timeout=30 "$@"
	APORT=$SERVE_PORT AGENT_PID=$SERVE_PID
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

# status_probed_at: /v1/status's probed_at, in $PROBED_AT.
status_probed_at() {
	call GET /v1/status
	PROBED_AT=$(jq -r '.probed_at' "$T/body")
}
# nodefield NAME FILTER: FILTER on the node NAME of the last /v1/status.
nodefield() {
	jq -c ".nodes[] | select(.name == \"$1\") | $2" "$T/body"
}

start_agent
ready_is 200
call GET /v1/status
[ "$(jq -r '.nodes[0].state' "$T/body")" = running ] || fail "status: $(cat "$T/body")"
ok "readyz 200 and status show the running node"

# A node without istanbul_*/qbft_* (testnode's default): nulls, and ready.
for f in address validators validators_method is_validator; do
	[ "$(nodefield quorum ".$f")" = null ] || fail "$f not null: $(cat "$T/body")"
done
[ "$(nodefield quorum .ready)" = true ] || fail "not ready: $(cat "$T/body")"
status_probed_at
now=$(date +%s)
jq -e '.probed_at | type == "number"' "$T/body" >/dev/null ||
	fail "probed_at is not a number: $(cat "$T/body")"
awk -v p="$PROBED_AT" -v n="$now" 'BEGIN { exit !(p > n - 30 && p < n + 2) }' ||
	fail "probed_at $PROBED_AT is not about now ($now)"
first=$PROBED_AT
wait_for "status_probed_at; awk -v p=\"\$PROBED_AT\" -v f=$first 'BEGIN { exit !(p > f) }'" 100
awk -v p="$PROBED_AT" -v f="$first" 'BEGIN { exit !(p - f > 1 && p - f < 10) }' ||
	fail "probed_at went from $first to $PROBED_AT, not one round (~2 s) on"
ok "status: a node without validator methods has null facts and is ready; probed_at follows the rounds"

# Refused at request time by the gate's state (the node holds no lock
# file the agent knows of here): 409, no job.
call GET /v1/jobs
jobs_before=$(jq length "$T/body")
for req in "/v1/archive?wait=30" "/v1/unpack?backup=latest" "/v1/rollback"; do
	call POST "$req"
	[ "$STATUS" = 409 ] || fail "$req while running: HTTP $STATUS $(cat "$T/body")"
	[ "$(jq -r .error.code "$T/body")" = node_running ] ||
		fail "$req while running: $(cat "$T/body")"
	jq -r .error.message "$T/body" | grep -q "needs the nodes stopped, and quorum is running: POST /v1/quiesce first" ||
		fail "$req: the message: $(cat "$T/body")"
done
call GET /v1/jobs
[ "$(jq length "$T/body")" = "$jobs_before" ] || fail "a job was created: $(cat "$T/body")"
ok "archive without quiesce, unpack and rollback while the node runs: 409 node_running, no job"

pid_before=$(cat "$T/quorum.pid")
call POST "/v1/archive?quiesce=1&wait=90"
[ "$(jq -r .state "$T/body")" = succeeded ] || fail "archive?quiesce=1: $(cat "$T/body")"
id=$(jq -r .result.backup "$T/body")
jq -e '.result.resume.downtime_seconds > 0 and .phase == null' "$T/body" >/dev/null ||
	fail "no downtime in the resume, or a phase after the end: $(cat "$T/body")"
ready_is 200
[ "$(cat "$T/quorum.pid")" != "$pid_before" ] || fail "the node was not restarted"
[ "$(jq -r '.node | type' "$T/backups/member1/$id.json")" = object ] ||
	fail "no node facts in the metadata: $(jq .node "$T/backups/member1/$id.json")"
grep -q "journal.log" "$T/backups/member1/$id.json" || fail "journal not archived"
ok "archive?quiesce=1: stopped, archived with the node's facts, resumed and ready"

call POST "/v1/quiesce?hold=5&wait=30"
[ "$(jq -r .state "$T/body")" = succeeded ] || fail "quiesce: $(cat "$T/body")"
# /readyz, status and metrics say so at once: the state model holds the
# job's own transitions, not the next probe's.
code=$(curl -s -o "$T/ready" -w '%{http_code}' "http://127.0.0.1:$APORT/readyz")
[ "$code" = 503 ] || fail "readyz right after the quiesce: $code $(cat "$T/ready")"
grep -q "quorum: held by job j-.* (quiesce), state stopped" "$T/ready" ||
	fail "readyz reason: $(cat "$T/ready")"
call GET /v1/status
jq -e '.nodes[0].held == true and .nodes[0].state == "stopped" and
	.nodes[0].ready == false and .down == true' "$T/body" >/dev/null ||
	fail "status right after the quiesce: $(cat "$T/body")"
STATUS=$(curl -s -o "$T/metrics" -w '%{http_code}' "http://127.0.0.1:$APORT/metrics" || true)
grep -q '^quorum_backup_node_up{node="quorum"} 0' "$T/metrics" || fail "metrics node_up"
grep -q '^quorum_backup_member_down 1' "$T/metrics" || fail "metrics member_down"
ready_is 200 100
grep -q "event=auto_resume" "$T/agent.err" || fail "no auto_resume logged"
ok "quiesce?hold=5: held, readyz 503, node_up 0; the hold expired and the agent resumed the node"

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
# The job's own resume fails too (recovery needs the lock that another
# process holds): the agent says the member is down, not what it was
# before the job.
jq -r .error.message "$T/body" | grep -q "resuming the nodes failed too" ||
	fail "the job's error: $(cat "$T/body")"
code=$(curl -s -o "$T/ready" -w '%{http_code}' "http://127.0.0.1:$APORT/readyz")
[ "$code" = 503 ] || fail "readyz after the failed job and resume: $code $(cat "$T/ready")"
release_lock
# Its hold has no owner now: the agent resumes the node (trying again
# every 10 s while the lock is held).
ready_is 200 300
grep -q "event=auto_resume reason=\"job j-[^ ]* holding quorum was failed\"" \
	"$T/agent.err" || fail "no auto_resume for the failed job's hold"
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

# kill -9 of the agent while its quiesce job is stopping the node (the node
# ignores SIGTERM until the test kills it): the quiesce never finished, so
# at restart nothing owns the hold, and the agent resumes the node long
# before the hold (600 s) would expire.
touch "$T/noterm"
ctl quorum stop
ctl quorum start   # testnode reads --ignore-term-file when it starts
ready_is 200
call POST "/v1/quiesce?hold=600"
job=$(jq -r .id "$T/body")
wait_for "[ -f '$T/quorum.state/gate-hold' ]" 100
kill -9 "$AGENT_PID"
wait "$AGENT_PID" 2>/dev/null || true
rm "$T/noterm"
kill -KILL "$(cat "$T/quorum.pid")"
gate_stopped() { ctl quorum status; [ "$(field .state)" = stopped ]; }
wait_for gate_stopped 100
start_agent
call GET "/v1/jobs/$job"
[ "$(jq -r .state "$T/body")" = interrupted ] || fail "quiesce job: $(cat "$T/body")"
ready_is 200 150
grep -q "job $job holding quorum was interrupted" "$T/agent.err" ||
	fail "no resume of the interrupted quiesce's hold"
ok "agent killed mid-quiesce: at restart the quiesce is interrupted and the node resumed, before its hold expires"

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

# Validator facts. Two more nodes on one chain clock (1 s blocks since an
# hour ago): "val" signs with an address in the set (in other letter case),
# "obs" with one outside it. They start a second apart: on a private clock
# their heights would differ.
VA=0xAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA0001
VB=0xbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb0002
VC=0xcccccccccccccccccccccccccccccccccccc0003
VO=0xdddddddddddddddddddddddddddddddddddd0004
SET="$(printf '%s' "$VA" | tr 'A-F' 'a-f'),$VB,$VC"
GEN=$(($(now_ms) - 3600 * 1000))
t_start=$(now_ms)
start_gate val exec -- --address $VA --validators "$SET" --block-ms 1000 \
	--genesis-ms $GEN --syncing-file "$T/val.syncing"
VPORT=$PORT
sleep 1
start_gate obs exec -- --address $VO --validators "$SET" --block-ms 1000 \
	--genesis-ms $GEN
OPORT=$PORT

# rpc_height PORT: eth_blockNumber as a decimal number in $H.
rpc_height() {
	http_ok "$1" || fail "node on port $1 does not answer eth_blockNumber"
	H=$(printf '%d' "$HEIGHT")
}
t0=$(now_ms)
rpc_height "$VPORT"
hv=$H
rpc_height "$OPORT"
ho=$H
[ "$hv" -ge 3600 ] && [ "$ho" -ge 3600 ] ||
	fail "heights $hv and $ho: not the chain clock's (>= 3600)"
[ $((hv - ho)) -le 1 ] && [ $((ho - hv)) -le 1 ] ||
	fail "same clock, heights $hv and $ho differ by more than 1"
sleep 2.2
rpc_height "$VPORT"
t1=$(now_ms)
[ "$H" -ge $((hv + 2)) ] && [ "$H" -le $((hv + (t1 - t0) / 1000 + 1)) ] ||
	fail "height $hv, then $H $((t1 - t0)) ms later: not one block a second"
# One line per block the node saw, not one per 50 ms tick.
J="$T/val.data/geth/chaindata/journal.log"
[ -z "$(uniq -d "$J")" ] || fail "journal.log repeats a height: $(uniq -d "$J" | head -3)"
[ "$(wc -l <"$J")" -le $(((t1 - t_start) / 1000 + 2)) ] ||
	fail "journal.log: $(wc -l <"$J") lines in $((t1 - t_start)) ms"
last=$(tail -1 "$J" | sed 's/^block //')
[ $((H - last)) -le 1 ] && [ $((last - H)) -le 1 ] ||
	fail "journal.log ends at block $last, the node says $H"
ok "testnode --block-ms/--genesis-ms: two nodes agree on the height, the journal gets a line per block"

# (the agent exited on the SIGTERM above)
skip=$(wc -l <"$T/agent.err")
start_agent --set agent.log_level=debug \
	--set node.val.gate_socket="$T/val.sock" \
	--set node.val.rpc_url="http://127.0.0.1:$VPORT" \
	--set node.obs.gate_socket="$T/obs.sock" \
	--set node.obs.rpc_url="http://127.0.0.1:$OPORT"
ready_is 200
n=0
while call GET /v1/status; [ "$(nodefield obs .is_validator)" != false ]; do
	[ $n -lt 50 ] || fail "obs is_validator not false after 10 s: $(cat "$T/body")"
	sleep 0.2
	n=$((n + 1))
done
[ "$(nodefield val .address)" = "\"$VA\"" ] || fail "val address: $(cat "$T/body")"
[ "$(nodefield val .validators)" = "$(printf '%s' "$SET" | jq -Rc 'split(",")')" ] ||
	fail "val validators: $(cat "$T/body")"
[ "$(nodefield val .validators_method)" = '"istanbul_getValidators"' ] ||
	fail "val validators_method: $(cat "$T/body")"
[ "$(nodefield val .is_validator)" = true ] || fail "val is_validator: $(cat "$T/body")"
[ "$(nodefield obs .address)" = "\"$VO\"" ] || fail "obs address: $(cat "$T/body")"
[ "$(nodefield obs '.validators | length')" = 3 ] || fail "obs validators: $(cat "$T/body")"
for f in address validators validators_method is_validator; do
	[ "$(nodefield quorum ".$f")" = null ] || fail "quorum $f: $(cat "$T/body")"
done
[ "$(jq -r '[.nodes[].ready] | all' "$T/body")" = true ] || fail "not all ready: $(cat "$T/body")"
ok "status: address, validators, validators_method and is_validator (true, false; null without the methods)"

# A method a node lacks is asked once, then left alone (60 s): after a few
# rounds, one "missing" line per method, for quorum only.
status_probed_at
first=$PROBED_AT
wait_for "status_probed_at; awk -v p=\"\$PROBED_AT\" -v f=$first 'BEGIN { exit !(p - f > 3.5) }'" 150
tail -n +$((skip + 1)) "$T/agent.err" | grep 'event=node_method_missing' >"$T/missing" || true
for m in istanbul_nodeAddress istanbul_getValidators qbft_getValidatorsByBlockNumber; do
	n=$(grep -c "node=quorum method=$m " "$T/missing" || true)
	[ "$n" = 1 ] || fail "quorum $m: $n 'missing' lines over 3 rounds, expected 1: $(cat "$T/missing")"
done
[ "$(wc -l <"$T/missing")" = 3 ] || fail "missing methods logged for other nodes: $(cat "$T/missing")"
ok "a method the node lacks is asked once, not at every round"

: >"$T/val.syncing"
ready_is 503 50
grep -q 'val: syncing' "$T/ready" || fail "readyz reason: $(cat "$T/ready")"
call GET /v1/status
[ "$(nodefield val .syncing)" = true ] && [ "$(nodefield val .ready)" = false ] ||
	fail "val while syncing: $(cat "$T/body")"
rm -f "$T/val.syncing"
ready_is 200 50
ok "testnode --syncing-file: readyz 503 (val: syncing) while the file exists, 200 once it is gone"

# The snapshots' addresses and sets are freed (a sanitizer build exits
# non-zero on a leak).
kill "$AGENT_PID"
wait "$AGENT_PID" || { tail -40 "$T/agent.err" >&2; fail "agent exit on SIGTERM"; }
ok "the agent that probed validator facts exits 0 on SIGTERM"
finish
