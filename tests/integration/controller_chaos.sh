#!/bin/sh
# The controller under faults that end in a clear final state within the
# configured timeouts, with three members on 127.0.0.1 (testnode under a
# gate, an agent each; short timeouts): two controllers started at once;
# a controller killed (SIGKILL) right after it stopped a member; a node
# that does not stop; a node that crashes when it is started again; an
# agent frozen (SIGSTOP) while the controller waits on it.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/gate_lib.sh"
. "$(dirname "$0")/net_lib.sh"

N=3
k=1
while [ $k -le $N ]; do
	start_node $k --stop-delay 300 --syncing-file "$T/m$k.syncing" \
		--crash-file "$T/m$k.crash" --ignore-term-file "$T/m$k.noterm"
	start_member_agent $k --set node.quorum.stop_timeout=3 \
		--set agent.ready_timeout=5
	k=$((k + 1))
done
write_conf $N "hold = 10" "request_timeout = 3"
sed -i 's/^ready_timeout = 60/ready_timeout = 10/; s/^lease_ttl = 30/lease_ttl = 10/' "$T/ctl.ini"
wait_members_ready $N

restarts() {
	ctl "m$1" status
	field .restarts
}
lease_of() {
	eval "p=\$APORT_$1"
	curl -s -m 5 -H "Authorization: Bearer net-token" \
		"http://127.0.0.1:$p/v1/status" | jq -r '.lease.holder // "none"'
}
# wait_until SECONDS CMD...: CMD succeeds within SECONDS, else fail.
wait_until() {
	wu_n=$(($1 * 10))
	shift
	while ! "$@"; do
		[ $wu_n -gt 0 ] || fail "timed out waiting for: $*"
		sleep 0.1
		wu_n=$((wu_n - 1))
	done
}
all_ready() {
	member_ready 1 && member_ready 2 && member_ready 3
}
held() { [ -f "$T/m$1.state/gate-hold" ]; }

# ---- two controllers at once -----------------------------------------------
r1=$(restarts 1)
"$CONTROLLER" -c "$T/ctl.ini" backup --all >"$T/a.out" 2>"$T/a.err" &
A=$!
"$CONTROLLER" -c "$T/ctl.ini" backup --all >"$T/b.out" 2>"$T/b.err" &
B=$!
track_pid $A
track_pid $B
set +e
wait $A
ra=$?
wait $B
rb=$?
set -e
case "$ra $rb" in
"0 3") loser=b ;;
"3 0") loser=a ;;
*) cat "$T/a.out" "$T/a.err" "$T/b.out" "$T/b.err" >&2
	fail "two controllers: exits $ra and $rb, expected 0 and 3" ;;
esac
assert_contains "$T/$loser.err" "leased to"
assert_contains "$T/$loser.err" "nothing was stopped"
for k in 1 2 3; do
	[ "$(count_backups $k)" = 1 ] || fail "member $k: $(count_backups $k) backups"
done
[ "$(restarts 1)" = $((r1 + 1)) ] || fail "member 1 was stopped more than once"
all_ready || fail "a member was left stopped"
for k in 1 2 3; do
	[ "$(lease_of $k)" = none ] || fail "member $k still leased"
done
ok "two controllers at once: one backs up, the other is refused (exit 3); nothing stopped twice"

# ---- a controller killed right after it stopped a member ------------------
"$CONTROLLER" -c "$T/ctl.ini" restore 1 >"$T/k.out" 2>"$T/k.err" &
K=$!
track_pid $K
wait_until 30 held 1
kill -KILL $K
wait $K 2>/dev/null || true
# Its lease is still there: another controller is refused until it expires.
expect_ctl 3 backup 1
assert_contains "$T/err" "leased to"
# The agent resumes the node once the hold (10 s) expires.
wait_until 40 member_ready 1
[ ! -f "$T/m1.state/gate-hold" ] || fail "the hold marker stayed"
# The lease (10 s) expires: a new controller runs.
wait_until 30 sh -c "[ \"\$(curl -s -m 5 -H 'Authorization: Bearer net-token' http://127.0.0.1:$APORT_1/v1/status | jq -r '.lease.holder // \"none\"')\" = none ]"
expect_ctl 0 backup 1
ok "a controller killed after stopping a member: the hold expires and the node runs; the lease expires and a new controller runs"

# ---- a node that does not stop ---------------------------------------------
touch "$T/m2.noterm"
ctl m2 stop
ctl m2 start
wait_until 20 member_ready 2
t0=$(date +%s)
expect_ctl 1 backup 2
t1=$(date +%s)
grep -q "^member 2: .*did not stop within 3 s" "$T/out" ||
	fail "no reason: $(cat "$T/out")"
[ $((t1 - t0)) -lt 40 ] || fail "the failure took $((t1 - t0)) s"
[ "$(count_backups 2)" = 1 ] || fail "a backup was made of a running node"
# The node never stopped: it still answers.
http_ok "$NPORT_2" || fail "the node stopped answering"
# The operator's way out: kill the node; the gate holds it stopped (the
# job asked for the stop), and start runs it again.
rm -f "$T/m2.noterm"
kill -KILL "$(node_pid 2)"
gate_stopped() { ctl m2 status; [ "$(field .state)" = stopped ]; }
wait_until 20 gate_stopped
ctl m2 start
wait_until 40 member_ready 2
ok "a node that does not stop: failed within stop_timeout, never archived, the node kept running"

# ---- a node that crashes when started again --------------------------------
touch "$T/m3.crash"
b3=$(count_backups 3)
t0=$(date +%s)
expect_ctl 1 backup 3
t1=$(date +%s)
grep -Eq "^3 +failed" "$T/out" || fail "summary: $(cat "$T/out")"
grep -q "^member 3: .*resuming failed" "$T/out" || fail "no reason: $(cat "$T/out")"
[ $((t1 - t0)) -lt 40 ] || fail "the failure took $((t1 - t0)) s"
[ "$(count_backups 3)" = $((b3 + 1)) ] || fail "the backup itself was not kept"
gate_wait "$GPID_3" 50
[ "$GATE_RC" = 3 ] || fail "the gate exited $GATE_RC, not the node's 3"
# As kubelet would: the container starts again, the node comes back.
rm -f "$T/m3.crash"
launch m3 exec "$NPORT_3" "" "--stop-delay 300 --syncing-file $T/m3.syncing --crash-file $T/m3.crash --ignore-term-file $T/m3.noterm --block-ms $BLOCK_MS --genesis-ms $GENESIS_MS"
wait_until 40 member_ready 3
ok "a node that crashes on start: failed within ready_timeout, the backup kept, the gate exits with the node's status"

# ---- an agent frozen while the controller waits -----------------------------
head -c 30000000 /dev/urandom >"$T/m1.data/geth/chaindata/000009.ldb"
"$CONTROLLER" -c "$T/ctl.ini" backup 1 >"$T/f.out" 2>"$T/f.err" &
F=$!
track_pid $F
wait_until 30 held 1
kill -STOP "$APID_1"
t0=$(date +%s)
n=0
while kill -0 $F 2>/dev/null; do
	[ $n -lt 900 ] || { kill -CONT "$APID_1"; fail "the controller waits on a frozen agent"; }
	sleep 0.1
	n=$((n + 1))
done
t1=$(date +%s)
set +e
wait $F
rf=$?
set -e
kill -CONT "$APID_1"
[ $rf = 1 ] || fail "exit $rf with a frozen agent: $(cat "$T/f.out" "$T/f.err")"
grep -Eq "^1 +failed" "$T/f.out" || fail "summary: $(cat "$T/f.out")"
grep -Eq "^member 1: (timeout|unreachable): " "$T/f.out" || fail "no reason: $(cat "$T/f.out")"
[ $((t1 - t0)) -lt 60 ] || fail "the controller gave up after $((t1 - t0)) s"
# Thawed, the agent finishes its job and resumes the node.
wait_until 60 member_ready 1
ok "an agent frozen mid-job: the controller fails it within its timeouts; thawed, the agent resumes the node"

# ---- a restore that gives up on its job: the resume waits it out -----------
# Member 1's node now takes 3 s to stop and the controller's job_timeout is
# 1 s: the controller stops following the quiesce while the agent goes on
# with it. Its resume then meets 409 busy: it must wait for that job and
# resume the node itself, not leave it held for the hold (600 s here).
kill -TERM "$GPID_1"
gate_wait "$GPID_1" 30
stop_member_agent 1
start_node 1 --stop-delay 3000
start_member_agent 1 --set node.quorum.stop_timeout=10 --set agent.ready_timeout=5
write_conf $N "hold = 600" "request_timeout = 3"
sed -i 's/^ready_timeout = 60/ready_timeout = 10/; s/^job_timeout = 120/job_timeout = 1/' "$T/ctl.ini"
grep -q '^job_timeout = 1$' "$T/ctl.ini" || fail "the test config: $(cat "$T/ctl.ini")"
wait_members_ready $N
# The frozen agent above could not answer its controller's release: that
# lease (kept in lease.json across the agent's restart) runs out first.
unleased_1() { [ "$(lease_of 1)" = none ]; }
wait_until 30 unleased_1
t0=$(date +%s)
expect_ctl 1 restore 1 --force
t1=$(date +%s)
grep -Eq "^member 1: timeout: " "$T/out" || fail "no timeout: $(cat "$T/out")"
assert_contains "$T/err" "member 1: the agent is still busy with an earlier job; waiting for it to end"
member_ready 1 || fail "the controller exited with member 1 not ready: $(cat "$T/out" "$T/err")"
[ ! -f "$T/m1.state/gate-hold" ] || fail "member 1 is still held"
[ $((t1 - t0)) -lt 60 ] || fail "the restore took $((t1 - t0)) s"
ok "a restore past job_timeout: the resume waits for the agent's job and the node runs when the controller exits"

finish
