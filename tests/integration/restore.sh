#!/bin/sh
# unpack and rollback: a round trip reproduces the backed-up tree exactly,
# the old tree waits in previous/ and rollback brings it back exactly;
# --discard-previous, --in-place, legacy .tar.gz backups, the node-key
# check, and the refusals (node running, unknown id, corrupt archive).
. "$(dirname "$0")/lib.sh"

D="$T/data"
mkdir -p "$D/geth/chaindata/ancient" "$D/keystore" "$D/empty-dir" "$T/backups"
head -c 20000000 /dev/urandom >"$D/geth/chaindata/ancient/bodies.0000.cdat"
seq 1 200000 >"$D/geth/chaindata/000001.ldb"
: >"$D/empty-file"
: >"$D/geth/LOCK"
printf '%064x\n' 7 >"$D/geth/nodekey"
printf 'key\n' >"$D/keystore/key"
chmod 0600 "$D/keystore/key"
chmod 0700 "$D/keystore"
chmod 0555 "$D/empty-dir"
ln -s chaindata/000001.ldb "$D/geth/link"
ln -s /nowhere "$D/dangling"
ln "$D/keystore/key" "$D/geth/key-link"
mkdir -p "$D/ünïcödé"
printf 'x\n' >"$D/ünïcödé/fïlé"
long=$(printf 'n%.0s' $(seq 1 150))
mkdir -p "$D/$long"
printf 'long\n' >"$D/$long/$long"
# Top-level names the restore journal must carry exactly: ones that look
# like its own hex encoding, and one that is not UTF-8.
printf 'a\n' >"$D/hex:41"
mkdir "$D/hex:zz"
printf 'b\n' >"$D/hex:zz/f"
printf 'c\n' >"$D/$(printf 'raw\377name')"
[ "$(id -u)" != 0 ] || chown 1234:5678 "$D/empty-file"
touch -d '2021-03-04 05:06:07.123456789' "$D/empty-file"

cp -a "$D" "$T/original"
expect_exit 0 agent --json archive
id=$(jq -r .id "$T/out")

# Change the live tree: new, changed and deleted entries.
printf 'new\n' >"$D/geth/new-file"
seq 1 10 >>"$D/geth/chaindata/000001.ldb"
rm "$D/empty-file"
rm -r "$D/ünïcödé"
mkdir "$D/new-dir"
cp -a "$D" "$T/changed"

expect_exit 0 agent --json unpack "$id"
[ "$(jq -r .previous_kept "$T/out")" = true ] || fail "previous not kept"
same_tree "$T/original" "$D"
same_tree "$T/changed" "$D/.quorum-backup/previous"
[ ! -e "$D/.quorum-backup/staging" ] || fail "staging left behind"
[ ! -e "$D/.quorum-backup/journal" ] || fail "journal left behind"
ok "unpack restores paths, types, modes, owners, mtimes, contents, links exactly; the old tree is in previous/"

expect_exit 0 agent rollback
same_tree "$T/changed" "$D"
[ ! -e "$D/.quorum-backup/previous" ] || fail "previous left after rollback"
[ ! -e "$D/.quorum-backup/discard" ] || fail "discard left after rollback"
ok "rollback brings the old tree back exactly"

expect_exit 4 agent rollback
assert_contains "$T/err" "no previous tree"
ok "rollback without a previous tree: exit 4"

expect_exit 0 agent unpack latest --discard-previous
same_tree "$T/original" "$D"
[ ! -e "$D/.quorum-backup/previous" ] || fail "previous kept despite --discard-previous"
ok "unpack latest --discard-previous"

expect_exit 0 agent unpack "$id"
expect_exit 0 agent discard-previous
assert_contains "$T/out" "previous tree removed"
[ ! -e "$D/.quorum-backup/previous" ] || fail "discard-previous"
ok "discard-previous"

# In place: verify first, then delete and extract.
printf 'more\n' >"$D/geth/more"
expect_exit 0 agent unpack --in-place "$id"
same_tree "$T/original" "$D"
[ ! -e "$D/.quorum-backup/previous" ] || fail "in-place left a previous tree"
ok "unpack --in-place"

# Corruption: exit 5 and the data directory as it was, in both modes.
printf 'live\n' >"$D/geth/live-only"
before=$(tree_hash "$D")
cp "$T/backups/member1/$id.tar.zst" "$T/good.tar.zst"
size=$(stat -c %s "$T/good.tar.zst")
printf '\377' | dd of="$T/backups/member1/$id.tar.zst" bs=1 seek=$((size / 2)) conv=notrunc 2>/dev/null
expect_exit 5 agent unpack "$id"
[ "$(tree_hash "$D")" = "$before" ] || fail "a corrupt archive changed the data directory"
[ ! -e "$D/.quorum-backup/staging" ] || fail "staging left after a failed unpack"
expect_exit 5 agent unpack --in-place "$id"
[ "$(tree_hash "$D")" = "$before" ] || fail "a corrupt archive changed the data directory (in place)"
cp "$T/good.tar.zst" "$T/backups/member1/$id.tar.zst"
truncate -s $((size - 100)) "$T/backups/member1/$id.tar.zst"
expect_exit 5 agent unpack "$id"
[ "$(tree_hash "$D")" = "$before" ] || fail "a truncated archive changed the data directory"
cp "$T/good.tar.zst" "$T/backups/member1/$id.tar.zst"
cp "$T/backups/member1/$id.json" "$T/good.json"
jq '(.entries[] | select(.path == "geth/chaindata/000001.ldb") | .hash) = "xxh3-128:00000000000000000000000000000000"' \
	"$T/good.json" >"$T/backups/member1/$id.json"
expect_exit 5 agent unpack "$id"
assert_contains "$T/err" "geth/chaindata/000001.ldb: content hash"
[ "$(tree_hash "$D")" = "$before" ] || fail "a lying metadata hash changed the data directory"
cp "$T/good.json" "$T/backups/member1/$id.json"
ok "flipped bit, truncation, wrong metadata hash: exit 5, data directory unchanged"

# The node holds its lock: refused, unchanged.
hold_lock flock "$D/geth/LOCK"
expect_exit 3 agent unpack "$id"
release_lock
[ "$(tree_hash "$D")" = "$before" ] || fail "refused unpack changed the data directory"
expect_exit 4 agent unpack 20200101T000000Z
expect_exit 2 agent unpack 'x/../y'
ok "node running (exit 3), unknown id (4), bad id (2): unchanged"

# Another node's key: refused unless --force.
printf '%064x\n' 8 >"$D/geth/nodekey"
before=$(tree_hash "$D")
expect_exit 1 agent unpack "$id"
assert_contains "$T/err" "is not this node's"
[ "$(tree_hash "$D")" = "$before" ] || fail "node-key refusal changed the data directory"
expect_exit 0 agent unpack --force "$id"
same_tree "$T/original" "$D"
ok "another node's key: refused, --force overrides"

# A legacy backup of the seed's scripts restores the same way.
# (GNU tar's default format keeps mtimes to the second.)
tar -czf "$T/backups/member1/20240101-000000.tar.gz" -C "$T/changed" .
expect_exit 0 agent unpack 20240101-000000.tar.gz
MTIME=%Ts
same_tree "$T/changed" "$D"
MTIME=
printf '%064x\n' 9 >"$D/geth/nodekey"
expect_exit 1 agent unpack 20240101-000000.tar.gz
assert_contains "$T/err" "is not this node's"
printf '%064x\n' 7 >"$D/geth/nodekey"
ok "legacy .tar.gz restore, with the node-key check"

# Two unpacks at once: one is refused, the tree is whole.
head -c 60000000 /dev/urandom >"$D/geth/chaindata/big.ldb"
expect_exit 0 agent --json archive
big=$(jq -r .id "$T/out")
cp -a "$D" "$T/big"
rm "$D/geth/chaindata/big.ldb"
agent_bg "$T/u1.out" "$T/u1.err" unpack "$big"
p1=$BG_PID
"$AGENT" --data-dir "$D" --backup-dir "$T/backups" --member 1 unpack "$big" \
	>"$T/u2.out" 2>"$T/u2.err" && r2=0 || r2=$?
wait "$p1" && r1=0 || r1=$?
if [ "$r1" = 0 ] && [ "$r2" = 0 ]; then
	# The second may have started after the first finished: both fine.
	:
else
	[ "$r1" = 0 ] || [ "$r2" = 0 ] || fail "both unpacks failed: $(cat "$T/u1.err" "$T/u2.err")"
	grep -q "in progress" "$T/u1.err" "$T/u2.err" || fail "the refusal did not say busy"
fi
same_tree "$T/big" "$D"
ok "two unpacks at once: one waits its turn or is refused, the tree is whole"
finish
