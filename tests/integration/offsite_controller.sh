#!/bin/sh
# The controller with off-site copies, against a real S3 server (Ceph's
# object gateway) and two real members on 127.0.0.1 (testnode under a
# gate, an agent each, upload = auto), each with 200 MiB of data that does
# not compress, member 2's backups encrypted with age: backup --all says
# each copy in its OFFSITE column; the objects, read with awscli, are the
# local archives; with the backup volume emptied, restore --all --from
# offsite brings both trees back byte for byte from the bucket alone.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/gate_lib.sh"
. "$(dirname "$0")/net_lib.sh"
. "$(dirname "$0")/s3_lib.sh"

[ -x /usr/bin/aws ] || fail "awscli is not installed (scripts/install-deps.sh installs it)"
# Two archives of 200 MiB, their copies and an unfinished upload or two.
S3_MEMSTORE_BYTES=$((2048 * 1048576))
export S3_MEMSTORE_BYTES
start_s3
aws_s3 s3 mb s3://qb-test >/dev/null
printf '%s\n' "$S3_ACCESS_KEY" >"$T/ak"
printf '%s\n' "$S3_SECRET_KEY" >"$T/sk"
chmod 600 "$T/sk"
age-keygen -o "$T/id.key" 2>/dev/null
age-keygen -y "$T/id.key" >"$T/recipients"

VSET=0x00000000000000000000000000000000000000a1,0x00000000000000000000000000000000000000a2
for k in 1 2; do
	start_node $k --address "0x00000000000000000000000000000000000000a$k" \
		--validators "$VSET"
	mkdir -p "$T/m$k.data/keystore"
	# 200 MiB in four tables: 13 parts of 16 MiB each.
	for f in 1 2 3 4; do
		head -c 52428800 /dev/urandom >"$T/m$k.data/geth/chaindata/00000$f.ldb"
	done
	head -c 200 /dev/urandom >"$T/m$k.data/keystore/key"
	chmod 600 "$T/m$k.data/keystore/key"
done
off_opts="--set offsite.url=$S3_ENDPOINT/qb-test/net-c --set offsite.access_key_file=$T/ak --set offsite.secret_key_file=$T/sk"
# shellcheck disable=SC2086 # the options are words
start_member_agent 1 $off_opts
# shellcheck disable=SC2086
start_member_agent 2 $off_opts --set encryption.recipients_file="$T/recipients" \
	--set encryption.identity_file="$T/id.key"
write_conf 2
wait_members_ready 2

# upload_done K ID: member K's upload job of backup ID succeeded.
upload_done() {
	eval "ud_p=\$APORT_$1"
	curl -s -H "Authorization: Bearer net-token" "http://127.0.0.1:$ud_p/v1/jobs" >"$T/jobs$1.json"
	[ "$(jq -r --arg id "$2" '[.[] | select(.kind == "upload" and .params.backup == $id)][0].state' "$T/jobs$1.json")" = succeeded ]
}

expect_ctl 0 backup --all --force
head -1 "$T/out" | grep -q "DOWNTIME  OFFSITE$" || fail "no OFFSITE column: $(cat "$T/out")"
for k in 1 2; do
	grep -E "^$k +succeeded .* (uploading|uploaded)$" "$T/out" >/dev/null ||
		fail "member $k's OFFSITE: $(cat "$T/out")"
done
expect_ctl 0 --json list
id1=$(jq -r '.[] | select(.member == 1) | .backups[0].id' "$T/out")
id2=$(jq -r '.[] | select(.member == 2) | .backups[0].id' "$T/out")
[ -n "$id1" ] && [ "$id1" != null ] && [ -n "$id2" ] && [ "$id2" != null ] || fail "list: $(cat "$T/out")"
wait_for "upload_done 1 $id1" 600
wait_for "upload_done 2 $id2" 600
aws_s3 s3 ls --recursive s3://qb-test/net-c/ >"$T/ls"
for f in "member1/$id1.tar.zst" "member1/$id1.json" "member2/$id2.tar.zst.age" "member2/$id2.json"; do
	grep -q " net-c/$f\$" "$T/ls" || fail "$f is not in the bucket: $(cat "$T/ls")"
done
for pair in "1 $id1.tar.zst" "2 $id2.tar.zst.age"; do
	set -- $pair
	got=$(aws_s3 s3 cp --only-show-errors "s3://qb-test/net-c/member$1/$2" - | sha256sum | cut -d' ' -f1)
	want=$(sha256sum <"$T/backups/member$1/$2" | cut -d' ' -f1)
	[ "$got" = "$want" ] || fail "member $1: the object's SHA-256 is not the local archive's"
	size=$(stat -c %s "$T/backups/member$1/$2")
	[ "$size" -ge 209715200 ] || fail "member $1: the archive is only $size bytes"
done
ok "backup --all (--force: two validators) with upload = auto: OFFSITE column; the objects of 200 MiB (one encrypted), listed and read by aws, are the local archives"

# The backup volume lost: restored from the bucket alone. The testnode
# appends to its journal as it runs: that file is compared as archived
# (its first SIZE bytes, SIZE from the metadata) and left out of the sums.
# sums K: member K's files but the journal, with their SHA-256.
sums() {
	(cd "$T/m$1.data" && find . -path ./.quorum-backup -prune -o -type f \
		! -name journal.log -print | LC_ALL=C sort | xargs sha256sum)
}
for k in 1 2; do
	sums $k >"$T/before$k"
	eval "id=\$id$k"
	jq -r '.entries[] | select(.path == "geth/chaindata/journal.log") | .size' \
		"$T/backups/member$k/$id.json" >"$T/jsize$k"
	cp "$T/m$k.data/geth/chaindata/journal.log" "$T/journal$k"
done
rm -rf "$T/backups/member1" "$T/backups/member2"
for k in 1 2; do
	echo changed >"$T/m$k.data/keystore/key"
	rm "$T/m$k.data/geth/chaindata/000002.ldb"
done
expect_ctl 4 restore --all --from offsite --backup 20200101T000000Z
assert_contains "$T/out" "no complete copy in the bucket"
expect_ctl 0 --json restore --all --from offsite
[ "$(jq -r '[.members[] | select(.result == "succeeded")] | length' "$T/out")" = 2 ] ||
	fail "restore --from offsite: $(cat "$T/out")"
[ "$(jq -r '.members[] | select(.member == 2) | .backup' "$T/out")" = "$id2" ] ||
	fail "restore --from offsite: not the newest copy: $(cat "$T/out")"
for k in 1 2; do
	sums $k >"$T/after$k"
	diff -u "$T/before$k" "$T/after$k" >&2 || fail "member $k: the tree from the bucket differs"
	js=$(cat "$T/jsize$k")
	[ -n "$js" ] && cmp -n "$js" "$T/journal$k" "$T/m$k.data/geth/chaindata/journal.log" ||
		fail "member $k: the journal is not the archived one"
	! ls "$T/backups/member$k/" 2>/dev/null | grep -q '\.tar\.zst' ||
		fail "member $k: the restore stored an archive locally"
done
wait_members_ready 2
expect_ctl 2 restore --all --from elsewhere
expect_ctl 2 list --from offsite
ok "the backup volume lost: restore --all --from offsite (latest) brings both trees back byte for byte, one decrypted, nothing stored locally; a copy not there: exit 4"

stop_s3
finish
