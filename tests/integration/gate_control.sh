#!/bin/sh
# quorum-backup-gate's surface: the static libc-only binary, --help and
# usage errors, the control socket (mode, stale file, a second gate),
# malformed requests that change nothing, logs with hostile bytes, probe,
# exec failures at boot and on start, SIGTERM during a stop, and a node
# whose shell dies while its child runs.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/gate_lib.sh"

# --- the binary -------------------------------------------------------------
ldd "$GATE" >"$T/ldd" 2>&1 || true
if [ "${GATE_EXPECT_STATIC:-yes}" = yes ]; then
	assert_contains "$T/ldd" "not a dynamic executable"
	command -v nm >/dev/null || fail "nm (binutils) is missing"
	nm "$GATE" >"$T/nm" 2>&1 || fail "nm $GATE: $(cat "$T/nm")"
	[ -s "$T/nm" ] || fail "nm lists no symbols (a stripped gate?)"
	if grep -Eq ' (json_object|json_loads|ini_parse|archive_read_new|MHD_start_daemon|curl_easy_init)$' "$T/nm"; then
		fail "the gate holds library code it must not link"
	fi
	ok "static and libc only (ldd: not a dynamic executable)"
else
	ok "sanitizer build: dynamic (ASan cannot link statically)"
fi
if grep -Eq 'jansson|inih|archive|zstd|microhttpd|curl|crypto|xxhash' "$T/ldd"; then
	fail "the gate links a library: $(cat "$T/ldd")"
fi
ok "no jansson, inih or other library in the gate"

# --- command line -------------------------------------------------------------
expect_exit 0 "$GATE" --help
for w in "stop [timeout=SECONDS] [job=ID] [until=EPOCH_SECONDS] [reason=TEXT]" \
	"start" "status" "logs [lines=N]" "probe --socket PATH" "ctl --socket PATH" \
	"--stop-signal SIG" "--log-lines N" "subreaper" "hold marker"; do
	assert_contains "$T/out" "$w"
done
expect_exit 0 "$GATE" --version
assert_contains "$T/out" "quorum-backup-gate "
expect_exit 2 "$GATE" --socket "$T/x.sock" --state-dir "$T/x"
assert_contains "$T/err" "no command"
expect_exit 2 "$GATE" --state-dir "$T/x" -- true
assert_contains "$T/err" "--socket PATH is required"
expect_exit 2 "$GATE" --socket "$T/x.sock" --state-dir "$T/x" --stop-signal KILL -- true
assert_contains "$T/err" "never KILL"
expect_exit 2 "$GATE" --socket "$T/x.sock" --state-dir "$T/x" --stop-signal NOPE -- true
assert_contains "$T/err" "unknown signal"
expect_exit 2 "$GATE" --socket "$T/x.sock" --state-dir "$T/x" --log-lines 0 -- true
expect_exit 2 "$GATE" probe --socket "$T/x.sock" --timeout -1
expect_exit 2 "$GATE" ctl --socket "$T/x.sock"
[ ! -e "$T/x.sock" ] && [ ! -e "$T/x" ] || fail "a usage error left files"
ok "--help documents requests, probe and ctl; usage errors exit 2"

# --- exec failure at boot: exit 127, as a container whose command is missing --
expect_exit 127 "$GATE" --socket "$T/boot.sock" --state-dir "$T/boot.state" \
	-- "$T/no-such-node" --flag
assert_contains "$T/err" "event=start_failed"
assert_contains "$T/err" "no-such-node: No such file or directory"
[ ! -e "$T/boot.sock" ] || fail "the gate left its socket"
ok "command missing at boot: the gate exits 127 and says why"

# --- the socket ---------------------------------------------------------------
start_gate main exec --log-lines 20 -- --print-special --print-lines
MAIN_GPID=$GPID MAIN_PORT=$PORT
[ "$(stat -c %a "$T/main.sock")" = 660 ] || fail "socket mode $(stat -c %a "$T/main.sock")"
expect_exit 1 "$GATE" --socket "$T/main.sock" --state-dir "$T/other.state" -- true
assert_contains "$T/err" "another gate answers on this socket"
expect_exit 1 "$GATE" --socket "$T/other.sock" --state-dir "$T/main.state" -- true
assert_contains "$T/err" "another gate uses the state dir"
ctl main status
expect_field .state running
ok "socket mode 0660; a second gate on the same socket or state dir is refused"

# --- malformed requests change nothing ---------------------------------------
pid=$(field .pid)
bad() {
	ctl main "$@"
	[ "$CTL_RC" = 1 ] || fail "'$*' accepted: $REPLY"
	expect_field .ok false
	field .error | grep -qF -- "$BAD_WANT" || fail "'$*': unclear error: $REPLY"
}
BAD_WANT='unknown request "reboot"'; bad reboot
BAD_WANT='bad timeout "soon"'; bad stop timeout=soon
BAD_WANT='bad timeout "-1"'; bad stop timeout=-1
BAD_WANT='bad timeout "999999"'; bad stop timeout=999999
BAD_WANT='unknown option "force"'; bad stop force=1
BAD_WANT='unexpected "now"'; bad stop now
BAD_WANT='timeout given twice'; bad stop timeout=1 timeout=2
BAD_WANT='bad job'; bad stop 'job=a"b'
BAD_WANT='bad until "1"'; bad stop until=1
BAD_WANT='status takes no arguments'; bad status verbose
BAD_WANT='lines=N'; bad logs lines=0
BAD_WANT='empty request'; bad ""
long=$(head -c 2000 /dev/zero | tr '\0' a)
BAD_WANT='request line longer than 1024 bytes'; bad "$long"
ctl main status
expect_field .state running
expect_field .pid "$pid"
expect_field .hold null
[ ! -e "$T/main.state/gate-hold" ] || fail "a bad request wrote the marker"
[ "$(grep -c 'got signal' "$T/main.out")" = 0 ] || fail "a bad request signalled the node"
ok "bad requests: ok=false with a clear error; the node still runs, no marker"

# --- output: pass-through and logs ------------------------------------------
assert_contains "$T/main.out" "testnode: special"
grep -q "listening on" "$T/main.out" && fail "stderr mixed into stdout"
assert_contains "$T/main.err" "testnode: listening on"
printf 'bad\377 utf8' >"$T/raw"
grep -qF -f "$T/raw" "$T/main.out" || fail "the byte 0xff did not pass through unchanged"
wait_for "[ \$(grep -c 'testnode: block' '$T/main.out') -ge 25 ]" 50
ctl main logs
[ "$CTL_RC" = 0 ] || fail "logs: $REPLY"
[ "$(field '.lines | length')" = 20 ] || fail "logs keeps --log-lines 20 lines: $REPLY"
field '.lines[-1]' | grep -q '^testnode: block [0-9]*$' || fail "last line: $REPLY"
ctl main logs lines=3
[ "$(field '.lines | length')" = 3 ] || fail "logs lines=3: $REPLY"
# The special lines, early in the ring of a fresh gate: every byte escaped.
start_gate esc exec -- --print-special
ctl esc logs
printf '%s\n' "$REPLY" >"$T/esc.json"
grep -qF -f "$T/raw" "$T/esc.json" && fail "raw 0xff byte in the JSON reply"
jq -e . "$T/esc.json" >/dev/null || fail "logs is not valid JSON: $REPLY"
special=$(field '.lines[] | select(startswith("testnode: special"))')
want=$(printf 'testnode: special "quote" back\\slash tab\there ctl\001 bad\357\277\275 utf8 \303\251')
[ "$special" = "$want" ] || fail "special line decoded as: $special"
grep -qF '\u0001' "$T/esc.json" || fail "control byte not escaped as \\u0001"
[ "$(field '[.lines[] | length] | max')" = 4096 ] || fail "long line not cut at 4096"
ok "output passes through unchanged; logs: last N lines, valid JSON, 0xff -> U+FFFD"

# --- probe ----------------------------------------------------------------------
expect_exit 0 "$GATE" probe --socket "$T/main.sock"
expect_exit 0 "$GATE" probe --socket "$T/main.sock" --http "http://127.0.0.1:$MAIN_PORT/"
expect_exit 0 "$GATE" probe --socket "$T/main.sock" --http "http://localhost:$MAIN_PORT/"
dead=$PORT_NEXT
PORT_NEXT=$((PORT_NEXT + 1))
expect_exit 1 "$GATE" probe --socket "$T/main.sock" --http "http://127.0.0.1:$dead/" --timeout 1
assert_contains "$T/err" "the node runs but does not answer"
expect_exit 2 "$GATE" probe --socket "$T/main.sock" --http "http://example.com/"
assert_contains "$T/err" "no DNS"
ctl main stop timeout=10 job=j-probe
expect_exit 0 "$GATE" probe --socket "$T/main.sock" --http "http://127.0.0.1:$dead/"
assert_contains "$T/out" "held"
kill -TERM "$MAIN_GPID"
gate_wait "$MAIN_GPID" 30
expect_exit 1 "$GATE" probe --socket "$T/main.sock"
assert_contains "$T/err" "the gate does not answer"
expect_exit 1 "$GATE" ctl --socket "$T/none.sock" status
assert_contains "$T/err" "gate $T/none.sock: no such socket: is the gate running?"
python3 -c 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$T/stale.sock"
expect_exit 1 "$GATE" ctl --socket "$T/stale.sock" status
assert_contains "$T/err" "nothing listens (a stale socket): the gate is not running"
expect_exit 2 "$GATE" ctl --socket "$T/$(printf 's%.0s' $(seq 1 120)).sock" status
assert_contains "$T/err" "socket path longer than 107 bytes"
ok "probe: 0 running (HTTP 200) and held, 1 wedged and without a gate; ctl says why it cannot reach a gate"

# --- exec failure on start: the gate stays, the state says why ---------------
mkdir -p "$T/bin"
cp "$TESTNODE" "$T/bin/tnode"
TESTNODE_SAVED=$TESTNODE
TESTNODE=$T/bin/tnode
start_gate ef exec
TESTNODE=$TESTNODE_SAVED
ctl ef stop timeout=10 job=j-ef
rm "$T/bin/tnode"
ctl ef start
[ "$CTL_RC" = 1 ] || fail "start of a missing command said ok: $REPLY"
field .error | grep -q "start failed: exec $T/bin/tnode: No such file or directory" ||
	fail "unclear start failure: $REPLY"
expect_field .state stopped
expect_field .hold null
alive "$GPID" || fail "the gate exited on a failed start"
ctl ef status
expect_field .start_error "exec $T/bin/tnode: No such file or directory"
expect_field .last_exit.code 127
expect_exit 1 "$GATE" probe --socket "$T/ef.sock"
assert_contains "$T/err" "start failed: exec"
cp "$TESTNODE" "$T/bin/tnode"
ctl ef start
[ "$CTL_RC" = 0 ] || fail "start after the fix: $REPLY"
expect_field .state running
expect_field .start_error null
expect_field .restarts 1
wait_for "http_ok $PORT" 30
ok "exec failure on start: ok=false, stopped with start_error, probe 1; fixed: runs"

# --- bounded clients: 16 waiting stops fill the table --------------------
start_gate many exec -- --ignore-term
ctl many stop timeout=1
expect_field .state stopping
# launch_waiter I: one waiting stop, its PID in W_I.
launch_waiter() {
	"$GATE" ctl --socket "$T/many.sock" stop timeout=20 >"$T/many.$1" 2>&1 &
	eval "W_$1=$!"
	track_pid "$!"
}
for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16; do
	launch_waiter "$i"
done
# Once all 16 are connected (slow under ASan and load), a 17th is turned
# away. A waiter that arrived while this loop's own status request held a
# slot was itself refused: it is launched again.
n=150
while :; do
	for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16; do
		if grep -q "too many clients" "$T/many.$i" 2>/dev/null; then
			eval "wait \$W_$i" 2>/dev/null || true
			launch_waiter "$i"
		fi
	done
	ctl many status
	[ "$CTL_RC" = 1 ] && break
	[ $n -gt 0 ] || fail "a 17th client was still served: $REPLY"
	sleep 0.1
	n=$((n - 1))
done
WAITERS=""
for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16; do
	eval "WAITERS=\"\$WAITERS \$W_$i\""
done
field .error | grep -q "too many clients" || fail "unclear refusal: $REPLY"
kill -KILL "$NPID"
for w in $WAITERS; do
	gate_wait "$w" 30
	[ "$GATE_RC" = 0 ] || fail "a waiting stop failed: $(cat "$T"/many.*)"
done
[ "$(grep -l '"state":"stopped"' "$T"/many.[0-9]* | wc -l)" = 16 ] ||
	fail "not every waiting stop said stopped"
ctl many status
expect_field .state stopped
[ "$(count_in "$T/many.out" "testnode: got signal 15")" = 1 ] || fail "SIGTERM repeated"
ok "16 clients at most: the 17th is refused; all 16 waiting stops answer 'stopped'"

# --- SIGTERM while stopping: exit 0 once the node is gone -------------------
start_gate sig exec -- --ignore-term
ctl sig stop timeout=1
expect_field .state stopping
kill -TERM "$GPID"
sleep 0.3
alive "$GPID" || fail "the gate left its stopping node behind"
[ "$(count_in "$T/sig.out" "testnode: got signal 15")" = 1 ] || fail "SIGTERM repeated"
kill -KILL "$NPID"
gate_wait "$GPID" 30
[ "$GATE_RC" = 0 ] || fail "exit $GATE_RC after SIGTERM while stopping"
ok "SIGTERM while stopping: not repeated; the gate exits 0 once the node is gone"

# --- the shell dies on its own while its child runs -------------------------
start_gate orph sh -- --stop-delay 400
ctl orph status
kill -KILL "$(field .pid)"
sleep 0.2
alive "$GPID" || fail "the gate exited while the node still ran"
gate_wait "$GPID" 30
kill -0 "$NPID" 2>/dev/null && fail "the node outlived its gate"
[ "$GATE_RC" = 137 ] || fail "gate exit $GATE_RC, the shell was SIGKILLed (137)"
[ "$(count_in "$T/orph.out" "testnode: got signal 15")" = 1 ] || fail "no SIGTERM to the rest"
assert_contains "$T/orph.err" "event=group_leftover"
ok "the shell dies, its child runs: one SIGTERM, the gate waits, then exits 137"

finish
