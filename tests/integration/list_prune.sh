#!/bin/sh
# list (text and JSON, newest first, legacy backups too), retention after an
# archive, prune and prune --dry-run, and verify of a legacy backup.
. "$(dirname "$0")/lib.sh"
mkdata
dir="$T/backups/member1"

expect_exit 0 agent list
assert_contains "$T/out" "no backups of member 1"
ok "empty list"

# A legacy backup as the seed's scripts made it.
mkdir -p "$dir"
tar -czf "$dir/20240101-000000.tar.gz" -C "$T/data" .
touch -d '2024-01-01 00:00:00' "$dir/20240101-000000.tar.gz"
expect_exit 0 agent verify latest
assert_contains "$T/out" "ok 20240101-000000.tar.gz"
assert_contains "$T/out" "legacy gzip"
ok "legacy backup verifies (gzip CRC and tar structure)"

for i in 1 2 3 4; do
	expect_exit 0 agent --set retention.keep_last=0 --json archive
done
expect_exit 0 agent --json list
[ "$(jq length "$T/out")" = 5 ] || fail "expected 5 backups: $(cat "$T/out")"
[ "$(jq -r '.[-1].id' "$T/out")" = 20240101-000000.tar.gz ] || fail "legacy not last"
[ "$(jq -r '.[-1].legacy' "$T/out")" = true ] || fail "legacy flag"
[ "$(jq -r '.[-1].files' "$T/out")" = null ] || fail "legacy files should be null"
[ "$(jq -r '.[0].files' "$T/out")" = "$(jq -r '.[1].files' "$T/out")" ] || fail "files"
[ "$(jq -r '.[0].node_key.path' "$T/out")" = geth/nodekey ] || fail "node_key"
jq -r '.[].created' "$T/out" >"$T/created"
sort -r "$T/created" | diff - "$T/created" >/dev/null || fail "not newest first"
newest=$(jq -r '.[0].id' "$T/out")
ok "list --json: newest first, legacy last, node-key fingerprint"

expect_exit 0 agent list
assert_contains "$T/out" "$newest"
assert_contains "$T/out" "legacy"
head -1 "$T/out" | grep -q '^ID ' || fail "no header line"
ok "list as a table"

before=$(ls "$dir" | sort)
expect_exit 0 agent --set retention.keep_last=2 prune --dry-run
[ "$(grep -c '^would delete' "$T/out")" = 2 ] || fail "dry run: $(cat "$T/out")"
[ "$(ls "$dir" | sort)" = "$before" ] || fail "dry run deleted files"
ok "prune --dry-run prints what it would delete and deletes nothing"

expect_exit 0 agent --set retention.keep_last=2 --json prune
[ "$(jq '.deleted | length' "$T/out")" = 2 ] || fail "prune: $(cat "$T/out")"
expect_exit 0 agent --json list
[ "$(jq length "$T/out")" = 3 ] || fail "after prune: $(cat "$T/out")"
[ "$(jq -r '.[0].id' "$T/out")" = "$newest" ] || fail "newest not kept"
[ -f "$dir/20240101-000000.tar.gz" ] || fail "legacy backup deleted"
ok "prune keeps the newest keep_last and legacy backups"

expect_exit 0 agent --set retention.keep_last=0 --set retention.keep_days=0 prune
expect_exit 0 agent --json list
[ "$(jq length "$T/out")" = 3 ] || fail "retention off deleted backups"
expect_exit 0 agent --set retention.keep_last=0 --set retention.keep_days=1 prune
expect_exit 0 agent --json list
[ "$(jq length "$T/out")" = 3 ] || fail "keep_days=1 deleted young backups"
ok "keep_last=0 keep_days=0 is off; keep_days keeps young backups"

# Retention runs after each archive and never deletes the newest.
expect_exit 0 agent --set retention.keep_last=1 --json archive
latest=$(jq -r .id "$T/out")
[ "$(jq '.pruned | length' "$T/out")" = 2 ] || fail "retention after archive: $(cat "$T/out")"
expect_exit 0 agent --json list
[ "$(jq -r '[.[] | select(.legacy | not) | .id] | join(" ")' "$T/out")" = "$latest" ] ||
	fail "after archive with keep_last=1: $(cat "$T/out")"
ok "retention after archive keeps the newest"

# A legacy backup that is damaged fails verification.
cp "$dir/20240101-000000.tar.gz" "$T/legacy.tar.gz"
size=$(stat -c %s "$T/legacy.tar.gz")
truncate -s $((size - 4)) "$dir/20240101-000000.tar.gz"
expect_exit 5 agent verify 20240101-000000.tar.gz
cp "$T/legacy.tar.gz" "$dir/20240101-000000.tar.gz"
printf 'x' | dd of="$dir/20240101-000000.tar.gz" bs=1 seek=$((size / 2)) conv=notrunc 2>/dev/null
expect_exit 5 agent verify 20240101-000000.tar.gz
ok "damaged legacy backup: exit 5"
finish
