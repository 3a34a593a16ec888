#!/bin/sh
# offsite list|upload|verify against a real S3 server (Ceph's object
# gateway, tests/helpers/s3-server.sh), read and written back by awscli:
# a multipart upload in parallel parts whose object is byte for byte the
# local archive, with its metadata beside it and no multipart upload left
# over; the local metadata records the copy; list and verify; an encrypted
# backup that age opens from the bucket; a byte changed in the bucket is
# exit 5; a wrong secret, a missing bucket and an endpoint that is down are
# exit 1 with the S3 error named, the local backup intact; bad settings
# are exit 2.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/s3_lib.sh"

offsite_setup
M=$T/backups/member1

off() { # ARGS...: the agent with [offsite] set to the test's bucket
	agent --set offsite.url="$S3_ENDPOINT/qb-test/net-a" \
		--set offsite.access_key_file="$T/ak" --set offsite.secret_key_file="$T/sk" \
		--set offsite.part_size=5242880 --set offsite.parallel=3 "$@"
}

expect_exit 0 agent --json archive
id=$(jq -r .id "$T/out")
expect_exit 0 off --json offsite upload
[ "$(jq -r .id "$T/out")" = "$id" ] || fail "upload: not the latest backup"
parts=$(jq -r .parts "$T/out")
[ "$parts" -ge 6 ] || fail "upload: $parts parts, expected a multipart upload of 6 or more"
aws_s3 s3 ls s3://qb-test/net-a/member1/ >"$T/ls"
assert_contains "$T/ls" "$id.tar.zst"
assert_contains "$T/ls" "$id.json"
aws_s3 s3 cp --only-show-errors "s3://qb-test/net-a/member1/$id.tar.zst" "$T/remote.tar.zst"
cmp "$T/remote.tar.zst" "$M/$id.tar.zst" || fail "the object is not the local archive"
[ "$(sha256sum <"$T/remote.tar.zst" | cut -d' ' -f1)" = "$(jq -r .archive.sha256 "$M/$id.json")" ] ||
	fail "the object's SHA-256 is not the metadata's"
aws_s3 s3 cp --only-show-errors "s3://qb-test/net-a/member1/$id.json" "$T/remote.json"
[ "$(jq -S 'del(.offsite)' "$T/remote.json")" = "$(jq -S 'del(.offsite)' "$M/$id.json")" ] ||
	fail "the remote metadata is not the local one"
[ "$(jq -r .offsite.state "$M/$id.json")" = uploaded ] || fail "the local metadata does not record the copy"
[ "$(jq -r .offsite.key "$M/$id.json")" = "net-a/member1/$id.tar.zst" ] || fail "offsite.key"
case $(jq -r .offsite.etag "$M/$id.json") in *-$parts*) ;; *) fail "offsite.etag: $(jq .offsite "$M/$id.json")" ;; esac
aws_s3 s3api list-multipart-uploads --bucket qb-test >"$T/mpu.json"
# (awscli prints nothing when there is none)
[ ! -s "$T/mpu.json" ] || [ "$(jq '.Uploads // [] | length' "$T/mpu.json")" = 0 ] ||
	fail "multipart uploads left: $(cat "$T/mpu.json")"
ok "upload: $parts parts in parallel, the object byte for byte the archive, metadata beside it, recorded locally, no upload left open"

expect_exit 0 off --json offsite list
[ "$(jq -r '.[0].id' "$T/out")" = "$id" ] && [ "$(jq -r '.[0].encrypted' "$T/out")" = false ] ||
	fail "offsite list: $(cat "$T/out")"
expect_exit 0 off offsite verify
assert_contains "$T/out" "ok $id"
assert_contains "$T/out" "every file's hash"
expect_exit 0 off --json offsite verify "$id"
[ "$(jq -r .stored "$T/out")" = false ] && [ "$(jq -r .files "$T/out")" -gt 0 ] ||
	fail "offsite verify did not read the content: $(cat "$T/out")"
expect_exit 0 off --json offsite verify --stored "$id"
[ "$(jq -r .stored "$T/out")" = true ] || fail "offsite verify --stored: $(cat "$T/out")"
ok "offsite list and verify (the newest, and by id): the whole content, or with --stored the object's SHA-256"

# An encrypted backup, opened from the bucket by age alone.
age-keygen -o "$T/id.key" 2>/dev/null
age-keygen -y "$T/id.key" >"$T/recipients"
expect_exit 0 agent --set encryption.recipients_file="$T/recipients" --json archive
eid=$(jq -r .id "$T/out")
expect_exit 0 off offsite upload "$eid"
aws_s3 s3 cp --only-show-errors "s3://qb-test/net-a/member1/$eid.tar.zst.age" - |
	age -d -i "$T/id.key" | zstd -dq | tar -tf - >"$T/list"
assert_contains "$T/list" "geth/chaindata/000003.ldb"
grep -q "^\.quorum-backup/manifest.json" "$T/list" || fail "no manifest in the encrypted object"
expect_exit 0 off --json offsite list
[ "$(jq -r --arg id "$eid" '.[] | select(.id == $id) | .encrypted' "$T/out")" = true ] ||
	fail "offsite list: the encrypted copy is not marked"
[ "$(jq -r '.[0].id' "$T/out")" = "$eid" ] || fail "offsite list is not newest first"
expect_exit 0 off offsite verify "$eid"
assert_contains "$T/out" "the content was not read"
expect_exit 0 off --set encryption.identity_file="$T/id.key" --json offsite verify "$eid"
[ "$(jq -r .stored "$T/out")" = false ] && [ "$(jq -r .files "$T/out")" -gt 0 ] ||
	fail "offsite verify with the identity did not read the content: $(cat "$T/out")"
age-keygen -o "$T/other.key" 2>/dev/null
expect_exit 2 off --set encryption.identity_file="$T/other.key" offsite verify "$eid"
assert_contains "$T/err" "code=wrong_identity"
ok "an encrypted backup uploaded: age -d | zstd -d | tar -t reads the object; list marks it; verify needs no key for the stored object, reads it all with the identity, refuses another"

# An upload an earlier run left: taken up again, its part reused when its
# content is the local part's, an older one aborted.
expect_exit 0 agent --json archive
rid=$(jq -r .id "$T/out")
rkey=net-a/member1/$rid.tar.zst
aws_s3 s3api create-multipart-upload --bucket qb-test --key "$rkey" >"$T/old.json"
sleep 1   # Initiated has a resolution of a second
aws_s3 s3api create-multipart-upload --bucket qb-test --key "$rkey" >"$T/new.json"
head -c 5242880 "$M/$rid.tar.zst" >"$T/part1"
aws_s3 s3api upload-part --bucket qb-test --key "$rkey" --part-number 1 \
	--upload-id "$(jq -r .UploadId "$T/new.json")" --body "$T/part1" >/dev/null
expect_exit 0 off --json offsite upload "$rid"
[ "$(jq -r .reused "$T/out")" = 1 ] || fail "the part already sent was not reused: $(cat "$T/out")"
assert_contains "$T/err" "resumed=true"
aws_s3 s3 cp --only-show-errors "s3://qb-test/$rkey" "$T/resumed"
cmp "$T/resumed" "$M/$rid.tar.zst" || fail "the resumed upload is not the archive"
aws_s3 s3api list-multipart-uploads --bucket qb-test >"$T/mpu.json"
[ ! -s "$T/mpu.json" ] || [ "$(jq '.Uploads // [] | length' "$T/mpu.json")" = 0 ] ||
	fail "multipart uploads left after a resume: $(cat "$T/mpu.json")"
# A part that differs from the local one is sent again.
aws_s3 s3api create-multipart-upload --bucket qb-test --key "$rkey" >"$T/new.json"
head -c 5242880 /dev/urandom >"$T/part1"
aws_s3 s3api upload-part --bucket qb-test --key "$rkey" --part-number 1 \
	--upload-id "$(jq -r .UploadId "$T/new.json")" --body "$T/part1" >/dev/null
expect_exit 0 off --json offsite upload "$rid"
[ "$(jq -r .reused "$T/out")" = 0 ] || fail "a part of other content was reused"
aws_s3 s3 cp --only-show-errors "s3://qb-test/$rkey" "$T/resumed"
cmp "$T/resumed" "$M/$rid.tar.zst" || fail "the upload kept a part of other content"
ok "an upload left by an earlier run: resumed from ListParts, a matching part reused and one of other content sent again, the older upload aborted"

# A byte changed in the bucket.
python3 -c '
import sys
b = bytearray(open(sys.argv[1], "rb").read()); b[len(b) // 3] ^= 1
open(sys.argv[2], "wb").write(b)' "$T/remote.tar.zst" "$T/changed"
aws_s3 s3 cp --only-show-errors "$T/changed" "s3://qb-test/net-a/member1/$id.tar.zst"
expect_exit 5 off offsite verify --stored "$id"
assert_contains "$T/err" "SHA-256 is"
assert_contains "$T/err" "code=verification_failed"
expect_exit 5 off offsite verify "$id"
assert_contains "$T/err" "code=verification_failed"
ok "a byte changed in the bucket (written back with aws): verify exit 5"

# Restores from the bucket with no local copy: the backup volume emptied,
# the tree back as it was archived; plain and encrypted; staged and in
# place.
manifest "$T/data" "$T/before"
cp -a "$M" "$T/saved-store"
rm -rf "$M"
echo changed >"$T/data/keystore/key"
rm "$T/data/geth/chaindata/000003.ldb"
expect_exit 0 off --json unpack "$rid" --from offsite
[ "$(jq -r .from "$T/out")" = offsite ] || fail "unpack --from offsite: $(cat "$T/out")"
manifest "$T/data" "$T/after"
for part in sums sizes links; do
	diff -u "$T/before.$part" "$T/after.$part" >&2 || fail "the tree from the bucket differs ($part)"
done
ls -A "$M" >"$T/store-after"
grep -qv '^\.lock$' "$T/store-after" && fail "unpack from the bucket left files in the store: $(cat "$T/store-after")"
expect_exit 0 agent discard-previous
expect_exit 2 off unpack "$eid" --from offsite
assert_contains "$T/err" "code=no_identity"
expect_exit 0 off --set encryption.identity_file="$T/id.key" unpack "$eid" --from offsite --in-place
for part in sums sizes; do
	manifest "$T/data" "$T/after"
	diff -u "$T/before.$part" "$T/after.$part" >&2 || fail "the encrypted tree from the bucket differs ($part)"
done
ok "unpack --from offsite with the backup volume emptied: the tree back byte for byte, nothing stored locally; encrypted: no_identity without the key, in place with it"

# A byte changed in the bucket: the restore fails before the data dir
# changes.
echo changed-again >"$T/data/keystore/key"
before=$(tree_hash "$T/data")
python3 -c '
import sys
b = bytearray(open(sys.argv[1], "rb").read()); b[len(b) // 2] ^= 1
open(sys.argv[2], "wb").write(b)' "$T/saved-store/$rid.tar.zst" "$T/changed-r"
aws_s3 s3 cp --only-show-errors "$T/changed-r" "s3://qb-test/net-a/member1/$rid.tar.zst"
expect_exit 5 off unpack "$rid" --from offsite
assert_contains "$T/err" "code=verification_failed"
[ "$(tree_hash "$T/data")" = "$before" ] || fail "a failed restore from the bucket changed the data dir"
[ ! -e "$T/data/.quorum-backup/staging" ] || fail "staging left behind"
expect_exit 4 off unpack 20200101T000000Z --from offsite
expect_exit 2 agent unpack "$rid" --from offsite
assert_contains "$T/err" "[offsite] url is not set"
expect_exit 2 off list --from offsite
rm -rf "$M"
cp -a "$T/saved-store" "$M"
aws_s3 s3 cp --only-show-errors "$M/$rid.tar.zst" "s3://qb-test/net-a/member1/$rid.tar.zst"
ok "a byte changed in the bucket: unpack --from offsite exit 5, the data dir unchanged; a copy not there: 4; no [offsite] url: 2"

# Remote retention: keep the newest copy only.
expect_exit 0 off --json offsite list
nremote=$(jq length "$T/out")
newest=$(jq -r '.[0].id' "$T/out")
[ "$nremote" -ge 3 ] || fail "expected 3 remote copies, have $nremote"
expect_exit 0 off --set offsite.keep_last=1 --json --dry-run offsite prune
[ "$(jq '.deleted | length' "$T/out")" = $((nremote - 1)) ] && [ "$(jq -r .dry_run "$T/out")" = true ] ||
	fail "prune --dry-run: $(cat "$T/out")"
expect_exit 0 off --json offsite list
[ "$(jq length "$T/out")" = "$nremote" ] || fail "prune --dry-run deleted copies"
expect_exit 0 off --set offsite.keep_last=1 offsite prune
assert_contains "$T/out" "1 copy kept"
aws_s3 s3 ls s3://qb-test/net-a/member1/ >"$T/ls"
[ "$(wc -l <"$T/ls")" = 2 ] && grep -q "$newest.json" "$T/ls" ||
	fail "after prune the bucket holds: $(cat "$T/ls")"
expect_exit 0 agent verify --stored "$id"
expect_exit 2 off --dry-run offsite list
ok "offsite prune (keep_last = 1): --dry-run names $((nremote - 1)) copies and deletes none; prune leaves the newest copy (archive and metadata); local backups untouched"

# Faults: each a clear error, the local backup intact.
printf 'wrong\n' >"$T/sk-wrong"
chmod 600 "$T/sk-wrong"
expect_exit 1 off --set offsite.secret_key_file="$T/sk-wrong" offsite upload "$id"
assert_contains "$T/err" "SignatureDoesNotMatch"
assert_contains "$T/err" "code=offsite_failed"
expect_exit 1 off --set offsite.url="$S3_ENDPOINT/qb-missing/net-a" offsite upload "$id"
assert_contains "$T/err" "NoSuchBucket"
expect_exit 1 off --set offsite.url="http://127.0.0.1:1/qb-test/net-a" offsite list
assert_contains "$T/err" "code=offsite_failed"
expect_exit 0 agent verify --stored "$id"
[ "$(jq -r .offsite.state "$M/$id.json")" = failed ] || fail "the failed upload is not recorded: $(jq .offsite "$M/$id.json")"
jq -r .offsite.error "$M/$id.json" | grep -q NoSuchBucket || fail "the record lacks the error: $(jq .offsite "$M/$id.json")"
expect_exit 4 off offsite verify 20200101T000000Z
ok "a wrong secret (SignatureDoesNotMatch), a missing bucket (NoSuchBucket), an endpoint that is down: exit 1, the local backup intact, the failure recorded; a copy not there: exit 4"

# The offline archive with upload = auto: a failed copy does not fail it.
expect_exit 0 off --set offsite.secret_key_file="$T/sk-wrong" --json archive
aid=$(jq -r .id "$T/out")
[ "$(jq -r .offsite.state "$T/out")" = failed ] && [ "$(jq -r .offsite.code "$T/out")" = offsite_failed ] ||
	fail "archive --json: $(jq .offsite "$T/out")"
assert_contains "$T/err" "the off-site copy of $aid failed"
assert_contains "$T/err" "SignatureDoesNotMatch"
[ "$(jq -r .offsite.state "$M/$aid.json")" = failed ] || fail "the archive's failed copy is not recorded"
expect_exit 0 agent verify "$aid"
expect_exit 0 off archive
assert_contains "$T/out" "uploaded s3://qb-test/net-a/member1/"
expect_exit 0 off --set offsite.upload=manual --json archive
[ "$(jq -r .offsite.state "$T/out")" = manual ] || fail "upload = manual: $(jq .offsite "$T/out")"
expect_exit 0 agent --json archive
[ "$(jq -r .offsite.state "$T/out")" = off ] || fail "no url: $(jq .offsite "$T/out")"
ok "archive with upload = auto: a failed copy exit 0, said on stderr, recorded, in --json; a good one uploaded; manual and off say so"

# Bad settings.
expect_exit 2 agent offsite list
assert_contains "$T/err" "[offsite] url is not set"
expect_exit 2 off --set offsite.url="$S3_ENDPOINT" offsite list
assert_contains "$T/err" "no bucket"
chmod 644 "$T/sk"
expect_exit 2 off offsite list
assert_contains "$T/err" "readable by others"
chmod 600 "$T/sk"
expect_exit 2 off --set offsite.access_key_file="$T/nope" offsite list
expect_exit 2 off offsite frobnicate
expect_exit 2 off --set offsite.part_size=1000 offsite list
ok "no url, no bucket, a secret readable by others, a missing key file, an unknown subcommand, a part size under 5 MiB: exit 2"

stop_s3
finish
