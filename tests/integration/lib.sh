# Shared helpers for the integration tests: real binaries, real files.
# Each test sources this file, then calls its checks; every process a test
# starts is registered with track_pid and stopped by PID on exit.
set -eu

: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
: "${AGENT:=$top_builddir/quorum-backup-agent}"
LOCKHOLDER="$top_builddir/tests/helpers/lockholder"
MKTAR="$top_builddir/tests/helpers/mktar"
export LC_ALL=C.UTF-8

T=$(mktemp -d "${TMPDIR:-/tmp}/qb-test.XXXXXX")
PIDS=""
MOUNTS=""
PASSED=0

# Every curl of a test gives up after CURL_MAX_TIME seconds (default 300,
# above any ?wait= the tests use; a later -m overrides it): an agent that
# accepts a connection and never answers must fail the test, not hang it.
curl() {
	command curl --max-time "${CURL_MAX_TIME:-300}" "$@"
}

# alive PID: the process exists and is not a zombie.
alive() {
	st=$(sed 's/.*) //; s/ .*//' "/proc/$1/stat" 2>/dev/null) || return 1
	[ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
}

# cleanup [STATUS]: the test's exit status (default: $?).
cleanup() {
	rc=${1:-$?}
	# A sanitizer report in a process's stderr is the reason a test failed
	# under ASan/UBSan: show it before the directory goes.
	if [ "$rc" != 0 ]; then
		for f in $(grep -l -e 'Sanitizer' -e 'runtime error:' \
			"$T"/*.err "$T"/*.log "$T"/*/*.log 2>/dev/null); do
			echo "=== sanitizer report in $f" >&2
			grep -A 40 -e 'ERROR: .*Sanitizer' -e 'runtime error:' "$f" |
				head -80 >&2
		done
	fi
	# SIGTERM, up to 10 s to exit, then SIGKILL: a process that ignores
	# SIGTERM (a broken gate or node) must not hang the test.
	for p in $PIDS; do
		kill -TERM "$p" 2>/dev/null || true
	done
	n=100
	while [ $n -gt 0 ]; do
		left=""
		for p in $PIDS; do
			alive "$p" && left="$left $p"
		done
		[ -n "$left" ] || break
		sleep 0.1
		n=$((n - 1))
	done
	for p in $left; do
		kill -KILL "$p" 2>/dev/null || true
	done
	for p in $PIDS; do
		wait "$p" 2>/dev/null || true
	done
	for m in $MOUNTS; do
		umount "$m" 2>/dev/null || true
	done
	rm -rf "$T"
}
trap cleanup EXIT
# A signal (the per-test timeout of make check, ^C) exits through the
# EXIT trap too, so that every tracked process is stopped.
trap 'exit 143' TERM INT HUP

track_pid() { PIDS="$PIDS $1"; }

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

ok() {
	PASSED=$((PASSED + 1))
	echo "ok $PASSED - $*"
}

# expect_exit CODE CMD... : run CMD, check its exit status; its stdout and
# stderr are kept in $T/out and $T/err.
expect_exit() {
	want=$1
	shift
	set +e
	"$@" >"$T/out" 2>"$T/err"
	got=$?
	set -e
	if [ "$got" != "$want" ]; then
		echo "--- stdout" >&2; cat "$T/out" >&2
		echo "--- stderr" >&2; cat "$T/err" >&2
		fail "expected exit $want, got $got: $*"
	fi
}

# assert_contains FILE TEXT
assert_contains() {
	grep -qF -- "$2" "$1" || { cat "$1" >&2; fail "$1 lacks: $2"; }
}

# agent ARGS... : the agent on the test's data and backup directories.
agent() {
	"$AGENT" --data-dir "$T/data" --backup-dir "$T/backups" --member 1 "$@"
}

# serve_agent SALT ARG...: `quorum-backup-agent ARG... serve` on a free port
# of 127.0.0.1 (SERVE_PORT), its PID in SERVE_PID, its output appended to
# $T/agent.out and $T/agent.err. SALT spreads the ports of tests running
# side by side. Only our agent counts: a /healthz answer from another
# test's agent on that port (ours could not bind) must not pass, so its
# own "listening" line is awaited too. A taken port: the next try.
serve_agent() {
	sa_salt=$1
	shift
	sa_tries=0
	while :; do
		SERVE_PORT=$((20000 + ($$ * sa_salt + sa_tries * (2 * sa_salt + 5)) % 20000))
		sa_mark=$(cat "$T/agent.err" 2>/dev/null | wc -l)
		"$AGENT" "$@" --set agent.listen="127.0.0.1:$SERVE_PORT" serve \
			>>"$T/agent.out" 2>>"$T/agent.err" &
		SERVE_PID=$!
		track_pid "$SERVE_PID"
		sa_n=0
		while [ $sa_n -lt 100 ]; do
			if tail -n +$((sa_mark + 1)) "$T/agent.err" |
				grep -q "event=listening address=127.0.0.1:$SERVE_PORT " &&
				curl -s -o /dev/null "http://127.0.0.1:$SERVE_PORT/healthz"; then
				return 0
			fi
			kill -0 "$SERVE_PID" 2>/dev/null || break
			sleep 0.1
			sa_n=$((sa_n + 1))
		done
		kill "$SERVE_PID" 2>/dev/null || true
		wait "$SERVE_PID" 2>/dev/null || true
		sa_tries=$((sa_tries + 1))
		[ $sa_tries -lt 5 ] || fail "the agent did not start: $(tail -5 "$T/agent.err")"
	done
}

# agent_bg OUT ERR ARGS... : the agent in the background, its own PID (not a
# subshell's) in BG_PID, so that kill -9 reaches the agent itself.
agent_bg() {
	out=$1 errf=$2
	shift 2
	"$AGENT" --data-dir "$T/data" --backup-dir "$T/backups" --member 1 "$@" \
		>"$out" 2>"$errf" &
	BG_PID=$!
	track_pid "$BG_PID"
}

# Wait up to $2 tenths of a second for a command to succeed.
wait_for() {
	cond=$1
	n=${2:-100}
	while [ "$n" -gt 0 ]; do
		if eval "$cond"; then return 0; fi
		sleep 0.1
		n=$((n - 1))
	done
	fail "timed out waiting for: $cond"
}

# Start lockholder in the background and wait until it holds the lock.
hold_lock() {
	mode=$1 path=$2
	"$LOCKHOLDER" "--$mode" "$path" >"$T/lockholder.out" &
	LOCK_PID=$!
	track_pid "$LOCK_PID"
	wait_for "grep -q locked '$T/lockholder.out'" 100
}

release_lock() {
	kill "$LOCK_PID"
	wait "$LOCK_PID" 2>/dev/null || true
}

# Files a backup directory holds, other than the store's lock file.
backup_files() {
	find "$T/backups" -type f ! -name .lock | sort
}

assert_no_backup_files() {
	left=$(backup_files)
	[ -z "$left" ] || fail "files left in the backup directory: $left"
}

mkdata() {
	mkdir -p "$T/data/geth/chaindata" "$T/data/keystore" "$T/backups"
	head -c 300000 /dev/urandom >"$T/data/geth/chaindata/000001.ldb"
	seq 1 50000 >"$T/data/geth/chaindata/000002.log"
	printf '%064x\n' 42 >"$T/data/geth/nodekey"
	: >"$T/data/geth/LOCK"
	: >"$T/data/geth/chaindata/LOCK"
	echo '{"address":"90f8bf6a"}' >"$T/data/keystore/key"
}

# manifest DIR OUT: what a tree is, in four sorted files OUT.meta (path,
# type, mode, owner, mtime, link target), OUT.sums (content), OUT.links
# (hard-link groups) and OUT.sizes. The agent's .quorum-backup/ is left out.
# MTIME=%Ts compares mtimes to the second (GNU tar's own format).
manifest() {
	(cd "$1" && find . -mindepth 1 \
		! -path './.quorum-backup' ! -path './.quorum-backup/*' \
		-printf "%P|%y|%m|%U|%G|${MTIME:-%T@}|%l\n" | sort) >"$2.meta"
	(cd "$1" && find . -mindepth 1 -type f ! -path './.quorum-backup/*' \
		-printf '%P\0' | sort -z | xargs -0 -r sha256sum) >"$2.sums"
	(cd "$1" && find . -mindepth 1 -type f -links +1 \
		! -path './.quorum-backup/*' -printf '%i %P\n' | sort -k2 |
		awk '{ if (!($1 in g)) g[$1] = $2; print $2 " -> " g[$1] }' |
		sort) >"$2.links"
	(cd "$1" && find . -mindepth 1 -type f ! -path './.quorum-backup/*' \
		-printf '%P|%s\n' | sort) >"$2.sizes"
}

# tree_hash DIR: one hash for everything manifest sees.
tree_hash() {
	manifest "$1" "$T/.th"
	cat "$T/.th.meta" "$T/.th.sums" "$T/.th.links" | sha256sum | cut -d' ' -f1
}

# same_tree A B: fail with a diff unless the trees match.
same_tree() {
	manifest "$1" "$T/.a"
	manifest "$2" "$T/.b"
	for part in meta sums links sizes; do
		diff -u "$T/.a.$part" "$T/.b.$part" >&2 ||
			fail "$1 and $2 differ ($part)"
	done
}

finish() {
	echo "$PASSED passed, 0 failed"
}
