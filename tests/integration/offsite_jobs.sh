#!/bin/sh
# Uploads as jobs of serve, against a real S3 server (Ceph's object
# gateway): with upload = auto an archive job is followed by an upload job,
# during which the member is not down; an archive asked for while an
# upload runs interrupts it (it ends "interrupted"), runs, and the upload
# goes on after it, reusing the parts already sent; POST
# /v1/backups/ID/upload with upload = manual; a failed upload is recorded
# in the backup's metadata and the backup stays complete, and tried again
# after the next archive; the off-site metrics.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/s3_lib.sh"

offsite_setup
printf 'token-o\n' >"$T/token"
chmod 600 "$T/token"
M=$T/backups/member1

# start UPLOAD BANDWIDTH: serve with [offsite] on the test's bucket.
start() {
	serve_agent 17 --data-dir "$T/data" --backup-dir "$T/backups" --member 1 \
		--set agent.token_file="$T/token" \
		--set offsite.url="$S3_ENDPOINT/qb-test/net-j" \
		--set offsite.access_key_file="$T/ak" --set offsite.secret_key_file="$T/sk" \
		--set offsite.part_size=5242880 --set offsite.parallel=2 \
		--set offsite.upload="$1" --set offsite.bandwidth_limit="$2"
}
stop() {
	kill "$SERVE_PID"
	wait "$SERVE_PID" || { tail -40 "$T/agent.err" >&2; fail "the agent exited badly on SIGTERM"; }
}
call() {
	STATUS=$(curl -s -m 120 -o "$T/body" -w '%{http_code}' -X "$1" \
		-H "Authorization: Bearer token-o" "http://127.0.0.1:$SERVE_PORT$2")
}
# upload_job ID STATE: the newest upload job of backup ID is in STATE
upload_job() {
	call GET /v1/jobs
	[ "$(jq -r --arg id "$1" '[.[] | select(.kind == "upload" and .params.backup == $id)][0].state' "$T/body")" = "$2" ]
}

start auto 2097152
call POST "/v1/archive?wait=60"
[ "$STATUS" = 200 ] && [ "$(jq -r .state "$T/body")" = succeeded ] || fail "archive: $STATUS $(cat "$T/body")"
id1=$(jq -r .result.backup "$T/body")
wait_for "upload_job $id1 running" 100
call GET /v1/status
[ "$(jq -r .down "$T/body")" = false ] || fail "the member is down during an upload: $(cat "$T/body")"
[ "$(jq -r .job.kind "$T/body")" = upload ] || fail "/v1/status does not show the upload: $(jq .job "$T/body")"
ok "upload = auto: the archive job is followed by an upload job; the member is not down meanwhile"

# An archive asked for once a part is in interrupts the upload, which goes
# on after it.
part_done() {
	call GET /v1/jobs
	[ "$(jq -r '[.[] | select(.kind == "upload" and .state == "running")][0].progress.bytes_done // 0' "$T/body")" -ge 5242880 ]
}
wait_for part_done 600
call POST "/v1/archive?wait=60"
[ "$STATUS" = 200 ] && [ "$(jq -r .state "$T/body")" = succeeded ] || fail "archive during an upload: $STATUS $(cat "$T/body")"
id2=$(jq -r .result.backup "$T/body")
call GET /v1/jobs
[ "$(jq -r --arg id "$id1" '[.[] | select(.kind == "upload" and .params.backup == $id)] | map(.state) | index("interrupted")' "$T/body")" != null ] ||
	fail "the upload was not interrupted: $(jq -c '[.[] | {kind, state, params}]' "$T/body")"
wait_for "upload_job $id1 succeeded" 1200
wait_for "upload_job $id2 succeeded" 1200
call GET /v1/jobs
reused=$(jq -r --arg id "$id1" '[.[] | select(.kind == "upload" and .params.backup == $id and .state == "succeeded")][0].result.reused' "$T/body")
[ "$reused" -ge 1 ] || fail "the resumed upload sent every part again (reused $reused)"
for id in "$id1" "$id2"; do
	aws_s3 s3 cp --only-show-errors "s3://qb-test/net-j/member1/$id.tar.zst" "$T/got"
	cmp "$T/got" "$M/$id.tar.zst" || fail "$id: the object is not the archive"
	[ "$(jq -r .offsite.state "$M/$id.json")" = uploaded ] || fail "$id: not recorded as uploaded"
done
aws_s3 s3api list-multipart-uploads --bucket qb-test >"$T/mpu.json"
[ ! -s "$T/mpu.json" ] || [ "$(jq '.Uploads // [] | length' "$T/mpu.json")" = 0 ] ||
	fail "multipart uploads left: $(cat "$T/mpu.json")"
call GET /v1/offsite/backups
[ "$STATUS" = 200 ] && [ "$(jq -r '.[0].id' "$T/body")" = "$id2" ] || fail "GET /v1/offsite/backups: $STATUS $(cat "$T/body")"
# The controller sees the bucket through the agent.
CONTROLLER=${CONTROLLER:-$top_builddir/quorum-backup}
printf '[controller]\nmembers = 1\ntoken_file = %s\njob_timeout = 120\n\n[member.1]\nurl = http://127.0.0.1:%s\n' \
	"$T/token" "$SERVE_PORT" >"$T/ctl.ini"
expect_exit 0 "$CONTROLLER" -c "$T/ctl.ini" --json list --offsite
[ "$(jq -r '.[0].backups[0].id' "$T/out")" = "$id2" ] || fail "controller list --offsite: $(cat "$T/out")"
expect_exit 0 "$CONTROLLER" -c "$T/ctl.ini" verify 1 --offsite
assert_contains "$T/out" verified
expect_exit 0 "$CONTROLLER" -c "$T/ctl.ini" verify 1 --offsite --backup "$id1"
expect_exit 4 "$CONTROLLER" -c "$T/ctl.ini" verify 1 --offsite --backup 20200101T000000Z
expect_exit 0 "$CONTROLLER" -c "$T/ctl.ini" --json verify 1 --offsite
[ "$(jq -r '.members[0].size' "$T/out")" -gt 0 ] || fail "controller verify --offsite: no bytes read: $(cat "$T/out")"
expect_exit 0 "$CONTROLLER" -c "$T/ctl.ini" verify 1 --offsite --stored
assert_contains "$T/out" verified
call POST "/v1/offsite/backups/$id1/verify?wait=60"
[ "$STATUS" = 200 ] && [ "$(jq -r .state "$T/body")" = succeeded ] && [ "$(jq -r .result.offsite "$T/body")" = true ] &&
	[ "$(jq -r .result.stored "$T/body")" = false ] && [ "$(jq -r .result.files "$T/body")" -gt 0 ] ||
	fail "POST /v1/offsite/backups/ID/verify: $STATUS $(cat "$T/body")"
call POST "/v1/offsite/backups/$id1/verify?stored=1&wait=60"
[ "$STATUS" = 200 ] && [ "$(jq -r .result.stored "$T/body")" = true ] ||
	fail "POST /v1/offsite/backups/ID/verify?stored=1: $STATUS $(cat "$T/body")"
curl -s "http://127.0.0.1:$SERVE_PORT/metrics" >"$T/metrics"
last=$(sed -n 's/^quorum_backup_offsite_last_success_timestamp_seconds \([0-9]*\)$/\1/p' "$T/metrics")
[ -n "$last" ] && [ "$last" -gt $(($(date +%s) - 600)) ] || fail "no recent last-success metric: $(grep offsite "$T/metrics")"
assert_contains "$T/metrics" "quorum_backup_offsite_failures_total 0"
stop
ok "an archive during an upload: the upload ends interrupted, the archive runs, the upload goes on ($reused parts reused), both copies complete; GET /v1/offsite/backups, POST /v1/offsite/backups/ID/verify, the controller's list --offsite and verify --offsite"

# upload = manual: nothing follows an archive; POST .../upload does it.
start manual 0
# The last copy's time outlives a restart: read from the metadata.
curl -s "http://127.0.0.1:$SERVE_PORT/metrics" >"$T/metrics"
assert_contains "$T/metrics" "quorum_backup_offsite_last_success_timestamp_seconds $last"
call POST "/v1/archive?wait=60"
id3=$(jq -r .result.backup "$T/body")
sleep 1
call GET /v1/jobs
[ "$(jq -r '.[0].kind' "$T/body")" = archive ] || fail "upload = manual: a job followed the archive"
call POST "/v1/backups/$id3/upload?wait=60"
[ "$STATUS" = 200 ] && [ "$(jq -r .state "$T/body")" = succeeded ] || fail "POST upload: $STATUS $(cat "$T/body")"
[ "$(jq -r .offsite.state "$M/$id3.json")" = uploaded ] || fail "$id3: not recorded as uploaded"
# A failed upload: recorded, the backup complete.
printf 'wrong\n' >"$T/sk"
call POST "/v1/backups/$id3/upload?wait=60"
[ "$(jq -r .state "$T/body")" = failed ] && [ "$(jq -r .error.code "$T/body")" = offsite_failed ] ||
	fail "an upload with a wrong secret: $(cat "$T/body")"
[ "$(jq -r .offsite.state "$M/$id3.json")" = failed ] || fail "the failure is not recorded"
jq -r .offsite.error "$M/$id3.json" | grep -q SignatureDoesNotMatch || fail "the recorded error: $(jq .offsite "$M/$id3.json")"
expect_exit 0 agent verify --stored "$id3"
curl -s "http://127.0.0.1:$SERVE_PORT/metrics" >"$T/metrics"
assert_contains "$T/metrics" "quorum_backup_offsite_failures_total 1"
printf '%s\n' "$S3_SECRET_KEY" >"$T/sk"
# A restore from the bucket over HTTP, the backup volume emptied.
manifest "$T/data" "$T/before"
mv "$M" "$T/saved-store"
echo changed >"$T/data/keystore/key"
call POST "/v1/unpack?backup=$id3&from=offsite&wait=120"
[ "$STATUS" = 200 ] && [ "$(jq -r .state "$T/body")" = succeeded ] && [ "$(jq -r .result.from "$T/body")" = offsite ] ||
	fail "POST /v1/unpack?from=offsite: $STATUS $(cat "$T/body")"
manifest "$T/data" "$T/after"
diff -u "$T/before.sums" "$T/after.sums" >&2 || fail "the tree from the bucket differs"
call POST "/v1/unpack?backup=$id3&from=nowhere"
[ "$STATUS" = 400 ] || fail "from=nowhere: HTTP $STATUS"
rm -rf "$M"
mv "$T/saved-store" "$M"
call POST "/v1/offsite/prune?wait=60"
[ "$STATUS" = 200 ] && [ "$(jq -r .state "$T/body")" = succeeded ] && [ "$(jq -r .result.kept "$T/body")" = 3 ] ||
	fail "POST /v1/offsite/prune: $STATUS $(cat "$T/body")"
stop
ok "upload = manual: no upload after an archive, POST /v1/backups/ID/upload; a failed upload recorded in the metadata, the backup complete, the failures metric counts it; POST /v1/unpack?from=offsite with the backup volume emptied; POST /v1/offsite/prune"

# upload = auto: a copy that failed is tried again after the next archive.
start auto 0
printf 'wrong\n' >"$T/sk"
call POST "/v1/archive?wait=60"
id4=$(jq -r .result.backup "$T/body")
wait_for "upload_job $id4 failed" 300
[ "$(jq -r .offsite.state "$M/$id4.json")" = failed ] || fail "$id4: the failure is not recorded"
printf '%s\n' "$S3_SECRET_KEY" >"$T/sk"
call POST "/v1/archive?wait=60"
id5=$(jq -r .result.backup "$T/body")
wait_for "upload_job $id5 succeeded" 300
wait_for "upload_job $id4 succeeded" 300
for id in "$id4" "$id5"; do
	[ "$(jq -r .offsite.state "$M/$id.json")" = uploaded ] || fail "$id: not recorded as uploaded"
	aws_s3 s3 ls "s3://qb-test/net-j/member1/$id.json" >/dev/null || fail "$id: no metadata in the bucket"
done
stop
ok "upload = auto: a copy that failed is tried again after the next archive, and both are in the bucket"

stop_s3
finish
