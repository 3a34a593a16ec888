#!/bin/sh
# An archive holds every kind of entry exactly: GNU tar lists and extracts
# it, and the extracted tree matches the source in path, type, mode, owner,
# size, content, mtime (to the nanosecond), symlink target and hard-link
# group. Also: excluded paths and .quorum-backup/ stay out, sockets are
# skipped, the metadata agrees with the archive, and modes on the backup
# volume are 0700/0600.
. "$(dirname "$0")/lib.sh"

D="$T/data"
mkdir -p "$D/geth/chaindata/ancient" "$D/empty-dir" "$D/keystore" "$T/backups"
head -c 3000000 /dev/urandom >"$D/geth/chaindata/000001.ldb"
seq 1 300000 >"$D/geth/chaindata/000002.ldb"
: >"$D/empty-file"
printf 'secret\n' >"$D/keystore/key"
chmod 0600 "$D/keystore/key"
chmod 0700 "$D/keystore"
printf '#!/bin/sh\n' >"$D/run.sh"
chmod 0755 "$D/run.sh"
printf 'ro\n' >"$D/readonly"
chmod 0444 "$D/readonly"
# A 200 MiB file: half random, half repetitive.
head -c 104857600 /dev/urandom >"$D/geth/chaindata/ancient/bodies.0000.cdat"
yes 'quorum block body 0123456789abcdef' | head -c 104857600 \
	>>"$D/geth/chaindata/ancient/bodies.0000.cdat"
# Names over 100 bytes (ustar's limit), deep paths, and non-ASCII names.
long=$(printf 'n%.0s' $(seq 1 140))
mkdir -p "$D/deep/$long/sub-$long"
printf 'long\n' >"$D/deep/$long/sub-$long/file-$long.txt"
mkdir -p "$D/ünïcödé dir"
printf 'utf8\n' >"$D/ünïcödé dir/fïlé ✓.txt"
printf 'tab\n' >"$D/name	with	tabs"
# Symlinks: relative, absolute, dangling, to a directory.
ln -s chaindata/000001.ldb "$D/geth/link-rel"
ln -s /etc/hostname "$D/link-abs"
ln -s does-not-exist "$D/link-dangling"
ln -s geth/chaindata "$D/link-dir"
# A hard-link group of three, and a pair.
printf 'linked\n' >"$D/hl-a"
ln "$D/hl-a" "$D/geth/hl-b"
ln "$D/hl-a" "$D/keystore/hl-c"
printf 'pair\n' >"$D/pair-1"
ln "$D/pair-1" "$D/pair-2"
# Owners other than ours (root can set them), and exact mtimes.
if [ "$(id -u)" = 0 ]; then
	chown 1234:5678 "$D/readonly"
	chown -h 4321:8765 "$D/geth/link-rel"
	chown 2000:2000 "$D/empty-dir"
fi
touch -d '2021-03-04 05:06:07.123456789' "$D/readonly"
touch -h -d '2020-01-02 03:04:05.5' "$D/link-abs"
touch -d '2019-05-06 07:08:09' "$D/empty-dir"
# Left out: default excludes, the agent's own directory, a socket.
mkdir -p "$D/geth/nodes" "$D/geth/triecache" "$D/.quorum-backup/staging"
printf 'peer\n' >"$D/geth/nodes/peer.db"
printf 'x\n' >"$D/.quorum-backup/staging/x"
printf 'cache\n' >"$D/geth/triecache/data.0"

expect_exit 0 agent --json archive
id=$(jq -r .id "$T/out")
archive="$T/backups/member1/$id.tar.zst"
meta="$T/backups/member1/$id.json"
[ -f "$archive" ] && [ -f "$meta" ] || fail "archive or metadata missing"
ok "archive $id written"

[ "$(stat -c %a "$T/backups/member1")" = 700 ] || fail "member dir not 0700"
[ "$(stat -c %a "$archive")" = 600 ] || fail "archive not 0600"
[ "$(stat -c %a "$meta")" = 600 ] || fail "metadata not 0600"
ok "backup directory 0700, archive and metadata 0600"

zstd -lv "$archive" 2>&1 | grep -q 'Check: XXH64' || fail "no zstd frame checksum"
ok "zstd frames carry checksums"

# Listing by GNU tar: every path, with the right type letters.
tar --zstd -tvf "$archive" >"$T/listing" 2>"$T/tar.err"
[ ! -s "$T/tar.err" ] || { cat "$T/tar.err"; fail "GNU tar complained"; }
assert_contains "$T/listing" "geth/chaindata/ancient/bodies.0000.cdat"
assert_contains "$T/listing" "file-$long.txt"
assert_contains "$T/listing" "ünïcödé dir/fïlé ✓.txt"
assert_contains "$T/listing" "link-dangling -> does-not-exist"
grep -q '^h.* link to ' "$T/listing" || fail "no hard link in the listing"
grep -q '^d.*empty-dir/$' "$T/listing" || fail "empty dir not listed"
if grep -qE 'geth/nodes|triecache|\.quorum-backup' "$T/listing"; then
	fail "excluded paths were archived"
fi
ok "GNU tar lists every entry; excluded paths are absent"

# Extraction by GNU tar reproduces the tree.
mkdir "$T/out-tree"
tar --zstd -xpf "$archive" -C "$T/out-tree" --numeric-owner 2>"$T/tar.err" ||
	{ cat "$T/tar.err"; fail "GNU tar could not extract"; }
touch -r "$D/geth" "$T/geth.stamp"
rm -rf "$D/geth/nodes" "$D/geth/triecache"
touch -r "$T/geth.stamp" "$D/geth"
same_tree "$D" "$T/out-tree"
grep -q ' -> ' "$T/.a.links" || fail "the test has no hard-link group"
ok "GNU tar extracts paths, types, modes, owners, mtimes, sizes, contents, targets and link groups unchanged"

# The metadata agrees with the archive.
[ "$(jq -r .archive.sha256 "$meta")" = "$(sha256sum "$archive" | cut -d' ' -f1)" ] ||
	fail "metadata sha256 differs from the archive's"
[ "$(jq -r .archive.size "$meta")" = "$(stat -c %s "$archive")" ] ||
	fail "metadata size differs"
[ "$(jq '.entries | length' "$meta")" = "$(jq .files "$meta")" ] ||
	fail "entry count differs"
[ "$(jq '.entries | length' "$meta")" = "$(wc -l <"$T/listing")" ] ||
	fail "metadata lists $(jq '.entries | length' "$meta") entries, tar $(wc -l <"$T/listing")"
[ "$(jq -r '.entries[] | select(.path == "geth/chaindata/ancient/bodies.0000.cdat") | .size' "$meta")" = 209715200 ] ||
	fail "size of the 200 MiB file wrong in metadata"
[ "$(jq -r .file_hash "$meta")" = xxh3-128 ] || fail "file_hash"
ok "metadata: archive size and SHA-256, entries, sizes"

expect_exit 0 agent verify "$id"
assert_contains "$T/out" "ok $id"
ok "verify accepts the fresh archive"
finish
