#!/bin/sh
# Crash safety of restore: kill -9 at each named step of unpack's and
# rollback's swap (QUORUM_BACKUP_CRASH_AT, test only) and at random moments
# of extraction. After the next mutating command the data directory is
# wholly the old tree or wholly the new one, never a mix; read-only
# commands leave an interrupted swap alone.
. "$(dirname "$0")/lib.sh"
D="$T/data"

# The backed-up tree (new) and the live tree it replaces (old), with
# top-level entries in common and of their own, so a half-done swap would
# show.
mkdir -p "$D/geth/chaindata" "$D/keystore" "$D/new-only" "$T/backups"
seq 1 100000 >"$D/geth/chaindata/000001.ldb"
printf 'new key\n' >"$D/keystore/key"
printf 'n\n' >"$D/new-only/file"
: >"$D/geth/LOCK"
cp -a "$D" "$T/new"
expect_exit 0 agent --json archive
id=$(jq -r .id "$T/out")
rm -rf "$D/new-only"
mkdir -p "$D/old-only" "$D/tm"
printf 'o\n' >"$D/old-only/file"
seq 1 50 >"$D/geth/chaindata/000001.ldb"
head -c 100000 /dev/urandom >"$D/tm/db.mv.db"
cp -a "$D" "$T/old"
old=$(tree_hash "$T/old")
new=$(tree_hash "$T/new")

reset_old() {
	rm -rf "$D"
	cp -a "$T/old" "$D"
}

# The next mutating command: an archive (retention off, so the backup
# under test stays). It runs recovery first.
next_command() {
	expect_exit 0 agent --set retention.keep_last=0 archive
}

is_tree() {
	got=$(tree_hash "$D")
	[ "$got" = "$1" ] || { same_tree "$2" "$D"; fail "$3"; }
	[ ! -e "$D/.quorum-backup/journal" ] || fail "$3: journal left"
	[ ! -e "$D/.quorum-backup/staging" ] || fail "$3: staging left"
	[ ! -e "$D/.quorum-backup/discard" ] || fail "$3: discard left"
}

for point in unpack-staged swap-journal swap-old-first swap-old-done \
	swap-new-first swap-new-done swap-cleanup; do
	reset_old
	QUORUM_BACKUP_CRASH_AT=$point expect_exit 137 agent unpack "$id"
	if [ "$point" != unpack-staged ]; then
		[ -e "$D/.quorum-backup/journal" ] || fail "$point: no journal after the crash"
		expect_exit 0 agent list
		expect_exit 0 agent verify "$id"
		[ -e "$D/.quorum-backup/journal" ] || fail "$point: a read-only command ran recovery"
	fi
	next_command
	if [ "$point" = unpack-staged ]; then
		is_tree "$old" "$T/old" "unpack killed at $point"
	else
		is_tree "$new" "$T/new" "unpack killed at $point"
		[ "$(tree_hash "$D/.quorum-backup/previous")" = "$old" ] ||
			fail "unpack killed at $point: previous/ is not the old tree"
	fi
	ok "unpack killed at $point: wholly $([ "$point" = unpack-staged ] && echo old || echo new) after the next command"
done

for point in swap-journal swap-old-first swap-old-done swap-new-first \
	swap-new-done swap-cleanup; do
	reset_old
	expect_exit 0 agent unpack "$id"
	QUORUM_BACKUP_CRASH_AT=$point expect_exit 137 agent rollback
	next_command
	is_tree "$old" "$T/old" "rollback killed at $point"
	[ ! -e "$D/.quorum-backup/previous" ] || fail "rollback killed at $point: previous left"
	ok "rollback killed at $point: wholly the old tree after the next command"
done

for point in in-place-journal in-place-deleted; do
	reset_old
	QUORUM_BACKUP_CRASH_AT=$point expect_exit 137 agent unpack --in-place "$id"
	expect_exit 1 agent archive
	assert_contains "$T/err" "unfinished in-place restore of $id"
	expect_exit 1 agent rollback
	assert_contains "$T/err" "in-place restore"
	expect_exit 0 agent unpack --in-place "$id"
	is_tree "$new" "$T/new" "in-place unpack killed at $point"
	ok "in-place unpack killed at $point: in_place_incomplete refuses archive and rollback; unpack finishes it"
done

# Random moments of a longer extraction.
head -c 40000000 /dev/urandom >"$T/new/geth/chaindata/big.ldb"
rm -rf "$D"
cp -a "$T/new" "$D"
expect_exit 0 agent --set retention.keep_last=0 --json archive
id=$(jq -r .id "$T/out")
new=$(tree_hash "$T/new")
for trial in $(seq 1 20); do
	reset_old
	agent_bg "$T/bg.out" "$T/bg.err" unpack "$id"
	sleep "0.$(( (trial * 7919) % 9 ))$(( trial % 10 ))"
	kill -9 "$BG_PID" 2>/dev/null || true
	wait "$BG_PID" 2>/dev/null || true
	next_command
	got=$(tree_hash "$D")
	if [ "$got" = "$old" ]; then what=old
	elif [ "$got" = "$new" ]; then what=new
	else same_tree "$T/old" "$D"; fail "trial $trial: a mixed tree"
	fi
	is_tree "$got" "$T/$what" "trial $trial"
	ok "random kill during unpack, trial $trial: wholly $what"
done
finish
