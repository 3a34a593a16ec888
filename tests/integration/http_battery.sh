#!/bin/sh
# The sidecar under hostile HTTP: a real agent on 127.0.0.1 with a token,
# data and one real backup, then (tests/helpers/http_battery.py, raw
# sockets) a generated battery of over 3,000 malformed requests while 100
# slowloris connections trickle partial requests and /readyz is probed
# every 50 ms. Every reply must be a 4xx (the exact one where the agent
# decides) or a close, never a success, a server error or a hang; /readyz
# answers 200 within 2 s throughout (a few ms unloaded); the slow
# connections past their request line are held through the battery and
# closed by the agent once
# conn_timeout is up (those still in it once idle_timeout is); the 65th
# connection from one address is refused while others are served.
# Then, on the quiet agent: idle connections are closed after idle_timeout;
# 1,000 and 5,000 query arguments get 414 with a JSON error; and 600 idle
# connections from 10 addresses, re-opened as the agent closes them, take
# every connection of the API listener for 10 s while /readyz on the probe
# listener (probe_listen) answers 200 within 2 s every 50 ms, and
# /v1/status answers again once they stop. The probe listener serves
# /healthz, /readyz and /metrics and nothing else.
# Afterwards the agent still runs, the data and backup trees are unchanged
# (nothing was archived, restored, deleted or leased), and nothing appeared
# outside the test's directory.
# Then a second agent reads its token as kubelet mounts a Secret's key
# (links into ..data): the scheme is case-insensitive (bearer, BEARER); a
# token rewritten in place with its size and mtime kept, and a rotation of
# ..data, retire the old token; a FIFO at the token path gets every /v1/
# request a 401 (logged once), /readyz and /healthz still answer, and
# SIGTERM stops the agent within 5 s.
#
# The agent runs with its default limits (per_ip_limit 64, max_connections
# 512, max_body 64 KiB, idle_timeout 5 s) except conn_timeout, 12 s instead
# of 30, to keep the test short: the slow connections come from 127.0.0.2
# and 127.0.0.3, 50 each, under the per-address limit as a small botnet
# would stay; the per-address check uses 127.0.0.4 and 127.0.0.5 (Linux
# routes all of 127/8 to lo).
. "$(dirname "$0")/lib.sh"
command -v python3 >/dev/null 2>&1 ||
	fail "python3 is missing (scripts/install-deps.sh installs it)"
BATTERY="$top_srcdir/tests/helpers/http_battery.py"
CONN_TIMEOUT=12
IDLE_TIMEOUT=5

# free_port: a port of 127.0.0.1 that nothing listens on now.
free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
# code ARGS...: the HTTP status of one curl (5 s at most; 000: no reply).
code() {
	curl -s -m 5 -o "$T/body" -w '%{http_code}' "$@" || true
}

mkdata
printf 'battery-token-%s\n' "$$" >"$T/token"
chmod 0600 "$T/token"
# Files a traversal out of the backup directory would reach: ids such as
# ..%2Fvictim resolve to backups/victim.*, ..%2F..%2Fvictim to $T/victim.*.
for d in "$T/backups" "$T"; do
	printf 'victim\n' >"$d/victim.tar.zst"
	printf '{"victim":true}\n' >"$d/victim.json"
done

# start_agent: the agent on a free port (PORT) with its probe listener
# on PPORT, PID in AGENT_PID.
start_agent() {
	PPORT=$(free_port)
	serve_agent 5 --data-dir "$T/data" --backup-dir "$T/backups" --member 1 \
		--set agent.token_file="$T/token" \
		--set agent.conn_timeout=$CONN_TIMEOUT \
		--set agent.idle_timeout=$IDLE_TIMEOUT \
		--set agent.probe_listen="127.0.0.1:$PPORT"
	PORT=$SERVE_PORT AGENT_PID=$SERVE_PID
}

start_agent
A="http://127.0.0.1:$PORT"
P="http://127.0.0.1:$PPORT"
AUTH="Authorization: Bearer $(cat "$T/token")"

# One real backup, made through the API: its id and its job's id are the
# real ones the battery aims at.
STATUS=$(curl -s -o "$T/body" -w '%{http_code}' -X POST -H "$AUTH" \
	"$A/v1/archive?wait=30")
if [ "$STATUS" != 200 ] || [ "$(jq -r .state "$T/body")" != succeeded ]; then
	fail "the first archive: HTTP $STATUS $(cat "$T/body")"
fi
BACKUP=$(jq -r .result.backup "$T/body")
JOB=$(jq -r .id "$T/body")
STATUS=$(curl -s -o "$T/body" -w '%{http_code}' "$A/readyz")
[ "$STATUS" = 200 ] || fail "readyz before the battery: HTTP $STATUS $(cat "$T/body")"
ok "agent on 127.0.0.1:$PORT with backup $BACKUP (job $JOB); /readyz 200 (no nodes configured)"

# The probe listener: the three routes without a token, nothing else.
for path in /healthz /readyz /metrics; do
	[ "$(code "$P$path")" = 200 ] || fail "probe listener $path: $(cat "$T/body")"
done
grep -q '^quorum_backup_job_in_progress' "$T/body" || fail "probe listener /metrics: $(cat "$T/body")"
for path in /v1/status /v1/jobs /v1/backups/$BACKUP / /v1/; do
	[ "$(code -H "$AUTH" "$P$path")" = 404 ] &&
		[ "$(jq -r .error.code "$T/body")" = not_found ] ||
		fail "probe listener $path with the token: $(cat "$T/body")"
done
[ "$(code -X POST -H "$AUTH" "$P/v1/archive")" = 404 ] || fail "probe listener POST /v1/archive: $(cat "$T/body")"
[ "$(code -X POST "$P/readyz")" = 405 ] || fail "probe listener POST /readyz: $(cat "$T/body")"
ok "probe listener on 127.0.0.1:$PPORT: /healthz, /readyz, /metrics 200; /v1/ 404 even with the token"

# What must not change: the data and backup trees (the agent's jobs and
# history under member1/ included), the victims, the token.
data_before=$(tree_hash "$T/data")
backups_before=$(tree_hash "$T/backups")
others_before=$(cd "$T" && sha256sum victim.tar.zst victim.json token)
# Names a traversal could create next to the test directory or at /.
probe_names='^(victim.*|etc|passwd|x|.*\.tar\.zst|.*\.json|.*\.partial|battery.*)$'
probe_files() {
	find "$1" -mindepth 1 -maxdepth 1 -printf '%f\n' | grep -E "$probe_names" |
		sort || true
}
parent_before=$(probe_files "$(dirname "$T")")
root_before=$(probe_files /)

python3 "$BATTERY" --port "$PORT" --probe-port "$PPORT" --token-file "$T/token" \
	--backup "$BACKUP" --job "$JOB" --conn-timeout "$CONN_TIMEOUT" \
	--idle-timeout "$IDLE_TIMEOUT" --agent-pid "$AGENT_PID" >"$T/battery.out" \
	2>"$T/battery.err" &
BAT_PID=$!
track_pid "$BAT_PID"
rc=0
wait "$BAT_PID" || rc=$?
cat "$T/battery.out"
if [ "$rc" != 0 ]; then
	cat "$T/battery.err" >&2
	tail -20 "$T/agent.err" >&2
	fail "the battery failed (exit $rc)"
fi
ok "every malformed request got a 4xx or a close; /readyz answered throughout (within 2 s); slowloris held, then closed; the 65th connection from one address refused"
ok "idle connections closed after idle_timeout; too many query arguments get 414 with a JSON error"
ok "600 idle connections for 10 s: /readyz on the probe listener 200 throughout (within 2 s); /v1/status answers once they stop"

kill -0 "$AGENT_PID" 2>/dev/null || fail "the agent is gone"
STATUS=$(curl -s -o "$T/body" -w '%{http_code}' "$A/healthz")
[ "$STATUS" = 200 ] || fail "healthz after the battery: HTTP $STATUS"
STATUS=$(curl -s -o "$T/body" -w '%{http_code}' -H "$AUTH" "$A/v1/jobs")
[ "$STATUS" = 200 ] || fail "jobs after the battery: HTTP $STATUS"
[ "$(jq 'length' "$T/body")" = 1 ] || fail "the battery started a job: $(cat "$T/body")"
STATUS=$(curl -s -o "$T/body" -w '%{http_code}' -H "$AUTH" "$A/v1/status")
[ "$(jq -r .lease "$T/body")" = null ] || fail "the battery took a lease: $(cat "$T/body")"
ok "the agent still runs and answers; no job was started, no lease taken"

[ "$(tree_hash "$T/data")" = "$data_before" ] || fail "the data directory changed"
[ "$(tree_hash "$T/backups")" = "$backups_before" ] || {
	find "$T/backups" -printf '%P %s %T@\n' >&2
	fail "the backup directory changed"
}
[ "$(cd "$T" && sha256sum victim.tar.zst victim.json token)" = "$others_before" ] ||
	fail "a file next to the backup directory changed"
[ "$(probe_files "$(dirname "$T")")" = "$parent_before" ] ||
	fail "new files next to the test directory: $(probe_files "$(dirname "$T")")"
[ "$(probe_files /)" = "$root_before" ] || fail "new files at /: $(probe_files /)"
ok "data and backup trees unchanged (manifest hashes); nothing new next to the test directory or at /"

kill "$AGENT_PID"
wait "$AGENT_PID" || { tail -40 "$T/agent.err" >&2; fail "the agent exited badly on SIGTERM"; }
ok "the agent exits cleanly on SIGTERM"

# ---- the token file ---------------------------------------------------------
# As kubelet mounts a Secret's key: secret/token -> ..data/token, ..data ->
# ..2026_01 (a directory); a rotation points ..data at a new directory.
S="$T/secret"
mkdir -p "$S/..2026_01"
printf 'first-token-%s\n' "$$" >"$S/..2026_01/token"
chmod 0600 "$S/..2026_01/token"
ln -s ..2026_01 "$S/..data"
ln -s ..data/token "$S/token"
serve_agent 7 --data-dir "$T/data" --backup-dir "$T/backups" --member 1 \
	--set agent.token_file="$S/token"
A="http://127.0.0.1:$SERVE_PORT" AGENT_PID=$SERVE_PID
T1="first-token-$$" T2="other-token-$$" T3="third-token-$$"
[ "$(code -H "Authorization: Bearer $T1" "$A/v1/jobs")" = 200 ] ||
	fail "the token read through the Secret's links: $(cat "$T/body")"
for auth in "bearer $T1" "BEARER $T1" "bEaReR $T1" "Bearer  $T1"; do
	[ "$(code -H "Authorization: $auth" "$A/v1/jobs")" = 200 ] ||
		fail "Authorization: $auth: $(cat "$T/body")"
done
for auth in "Bearer$T1" "Bearerx $T1" "Basic $T1" "bearer $T2"; do
	[ "$(code -H "Authorization: $auth" "$A/v1/jobs")" = 401 ] ||
		fail "Authorization: $auth: $(cat "$T/body")"
done
ok "the token read through a Secret's links; the scheme in any case (bearer, BEARER), then one or more spaces"

# Rewritten in place: the same inode, size and mtime (touch -r), another
# token. Past the agent's 2 s window for a file that just changed, so
# that only the file's ctime tells.
F="$S/..2026_01/token"
touch -r "$F" "$T/mtime.ref"
before=$(stat -c '%d %i %s %y' "$F")
sleep 2.5
[ "$(code -H "Authorization: Bearer $T1" "$A/v1/jobs")" = 200 ] || fail "the first token: $(cat "$T/body")"
printf 'other-token-%s\n' "$$" >"$F"
touch -r "$T/mtime.ref" "$F"
[ "$(stat -c '%d %i %s %y' "$F")" = "$before" ] ||
	fail "the rewrite changed the device, inode, size or mtime: $before, now $(stat -c '%d %i %s %y' "$F")"
[ "$(code -H "Authorization: Bearer $T1" "$A/v1/jobs")" = 401 ] ||
	fail "the old token still works after the file was rewritten in place: $(cat "$T/body")"
[ "$(code -H "Authorization: Bearer $T2" "$A/v1/jobs")" = 200 ] ||
	fail "the new token, rewritten in place: $(cat "$T/body")"
ok "a token rewritten in place with its size and mtime kept: the old one refused, the new one taken"

# A rotation as kubelet makes it: a new directory, ..data swapped to it.
mkdir "$S/..2026_02"
printf 'third-token-%s\n' "$$" >"$S/..2026_02/token"
ln -s ..2026_02 "$S/..data_tmp"
mv -T "$S/..data_tmp" "$S/..data"
[ "$(code -H "Authorization: Bearer $T2" "$A/v1/jobs")" = 401 ] ||
	fail "the old token still works after the rotation: $(cat "$T/body")"
[ "$(code -H "Authorization: Bearer $T3" "$A/v1/jobs")" = 200 ] ||
	fail "the rotated token: $(cat "$T/body")"
ok "a rotation of ..data: the old token refused, the new one taken"

# A FIFO at the token path: nothing blocks, every /v1/ request gets 401,
# the log says why once, the open routes answer, SIGTERM still stops it.
rm "$S/token"
mkfifo "$S/token"
mark=$(wc -l <"$T/agent.err")
n=0
while [ $n -lt 20 ]; do
	got=$(code -H "Authorization: Bearer $T3" "$A/v1/status")
	[ "$got" = 401 ] && [ "$(jq -r .error.code "$T/body")" = unauthorized ] ||
		fail "with a FIFO at the token path, /v1/status got $got (000: no reply in 5 s): $(cat "$T/body")"
	n=$((n + 1))
done
[ "$(code "$A/readyz")" = 200 ] || fail "readyz with a FIFO at the token path: $(cat "$T/body")"
[ "$(code "$A/healthz")" = 200 ] || fail "healthz with a FIFO at the token path: $(cat "$T/body")"
[ "$(code "$A/v1/jobs")" = 401 ] || fail "no token, with a FIFO at the token path: $(cat "$T/body")"
logged=$(tail -n +$((mark + 1)) "$T/agent.err" | grep -c 'event=token_unreadable' || true)
[ "$logged" = 1 ] || {
	tail -n +$((mark + 1)) "$T/agent.err" | tail -5 >&2
	fail "the unreadable token was logged $logged times over 21 requests, not once"
}
tail -n +$((mark + 1)) "$T/agent.err" | grep 'event=token_unreadable' | grep -q 'is a FIFO' ||
	fail "the log does not say the token is a FIFO: $(tail -n +$((mark + 1)) "$T/agent.err" | grep token_unreadable)"
ok "a FIFO at the token path: 20 requests 401 at once, logged once (a FIFO), readyz and healthz 200"
kill "$AGENT_PID"
n=0
while alive "$AGENT_PID" && [ $n -lt 50 ]; do
	sleep 0.1
	n=$((n + 1))
done
alive "$AGENT_PID" && fail "the agent did not exit within 5 s of SIGTERM (a FIFO at the token path)"
wait "$AGENT_PID" || { tail -20 "$T/agent.err" >&2; fail "the agent exited badly on SIGTERM"; }
ok "SIGTERM stops it within 5 s"
finish
