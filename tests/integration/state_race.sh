#!/bin/sh
# One truth for a member's state, with three members on 127.0.0.1 (testnode
# under a gate, an agent each; the nodes report a validator set of all
# three): what an agent reports is never older than its own last action.
# 20 rounds, with no sleep between the steps: member 2 quiesced, then at
# once `quorum-backup backup 1` is refused and member 1 is not touched;
# member 2 resumed, then at once `backup 1` goes ahead. Each time
# /v1/status (with and without ?fresh=1) already shows the new gate state,
# and ?fresh=1 comes with a probed_at from after the request.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/gate_lib.sh"
. "$(dirname "$0")/net_lib.sh"

N=3
ROUNDS=${ROUNDS:-20}
VSET=0x00000000000000000000000000000000000000a1,0x00000000000000000000000000000000000000a2,0x00000000000000000000000000000000000000a3
k=1
while [ $k -le $N ]; do
	start_node $k --address "0x00000000000000000000000000000000000000a$k" \
		--validators "$VSET"
	head -c 100000 /dev/urandom >"$T/m$k.data/geth/chaindata/000001.ldb"
	# Every round adds a backup of member 1: retention keeps them all.
	start_member_agent $k --set retention.keep_last=100
	k=$((k + 1))
done
write_conf $N
wait_members_ready $N

# api K METHOD PATH: a call to member K's agent; the body in $T/body, the
# HTTP status in $STATUS.
api() {
	eval "ap=\$APORT_$1"
	STATUS=$(curl -s -m 120 -o "$T/body" -w '%{http_code}' -X "$2" \
		-H "Authorization: Bearer net-token" "http://127.0.0.1:$ap$3" || true)
}

# status_is K FRESH FILTER: member K's /v1/status (with ?fresh=1 when FRESH
# is 1) passes the jq FILTER, given $since (the epoch time just before).
status_is() {
	q=""
	[ "$2" = 1 ] && q="?fresh=1"
	api "$1" GET "/v1/status$q"
	[ "$STATUS" = 200 ] || fail "status of member $1: HTTP $STATUS"
	jq -e --argjson since "$since" "$3" "$T/body" >/dev/null ||
		fail "round $round: member $1's status$q fails $3: $(jq -c \
			'{down, down_reasons, probed_at, job: .job.kind, nodes: [.nodes[] |
			{state, held, ready, probed_at}]}' "$T/body") (since $since)"
}

round=1
while [ $round -le "$ROUNDS" ]; do
	pid1=$(node_pid 1)
	b1=$(count_backups 1)

	api 2 POST "/v1/quiesce?wait=60"
	[ "$(jq -r .state "$T/body")" = succeeded ] ||
		fail "round $round: quiesce of member 2: $(cat "$T/body")"
	since=$(date +%s.%N)
	status_is 2 0 '.nodes[0].state == "stopped" and .nodes[0].held and
		(.nodes[0].ready | not) and .down'
	status_is 2 1 '.nodes[0].state == "stopped" and .nodes[0].held and
		.down and .probed_at >= $since and .nodes[0].probed_at >= $since'
	expect_ctl 3 backup 1
	assert_contains "$T/err" "member 2 is down: quorum: held by job"
	grep -Eq "^1 +refused" "$T/out" || fail "round $round: summary: $(cat "$T/out")"
	[ "$(node_pid 1)" = "$pid1" ] || fail "round $round: member 1's node was restarted"
	[ "$(count_backups 1)" = "$b1" ] || fail "round $round: member 1 was backed up"
	[ ! -e "$T/m1.state/gate-hold" ] || fail "round $round: member 1 is held"

	api 2 POST "/v1/resume?wait=60"
	[ "$(jq -r .state "$T/body")" = succeeded ] ||
		fail "round $round: resume of member 2: $(cat "$T/body")"
	since=$(date +%s.%N)
	status_is 2 0 '.nodes[0].state == "running" and (.nodes[0].held | not)
		and .nodes[0].ready and (.down | not) and .job == null'
	status_is 2 1 '.nodes[0].state == "running" and (.nodes[0].held | not)
		and .nodes[0].ready and (.down | not) and .probed_at >= $since'
	expect_ctl 0 backup 1
	grep -Eq "^1 +succeeded" "$T/out" || fail "round $round: summary: $(cat "$T/out")"
	[ "$(count_backups 1)" = $((b1 + 1)) ] || fail "round $round: no new backup of member 1"
	round=$((round + 1))
done
ok "$ROUNDS rounds: backup 1 refused right after member 2's quiesce, and done right after its resume"

finish
