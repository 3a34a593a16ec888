#!/bin/sh
# verify reads everything: a flipped bit, a truncated archive, a metadata
# hash that lies and a missing frame checksum all exit 5 and say where.
. "$(dirname "$0")/lib.sh"
mkdata
head -c 4000000 /dev/urandom >"$T/data/geth/chaindata/000003.ldb"
expect_exit 0 agent --json archive
id=$(jq -r .id "$T/out")
dir="$T/backups/member1"
cp "$dir/$id.tar.zst" "$T/good.tar.zst"
cp "$dir/$id.json" "$T/good.json"

expect_exit 0 agent verify "$id"
ok "intact archive verifies"

restore() { cp "$T/good.tar.zst" "$dir/$id.tar.zst"; cp "$T/good.json" "$dir/$id.json"; }

# flip_bit FILE OFFSET
flip_bit() {
	byte=$(od -An -tu1 -j "$2" -N1 "$1" | tr -d ' ')
	printf "$(printf '\\%03o' $((byte ^ 16)))" |
		dd of="$1" bs=1 seek="$2" count=1 conv=notrunc 2>/dev/null
}

size=$(stat -c %s "$dir/$id.tar.zst")
for off in 100 $((size / 3)) $((size / 2)) $((size - 6)); do
	flip_bit "$dir/$id.tar.zst" "$off"
	expect_exit 5 agent verify "$id"
	grep -qE 'zstd error|content hash|SHA-256|tar structure' "$T/err" ||
		{ cat "$T/err"; fail "unclear message for a flipped bit at $off"; }
	restore
done
ok "a flipped bit anywhere: exit 5"

# The same size but a recomputed metadata: only the SHA-256 can tell.
flip_bit "$dir/$id.tar.zst" $((size / 2))
expect_exit 5 agent verify "$id"
restore
ok "flipped bit detected"

truncate -s $((size / 2)) "$dir/$id.tar.zst"
jq ".archive.size = $((size / 2))" "$T/good.json" >"$dir/$id.json"
expect_exit 5 agent verify "$id"
assert_contains "$T/err" "truncated"
restore
truncate -s $((size / 2)) "$dir/$id.tar.zst"
expect_exit 5 agent verify "$id"
assert_contains "$T/err" "metadata says $size"
restore
ok "truncated archive: exit 5 (with and without a matching size in the metadata)"

jq '(.entries[] | select(.path == "geth/nodekey") | .hash) = "xxh3-128:00000000000000000000000000000000"' \
	"$T/good.json" >"$dir/$id.json"
expect_exit 5 agent verify "$id"
assert_contains "$T/err" "geth/nodekey: content hash"
restore
ok "metadata hash that does not match: exit 5 naming the file"

jq '.archive.sha256 = "0000000000000000000000000000000000000000000000000000000000000000"' \
	"$T/good.json" >"$dir/$id.json"
expect_exit 5 agent verify "$id"
assert_contains "$T/err" "archive SHA-256 is"
restore
ok "archive SHA-256 that does not match: exit 5"

jq 'del(.entries[-1])' "$T/good.json" >"$dir/$id.json"
expect_exit 5 agent verify "$id"
restore
ok "an entry the metadata does not list: exit 5"

# An archive without zstd checksums is refused even with matching hashes.
zstd -dc "$T/good.tar.zst" | zstd -q --no-check -3 >"$dir/$id.tar.zst"
newsize=$(stat -c %s "$dir/$id.tar.zst")
newsha=$(sha256sum "$dir/$id.tar.zst" | cut -d' ' -f1)
jq ".archive.size = $newsize | .archive.sha256 = \"$newsha\"" "$T/good.json" >"$dir/$id.json"
expect_exit 5 agent verify "$id"
assert_contains "$T/err" "has no checksum"
restore
ok "zstd frame without checksum: exit 5"

# verify by path, and the JSON form.
expect_exit 0 agent --json verify "$dir/$id.tar.zst"
[ "$(jq -r .ok "$T/out")" = true ] || fail "verify --json"
flip_bit "$dir/$id.tar.zst" $((size / 2))
expect_exit 5 agent --json verify "$dir/$id.tar.zst"
[ "$(jq -r .error.code "$T/out")" = verification_failed ] || fail "verify --json error code"
restore
expect_exit 4 agent verify 20200101T000000Z
expect_exit 2 agent verify '..'
assert_contains "$T/err" "is not a backup id"
expect_exit 2 agent verify /etc/passwd
assert_contains "$T/err" "not a .tar.zst, .tar.zst.age or .tar.gz archive"
expect_exit 4 agent verify "$T/no/such.tar.zst"
ok "verify by path, --json, unknown id (4), bad id or path (2)"
finish
