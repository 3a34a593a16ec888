#!/bin/sh
# The volumes are hostile too: whoever can write the data volume (the node
# included) or the backup volume (another member's agent, on a shared
# volume) plants links and FIFOs where the agent keeps its files. The
# agent follows none of them, waits on none of them, and changes nothing
# outside its volumes:
# - .quorum-backup as a link: archive, unpack, rollback and
#   discard-previous refuse, naming it;
# - a link or FIFO as a node's lock file: refused at once;
# - member<N>/history.jsonl, jobs/ and lease.json as links: the jobs run,
#   their targets are neither written nor chmodded;
# - a directory of the data dir linked to outside it: the archive fails
#   naming it, or archives the link with a warning (outside_links = keep);
#   a link inside the data dir is archived as a link.
. "$(dirname "$0")/lib.sh"
mkdata
D=$T/data
M=$T/backups/member1

# The outside world the links point to, and its fingerprint.
mkdir -p "$T/outside/previous/geth" "$T/outside/jobs"
printf 'not yours\n' >"$T/outside/previous/geth/keep"
printf 'victim\n' >"$T/outside/victim"
chmod 0644 "$T/outside/victim" "$T/outside/previous/geth/keep"
outside() {
	(cd "$T/outside" && find . -printf '%P|%y|%m|%s|%T@\n' | sort |
		sha256sum | cut -d' ' -f1)
}
outside_before=$(outside)
outside_same() {
	[ "$(outside)" = "$outside_before" ] || {
		(cd "$T/outside" && find . -printf '%P|%y|%m|%s\n' | sort) >&2
		fail "$1: something outside the volumes changed"
	}
}

expect_exit 0 agent archive
id=$(basename "$(ls "$M"/*.json)" .json)
ok "a first backup ($id)"

# ---- .quorum-backup as a link ----------------------------------------------
rm -rf "$D/.quorum-backup"
ln -s "$T/outside" "$D/.quorum-backup"
before=$(tree_hash "$D")
for cmd in "unpack $id" rollback discard-previous archive; do
	# shellcheck disable=SC2086
	expect_exit 1 agent $cmd
	assert_contains "$T/err" "/.quorum-backup is a symbolic link: refused"
	outside_same "$cmd"
	[ "$(tree_hash "$D")" = "$before" ] || fail "$cmd: the data directory changed"
	[ -L "$D/.quorum-backup" ] || fail "$cmd: the link was replaced"
done
[ ! -e "$T/outside/lock" ] || fail "the lock file was made outside"
[ "$(ls "$M"/*.json | wc -l)" = 1 ] || fail "a backup was made"
rm "$D/.quorum-backup"
ok ".quorum-backup as a link: unpack, rollback, discard-previous and archive refuse; nothing outside changed"

# ---- lock files as a link or a FIFO ----------------------------------------
rm "$D/geth/LOCK"
ln -s "$T/outside/victim" "$D/geth/LOCK"
expect_exit 1 agent archive
assert_contains "$T/err" "lock file $D/geth/LOCK is a symbolic link: refused"
rm "$D/geth/LOCK"
mkfifo "$D/geth/LOCK"
expect_exit 1 timeout 30 "$AGENT" --data-dir "$D" --backup-dir "$T/backups" \
	--member 1 archive
assert_contains "$T/err" "lock file $D/geth/LOCK is not a regular file: refused"
rm "$D/geth/LOCK"
: >"$D/geth/LOCK"
outside_same "lock files"
ok "a node's lock file as a link or a FIFO: refused at once"

# ---- member<N>/ files as links, through the HTTP jobs ----------------------
printf 'hv-token\n' >"$T/token"
ln -sf "$T/outside/victim" "$M/history.jsonl"
rm -rf "$M/jobs"
ln -s "$T/outside/jobs" "$M/jobs"
ln -sf "$T/outside/victim" "$M/lease.json"
serve_agent 11 --data-dir "$D" --backup-dir "$T/backups" --member 1 \
	--set agent.token_file="$T/token"
A="http://127.0.0.1:$SERVE_PORT"
H="Authorization: Bearer hv-token"
code=$(curl -s -o "$T/body" -w '%{http_code}' -X POST -H "$H" "$A/v1/prune?wait=30")
[ "$code" = 200 ] && [ "$(jq -r .state "$T/body")" = succeeded ] ||
	fail "prune job: $code $(cat "$T/body")"
code=$(curl -s -o "$T/body" -w '%{http_code}' -X POST -H "$H" \
	"$A/v1/lease?holder=hv&ttl=60")
[ "$code" = 200 ] || fail "lease: $code $(cat "$T/body")"
code=$(curl -s -o "$T/body" -w '%{http_code}' -H "$H" "$A/v1/history")
[ "$code" = 500 ] || fail "history: $code $(cat "$T/body")"
jq -r .error.message "$T/body" | grep -q "history.jsonl is a symbolic link: refused" ||
	fail "history: $(cat "$T/body")"
outside_same "history, jobs and lease"
[ -L "$M/history.jsonl" ] && [ -L "$M/jobs" ] ||
	fail "a link was replaced by a file"
grep -q "event=history_failed .*history.jsonl is a symbolic link: refused" \
	"$T/agent.err" || fail "no log of the refused history: $(tail -5 "$T/agent.err")"
grep -q "event=job_persist_failed .*jobs is a symbolic link: refused" \
	"$T/agent.err" || fail "no log of the refused job record"
kill "$SERVE_PID"
wait "$SERVE_PID" 2>/dev/null || true
rm -f "$M/history.jsonl" "$M/jobs" "$M/lease.json"
ok "history.jsonl, jobs/ and lease.json as links: the jobs run, nothing is written, chmodded or replaced through them"

# ---- directories linked out of the data directory --------------------------
mv "$D/geth/chaindata" "$T/elsewhere"
ln -s "$T/elsewhere" "$D/geth/chaindata"
expect_exit 1 agent archive
assert_contains "$T/err" "geth/chaindata is a symbolic link to the directory $T/elsewhere, outside the data directory: its content is not in the backup (set [archive] outside_links = keep"
[ "$(ls "$M"/*.json | wc -l)" = 1 ] || fail "a backup was made"
[ -z "$(find "$M" -name '*.partial')" ] || fail "a partial archive was left"
expect_exit 0 agent --json --set archive.outside_links=keep archive
kept=$(jq -r .id "$T/out")
jq -r '.warnings[0]' "$T/out" | grep -q "^geth/chaindata is a symbolic link to the directory" ||
	fail "no warning in the result: $(cat "$T/out")"
jq -r '.warnings[0]' "$M/$kept.json" | grep -q "^geth/chaindata is a symbolic link" ||
	fail "no warning in the metadata"
[ "$(jq -r '.entries[] | select(.path == "geth/chaindata") | .type' "$M/$kept.json")" = symlink ] ||
	fail "the link is not archived as a link"
# A link inside the data directory is a link, archived as one, silently.
rm "$D/geth/chaindata"
mv "$T/elsewhere" "$D/chain"
ln -s ../chain "$D/geth/chaindata"
expect_exit 0 agent --json archive
inside=$(jq -r .id "$T/out")
[ "$(jq -r '.warnings | length' "$M/$inside.json")" = 0 ] || fail "a warning for a link inside"
[ "$(jq -r '.entries[] | select(.path == "geth/chaindata") | .target' "$M/$inside.json")" = ../chain ] ||
	fail "the inside link's target"
jq -e '.entries[] | select(.path == "chain/000001.ldb")' "$M/$inside.json" >/dev/null ||
	fail "the linked directory's content is not archived"
ok "a directory linked outside the data dir: the archive fails naming it, or keeps the link with a warning; a link inside is archived as a link"

finish
