#!/bin/sh
# The HTTP sidecar over a real socket on 127.0.0.1: auth and token
# rotation, the error format and statuses, jobs (archive, unpack, verify,
# prune, rollback) with ?wait, one job at a time, the archive download,
# history, and a kill -9 mid-archive that leaves the job "interrupted" and
# no incomplete backup.
. "$(dirname "$0")/lib.sh"
mkdata
printf 'token-one\n' >"$T/token"
chmod 0600 "$T/token"

# start_agent [OPTION...]: the agent on a free port (PORT), PID in
# AGENT_PID.
start_agent() {
	serve_agent 1 --data-dir "$T/data" --backup-dir "$T/backups" --member 1 \
		--set agent.token_file="$T/token" "$@"
	PORT=$SERVE_PORT AGENT_PID=$SERVE_PID
}

stop_agent() {
	kill "$AGENT_PID"
	wait "$AGENT_PID" || { tail -60 "$T/agent.err" >&2; fail "the agent exited badly on SIGTERM"; }
}

TOKEN=token-one
# call METHOD PATH [curl args]: status in $STATUS, body in $T/body
call() {
	m=$1 p=$2
	shift 2
	STATUS=$(curl -s -o "$T/body" -w '%{http_code}' -X "$m" \
		-H "Authorization: Bearer $TOKEN" "$@" "http://127.0.0.1:$PORT$p")
}
expect() {
	[ "$STATUS" = "$1" ] || { cat "$T/body" >&2; fail "$2: HTTP $STATUS, expected $1"; }
}
expect_code() {
	expect "$1" "$3"
	[ "$(jq -r .error.code "$T/body")" = "$2" ] || { cat "$T/body" >&2; fail "$3: error code"; }
}

# Refusals at start.
expect_exit 2 "$AGENT" --data-dir "$T/data" --backup-dir "$T/backups" --member 1 \
	--set agent.listen=127.0.0.1:1 serve
assert_contains "$T/err" "no token_file configured"
expect_exit 2 "$AGENT" --data-dir "$T/data" --backup-dir "$T/backups" --member 1 \
	--set agent.listen=0.0.0.0:1 --set agent.auth=none serve
assert_contains "$T/err" "auth = none is allowed only with a loopback"
expect_exit 2 "$AGENT" --data-dir "$T/data" --backup-dir "$T/backups" --member 1 \
	--set agent.listen=127.0.0.1:1 --set agent.token_file="$T/missing" serve
ok "no token, auth=none off loopback, missing token file: refused at start (exit 2)"

start_agent
STATUS=$(curl -s -o "$T/body" -w '%{http_code}' "http://127.0.0.1:$PORT/healthz")
expect 200 healthz
[ "$(cat "$T/body")" = ok ] || fail "healthz body"
STATUS=$(curl -s -o "$T/body" -w '%{http_code}' "http://127.0.0.1:$PORT/readyz")
expect 200 readyz
ok "healthz and readyz answer without a token"

STATUS=$(curl -s -o "$T/body" -w '%{http_code}' "http://127.0.0.1:$PORT/v1/status")
expect_code 401 unauthorized "no token"
TOKEN=wrong call GET /v1/status
expect_code 401 unauthorized "wrong token"
TOKEN=token-one-and-more call GET /v1/status
expect_code 401 unauthorized "longer token"
TOKEN=token-one
call GET /v1/status
expect 200 status
[ "$(jq -r .member "$T/body")" = 1 ] || fail "status member"
ok "401 without or with a wrong token; 200 with it"

printf 'token-two\n' >"$T/token.new"
mv "$T/token.new" "$T/token"
call GET /v1/status
expect_code 401 unauthorized "old token after rotation"
TOKEN=token-two
call GET /v1/status
expect 200 "new token after rotation"
ok "token rotation takes effect without a restart"

call GET /v1/nope
expect_code 404 not_found "unknown path"
call GET /v1/backups/20200101T000000Z
expect_code 404 not_found "unknown backup"
call GET /v1/backups/..%2F..%2Fetc
expect_code 400 bad_request "traversal id"
call GET "/v1/backups/bad%00id"
expect_code 400 bad_request "NUL in id"
call GET /v1/backups/not-an-id
expect_code 400 bad_request "bad id"
call POST "/v1/unpack?backup=../x"
expect_code 400 bad_request "bad unpack id"
call POST "/v1/archive?wait=soon"
expect_code 400 bad_request "bad wait"
call PUT /v1/archive
expect_code 405 method_not_allowed "PUT archive"
head -c 200000 /dev/zero >"$T/big"
call POST /v1/archive --data-binary "@$T/big"
expect_code 413 body_too_large "large body"
call POST /v1/quiesce
expect_code 400 bad_request "quiesce without nodes"
call POST "/v1/archive?quiesce=1"
expect_code 400 bad_request "archive?quiesce=1 without nodes"
ok "400 bad ids (traversal too) and quiesce without nodes, 404, 405, 413"

call POST "/v1/archive?wait=30"
expect 200 "archive job"
[ "$(jq -r .state "$T/body")" = succeeded ] || fail "archive job state"
id=$(jq -r .result.backup "$T/body")
job=$(jq -r .id "$T/body")
call GET "/v1/jobs/$job"
expect 200 "job by id"
[ "$(jq -r .kind "$T/body")" = archive ] || fail "job kind"
call GET /v1/backups
[ "$(jq -r '.[0].id' "$T/body")" = "$id" ] || fail "backup not listed"
call GET "/v1/backups/$id"
expect 200 "describe"
[ "$(jq -r .metadata.archive.sha256 "$T/body")" != null ] || fail "describe metadata"
call GET "/v1/backups/$id/archive"
expect 200 "download"
[ "$(sha256sum <"$T/body" | cut -d' ' -f1)" = \
	"$(sha256sum <"$T/backups/member1/$id.tar.zst" | cut -d' ' -f1)" ] ||
	fail "downloaded archive differs"
call GET "/v1/backups/$id/metadata"
expect 200 "metadata download"
cmp -s "$T/body" "$T/backups/member1/$id.json" || fail "downloaded metadata differs"
# The two downloads are a complete copy: verify reads it where it lies.
mkdir "$T/copy"
call GET "/v1/backups/latest/archive" -D "$T/headers"
grep -qi "^content-disposition: attachment; filename=\"$id.tar.zst\"" "$T/headers" ||
	fail "archive download's file name"
mv "$T/body" "$T/copy/$id.tar.zst"
call GET "/v1/backups/latest/metadata" -D "$T/headers"
grep -qi "^content-type: application/json" "$T/headers" || fail "metadata type"
mv "$T/body" "$T/copy/$id.json"
expect_exit 0 "$AGENT" verify "$T/copy/$id.tar.zst"
rm -r "$T/copy"
call GET "/v1/backups/20200101T000000Z/metadata"
expect_code 404 not_found "metadata of an unknown backup"
call GET "/v1/backups/..%2Fx/metadata"
expect_code 400 bad_request "metadata of a bad id"
STATUS=$(curl -s -o "$T/body" -w '%{http_code}' "http://127.0.0.1:$PORT/v1/backups/$id/metadata")
expect_code 401 unauthorized "metadata without the token"
call GET "/v1/backups/$id/metadata" -H "Authorization: Bearer wrong"
expect_code 400 bad_request "two Authorization headers"
cp "$T/backups/member1/$id.tar.zst" "$T/seed-style.tar.zst"
tar -czf "$T/backups/member1/seed-1.tar.gz" -C "$T/data" geth/nodekey
call GET "/v1/backups/seed-1.tar.gz/metadata"
expect_code 404 not_found "metadata of a legacy backup"
grep -q "legacy" "$T/body" || fail "legacy metadata: the reason"
call GET "/v1/backups/seed-1.tar.gz/archive"
expect 200 "legacy archive download"
cmp -s "$T/body" "$T/backups/member1/seed-1.tar.gz" || fail "legacy download differs"
rm "$T/backups/member1/seed-1.tar.gz" "$T/seed-style.tar.zst"
ok "archive job with ?wait; list, describe; archive and metadata downloads (same bytes) verify as a copy"

# A job without wait: 202 and a Location; then one job at a time. A fast
# machine may finish the archive before the second request: then (and
# only then: the first job must have ended) try again with more data.
head -c 100000000 /dev/urandom >"$T/data/geth/chaindata/big.ldb"
try=1
while :; do
	STATUS=$(curl -s -D "$T/headers" -o "$T/body" -w '%{http_code}' -X POST \
		-H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$PORT/v1/archive")
	expect 202 "archive without wait"
	grep -qi "^location: /v1/jobs/$(jq -r .id "$T/body")" "$T/headers" ||
		fail "Location header"
	job=$(jq -r .id "$T/body")
	call POST /v1/prune
	[ "$STATUS" = 202 ] || break
	prune_job=$(jq -r .id "$T/body")
	call GET "/v1/jobs/$job"
	[ "$(jq -r .state "$T/body")" != running ] ||
		fail "a second job started while the first ran"
	[ $try -lt 4 ] || fail "the archive always ended before the next request"
	call GET "/v1/jobs/$prune_job?wait=60"
	head -c 200000000 /dev/urandom >>"$T/data/geth/chaindata/big.ldb"
	try=$((try + 1))
done
expect_code 409 busy "a second job"
call GET "/v1/jobs/$job?wait=60"
[ "$(jq -r .state "$T/body")" = succeeded ] || fail "archive did not finish: $(cat "$T/body")"
[ "$(jq -r .progress.percent "$T/body")" = 100 ] || fail "progress percent: $(jq .progress "$T/body")"
ok "202 with Location; a second job gets 409 busy; ?wait on the job"

call POST "/v1/backups/$id/verify?wait=30"
[ "$(jq -r .result.ok "$T/body")" = true ] || fail "verify job"
call POST "/v1/unpack?backup=$id&wait=30"
[ "$(jq -r .state "$T/body")" = succeeded ] || fail "unpack job: $(cat "$T/body")"
[ -e "$T/data/.quorum-backup/previous" ] || fail "no previous tree after unpack"
[ ! -e "$T/data/geth/chaindata/big.ldb" ] || fail "unpack did not restore the older tree"
call POST "/v1/rollback?wait=30"
[ "$(jq -r .state "$T/body")" = succeeded ] || fail "rollback job"
[ -e "$T/data/geth/chaindata/big.ldb" ] || fail "rollback did not bring the tree back"
ok "verify, unpack and rollback jobs"

# A node that runs (it holds its lock file): archive, unpack and rollback
# are refused at request time, with no job and nothing written.
hold_lock flock "$T/data/geth/LOCK"
call GET /v1/jobs
jobs_before=$(jq length "$T/body")
files_before=$(find "$T/data" "$T/backups" -path '*/jobs' -prune -o -print |
	sort | xargs stat -c '%n %s %Y' | sha256sum)
for req in "/v1/archive" "/v1/unpack?backup=latest" "/v1/rollback"; do
	call POST "$req"
	expect 409 "$req while the node runs"
	[ "$(jq -r .error.code "$T/body")" = node_running ] ||
		fail "$req: $(cat "$T/body")"
	jq -r .error.message "$T/body" | grep -q "needs the nodes stopped" ||
		fail "$req: the message: $(cat "$T/body")"
done
call GET /v1/jobs
[ "$(jq length "$T/body")" = "$jobs_before" ] || fail "a job was created: $(cat "$T/body")"
[ "$(find "$T/data" "$T/backups" -path '*/jobs' -prune -o -print |
	sort | xargs stat -c '%n %s %Y' | sha256sum)" = "$files_before" ] ||
	fail "a refused request changed files"
release_lock
ok "archive, unpack and rollback while the node runs: 409 node_running at once, no job, nothing written"

call DELETE "/v1/backups/$(jq -r '.[0].id' "$T/body" 2>/dev/null || true)"
call GET /v1/backups
newest=$(jq -r '.[0].id' "$T/body")
call DELETE "/v1/backups/$newest"
expect_code 409 newest_backup "delete newest"
call DELETE "/v1/backups/$id"
expect 200 "delete an older backup"
[ ! -e "$T/backups/member1/$id.json" ] || fail "delete left the metadata"
ok "DELETE refuses the newest backup without force=1, deletes others"

call GET /v1/history
expect 200 history
[ "$(jq -r '.[0].kind' "$T/body")" = rollback ] || fail "history order: $(jq -c '[.[].kind]' "$T/body")"
[ "$(jq 'length' "$T/body")" -ge 5 ] || fail "history length"
[ "$(wc -l <"$T/backups/member1/history.jsonl")" -ge 5 ] || fail "history.jsonl"
# A long history (older lines first, 17 MiB in all): the newest are read.
H=$T/backups/member1/history.jsonl
cp "$H" "$T/history.keep"
{
	awk 'BEGIN { for (i = 0; i < 90000; i++)
		printf "{\"id\":\"j-old-%d\",\"kind\":\"verify\",\"state\":\"succeeded\",\"pad\":\"%0150d\"}\n", i, 0 }'
	cat "$T/history.keep"
} >"$H"
[ "$(stat -c %s "$H")" -gt 16777216 ] || fail "the test history is too short"
call GET /v1/history
expect 200 "long history"
[ "$(jq -r '.[0].kind' "$T/body")" = rollback ] || fail "long history: newest first"
# The next finished job moves the long file to history.jsonl.1 and starts
# a new one; the history reads on into the old file.
call POST "/v1/prune?wait=30"
[ "$(jq -r .state "$T/body")" = succeeded ] || fail "prune: $(cat "$T/body")"
[ "$(wc -l <"$H")" = 1 ] || fail "history.jsonl not rotated: $(wc -l <"$H") lines"
[ "$(stat -c %s "$H.1")" -gt 16777216 ] || fail "history.jsonl.1 is not the old file"
[ "$(stat -c %a "$H")" = 600 ] || fail "new history.jsonl mode $(stat -c %a "$H")"
call GET /v1/history
expect 200 "history after rotation"
[ "$(jq -r '.[0].kind' "$T/body")" = prune ] || fail "rotated history: newest first"
[ "$(jq -r '.[1].kind' "$T/body")" = rollback ] || fail "rotated history: then the old file's newest"
[ "$(jq 'length' "$T/body")" = 1000 ] || fail "rotated history: $(jq 'length' "$T/body") entries"
rm "$H.1"
cp "$T/history.keep" "$H"
ok "history: finished jobs newest first, kept in history.jsonl (newest 16 MiB read), rotated to history.jsonl.1 at 8 MiB"

# Job records: the agent keeps the newest 500 in jobs/ (their final states
# are in the history); older ones go when it starts.
stop_agent
J=$T/backups/member1/jobs
real=$(ls "$J" | wc -l)
newest_real=$(ls "$J" | sort | tail -1)
for i in $(seq 1000 1599); do
	printf '{"id":"j-20000101T000000Z-%d-1","kind":"verify","state":"succeeded"}\n' "$i" \
		>"$J/j-20000101T000000Z-$i-1.json"
done
start_agent
[ "$(ls "$J" | wc -l)" = 500 ] || fail "jobs/ holds $(ls "$J" | wc -l) records, not 500"
[ -e "$J/$newest_real" ] || fail "the newest real record was removed"
[ -e "$J/j-20000101T000000Z-1599-1.json" ] || fail "a kept old record was removed"
[ ! -e "$J/j-20000101T000000Z-1000-1.json" ] || fail "the oldest record was kept"
grep -q "event=job_records_pruned removed=$((real + 600 - 500)) kept=500" "$T/agent.err" ||
	fail "no job_records_pruned line"
ok "jobs/: the newest 500 records kept when the agent starts"

# Leases: another holder's mutating calls get 409 leased.
call POST "/v1/lease?holder=ctl-a&ttl=60"
expect 200 "lease"
call POST "/v1/lease?holder=ctl-b&ttl=60"
expect_code 409 leased "a second holder's lease"
call POST /v1/prune -H "X-Quorum-Backup-Holder: ctl-b"
expect_code 409 leased "another holder's job"
call POST /v1/prune
expect_code 409 leased "a job without a holder"
call POST "/v1/prune?wait=30" -H "X-Quorum-Backup-Holder: ctl-a"
expect 200 "the holder's job"
call DELETE "/v1/lease?holder=ctl-b"
expect_code 409 leased "release by another holder"
call DELETE "/v1/lease?holder=ctl-a"
expect 200 "release"
call POST "/v1/prune?wait=30"
expect 200 "after the release"
ok "leases: 409 leased for other holders until released"

# A lease outlives the agent: kill -9 and restart, ctl-b is still refused
# until ctl-a releases; an expired or damaged lease file is dropped.
L=$T/backups/member1/lease.json
[ ! -e "$L" ] || fail "a released lease left lease.json"
call POST "/v1/lease?holder=ctl-a&ttl=60"
expect 200 "lease before the restart"
[ "$(jq -r .holder "$L")" = ctl-a ] || fail "lease.json: $(cat "$L")"
[ "$(stat -c %a "$L")" = 600 ] || fail "lease.json mode $(stat -c %a "$L")"
kill -9 "$AGENT_PID"
wait "$AGENT_PID" 2>/dev/null || true
start_agent
grep -q "event=lease_restored holder=ctl-a" "$T/agent.err" || fail "no lease_restored line"
call POST "/v1/lease?holder=ctl-b&ttl=60"
expect_code 409 leased "another holder after the restart"
call POST /v1/prune
expect_code 409 leased "a job without a holder after the restart"
call GET /v1/status
[ "$(jq -r .lease.holder "$T/body")" = ctl-a ] || fail "status lease after the restart"
call DELETE "/v1/lease?holder=ctl-a"
expect 200 "release after the restart"
[ ! -e "$L" ] || fail "release left lease.json"
stop_agent
printf '{"holder":"ctl-old","expires":1000}\n' >"$L"
start_agent
[ ! -e "$L" ] || fail "an expired lease file was kept"
call POST "/v1/lease?holder=ctl-b&ttl=60"
expect 200 "lease after an expired file"
call DELETE "/v1/lease?holder=ctl-b"
stop_agent
printf 'not json' >"$L"
start_agent
grep -q "event=lease_file_ignored" "$T/agent.err" || fail "no lease_file_ignored line"
[ ! -e "$L" ] || fail "a damaged lease file was kept"
call POST "/v1/prune?wait=30"
expect 200 "no lease after a damaged file"
ok "a lease survives kill -9 of the agent; expired and damaged lease files are dropped"

# The agent killed in the middle of an unpack's swap (a test crash point):
# after a restart the job is interrupted, and the next job's recovery makes
# the data directory wholly the restored tree.
stop_agent
call_id=$(ls "$T/backups/member1" | sed -n 's/\.json$//p' | sort | tail -1)
cp -a "$T/data" "$T/before-unpack"
QUORUM_BACKUP_CRASH_AT=swap-old-first
export QUORUM_BACKUP_CRASH_AT
start_agent
unset QUORUM_BACKUP_CRASH_AT
call POST "/v1/unpack?backup=$call_id"
job=$(jq -r .id "$T/body")
wait "$AGENT_PID" 2>/dev/null || true
[ -e "$T/data/.quorum-backup/journal" ] || fail "the crash point was not reached"
start_agent
call GET "/v1/jobs/$job"
[ "$(jq -r .state "$T/body")" = interrupted ] || fail "unpack job after the crash: $(cat "$T/body")"
call POST "/v1/archive?wait=60"
[ "$(jq -r .state "$T/body")" = succeeded ] || fail "archive after the crash: $(cat "$T/body")"
[ ! -e "$T/data/.quorum-backup/journal" ] || fail "recovery left the journal"
mkdir -p "$T/restored"
tar --zstd -xf "$T/backups/member1/$call_id.tar.zst" -C "$T/restored"
same_tree "$T/restored" "$T/data"
ok "killed mid-unpack: the job is interrupted, and the next job's recovery completes the restore"

# kill -9 mid-archive, then restart: interrupted, nothing incomplete.
stop_agent
start_agent --set archive.level=19
call POST /v1/archive
job=$(jq -r .id "$T/body")
wait_for "[ -n \"\$(find '$T/backups/member1' -maxdepth 1 -name '*.partial')\" ]" 100
kill -9 "$AGENT_PID"
wait "$AGENT_PID" 2>/dev/null || true
start_agent
call GET "/v1/jobs/$job"
[ "$(jq -r .state "$T/body")" = interrupted ] || fail "job after kill -9: $(cat "$T/body")"
call GET /v1/backups
if jq -r '.[].id' "$T/body" | grep -q .partial; then fail "partial listed"; fi
call POST "/v1/prune?wait=30"
[ "$(jq -r .state "$T/body")" = succeeded ] || fail "prune: $(cat "$T/body")"
[ -z "$(find "$T/backups/member1" -maxdepth 1 -name '*.partial')" ] || fail "prune left the partial archive"
stop_agent
ok "kill -9 mid-archive: the job is interrupted after a restart, nothing incomplete is listed"
finish
