#!/bin/sh
# Hostile archives, built here with metadata that agrees with them (so the
# extraction's own checks must refuse them) and as legacy .tar.gz files
# (no metadata at all): refused or neutralised, nothing written outside
# the staging directory, the data directory unchanged.
. "$(dirname "$0")/lib.sh"
mkdata
D="$T/data"
M="$T/backups/member1"
mkdir -p "$M" "$T/outside"
printf 'outside\n' >"$T/outside/victim"
chmod 0644 "$T/outside/victim"
outside_before=$(cd "$T/outside" && find . -printf '%P|%y|%m|%s|%T@\n' | sort | sha256sum)
before=$(tree_hash "$D")
n=0

# hostile NAME EXIT MESSAGE SPEC: craft, unpack (with metadata, then as a
# legacy archive), check the refusal's reason and that nothing changed.
hostile() {
	name=$1 want=$2 msg=$3 spec=$4
	n=$((n + 1))
	id=$(printf '20300101T0000%02dZ' "$n")
	printf '%s\n' "$spec" | "$MKTAR" --out "$M/$id.tar.zst" --meta "$M/$id.json"
	expect_exit "$want" agent unpack "$id"
	assert_contains "$T/err" "$msg"
	check_unchanged "$name (metadata)"
	legacy="hostile-$n.tar.gz"
	printf '%s\n' "$spec" | "$MKTAR" --gzip --out "$M/$legacy"
	expect_exit "$want" agent unpack "$legacy"
	assert_contains "$T/err" "$msg"
	check_unchanged "$name (legacy)"
	rm -f "$M/$id.tar.zst" "$M/$id.json" "$M/$legacy"
	ok "$name: exit $want, nothing written outside staging, data unchanged"
}

check_unchanged() {
	[ "$(tree_hash "$D")" = "$before" ] || fail "$1: the data directory changed"
	[ ! -e "$D/.quorum-backup/staging" ] || fail "$1: staging left behind"
	[ ! -e "$D/.quorum-backup/journal" ] || fail "$1: a journal was written"
	now=$(cd "$T/outside" && find . -printf '%P|%y|%m|%s|%T@\n' | sort | sha256sum)
	[ "$now" = "$outside_before" ] || fail "$1: something outside changed"
	[ ! -e "$T/escaped" ] && [ ! -e "$T/backups/escaped" ] &&
		[ ! -e "$D/escaped" ] || fail "$1: a file escaped"
}

hostile "parent-directory path" 5 "'..' in path" "file ../../escaped 644 pwned"
hostile "parent-directory path inside" 5 "'..' in path" "dir a 755
file a/../../../escaped 644 pwned"
hostile "absolute path" 5 "absolute path" "file $T/escaped 644 pwned"
hostile "symlink, then a file through it" 5 "goes through a symlink" "symlink link $T/outside
file link/victim 644 pwned"
hostile "symlink to a directory, then a directory through it" 5 "goes through a symlink" "symlink d $T/outside
dir d/sub 755"
hostile "hard link to a file outside" 5 "absolute path" "hardlink hl $T/outside/victim"
hostile "hard link to a live file not in the archive" 5 "not a file extracted before it" "hardlink hl geth/nodekey"
hostile "hard link through a symlink" 5 "not a file extracted before it" "symlink s $T/outside
hardlink hl s/victim"
hostile "hard link to a directory" 5 "not a file extracted before it" "dir d 755
hardlink hl d"
hostile "character device" 5 "is a character device" "chardev dev"
hostile "block device" 5 "is a block device" "blockdev dev"
hostile "FIFO" 5 "is a FIFO" "fifo pipe"
hostile "duplicate entry" 5 "File exists" "file same 644 one
file same 644 two"
hostile "file where a directory must go" 5 "goes through a symlink or a file" "file geth 644 x
file geth/nodekey 644 y"

# Tar bombs: the metadata's total size caps the content.
n=$((n + 1))
id=$(printf '20300101T0000%02dZ' "$n")
printf 'zeros bomb 644 104857600\n' | "$MKTAR" --out "$M/$id.tar.zst" --meta "$M/$id.json" --bytes 1000
expect_exit 5 agent unpack "$id"
assert_contains "$T/err" "the size the metadata records"
check_unchanged "tar bomb (metadata)"
rm -f "$M/$id.tar.zst" "$M/$id.json"
ok "tar bomb beyond the metadata's size: exit 5, unchanged"

# Without metadata the free space of the data volume caps it.
if [ "$(id -u)" = 0 ] && mkdir -p "$T/small" &&
	mount -t tmpfs -o size=16m tmpfs "$T/small" 2>/dev/null; then
	MOUNTS="$T/small"
	cp -a "$D/." "$T/small/"
	sb=$(tree_hash "$T/small")
	printf 'zeros bomb 644 104857600\n' | "$MKTAR" --gzip --out "$M/bomb.tar.gz"
	expect_exit 6 "$AGENT" --data-dir "$T/small" --backup-dir "$T/backups" \
		--member 1 unpack bomb.tar.gz
	assert_contains "$T/err" "the space free on the data volume"
	[ "$(tree_hash "$T/small")" = "$sb" ] || fail "legacy bomb changed the data"
	[ ! -e "$T/small/.quorum-backup/staging" ] || fail "legacy bomb left staging"
	rm -f "$M/bomb.tar.gz"
	ok "legacy tar bomb beyond the free space: exit 6, unchanged"
else
	echo "# skipped: the legacy tar bomb needs root and mount"
fi

# Neutralised, not refused: setuid/setgid/sticky bits are masked, and the
# agent's own directory is never written.
n=$((n + 1))
id=$(printf '20300101T0000%02dZ' "$n")
printf 'dir geth 755\nfile geth/suid 4755 x\nfile geth/sgid 2755 y\ndir geth/sticky 1777\nfile .quorum-backup/journal 644 {"kind":"unpack","phase":"moving_old"}\nfile geth/nodekey 644 %064x\n' 42 |
	"$MKTAR" --out "$M/$id.tar.zst" --meta "$M/$id.json"
expect_exit 0 agent --json unpack --force "$id"
[ "$(stat -c %a "$D/geth/suid")" = 755 ] || fail "setuid not masked: $(stat -c %a "$D/geth/suid")"
[ "$(stat -c %a "$D/geth/sgid")" = 755 ] || fail "setgid not masked"
[ "$(stat -c %a "$D/geth/sticky")" = 777 ] || fail "sticky not masked"
[ ! -e "$D/.quorum-backup/journal" ] || fail "the archive wrote the agent's journal"
expect_exit 0 agent list
ok "setuid, setgid and sticky bits masked; .quorum-backup in an archive skipped"
finish
