#!/bin/sh
# The sidecar's load check: 500 requests a second for 10 s (GET /readyz,
# GET /v1/status with the token, GET /metrics, in turn, on keep-alive
# connections; tests/helpers/http_load.py) while archive jobs of 300 MB of
# random data run back to back through the whole window. Zero errors: every
# reply 200 within 2 s (no [node] sections and no restore, so /readyz is
# 200); at least 450 replies a second achieved; every archive succeeds.
# Prints p50/p99 latencies.
#
# zstd level 12 keeps both CPUs busy during an archive (the point of the
# check: the HTTP threads must hold up under it); retention.keep_last=1
# keeps one 300 MB backup on disk.
. "$(dirname "$0")/lib.sh"
command -v python3 >/dev/null 2>&1 ||
	fail "python3 is missing (scripts/install-deps.sh installs it)"
LOAD="$top_srcdir/tests/helpers/http_load.py"

mkdata
for i in 1 2 3; do
	head -c 100000000 /dev/urandom >"$T/data/geth/chaindata/big$i.ldb"
done
printf 'load-token-%s\n' "$$" >"$T/token"
chmod 0600 "$T/token"

# start_agent: the agent on a free port (PORT); only our agent counts, so
# its "listening" line is awaited as well as a /healthz answer.
start_agent() {
	tries=0
	while :; do
		PORT=$((20000 + ($$ * 7 + tries * 17) % 20000))
		mark=$(cat "$T/agent.err" 2>/dev/null | wc -l)
		"$AGENT" --data-dir "$T/data" --backup-dir "$T/backups" --member 1 \
			--set agent.listen=127.0.0.1:$PORT \
			--set agent.token_file="$T/token" \
			--set archive.level=12 --set retention.keep_last=1 serve \
			>>"$T/agent.out" 2>>"$T/agent.err" &
		AGENT_PID=$!
		track_pid "$AGENT_PID"
		n=0
		while [ $n -lt 100 ]; do
			if tail -n +$((mark + 1)) "$T/agent.err" |
				grep -q "event=listening address=127.0.0.1:$PORT " &&
				curl -s -o /dev/null "http://127.0.0.1:$PORT/healthz"; then
				return 0
			fi
			kill -0 "$AGENT_PID" 2>/dev/null || break
			sleep 0.1
			n=$((n + 1))
		done
		kill "$AGENT_PID" 2>/dev/null || true
		wait "$AGENT_PID" 2>/dev/null || true
		tries=$((tries + 1))
		[ $tries -lt 5 ] || fail "the agent did not start: $(tail -5 "$T/agent.err")"
	done
}

start_agent
STATUS=$(curl -s -o "$T/body" -w '%{http_code}' "http://127.0.0.1:$PORT/readyz")
[ "$STATUS" = 200 ] || fail "readyz before the load: HTTP $STATUS $(cat "$T/body")"
ok "agent on 127.0.0.1:$PORT, 300 MB of data; /readyz 200 (no nodes configured)"

python3 "$LOAD" --port "$PORT" --token-file "$T/token" --rate 500 \
	--seconds 10 --min-rate 450 >"$T/load.out" 2>"$T/load.err" &
LOAD_PID=$!
track_pid "$LOAD_PID"
rc=0
wait "$LOAD_PID" || rc=$?
cat "$T/load.out"
if [ "$rc" != 0 ]; then
	cat "$T/load.err" >&2
	tail -20 "$T/agent.err" >&2
	fail "the load check failed (exit $rc)"
fi
ok "500 requests/s for 10 s during archives: no errors, at least 450/s achieved"

ls "$T/backups/member1/"*.tar.zst >/dev/null 2>&1 || fail "no backup was kept"
kill -0 "$AGENT_PID" 2>/dev/null || fail "the agent is gone"
kill "$AGENT_PID"
wait "$AGENT_PID" || { tail -40 "$T/agent.err" >&2; fail "the agent exited badly on SIGTERM"; }
ok "the agent exits cleanly on SIGTERM"
finish
