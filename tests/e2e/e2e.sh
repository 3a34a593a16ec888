#!/bin/sh
# End to end with a real Ethereum node: three members on 127.0.0.1, each
# ganache (a block a second) under a real gate, with a real agent; the
# controller backs them all up, transactions are sent, the controller
# restores them all: each chain at the height recorded in its backup has
# the same block hash and state root as before, the transactions sent
# after the backup are gone, and the node takes new ones. Also: the lock
# check sees ganache's LOCK, one member restored while the others run, a
# backup taken while transactions are being sent.
. "$(dirname "$0")/../integration/lib.sh"
E2E=$T
e2e_track() { track_pid "$1"; }
e2e_fail() { fail "$*"; }
. "$(dirname "$0")/lib.sh"
e2e_check_tools

N=3
e2e_start $N
ctl() {
	set +e
	"$CONTROLLER" -c "$E2E/ctl.ini" "$@" >"$T/out" 2>"$T/err"
	CTL_RC=$?
	set -e
}
expect_ctl() {
	want=$1
	shift
	ctl "$@"
	[ "$CTL_RC" = "$want" ] || {
		cat "$T/out" "$T/err" >&2
		fail "quorum-backup $*: exit $CTL_RC, expected $want"
	}
}

# ---- the lock check sees the running node ----------------------------------
expect_exit 3 "$AGENT" --data-dir "$E2E/m1/data" --backup-dir "$T/offline" \
	--member 1 --set archive.lock_files=chain/LOCK archive
assert_contains "$T/err" "chain/LOCK"
ok "offline archive while ganache runs: refused, it holds chain/LOCK"

# ---- value transfers, then backup --all -----------------------------------
for k in 1 2 3; do
	for i in 1 2 3; do
		h=$(send_tx $k 0x1000) || fail "member $k refused a transaction"
		wait_receipt $k "$h" >/dev/null || fail "member $k did not mine $h"
	done
done
expect_ctl 0 backup --all
for k in 1 2 3; do
	grep -Eq "^$k +succeeded" "$T/out" || fail "backup summary: $(cat "$T/out")"
	[ "$(meta $k block_number)" -gt 0 ] 2>/dev/null ||
		fail "member $k: no block number in the metadata"
	[ "$(meta $k client_version | cut -d/ -f1)" = Ganache ] ||
		fail "member $k: client version $(meta $k client_version)"
	# The recorded block, as the live node has it now.
	echo "$(block $k "$(meta $k block_number)")" >"$T/block$k.before"
	[ "$(cat "$T/block$k.before")" = "$(meta $k block_hash) $(meta $k state_root)" ] ||
		fail "member $k: recorded $(meta $k block_hash) $(meta $k state_root), node has $(cat "$T/block$k.before")"
done
ok "backup --all: one backup per member, with the node's block, hash and state root"

# ---- more transactions, then restore --all ---------------------------------
for k in 1 2 3; do
	h=$(send_tx $k 0x2000) || fail "member $k refused a transaction"
	wait_receipt $k "$h" >/dev/null || fail "member $k did not mine $h"
	echo "$h" >"$T/late$k"
	[ "$(receipt $k "$h")" != null ] || fail "no receipt before the restore"
done
expect_ctl 0 restore --all
for k in 1 2 3; do
	grep -Eq "^$k +succeeded" "$T/out" || fail "restore summary: $(cat "$T/out")"
	hb=$(meta $k block_number)
	[ "$(block $k "$hb")" = "$(cat "$T/block$k.before")" ] ||
		fail "member $k at $hb: $(block $k "$hb"), before: $(cat "$T/block$k.before")"
	[ "$(receipt $k "$(cat "$T/late$k")")" = null ] ||
		fail "member $k still has the transaction sent after the backup"
	h=$(send_tx $k 0x3000) || fail "member $k refused a transaction after the restore"
	wait_receipt $k "$h" >/dev/null || fail "member $k did not mine after the restore"
done
ok "restore --all: same hash and state root at the recorded height, later transactions gone, new ones mined"

# ---- one member, while the others keep running ----------------------------
node_pid_of() {
	"$GATE" ctl --socket "$E2E/m$1/gate.sock" status | jq -r .pid
}
p1=$(node_pid_of 1)
p3=$(node_pid_of 3)
h1=$(height 1)
h=$(send_tx 2 0x4000) && wait_receipt 2 "$h" >/dev/null || fail "member 2 tx"
expect_ctl 0 restore 2
[ "$(receipt 2 "$h")" = null ] || fail "member 2 kept a transaction from after its backup"
[ "$(block 2 "$(meta 2 block_number)")" = "$(cat "$T/block2.before")" ] ||
	fail "member 2: the recorded block differs after its restore"
[ "$(node_pid_of 1)" = "$p1" ] && [ "$(node_pid_of 3)" = "$p3" ] ||
	fail "another member's node was restarted"
[ "$(height 1)" -gt "$h1" ] || fail "member 1 stopped mining during member 2's restore"
ok "restore of one member: the others kept running and mining"

# ---- a backup while transactions are being sent ---------------------------
(
	i=0
	while [ $i -lt 400 ] && [ ! -f "$T/stop-sending" ]; do
		send_tx 1 0x10 >>"$T/sent" 2>/dev/null || true
		sleep 0.05
		i=$((i + 1))
	done
) &
SENDER=$!
track_pid $SENDER
sleep 1
expect_ctl 0 backup 1
touch "$T/stop-sending"
wait $SENDER 2>/dev/null || true
[ "$(grep -c . "$T/sent")" -gt 5 ] || fail "too few transactions were sent"
hb=$(meta 1 block_number)
echo "$(block 1 "$hb")" >"$T/block1.busy"
[ "$(cat "$T/block1.busy")" = "$(meta 1 block_hash) $(meta 1 state_root)" ] ||
	fail "member 1: the recorded block differs from the node's"
# Restore it: the chain comes back consistent and takes transactions.
expect_ctl 0 restore 1
[ "$(block 1 "$hb")" = "$(cat "$T/block1.busy")" ] ||
	fail "member 1 after restoring the busy backup: $(block 1 "$hb")"
h=$(send_tx 1 0x5000) || fail "member 1 refused a transaction"
wait_receipt 1 "$h" >/dev/null || fail "member 1 did not mine after the restore"
ok "a backup taken while transactions were sent restores to a working chain"

finish
