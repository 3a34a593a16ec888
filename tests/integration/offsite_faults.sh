#!/bin/sh
# Off-site faults against a real S3 server (Ceph's object gateway): the
# gateway killed in the middle of a multipart upload and started again:
# the next upload completes (the object byte for byte the archive) and
# after prune no multipart upload of ours is left; bandwidth_limit holds
# the upload's rate within 20 %.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/s3_lib.sh"

offsite_setup
M=$T/backups/member1

off() { # ARGS...: the agent with [offsite] set to the test's bucket
	agent --set offsite.url="$S3_ENDPOINT/qb-test/net-f" \
		--set offsite.access_key_file="$T/ak" --set offsite.secret_key_file="$T/sk" \
		--set offsite.part_size=5242880 --set offsite.parallel=2 "$@"
}
# no_uploads: no multipart upload is open in the bucket.
no_uploads() {
	aws_s3 s3api list-multipart-uploads --bucket qb-test >"$T/mpu.json"
	# (awscli prints nothing when there is none)
	[ ! -s "$T/mpu.json" ] || [ "$(jq '.Uploads // [] | length' "$T/mpu.json")" = 0 ]
}
# part_in: a multipart upload of ours holds a part.
part_in() {
	aws_s3 s3api list-multipart-uploads --bucket qb-test >"$T/mpu.json" 2>/dev/null || return 1
	[ -s "$T/mpu.json" ] || return 1
	pi_key=$(jq -r '.Uploads[0].Key // empty' "$T/mpu.json")
	pi_up=$(jq -r '.Uploads[0].UploadId // empty' "$T/mpu.json")
	[ -n "$pi_key" ] || return 1
	aws_s3 s3api list-parts --bucket qb-test --key "$pi_key" --upload-id "$pi_up" >"$T/parts.json" 2>/dev/null ||
		return 1
	[ "$(jq '.Parts // [] | length' "$T/parts.json")" -ge 1 ]
}

expect_exit 0 agent --json archive
id=$(jq -r .id "$T/out")
size=$(stat -c %s "$M/$id.tar.zst")

# The gateway killed mid-upload (slowed to 2 MiB/s so that it is mid-way
# however busy the machine), then started again.
agent_bg "$T/up.out" "$T/up.err" --set offsite.url="$S3_ENDPOINT/qb-test/net-f" \
	--set offsite.access_key_file="$T/ak" --set offsite.secret_key_file="$T/sk" \
	--set offsite.part_size=5242880 --set offsite.parallel=2 \
	--set offsite.bandwidth_limit=2097152 offsite upload "$id"
up_pid=$BG_PID
wait_for part_in 600
sh "$S3_SERVER" restart-gateway "$S3_DIR" >"$T/restart.out" 2>&1 ||
	{ cat "$T/restart.out" >&2; fail "the gateway did not start again"; }
track_pid "$(tail -1 "$S3_DIR/pids")"   # the new gateway
# The upload either rode out the restart on its retries or failed
# cleanly (exit 1, offsite_failed); either way the local backup is whole.
set +e
wait "$up_pid"
up_rc=$?
set -e
case $up_rc in
0) ;;
1) grep -q "code=offsite_failed" "$T/up.err" || fail "the interrupted upload: $(cat "$T/up.err")" ;;
*) fail "the upload killed with the gateway exited $up_rc: $(cat "$T/up.err")" ;;
esac
expect_exit 0 agent verify "$id"
expect_exit 0 off --json offsite upload "$id"
aws_s3 s3 cp --only-show-errors "s3://qb-test/net-f/member1/$id.tar.zst" "$T/got"
cmp "$T/got" "$M/$id.tar.zst" || fail "after the restart: the object is not the archive"
[ "$(jq -r .offsite.state "$M/$id.json")" = uploaded ] || fail "not recorded as uploaded: $(jq .offsite "$M/$id.json")"
expect_exit 0 off offsite prune
no_uploads || fail "multipart uploads left after prune: $(cat "$T/mpu.json")"
expect_exit 0 off offsite verify "$id"
ok "the gateway killed mid-upload and started again (the upload exit $up_rc): the next upload completes, the object is the archive, and after prune no multipart upload is left"

# bandwidth_limit: the upload's rate (its bytes over its own seconds)
# within 20 % of the limit. 4 MiB/s leaves the CPU idle, so a busy machine
# cannot slow it.
limit=4194304
expect_exit 0 off --set offsite.bandwidth_limit=$limit --json offsite upload "$id"
secs=$(jq -r .seconds "$T/out")
python3 - "$size" "$secs" "$limit" <<'EOF' || fail "bandwidth_limit = $limit: $size bytes in $secs s"
import sys
size, secs, limit = int(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3])
rate = size / secs
print("# %d bytes in %.2f s: %.0f B/s, %.2f of the limit" % (size, secs, rate, rate / limit))
sys.exit(0 if 0.8 * limit <= rate <= 1.2 * limit else 1)
EOF
ok "bandwidth_limit = 4 MiB/s: the upload's rate within 20 % of it"

stop_s3
finish
