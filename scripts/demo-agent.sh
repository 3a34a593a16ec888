#!/bin/sh
# The agent on its own (offline commands), on a fresh Debian 12 machine as
# root: installs what it needs, builds, makes a sample member data volume
# (geth chain data, keys, a Tessera database), then shows the offline
# agent at work: a
# refused archive while the "node" holds its lock, an archive, the listing,
# a full verify, a corrupted copy caught by verify, and retention.
# Then a restore: the data changes, unpack brings the backup back (verified
# while it is unpacked, swapped in with a journal), rollback undoes it.
# Everything it starts is stopped and everything it makes is removed.
set -eu
cd "$(dirname "$0")/.."
top=$(pwd)

scripts/install-deps.sh
if [ ! -x build/quorum-backup-agent ] || [ ! -x build/tests/helpers/lockholder ]; then
	echo "== building"
	./autogen.sh >/dev/null 2>&1
	mkdir -p build
	(cd build && { [ -f Makefile ] || ../configure -q; } &&
		make -j"$(nproc)" >/dev/null && make tests/helpers/lockholder >/dev/null)
fi
AGENT=$top/build/quorum-backup-agent

W=$(mktemp -d "${TMPDIR:-/tmp}/quorum-backup-demo.XXXXXX")
holder=""
cleanup() {
	[ -z "$holder" ] || { kill "$holder" 2>/dev/null; wait "$holder" 2>/dev/null; } || true
	rm -rf "$W"
}
trap cleanup EXIT INT TERM

step() { printf '\n== %s\n' "$*"; }
run() { printf '$ %s\n' "$*" | sed "s|$W|\$DEMO|g; s|$top/build/||g"; "$@" 2>&1 | sed "s|$W|\$DEMO|g"; }

step "a member's data volume"
D=$W/data
mkdir -p "$D/geth/chaindata/ancient" "$D/keystore" "$D/tm"
for i in 1 2 3 4 5 6; do
	head -c 1500000 /dev/urandom >"$D/geth/chaindata/00000$i.ldb"
	seq "$i" 3 400000 >>"$D/geth/chaindata/00000$i.ldb"
done
printf 'MANIFEST-000007\n' >"$D/geth/chaindata/CURRENT"
: >"$D/geth/LOCK"
: >"$D/geth/chaindata/LOCK"
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$D/geth/nodekey"
printf '{"address":"90f8bf6a479f320ead074411a4b0e7944ea8c9c1"}\n' >"$D/keystore/key"
head -c 2000000 /dev/urandom >"$D/tm/db.mv.db"
cat >"$W/agent.ini" <<INI
[agent]
member = 1
data_dir = $D
backup_dir = $W/backups
[retention]
keep_last = 2
INI
mkdir -p "$W/backups"
run du -sh "$D"
run cat "$W/agent.ini"

step "the node is running (it holds geth/LOCK): archive is refused"
"$top/build/tests/helpers/lockholder" --flock "$D/geth/LOCK" >"$W/holder.out" &
holder=$!
while ! grep -q locked "$W/holder.out"; do sleep 0.1; done
run "$AGENT" -c "$W/agent.ini" --log-level error archive || true
echo "(exit 3: refused because the node is running)"
kill "$holder"; wait "$holder" 2>/dev/null || true; holder=""

step "the node is stopped: archive"
run "$AGENT" -c "$W/agent.ini" --log-level warn archive
sleep 1
run "$AGENT" -c "$W/agent.ini" --log-level warn archive

step "list"
run "$AGENT" -c "$W/agent.ini" list

step "verify the newest backup (reads all of it)"
run "$AGENT" -c "$W/agent.ini" verify latest

step "a bit flips on the backup volume: verify exits 5 and says where"
latest=$(ls "$W/backups/member1" | sed -n 's/\.tar\.zst$//p' | sort | tail -1)
printf '\377' | dd of="$W/backups/member1/$latest.tar.zst" bs=1 seek=3000000 conv=notrunc 2>/dev/null
run "$AGENT" -c "$W/agent.ini" --log-level error verify "$latest" || true
echo "(exit 5: verification failed)"

step "the chain moves on; then restore the newest intact backup"
good=$(ls "$W/backups/member1" | sed -n 's/\.json$//p' | sort | head -1)
printf 'newer block\n' >"$D/geth/chaindata/000007.ldb"
rm "$D/geth/chaindata/000001.ldb"
run "$AGENT" -c "$W/agent.ini" --log-level warn unpack "$good"
run ls "$D/geth/chaindata"

step "changed our mind: rollback puts the tree from before the unpack back"
run "$AGENT" -c "$W/agent.ini" --log-level warn rollback
run ls "$D/geth/chaindata"

step "retention (keep_last = 2): a third backup, then prune"
sleep 1
run "$AGENT" -c "$W/agent.ini" --log-level warn archive
run "$AGENT" -c "$W/agent.ini" list

step "done: every process stopped, $W removed"
