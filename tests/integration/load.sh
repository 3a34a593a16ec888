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

# start_agent: the agent on a free port (PORT), PID in AGENT_PID.
start_agent() {
	serve_agent 7 --data-dir "$T/data" --backup-dir "$T/backups" --member 1 \
		--set agent.token_file="$T/token" \
		--set archive.level=12 --set retention.keep_last=1
	PORT=$SERVE_PORT AGENT_PID=$SERVE_PID
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
