#!/bin/sh
# The controller against four real members on 127.0.0.1 (testnode under a
# gate, an agent each; the nodes report a validator set of all four):
# backup --all is rolling, never more than one member down; restore --all
# brings every member's data back byte for byte; refusals (a member not
# ready, a missing backup, a lease held by another controller, the quorum)
# happen before anything stops; --json; the seed's wrapper scripts.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/gate_lib.sh"
. "$(dirname "$0")/net_lib.sh"

N=4
VSET=0x00000000000000000000000000000000000000a1,0x00000000000000000000000000000000000000a2,0x00000000000000000000000000000000000000a3,0x00000000000000000000000000000000000000a4
k=1
while [ $k -le $N ]; do
	start_node $k --address "0x00000000000000000000000000000000000000a$k" \
		--validators "$VSET" --syncing-file "$T/m$k.syncing"
	# Data that must come back byte for byte: a table, a key, a file
	# the restore must delete again.
	mkdir -p "$T/m$k.data/keystore"
	head -c 300000 /dev/urandom >"$T/m$k.data/geth/chaindata/000001.ldb"
	head -c 200 /dev/urandom >"$T/m$k.data/keystore/key"
	chmod 600 "$T/m$k.data/keystore/key"
	start_member_agent $k
	k=$((k + 1))
done
write_conf $N
wait_members_ready $N

# ---- usage and configuration ---------------------------------------------
expect_ctl 2 backup
assert_contains "$T/err" "which members?"
expect_ctl 2 backup 9
assert_contains "$T/err" "member 9 is not in the configuration"
expect_ctl 2 backup 1 --all
expect_ctl 2 list --keep-going
expect_ctl 2 frobnicate
"$CONTROLLER" --help | grep -q "ready_timeout" || fail "--help lacks the keys"
printf '[controller]\nmembers = 1-x\n' >"$T/bad.ini"
set +e
"$CONTROLLER" -c "$T/bad.ini" status >/dev/null 2>"$T/err"
rc=$?
set -e
[ $rc = 2 ] || fail "a bad member list: exit $rc"
assert_contains "$T/err" "not a member list"
printf '[controller]\nurl_template = http://h/{m}\nmembers = 1\n' >"$T/bad.ini"
set +e
"$CONTROLLER" -c "$T/bad.ini" status >/dev/null 2>"$T/err"
rc=$?
set -e
[ $rc = 2 ] || fail "a bad url_template: exit $rc"
assert_contains "$T/err" "only {n} and {namespace}"
# A FIFO as the token file: refused at once (exit 2), not waited on.
mkfifo "$T/token.fifo"
printf '[controller]\nmembers = 1\ntoken_file = %s\n[member.1]\nurl = http://127.0.0.1:1\n' \
	"$T/token.fifo" >"$T/bad.ini"
set +e
timeout 20 "$CONTROLLER" -c "$T/bad.ini" status >/dev/null 2>"$T/err"
rc=$?
set -e
[ $rc = 2 ] || fail "a FIFO as token_file: exit $rc: $(cat "$T/err")"
assert_contains "$T/err" "token.fifo is a FIFO: refused"
ok "usage and configuration errors: exit 2 with the reason"

# ---- status ----------------------------------------------------------------
expect_ctl 0 status
for k in 1 2 3 4; do
	grep -Eq "^$k +running +yes" "$T/out" || fail "status: $(cat "$T/out")"
done
expect_ctl 0 --json status
[ "$(jq length "$T/out")" = 4 ] || fail "status --json: $(cat "$T/out")"
[ "$(jq -r '[.[] | .ready] | all' "$T/out")" = true ] || fail "not all ready"
[ "$(jq -r '.[0].status.nodes[0].is_validator' "$T/out")" = true ] ||
	fail "no validator facts: $(jq '.[0].status.nodes[0]' "$T/out")"
ok "status: a line per member; --json parses"

# ---- refusals before anything stops ----------------------------------------
pids_before=$(for k in 1 2 3 4; do node_pid $k; done)
touch "$T/m3.syncing"
n=0
while member_ready 3; do
	[ $n -lt 100 ] || fail "member 3 stayed ready while syncing"
	sleep 0.1
	n=$((n + 1))
done
expect_ctl 3 backup 1
assert_contains "$T/err" "member 3 is down: quorum: syncing"
grep -q "^1 *refused" "$T/out" || fail "summary: $(cat "$T/out")"
[ "$(count_backups 1)" = 0 ] || fail "a backup was made despite the refusal"
rm -f "$T/m3.syncing"
wait_members_ready $N
ok "a member not ready: backup refused (exit 3), nothing stopped"

expect_ctl 4 restore --all --backup 20200101T000000Z
assert_contains "$T/err" "nothing was stopped"
expect_ctl 4 --json restore 2 --backup latest
[ "$(jq -r '.members[0].result' "$T/out")" = not_found ] ||
	fail "restore --json: $(cat "$T/out")"
ok "a missing backup: restore refused (exit 4), nothing stopped"

curl -s -o /dev/null -X POST -H "Authorization: Bearer net-token" \
	"http://127.0.0.1:$APORT_2/v1/lease?holder=other-controller&ttl=120"
expect_ctl 3 backup --all
assert_contains "$T/err" "leased to other-controller"
ctlr status
grep -q "^1 .*running" "$T/out" || fail "member 1 not running after the refusal"
# The lease on member 1, taken before member 2 refused, was given back.
[ "$(curl -s -H "Authorization: Bearer net-token" \
	"http://127.0.0.1:$APORT_1/v1/status" | jq -r .lease)" = null ] ||
	fail "member 1's lease was kept"
curl -s -o /dev/null -X DELETE -H "Authorization: Bearer net-token" \
	"http://127.0.0.1:$APORT_2/v1/lease?holder=other-controller"
pids_after=$(for k in 1 2 3 4; do node_pid $k; done)
[ "$pids_before" = "$pids_after" ] || fail "a node was restarted by a refusal"
for k in 1 2 3 4; do
	[ "$(count_backups $k)" = 0 ] || fail "member $k has a backup"
done
ok "a lease held by another controller: refused (exit 3), nothing stopped"

# ---- backup --all: rolling -------------------------------------------------
for k in 1 2 3 4; do
	eval "gmark_$k=$(wc -l <"$T/m$k.err") amark_$k=$(wc -l <"$T/agent$k.err")"
done
start_monitor $N
monitor_rounds_after 0   # a round with all four up before the run
expect_ctl 0 backup --all
# and one begun after it: the next round may have begun before the end
rounds=$(grep -c . "$T/monitor.log")
monitor_rounds_after $((rounds + 1))
stop_monitor
for k in 1 2 3 4; do
	[ "$(count_backups $k)" = 1 ] || fail "member $k: $(count_backups $k) backups"
	grep -Eq "^$k +succeeded +[0-9]{8}T[0-9]{6}Z" "$T/out" ||
		fail "summary: $(cat "$T/out")"
done
# Rolling, from the gates' and agents' own logs (timestamps in ms): each
# member's node was asked to stop only after the one before it was ready
# again. The readiness rounds sampled meanwhile never saw two down.
prev=""
for k in 1 2 3 4; do
	eval "gm=\$gmark_$k am=\$amark_$k"
	stop=$(log_ts "$T/m$k.err" stop_requested "$gm")
	ready=$(log_ts "$T/agent$k.err" nodes_ready "$am")
	ts_before "$stop" "$ready" ||
		fail "member $k: stop requested at '$stop', ready at '$ready'"
	[ -z "$prev" ] || ts_before "$prev" "$stop" ||
		fail "member $k was stopped at $stop, before member $((k - 1)) was ready again ($prev)"
	prev=$ready
done
[ "$(sort -n "$T/monitor.log" | tail -1)" -le 1 ] ||
	fail "readiness rounds: max down $(sort -n "$T/monitor.log" | tail -1) (expected at most 1)"
[ "$(head -1 "$T/monitor.log")" = 0 ] && [ "$(tail -1 "$T/monitor.log")" = 0 ] ||
	fail "not all up before and after the run: $(tr '\n' ' ' <"$T/monitor.log")"
pids_after=$(for k in 1 2 3 4; do node_pid $k; done)
for k in 1 2 3 4; do
	[ "$(node_pid $k)" != "$(echo "$pids_before" | sed -n "${k}p")" ] ||
		fail "member $k's node was not restarted"
done
ok "backup --all: one new backup per member, never more than one member down"

# Every member's data as backed up, for the restore.
for k in 1 2 3 4; do
	cp "$T/m$k.data/geth/chaindata/000001.ldb" "$T/m$k.ldb.saved"
	cp "$T/m$k.data/keystore/key" "$T/m$k.key.saved"
	id=$(basename "$(backups_of $k)" .json)
	# The journal as archived: its size in the metadata.
	jq -r '.entries[] | select(.path == "geth/chaindata/journal.log") | .size' \
		"$T/backups/member$k/$id.json" >"$T/m$k.jsize"
	cp "$T/m$k.data/geth/chaindata/journal.log" "$T/m$k.journal.now"
done

# --json of a backup, parsed with jq; the seed's wrapper for one member.
expect_ctl 0 --json backup 2
[ "$(jq -r '.command' "$T/out")" = backup ] || fail "backup --json: $(cat "$T/out")"
[ "$(jq -r '.exit_code' "$T/out")" = 0 ] || fail "backup --json exit_code"
[ "$(jq -r '.members | length' "$T/out")" = 1 ] || fail "backup --json members"
[ "$(jq -r '.members[0].result' "$T/out")" = succeeded ] || fail "result"
jq -e '.members[0].size > 0 and .members[0].downtime_seconds > 0' "$T/out" \
	>/dev/null || fail "backup --json size/downtime: $(cat "$T/out")"
[ "$(count_backups 2)" = 2 ] || fail "member 2 lacks its second backup"
ok "backup --json: one document, parsed with jq"

set +e
QUORUM_BACKUP="$CONTROLLER" QUORUM_BACKUP_CONFIG="$T/ctl.ini" \
	"$top_srcdir/controller/backup-member.sh" 4 >"$T/out" 2>"$T/err"
rc=$?
QUORUM_BACKUP="$CONTROLLER" QUORUM_BACKUP_CONFIG="$T/ctl.ini" \
	"$top_srcdir/controller/backup-member.sh" >/dev/null 2>"$T/err2"
rc2=$?
set -e
[ $rc = 0 ] || fail "backup-member.sh 4: exit $rc: $(cat "$T/err")"
[ "$(count_backups 4)" = 2 ] || fail "backup-member.sh made no backup"
[ $rc2 = 2 ] || fail "backup-member.sh without a number: exit $rc2"
assert_contains "$T/err2" "Usage: backup-member.sh <member_number>"
ok "backup-member.sh: the seed's usage, through the controller"

# ---- list ------------------------------------------------------------------
expect_ctl 0 list
[ "$(grep -cE '^[1-4] +[0-9]{8}T[0-9]{6}Z' "$T/out")" = 6 ] ||
	fail "list: $(cat "$T/out")"
expect_ctl 0 --json list 2
[ "$(jq -r '.[0].backups | length' "$T/out")" = 2 ] || fail "list --json"
ok "list: every member's backups"

# ---- restore ---------------------------------------------------------------
# Change every member's data after the backup.
for k in 1 2 3 4; do
	head -c 1000 /dev/urandom >>"$T/m$k.data/geth/chaindata/000001.ldb"
	echo "new" >"$T/m$k.data/geth/chaindata/000099.ldb"
	rm "$T/m$k.data/keystore/key"
done
# Two of four down leaves 2 of 4 validators: below the quorum of 3.
expect_ctl 3 restore 1 2
assert_contains "$T/err" "the network would halt"
[ -f "$T/m1.data/geth/chaindata/000099.ldb" ] || fail "member 1 was restored"
ok "restore of two of four validators: refused (quorum), nothing stopped"

expect_ctl 0 restore --all --backup latest --parallel 2
assert_contains "$T/err" "unpacking on 4 members, 2 at a time"
for k in 1 2 3 4; do
	grep -Eq "^$k +succeeded" "$T/out" || fail "restore summary: $(cat "$T/out")"
	cmp "$T/m$k.data/geth/chaindata/000001.ldb" "$T/m$k.ldb.saved" ||
		fail "member $k: 000001.ldb differs"
	cmp "$T/m$k.data/keystore/key" "$T/m$k.key.saved" ||
		fail "member $k: keystore/key differs"
	[ "$(stat -c %a "$T/m$k.data/keystore/key")" = 600 ] ||
		fail "member $k: key mode"
done
# Members 1 and 3 restored their backup from backup --all (2 and 4 a
# later one): their journal is the archived one, then what the node
# appended since it came back.
for k in 1 3; do
	size=$(cat "$T/m$k.jsize")
	cmp -n "$size" "$T/m$k.data/geth/chaindata/journal.log" \
		"$T/m$k.journal.now" || fail "member $k: the journal differs"
done
for k in 1 2 3 4; do
	[ ! -e "$T/m$k.data/geth/chaindata/000099.ldb" ] ||
		fail "member $k: a file made after the backup survived"
	[ -f "$T/m$k.data/keystore/key" ] || fail "member $k: key not restored"
	member_ready $k || fail "member $k is not ready after the restore"
done
ok "restore --all --backup latest: every member's data as backed up"

# One member, while the others keep running; by id.
id1=$(basename "$(backups_of 1 | head -1)" .json)
echo "later" >"$T/m1.data/geth/chaindata/000100.ldb"
p2=$(node_pid 2)
expect_ctl 0 --json restore 1 --backup "$id1"
[ "$(jq -r '.members[0].backup' "$T/out")" = "$id1" ] || fail "restored id"
[ ! -e "$T/m1.data/geth/chaindata/000100.ldb" ] || fail "member 1 not restored"
[ "$(node_pid 2)" = "$p2" ] || fail "member 2 was touched"
ok "restore of one member by id: the others keep running"

# ---- a backup the seed's scripts made (.tar.gz) ----------------------------
# The seed archived the whole data directory with tar czf while the node
# was scaled down; the controller restores it by name.
mkdir -p "$T/seed"
cp -a "$T/m4.data/." "$T/seed/"
rm -rf "$T/seed/.quorum-backup"
echo "from the seed" >"$T/seed/geth/chaindata/SEED"
tar -C "$T/seed" -czf "$T/backups/member4/20240101-000000.tar.gz" .
expect_ctl 0 list 4
grep -q "20240101-000000.tar.gz .* legacy" "$T/out" || fail "list: $(cat "$T/out")"
expect_ctl 0 restore 4 --backup 20240101-000000.tar.gz
[ "$(cat "$T/m4.data/geth/chaindata/SEED")" = "from the seed" ] ||
	fail "the seed's backup was not restored"
member_ready 4 || fail "member 4 not ready after the legacy restore"
ok "a seed .tar.gz backup: listed as legacy, restored by name"

# ---- verify and prune -----------------------------------------------------
expect_ctl 0 verify --all
[ "$(grep -cE '^[1-4] +verified' "$T/out")" = 4 ] || fail "verify: $(cat "$T/out")"
expect_ctl 4 verify 2 --backup 20200101T000000Z
grep -q "^member 2: not_found: " "$T/out" || fail "verify missing: $(cat "$T/out")"
# A flipped byte in member 3's newest archive.
arch=$(ls "$T/backups/member3/"*.tar.zst | sort | tail -1)
printf '\377' | dd of="$arch" bs=1 seek=200 conv=notrunc 2>/dev/null
expect_ctl 1 --json verify 3
[ "$(jq -r '.members[0].error.code' "$T/out")" = verification_failed ] ||
	fail "verify of a corrupt archive: $(cat "$T/out")"
expect_ctl 0 prune
[ "$(grep -c "backups\? kept" "$T/out")" = 4 ] || fail "prune: $(cat "$T/out")"
ok "verify: every member, a missing id (exit 4), a corrupt archive (exit 1); prune"

# ---- a terminal: one live line, rewritten in place -------------------------
if command -v script >/dev/null 2>&1; then
	TERM=xterm script -qec "'$CONTROLLER' -c '$T/ctl.ini' backup 4" /dev/null \
		>"$T/tty" 2>&1 </dev/null || fail "backup on a terminal: $(cat "$T/tty")"
	grep -q "$(printf '\r\033\\[K')member 4  backup" "$T/tty" ||
		fail "no live line on a terminal: $(od -c "$T/tty" | head -20)"
	ok "on a terminal the progress is one line rewritten in place"
fi

finish
