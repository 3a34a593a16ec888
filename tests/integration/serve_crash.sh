#!/bin/sh
# kill -9 of the sidecar at every named step of a restore it runs for a
# controller (quiesce, then unpack), with a real node under a real gate:
# after the agent restarts, the job says interrupted, the data directory
# is wholly the old tree or wholly the backup, and once the hold expires
# the agent finishes the recovery and resumes the node. Then at the three
# named points of an archive?quiesce=1.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/gate_lib.sh"
. "$(dirname "$0")/net_lib.sh"

D=$T/m1.data
start_node 1 --stop-delay 100
start_member_agent 1
wait_members_ready 1

api() {
	STATUS=$(curl -s -m 70 -o "$T/body" -w '%{http_code}' -X "$1" \
		-H "Authorization: Bearer net-token" "http://127.0.0.1:$APORT_1$2" || true)
}

# died_at_crash_point: the agent (APID_1) exits within 30 s, killed at
# $point.
died_at_crash_point() {
	n=0
	while kill -0 "$APID_1" 2>/dev/null; do
		[ $n -lt 300 ] || fail "$point: the agent did not die at its crash point"
		sleep 0.1
		n=$((n + 1))
	done
	wait "$APID_1" 2>/dev/null || true
	grep -q "event=crashpoint name=$point" "$T/agent1.err" ||
		fail "$point: the agent died elsewhere: $(tail -3 "$T/agent1.err")"
}

# wait_resumed: member 1 is ready again within 30 s.
wait_resumed() {
	n=0
	while ! member_ready 1; do
		[ $n -lt 300 ] || fail "$point: the node was not resumed"
		sleep 0.1
		n=$((n + 1))
	done
}

# The node's own journal grows while it runs: trees are compared without it.
data_hash() {
	(cd "$D" && find . -mindepth 1 ! -path './.quorum-backup' \
		! -path './.quorum-backup/*' ! -path ./geth/chaindata/journal.log \
		-printf '%P|%y|%m|%s\n' | sort
	 cd "$D" && find . -type f ! -path './.quorum-backup/*' \
		! -path ./geth/chaindata/journal.log -print0 | sort -z |
		xargs -0 -r sha256sum) | sha256sum | cut -d' ' -f1
}

mkdir -p "$D/keystore"
head -c 200000 /dev/urandom >"$D/geth/chaindata/000001.ldb"
printf 'key\n' >"$D/keystore/key"
api POST "/v1/archive?quiesce=1&wait=60"
[ "$(jq -r .state "$T/body")" = succeeded ] || fail "archive: $(cat "$T/body")"
id=$(jq -r .result.backup "$T/body")
wait_members_ready 1
new=""

for point in unpack-staged swap-journal swap-old-first swap-old-done \
	swap-new-first swap-new-done swap-cleanup; do
	# The live tree moves on after the backup.
	printf '%s\n' "$point" >"$D/geth/marker"
	head -c 1000 /dev/urandom >>"$D/geth/chaindata/000001.ldb"
	stop_member_agent 1
	export QUORUM_BACKUP_CRASH_AT=$point
	start_member_agent 1
	unset QUORUM_BACKUP_CRASH_AT
	api POST "/v1/quiesce?hold=4&wait=30"
	[ "$(jq -r .state "$T/body")" = succeeded ] || fail "$point: quiesce: $(cat "$T/body")"
	old=$(data_hash)
	api POST "/v1/unpack?backup=$id"
	[ "$STATUS" = 202 ] || fail "$point: unpack: $STATUS $(cat "$T/body")"
	job=$(jq -r .id "$T/body")
	died_at_crash_point
	start_member_agent 1
	api GET "/v1/jobs/$job"
	[ "$(jq -r .state "$T/body")" = interrupted ] ||
		fail "$point: the job is $(jq -r .state "$T/body")"
	# The hold (4 s) expires: recovery, then the node runs again.
	wait_resumed
	[ ! -e "$D/.quorum-backup/journal" ] || fail "$point: journal left"
	[ ! -e "$D/.quorum-backup/staging" ] || fail "$point: staging left"
	got=$(data_hash)
	if [ "$got" = "$old" ]; then
		what=old
	else
		[ ! -e "$D/geth/marker" ] || fail "$point: a mixed tree (marker kept)"
		[ -z "$new" ] || [ "$got" = "$new" ] || fail "$point: a mixed tree"
		new=$got
		what=new
	fi
	ok "agent killed at $point: job interrupted, the tree wholly $what, the node resumed after recovery"
done
[ -n "$new" ] || fail "no crash point ended in the restored tree"

# The same for an archive?quiesce=1 job at its three crash points: at the
# restart, the job is interrupted, no incomplete backup is listed (the
# complete one is, for archive-complete), the backups listed verify, and
# the node, whose hold belonged to that job, is resumed at once.
for point in archive-written archive-renamed archive-complete; do
	api GET /v1/backups
	before=$(jq length "$T/body")
	stop_member_agent 1
	export QUORUM_BACKUP_CRASH_AT=$point
	start_member_agent 1
	unset QUORUM_BACKUP_CRASH_AT
	wait_members_ready 1
	api POST "/v1/archive?quiesce=1"
	[ "$STATUS" = 202 ] || fail "$point: archive: $STATUS $(cat "$T/body")"
	job=$(jq -r .id "$T/body")
	died_at_crash_point
	[ -f "$T/m1.state/gate-hold" ] || fail "$point: the node was not held"
	start_member_agent 1
	api GET "/v1/jobs/$job"
	[ "$(jq -r .state "$T/body")" = interrupted ] ||
		fail "$point: the job is $(jq -r .state "$T/body")"
	wait_resumed
	api GET /v1/backups
	want=$before
	[ "$point" = archive-complete ] && want=$((before + 1))
	[ "$(jq length "$T/body")" = "$want" ] ||
		fail "$point: $(jq length "$T/body") backups listed, expected $want"
	for b in $(jq -r '.[].id' "$T/body"); do
		api POST "/v1/backups/$b/verify?wait=60"
		[ "$(jq -r .state "$T/body")" = succeeded ] ||
			fail "$point: backup $b does not verify: $(cat "$T/body")"
	done
	ok "agent killed at $point of archive?quiesce=1: job interrupted, no incomplete backup listed, the node resumed"
done
finish
