#!/bin/sh
# quorum-backup-gate as a supervisor, with real processes: signal
# forwarding, no descriptor leaks, reaping of orphans, exit status
# pass-through, a stop that waits for the whole group (a shell that does not
# exec), a stop timeout that never escalates, start again, and the hold
# marker across a restart of the gate itself.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/gate_lib.sh"

# --- forwarding, descriptors --------------------------------------------
# What this shell hands down to any child (make's jobserver...).
inherited=$("$TESTNODE" --list-fds | sed -n 's/^testnode: fds //p')
start_gate fw exec -- --list-fds
for sig in HUP USR1 USR2 QUIT; do
	kill -"$sig" "$GPID"
done
wait_for "[ \$(grep -c 'got signal' '$T/fw.out') -ge 4 ]" 50
for n in 1 10 12 3; do
	[ "$(count_in "$T/fw.out" "testnode: got signal $n")" = 1 ] ||
		fail "signal $n not forwarded exactly once: $(cat "$T/fw.out")"
done
assert_contains "$T/fw.err" "event=signal_forwarded signal=HUP pgid=$NPID"
alive "$NPID" || fail "the node died of a forwarded signal"
ok "HUP, USR1, USR2 and QUIT reach the node's group, once each"

got=$(sed -n 's/^testnode: fds //p' "$T/fw.out" | tr ' ' '\n' | sort -n | tr '\n' ' ')
want=$(echo "$inherited" | tr ' ' '\n' | sort -n | tr '\n' ' ')
[ "$got" = "$want" ] || fail "the node inherited fds '$got', expected '$want'"
ok "the node inherits no descriptor of the gate (fds: $got)"

# SIGTERM while running: the node gets it, the gate exits with its status.
kill -TERM "$GPID"
gate_wait "$GPID" 50
[ "$GATE_RC" = 0 ] || fail "gate exit $GATE_RC after SIGTERM, node exits 0"
start_gate term exec -- --term-code 7 --stop-delay 300
t0=$(now_ms)
kill -TERM "$GPID"
gate_wait "$GPID" 50
t1=$(now_ms)
[ "$GATE_RC" = 7 ] || fail "gate exit $GATE_RC, the node exited 7"
[ "$(count_in "$T/term.out" "testnode: got signal 15")" = 1 ] || fail "no SIGTERM seen"
[ $((t1 - t0)) -ge 250 ] || fail "the gate exited before its node ($((t1 - t0)) ms)"
assert_contains "$T/term.err" "event=exiting status=7"
ok "SIGTERM to the gate: forwarded, the gate exits with the node's status 7"

# Through a shell that does not exec, the shell dies first: the gate still
# waits for the node (a PID 1 exiting would have it SIGKILLed).
start_gate termsh sh -- --stop-delay 500
kill -TERM "$GPID"
gate_wait "$GPID" 50
kill -0 "$NPID" 2>/dev/null && fail "the gate exited while its node still ran"
[ "$GATE_RC" = 143 ] || fail "gate exit $GATE_RC, the shell died of SIGTERM (143)"
[ "$(count_in "$T/termsh.out" "testnode: got signal 15")" = 1 ] ||
	fail "the node had SIGTERM $(count_in "$T/termsh.out" "testnode: got signal 15") times"
ok "SIGTERM through a non-exec shell: the gate exits 143 after the node is gone"

# --- reaping --------------------------------------------------------------
start_gate reap exec -- --orphans 5 --orphan-ms 1500
# The orphans were left behind before the node listened: the gate (a
# subreaper) is their parent now.
kids=$(children_of "$GPID" | wc -l)
[ "$kids" -ge 6 ] || fail "the gate has $kids children; orphans not reparented to it"
wait_for "[ \$(children_of $GPID | wc -l) -eq 1 ]" 40
zombies=$(children_of "$GPID" | awk '$2 == "Z"' | wc -l)
[ "$zombies" = 0 ] || fail "zombies under the gate: $(children_of "$GPID")"
ok "5 orphans reparented to the gate and reaped: no zombie"

# --- exit status pass-through ------------------------------------------------
start_gate ex3 exec -- --exit-after 300 --exit-code 3
gate_wait "$GPID" 50
[ "$GATE_RC" = 3 ] || fail "gate exit $GATE_RC, the node exited 3"
assert_contains "$T/ex3.err" "event=child_exited pid=$NPID status=exit:3 requested=no"

start_gate ex9 exec
ctl ex9 status
kill -KILL "$(field .pid)"
gate_wait "$GPID" 50
[ "$GATE_RC" = 137 ] || fail "gate exit $GATE_RC, the node was SIGKILLed (137)"
ok "the node exits 3: the gate exits 3; SIGKILL: 137"

# --- stop through a shell that does not exec --------------------------------
start_gate dash sh -- --stop-delay 700
ctl dash status
old_pid=$(field .pid)
[ "$old_pid" != "$NPID" ] || fail "expected sh as the gate's child"
t0=$(now_ms)
ctl dash stop timeout=10 job=j-dash reason=backup
t1=$(now_ms)
# At once, before anything else: the node must be gone (and reaped).
kill -0 "$NPID" 2>/dev/null && fail "stop answered while testnode $NPID still runs"
[ "$CTL_RC" = 0 ] || fail "stop failed: $REPLY"
expect_field .state stopped
[ $((t1 - t0)) -ge 600 ] || fail "stop answered after $((t1 - t0)) ms, the node needs 700"
flock -n "$T/dash.data/geth/LOCK" true || fail "geth/LOCK still locked after stop"
ctl dash status
expect_field .state stopped
expect_field .hold.job j-dash
expect_field .hold.reason backup
expect_field .pid null
assert_contains "$T/dash.err" "event=stopped after="
[ "$(count_in "$T/dash.out" "testnode: got signal 15")" = 1 ] || fail "stop signal not sent once"
ok "stop waits for the whole group (sh -c without exec): stopped, held, lock free"

ctl dash stop timeout=10 job=other
[ "$CTL_RC" = 0 ] || fail "stop when stopped: $REPLY"
expect_field .state stopped
expect_field .hold.job j-dash
ok "stop when stopped answers at once; the hold keeps its owner"

# --- start again ----------------------------------------------------------
rm -f "$T/dash.pid"
lines=$(wc -l <"$T/dash.data/geth/chaindata/journal.log")
ctl dash start
[ "$CTL_RC" = 0 ] || fail "start failed: $REPLY"
expect_field .state running
expect_field .restarts 1
expect_field .hold null
new_pid=$(field .pid)
[ "$new_pid" != "$old_pid" ] || fail "start kept the old pid $old_pid"
[ ! -e "$T/dash.state/gate-hold" ] || fail "start left the hold marker"
wait_for "[ -s '$T/dash.pid' ]" 30
wait_for "http_ok $PORT" 30
wait_for "[ \$(wc -l <'$T/dash.data/geth/chaindata/journal.log') -gt $((lines + 2)) ]" 30
ctl dash start
expect_field .state running
expect_field .restarts 1
ok "start: running again, restarts=1, new pid, journal grows, eth_blockNumber $HEIGHT"

# --- stop timeout: never SIGKILL, never a second signal ------------------
start_gate slow exec -- --ignore-term
t0=$(now_ms)
ctl slow stop timeout=1 job=j-slow
t1=$(now_ms)
[ "$CTL_RC" = 1 ] || fail "a timed-out stop must not say ok: $REPLY"
expect_field .state stopping
field .error | grep -q "timed out after 1 s" || fail "no timeout error: $REPLY"
[ $((t1 - t0)) -ge 900 ] && [ $((t1 - t0)) -lt 6000 ] ||
	fail "stop timeout=1 answered after $((t1 - t0)) ms"
alive "$NPID" || fail "the node was killed on stop timeout"
ctl slow stop timeout=1
expect_field .state stopping
alive "$NPID" || fail "the node was killed on the second stop"
[ "$(count_in "$T/slow.out" "testnode: got signal 15")" = 1 ] ||
	fail "SIGTERM sent $(count_in "$T/slow.out" "testnode: got signal 15") times"
assert_contains "$T/slow.err" "event=stop_timed_out"

# A pending stop does not block the gate.
"$GATE" ctl --socket "$T/slow.sock" stop timeout=8 >"$T/slow.bg" 2>&1 &
BG=$!
track_pid "$BG"
sleep 0.3
t0=$(now_ms)
ctl slow status
t1=$(now_ms)
expect_field .state stopping
# Bounds well below the stop's 8 s, not the machine's speed: a gate that
# blocked on the stop would answer after it.
[ $((t1 - t0)) -lt 4000 ] || fail "status took $((t1 - t0)) ms during a stop"
ctl slow logs
[ "$CTL_RC" = 0 ] || fail "logs during a stop: $REPLY"
ctl slow start
[ "$CTL_RC" = 1 ] || fail "start while stopping must be refused: $REPLY"
field .error | grep -q "still stopping" || fail "unclear refusal: $REPLY"
# The node finally goes: the pending stop answers "stopped" at once.
kill -KILL "$NPID"
t0=$(now_ms)
gate_wait "$BG" 30
t1=$(now_ms)
[ "$GATE_RC" = 0 ] || fail "pending stop: $(cat "$T/slow.bg")"
REPLY=$(cat "$T/slow.bg")
expect_field .state stopped
[ $((t1 - t0)) -lt 4000 ] || fail "pending stop answered $((t1 - t0)) ms after the node died"
[ "$(count_in "$T/slow.out" "testnode: got signal 15")" = 1 ] || fail "SIGTERM repeated"
ok "stop timeout: 'stopping' after 1 s, node alive, one SIGTERM; status served meanwhile"

# --- the hold marker across a restart of the gate ------------------------
start_gate hold exec
until=$(($(date +%s) + 3600))
ctl hold stop timeout=10 job=j-hold reason=restore until=$until
expect_field .state stopped
[ "$(stat -c %a "$T/hold.state/gate-hold")" = 600 ] || fail "marker mode"
assert_contains "$T/hold.state/gate-hold" "job=j-hold"
kill -KILL "$GPID"
gate_wait "$GPID" 30
[ -S "$T/hold.sock" ] || fail "expected a stale socket after kill -9"
rm -f "$T/hold.pid"
launch hold exec "$PORT" "" ""
wait_for "\"$GATE\" ctl --socket '$T/hold.sock' status >/dev/null 2>&1" 50
ctl hold status
expect_field .state stopped
expect_field .hold.job j-hold
expect_field .hold.reason restore
expect_field .hold.until "$until"
assert_contains "$T/hold.err" "event=held_at_start job=j-hold reason=restore"
assert_contains "$T/hold.err" "event=stale_socket_removed"
sleep 0.5
[ ! -e "$T/hold.pid" ] || fail "the node started although held"
http_ok "$PORT" && fail "something answers on the held node's port"
flock -n "$T/hold.data/geth/LOCK" true || fail "geth/LOCK taken while held"
ok "a new gate on a held state dir keeps the node down and shows the hold"

ctl hold start
expect_field .state running
wait_for "http_ok $PORT" 30
ok "start releases the hold"

# --- SIGTERM while held -----------------------------------------------------
ctl hold stop timeout=10 job=j-term
expect_field .state stopped
t0=$(now_ms)
kill -TERM "$GPID"
gate_wait "$GPID" 30
t1=$(now_ms)
[ "$GATE_RC" = 0 ] || fail "SIGTERM while held: exit $GATE_RC"
# Well below the stop timeout of 10 s, whatever the load.
[ $((t1 - t0)) -lt 4000 ] || fail "SIGTERM while held took $((t1 - t0)) ms"
[ ! -e "$T/hold.sock" ] || fail "the gate left its socket behind"
[ -e "$T/hold.state/gate-hold" ] || fail "the hold marker must survive the gate"
ok "SIGTERM while held: exit 0 at once; socket removed, marker kept"

# --- the state dir on a hostile volume --------------------------------------
# A link as the state dir: refused at start. One swapped in after the start:
# the gate keeps its own directory, the marker never lands elsewhere.
mkdir -p "$T/elsewhere"
ln -s "$T/elsewhere" "$T/lnk.state"
launch lnk exec "$PORT_NEXT" "" ""
gate_wait "$GPID" 100
[ "$GATE_RC" = 1 ] || fail "a link as the state dir: exit $GATE_RC"
assert_contains "$T/lnk.err" "lnk.state is a symbolic link: refused"
[ -z "$(ls -A "$T/elsewhere")" ] || fail "the gate wrote through the link"
rm "$T/lnk.state"
start_gate swap exec
mv "$T/swap.state" "$T/swap.state.real"
ln -s "$T/elsewhere" "$T/swap.state"
ctl swap stop timeout=10 job=j-swap
expect_field .state stopped
[ -f "$T/swap.state.real/gate-hold" ] || fail "the marker is not in the gate's own state dir"
[ -z "$(ls -A "$T/elsewhere")" ] || fail "the marker went through the swapped-in link"
ctl swap start
expect_field .state running
[ ! -e "$T/swap.state.real/gate-hold" ] || fail "start left the marker"
ok "the state dir: a link is refused at start; one swapped in later is never written through"

finish
