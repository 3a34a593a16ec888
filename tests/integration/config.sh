#!/bin/sh
# Configuration errors say file:line: key: reason and exit 2; environment
# and flags override the file.
. "$(dirname "$0")/lib.sh"
mkdata
C="$T/agent.ini"

printf '[agent]\nmember = 1\n\n; comment\n[archive]\nlevle = 3\n' >"$C"
expect_exit 2 "$AGENT" -c "$C" list
assert_contains "$T/err" "$C:6: levle: unknown key in [archive]"
ok "unknown key: file:line and exit 2"

printf '[agent]\nmember = 1\n[archive]\nlevel = 42\n' >"$C"
expect_exit 2 "$AGENT" -c "$C" list
assert_contains "$T/err" "$C:4: level: 42 is out of range 1..19"
ok "out-of-range value"

printf '[retention]\nkeep_last = seven\n' >"$C"
expect_exit 2 "$AGENT" -c "$C" list
assert_contains "$T/err" "$C:2: keep_last: 'seven' is not an integer"
ok "bad integer"

printf '[agent]\nlog_level = loud\n' >"$C"
expect_exit 2 "$AGENT" -c "$C" list
assert_contains "$T/err" "$C:2: log_level: 'loud' is not one of debug|info|warn|error"
ok "bad choice"

{
	printf '[archive]\n'
	printf 'exclude = %s\n' "$(printf 'x%.0s' $(seq 1 250))"
} >"$C"
expect_exit 2 "$AGENT" -c "$C" list
assert_contains "$T/err" "$C:2: line is longer than"
ok "over-long line refused, not truncated"

printf '[agent]\nmember = 1\nmember = 2\n' >"$C"
expect_exit 2 "$AGENT" -c "$C" list
assert_contains "$T/err" "$C:3: member: set twice (first at line 2)"
ok "a plain key set twice"

printf '[nosuch]\nkey = 1\n' >"$C"
expect_exit 2 "$AGENT" -c "$C" list
assert_contains "$T/err" "$C:2: key: unknown section [nosuch]"
ok "unknown section"

printf '[agent]\nthis line has no equals sign\n' >"$C"
expect_exit 2 "$AGENT" -c "$C" list
assert_contains "$T/err" "$C:2: syntax error"
ok "syntax error"

printf '[agent]\ngarbage line\nmember = x\n' >"$C"
expect_exit 2 "$AGENT" -c "$C" list
assert_contains "$T/err" "$C:2: syntax error"
ok "the first error is reported, even when it is inih's"

expect_exit 2 "$AGENT" -c "$T/missing.ini" list
assert_contains "$T/err" "$T/missing.ini"
ok "missing config file"

expect_exit 2 "$AGENT" --member 0x1 list
assert_contains "$T/err" "--member: agent.member: '0x1' is not an integer"
ok "bad flag value"

expect_exit 2 "$AGENT" --set archive.nope=1 list
assert_contains "$T/err" "archive.nope: unknown key"
ok "unknown --set key"

expect_exit 2 "$AGENT" --backup-dir "$T/backups" list
assert_contains "$T/err" "member is not set"
ok "member required"

expect_exit 2 "$AGENT" frobnicate
assert_contains "$T/err" "unknown command 'frobnicate'"
ok "unknown command"

# Precedence: file < BACKUP_DIR < --backup-dir. Lists repeat.
mkdir -p "$T/b-file" "$T/b-env" "$T/b-flag"
printf '[agent]\nmember = 1\ndata_dir = %s\nbackup_dir = %s\n[archive]\nexclude = keystore\nexclude = geth/chaindata/000002.log\n' \
	"$T/data" "$T/b-file" >"$C"
expect_exit 0 "$AGENT" -c "$C" archive
[ -n "$(ls "$T/b-file/member1/"*.json)" ] || fail "file's backup_dir not used"
id=$(ls "$T/b-file/member1/" | sed -n 's/\.json$//p')
tar --zstd -tf "$T/b-file/member1/$id.tar.zst" >"$T/listing"
if grep -q 'keystore\|000002.log' "$T/listing"; then
	fail "repeated exclude keys not all applied"
fi
assert_contains "$T/listing" "geth/chaindata/000001.ldb"
ok "config file applies, list keys repeat"
BACKUP_DIR="$T/b-env" expect_exit 0 "$AGENT" -c "$C" archive
[ -n "$(ls "$T/b-env/member1/"*.json)" ] || fail "BACKUP_DIR not used"
ok "BACKUP_DIR overrides the file"
BACKUP_DIR="$T/b-env" expect_exit 0 "$AGENT" -c "$C" --backup-dir "$T/b-flag" archive
[ -n "$(ls "$T/b-flag/member1/"*.json)" ] || fail "--backup-dir not used"
ok "--backup-dir overrides BACKUP_DIR"
finish
