#!/bin/sh
# The quorum-backup demo, on a fresh Debian 12 machine as root: installs
# what it needs (Debian packages, ganache from the npm registry), builds,
# and starts a local network of three members on 127.0.0.1, each a real
# Ethereum node (ganache, a block a second) under quorum-backup-gate with a
# quorum-backup-agent beside it. Then, with the controller: backup --all,
# more transactions, restore --all, and a before/after table of heights,
# hashes and state roots. Every process it started is stopped and its
# directory removed, also when it fails or is interrupted.
set -eu
cd "$(dirname "$0")"
top=$(pwd)

scripts/install-deps.sh
if [ ! -x build/quorum-backup ] || [ ! -x build/quorum-backup-agent ] ||
	[ ! -x build/quorum-backup-gate ]; then
	echo "== building"
	./autogen.sh >/dev/null 2>&1
	mkdir -p build
	(cd build && { [ -f Makefile ] || ../configure -q; } &&
		make -j"$(nproc)" >/dev/null)
fi

E2E=$(mktemp -d "${TMPDIR:-/tmp}/quorum-backup-demo.XXXXXX")
PIDS=""
e2e_track() { PIDS="$PIDS $1"; }
e2e_fail() { echo "demo: $*" >&2; exit 1; }
cleanup() {
	# Agents and gates by PID (a gate stops its node on SIGTERM), then wait
	# for them, at most 30 s, and remove the directory.
	for p in $PIDS; do
		kill "$p" 2>/dev/null || true
	done
	n=0
	for p in $PIDS; do
		while kill -0 "$p" 2>/dev/null && [ $n -lt 300 ]; do
			sleep 0.1
			n=$((n + 1))
		done
		kill -KILL "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	rm -rf "$E2E"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

top_srcdir=$top
top_builddir=$top/build
. tests/e2e/lib.sh
e2e_check_tools

step() { printf '\n== %s\n' "$*"; }
ctl() {
	printf '$ quorum-backup -c $DEMO/ctl.ini %s\n' "$*"
	"$CONTROLLER" -c "$E2E/ctl.ini" "$@" 2>&1 | sed "s|$E2E|\$DEMO|g"
}

step "three members on 127.0.0.1: ganache under quorum-backup-gate, an agent each"
e2e_start 3
for k in 1 2 3; do
	echo "member $k: node on port $(node_port $k), agent on port $(agent_port $k), data in \$DEMO/m$k/data"
done

step "value transfers on every member"
for k in 1 2 3; do
	for i in 1 2 3; do
		h=$(send_tx $k 0xde0b6b3a7640000) || e2e_fail "member $k refused a transaction"
		b=$(wait_receipt $k "$h") || e2e_fail "member $k did not mine $h"
	done
	echo "member $k: 3 transfers of 1 ETH mined, the last in block $b"
done
ctl status

step "backup, rolling: one member at a time"
ctl backup --all

step "more transfers after the backup"
for k in 1 2 3; do
	h=$(send_tx $k 0x1bc16d674ec80000) || e2e_fail "member $k refused a transaction"
	b=$(wait_receipt $k "$h") || e2e_fail "member $k did not mine $h"
	echo "$h" >"$E2E/late$k"
	echo "member $k: transfer $h mined in block $b"
	block $k "$(meta $k block_number)" >"$E2E/before$k"
done

step "restore every member from its backup (the network halts meanwhile)"
ctl restore --all

step "before and after (the ganache members are three separate chains, not one network)"
printf '%-7s %8s  %-20s %-20s %-10s %-22s %s\n' MEMBER BACKUP "HASH AT IT, BEFORE" \
	"AFTER THE RESTORE" "STATEROOT" "LATE TRANSFER" "HEAD NOW"
for k in 1 2 3; do
	hb=$(meta $k block_number)
	set -- $(cat "$E2E/before$k")
	before=$1 root_before=$2
	set -- $(block $k "$hb")
	after=$1 root_after=$2
	[ "$root_before" = "$root_after" ] && root=same || root=DIFFERS
	late=$(receipt $k "$(cat "$E2E/late$k")")
	[ "$late" = null ] && late="gone (no receipt)" || late="STILL THERE ($late)"
	printf '%-7s %8s  %-20s %-20s %-10s %-22s %s\n' "$k" "$hb" \
		"$(echo "$before" | cut -c1-18).." "$(echo "$after" | cut -c1-18).." \
		"$root" "$late" "$(height $k)"
done

step "the nodes take new transactions"
for k in 1 2 3; do
	h=$(send_tx $k 0x1) || e2e_fail "member $k refused a transaction"
	b=$(wait_receipt $k "$h") || e2e_fail "member $k did not mine $h"
	echo "member $k: new transfer mined in block $b"
done

step "stopping every process the demo started"
