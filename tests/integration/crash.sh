#!/bin/sh
# kill -9 during an archive: no incomplete backup is listed, and the next
# mutating command removes the leftovers.
. "$(dirname "$0")/lib.sh"
mkdata
expect_exit 0 agent --json archive
first=$(jq -r .id "$T/out")
# Slow enough to be caught mid-way: level 19 on 200 MB of digits.
seq 1 30000000 >"$T/data/geth/chaindata/big.ldb"
slow="--set archive.level=19"

# kill_mid_archive DELAY: start an archive, kill -9 it DELAY seconds after
# its partial file appears; fail if it had already finished.
kill_mid_archive() {
	agent_bg "$T/archive.out" "$T/archive.err" $slow archive
	apid=$BG_PID
	wait_for "[ -n \"\$(find '$T/backups/member1' -name '*.partial')\" ]" 300
	sleep "$1"
	kill -9 "$apid" || fail "the archive ended before it could be killed: $(cat "$T/archive.err")"
	wait "$apid" 2>/dev/null || true
}

for trial in 1 2 3; do
	kill_mid_archive "0.$((trial * 3))"
	[ -n "$(find "$T/backups/member1" -name '*.partial')" ] || fail "no leftover to test with"
	expect_exit 0 agent --json list
	[ "$(jq -r '.[].id' "$T/out")" = "$first" ] ||
		fail "list shows an incomplete backup: $(cat "$T/out")"
	ok "trial $trial: killed mid-archive; list shows only the complete backup"
done

# A crash between the archive's rename and the metadata's: an archive
# without metadata is not a backup.
cp "$T/backups/member1/$first.tar.zst" "$T/backups/member1/20990101T000000Z.tar.zst"
expect_exit 0 agent --json list
[ "$(jq length "$T/out")" = 1 ] || fail "archive without metadata listed"
ok "an archive without metadata is not listed"

# Files that are not ours stay, whatever their names.
printf 'notes\n' >"$T/backups/member1/notes.tar.zst"
printf 'notes\n' >"$T/backups/member1/README"

# verify and list are read-only: the leftovers are still there.
expect_exit 0 agent verify latest
[ -n "$(find "$T/backups/member1" -name '*.partial')" ] || fail "a read-only command removed leftovers"
expect_exit 0 agent prune
[ -z "$(find "$T/backups/member1" -name '*.partial')" ] || fail "prune left .partial files"
[ ! -e "$T/backups/member1/20990101T000000Z.tar.zst" ] || fail "prune left an archive without metadata"
[ -f "$T/backups/member1/$first.json" ] || fail "prune removed the complete backup"
[ -f "$T/backups/member1/notes.tar.zst" ] && [ -f "$T/backups/member1/README" ] ||
	fail "prune removed files that are not backups"
ok "the next mutating command removes the leftovers and keeps the backup"

# SIGTERM (or SIGINT) is a clean stop: the agent removes its partial file.
for sig in TERM INT; do
	agent_bg "$T/archive.out" "$T/archive.err" $slow archive
	wait_for "[ -n \"\$(find '$T/backups/member1' -name '*.partial')\" ]" 300
	sleep 0.3
	kill -s "$sig" "$BG_PID"
	rc=0
	wait "$BG_PID" || rc=$?
	[ "$rc" = 1 ] || fail "SIG$sig: expected exit 1, got $rc"
	assert_contains "$T/archive.err" "cancelled"
	[ -z "$(find "$T/backups/member1" -name '*.partial')" ] ||
		fail "SIG$sig left a .partial file"
done
ok "SIGTERM and SIGINT stop an archive and remove its partial file"

# kill -9 at three named points of an archive (QUORUM_BACKUP_CRASH_AT,
# test only): all written but not renamed, renamed without metadata, and
# complete (metadata written). No incomplete backup is ever listed; the
# next archive cleans up and the earlier backups stay whole.
for point in archive-written archive-renamed archive-complete; do
	before=$(agent --json list >"$T/list.before" 2>/dev/null; jq -r '.[].id' "$T/list.before" | sort)
	QUORUM_BACKUP_CRASH_AT=$point expect_exit 137 agent archive
	expect_exit 0 agent --json list
	after=$(jq -r '.[].id' "$T/out" | sort)
	if [ "$point" = archive-complete ]; then
		[ "$(echo "$after" | grep -c .)" = $(($(echo "$before" | grep -c .) + 1)) ] ||
			fail "$point: the complete backup is not listed"
	else
		[ "$after" = "$before" ] || fail "$point: list changed: $after"
	fi
	for id in $after; do
		expect_exit 0 agent verify "$id"
	done
	expect_exit 0 agent --set retention.keep_last=0 archive
	[ -z "$(find "$T/backups/member1" -name '*.partial')" ] ||
		fail "$point: a .partial file was left after the next archive"
	for f in "$T/backups/member1/"*.tar.zst; do
		[ -f "${f%.tar.zst}.json" ] || [ "$(basename "$f")" = notes.tar.zst ] ||
			fail "$point: $(basename "$f") has no metadata after the next archive"
	done
	ok "archive killed at $point: no incomplete backup listed; the next archive cleans up"
done

kill_mid_archive 0.5
expect_exit 0 agent --json archive
second=$(jq -r .id "$T/out")
[ -z "$(find "$T/backups/member1" -name '*.partial')" ] || fail "archive left .partial files"
expect_exit 0 agent verify "$second"
ok "an archive after a crash cleans up and succeeds"
finish
