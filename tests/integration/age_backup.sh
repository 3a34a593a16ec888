#!/bin/sh
# Backups encrypted with age, written by the agent to [encryption]
# recipients_file and read with Debian's age: the archive decrypts with
# `age -d -i` (either of two recipients' identities, one from age-keygen,
# one from keygen) into a tree equal to the data; no marker of the data
# and no content hash of a short password is anywhere on the backup
# volume; verify --stored needs no key; the full verify and unpack need
# the identity (no_identity / wrong_identity, exit 2, naming the
# fingerprints, HTTP 400 before any job); every kind of tampering (the
# header, its MAC, a middle and the last chunk, truncations at and inside
# a chunk, two chunks swapped, a recipient stanza replaced) makes unpack
# exit 5 with the data dir unchanged; [encryption] require, and a bad
# recipients line (FILE:LINE), are exit 2 at start.
. "$(dirname "$0")/lib.sh"

command -v age >/dev/null 2>&1 && command -v age-keygen >/dev/null 2>&1 ||
	fail "age is not installed (Debian package age, in scripts/install-deps.sh)"

mkdata
# A marker that must never be stored in the clear, in a file large enough
# for several 64 KiB chunks, and a short password whose hash must not show.
MARKER=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
{ head -c 200000 /dev/urandom | od -An -tx1; echo "$MARKER"; } >"$T/data/keystore/notes"
printf 'hunter2\n' >"$T/data/tm.password"
age-keygen -o "$T/a.key" 2>/dev/null
"$AGENT" keygen -o "$T/b.key" 2>/dev/null
"$AGENT" keygen -o "$T/c.key" 2>/dev/null
ra=$(age-keygen -y "$T/a.key")
rb=$(age-keygen -y "$T/b.key")
printf '# operator\n%s\n\n  %s  # escrow\n' "$ra" "$rb" >"$T/recipients"
sed -i 's/  # escrow$//' "$T/recipients"
fpa=$(printf %s "$ra" | sha256sum | cut -c1-16)
fpb=$(printf %s "$rb" | sha256sum | cut -c1-16)
M=$T/backups/member1

enc() { agent --set encryption.recipients_file="$T/recipients" "$@"; }
with_key() { k=$1; shift; enc --set encryption.identity_file="$T/$k.key" "$@"; }

expect_exit 0 enc --json archive
id=$(jq -r .id "$T/out")
[ "$(jq -r .encrypted "$T/out")" = true ] || fail "archive --json: not encrypted"
[ -f "$M/$id.tar.zst.age" ] && [ -f "$M/$id.json" ] || fail "no $id.tar.zst.age beside its metadata: $(ls "$M")"
[ ! -e "$M/$id.tar.zst" ] || fail "a plaintext archive beside the encrypted one"
python3 - "$M/$id.json" "$fpa" "$fpb" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
assert m["encrypted"] is True, m.get("encrypted")
assert m["encryption"]["recipients"] == [sys.argv[2], sys.argv[3]], m["encryption"]
assert m["archive"]["file"].endswith(".tar.zst.age"), m["archive"]
assert m["file_hash"] == "xxh3-128+hmac-sha256", m["file_hash"]
for e in m["entries"]:
    assert not e["path"].startswith(".quorum-backup"), e
    if e["type"] == "file":
        assert e["hash"].startswith("hmac-sha256:") and len(e["hash"]) == 76, e
PY
ok "archive with recipients: $id.tar.zst.age, metadata encrypted with both fingerprints, keyed hashes"

# Interop: Debian's age reads it with either identity.
for k in a b; do
	rm -rf "$T/by-age"
	mkdir "$T/by-age"
	age -d -i "$T/$k.key" "$M/$id.tar.zst.age" | zstd -dq | tar -C "$T/by-age" -xf -
	[ -f "$T/by-age/.quorum-backup/manifest.json" ] || fail "no manifest as the first entry"
	same_tree "$T/data" "$T/by-age"
done
age -d -i "$T/a.key" "$M/$id.tar.zst.age" | zstd -dq | tar -tf - >"$T/list"
[ "$(head -1 "$T/list")" = .quorum-backup/manifest.json ] || fail "the manifest is not the first entry: $(head -1 "$T/list")"
ok "age -d -i (age-keygen's identity, then keygen's) | zstd -d | tar -x gives the data back"

# Nothing in the clear at rest: the marker, and the password's hashes.
grep -rqF "$MARKER" "$T/backups" && fail "the marker is in the clear on the backup volume"
grep -rqF hunter2 "$T/backups" && fail "the password is in the clear on the backup volume"
mkdir -p "$T/plainbk"
"$AGENT" --data-dir "$T/data" --backup-dir "$T/plainbk" --member 1 --json archive >"$T/plain.out" 2>/dev/null
pid=$(jq -r .id "$T/plain.out")
[ -f "$T/plainbk/member1/$pid.tar.zst" ] || fail "no plaintext backup without recipients"
xh=$(jq -r '.entries[] | select(.path == "tm.password") | .hash' "$T/plainbk/member1/$pid.json")
case $xh in xxh3-128:*) ;; *) fail "no plain hash of tm.password: $xh" ;; esac
sh=$(sha256sum <"$T/data/tm.password" | cut -d' ' -f1)
for h in "${xh#xxh3-128:}" "$sh"; do
	grep -rqF "$h" "$T/backups" && fail "the hash $h of tm.password is in the clear"
done
ok "a random marker of the data and the hashes of a short password appear nowhere on the backup volume"

# The stored file audited without a key; tampered, exit 5.
expect_exit 0 agent verify --stored "$id"
assert_contains "$T/out" "size and SHA-256 match"
cp "$M/$id.tar.zst.age" "$T/orig.age"
python3 - "$M/$id.tar.zst.age" <<'PY'
import sys
b = bytearray(open(sys.argv[1], "rb").read()); b[len(b) // 2] ^= 1
open(sys.argv[1], "wb").write(b)
PY
expect_exit 5 agent verify --stored "$id"
assert_contains "$T/err" "SHA-256 is"
cp "$T/orig.age" "$M/$id.tar.zst.age"
ok "verify --stored with no identity at all: ok, and exit 5 once a byte is flipped"

# The full verify: either identity; none; another.
expect_exit 0 with_key a verify "$id"
expect_exit 0 with_key b verify latest
assert_contains "$T/out" "every file hash and the archive SHA-256 match"
expect_exit 2 enc verify "$id"
assert_contains "$T/err" "code=no_identity"
assert_contains "$T/err" "encrypted with age to $fpa, $fpb"
fpc=$(printf %s "$(age-keygen -y "$T/c.key")" | sha256sum | cut -c1-16)
expect_exit 2 with_key c verify "$id"
assert_contains "$T/err" "code=wrong_identity"
assert_contains "$T/err" "the identity file holds $fpc"
ok "full verify: each identity alone passes; none is no_identity, another is wrong_identity (exit 2, fingerprints named)"

# unpack: refused without the right identity, and nothing changes.
echo changed >"$T/data/tm.password"
before=$(tree_hash "$T/data")
expect_exit 2 enc unpack "$id"
assert_contains "$T/err" "code=no_identity"
expect_exit 2 with_key c unpack "$id"
assert_contains "$T/err" "code=wrong_identity"
[ "$(tree_hash "$T/data")" = "$before" ] || fail "a refused unpack changed the data dir"
[ ! -e "$T/data/.quorum-backup/previous" ] || fail "a refused unpack moved the tree aside"
ok "unpack with no identity or another's: exit 2, the data dir unchanged"

# Tampering (age_tamper.py says where each kind changes the file), each
# refused with exit 5 before the data dir changes.
tamper() { # KIND: $M/$id.tar.zst.age changed from $T/orig.age
	python3 "$top_srcdir/tests/integration/age_tamper.py" "$T/orig.age" "$M/$id.tar.zst.age" "$1"
}
for kind in header stanza mac middle last cut-boundary cut-inside swap; do
	tamper "$kind"
	cmp -s "$T/orig.age" "$M/$id.tar.zst.age" && fail "$kind: nothing changed"
	expect_exit 5 with_key a unpack "$id"
	assert_contains "$T/err" "code=verification_failed"
	[ "$(tree_hash "$T/data")" = "$before" ] || fail "$kind: the data dir changed"
	[ ! -e "$T/data/.quorum-backup/staging" ] || fail "$kind: staging left behind"
done
cp "$T/orig.age" "$M/$id.tar.zst.age"
ok "header, stanza, MAC, a middle and the last chunk, two truncations, two chunks swapped: unpack exit 5, data unchanged"

# The real unpack: the data as it was, and no manifest written out.
expect_exit 0 with_key b unpack "$id"
[ "$(cat "$T/data/tm.password")" = hunter2 ] || fail "unpack did not restore the password file"
same_tree "$T/by-age" "$T/data"
[ ! -e "$T/data/.quorum-backup/manifest.json" ] || fail "unpack wrote the manifest into the data dir"
ok "unpack with keygen's identity restores the tree; the manifest is not written out"

# list says it.
expect_exit 0 agent --json list
[ "$(jq -r --arg id "$id" '.[] | select(.id == $id) | .encrypted' "$T/out")" = true ] || fail "list: not encrypted"
[ "$(jq -r --arg id "$id" '.[] | select(.id == $id) | .recipients | join(",")' "$T/out")" = "$fpa,$fpb" ] || fail "list: recipients"
expect_exit 0 agent list
assert_contains "$T/out" "  encrypted"
ok "list (text and --json) says encrypted, with the fingerprints"

# Configuration: require without recipients, a bad recipients line.
expect_exit 2 agent --set encryption.require=true archive
assert_contains "$T/err" "require is true but recipients_file is not set"
expect_exit 2 agent --set encryption.require=true --set agent.listen=127.0.0.1:1 serve
assert_contains "$T/err" "require is true"
printf '%s\nage1notakey\n' "$ra" >"$T/bad-recipients"
expect_exit 2 agent --set encryption.recipients_file="$T/bad-recipients" archive
assert_contains "$T/err" "bad-recipients:2: "
n=$(ls "$M" | grep -c 'tar.zst' || true)
[ "$n" = 1 ] || fail "a refused archive left files: $(ls "$M")"
ok "require = true without recipients and a malformed recipients line: exit 2 at start, FILE:LINE named"

# Over HTTP: 400 before any job, stored verify as a job, encrypted in the list.
printf 'token-e\n' >"$T/token"
chmod 600 "$T/token"
serve_agent 13 --data-dir "$T/data" --backup-dir "$T/backups" --member 1 \
	--set agent.token_file="$T/token" --set encryption.recipients_file="$T/recipients"
call() {
	STATUS=$(curl -s -m 60 -o "$T/body" -w '%{http_code}' -X "$1" \
		-H "Authorization: Bearer token-e" "http://127.0.0.1:$SERVE_PORT$2")
}
call POST "/v1/backups/$id/verify"
[ "$STATUS" = 400 ] && [ "$(jq -r .error.code "$T/body")" = no_identity ] ||
	fail "verify without identity over HTTP: $STATUS $(cat "$T/body")"
call POST "/v1/unpack?backup=$id"
[ "$STATUS" = 400 ] && [ "$(jq -r .error.code "$T/body")" = no_identity ] ||
	fail "unpack without identity over HTTP: $STATUS $(cat "$T/body")"
call POST "/v1/backups/$id/verify?stored=1&wait=60"
[ "$STATUS" = 200 ] && [ "$(jq -r .state "$T/body")" = succeeded ] &&
	[ "$(jq -r .result.stored "$T/body")" = true ] ||
	fail "stored verify over HTTP: $STATUS $(cat "$T/body")"
call POST "/v1/archive?wait=60"
[ "$STATUS" = 200 ] && [ "$(jq -r .state "$T/body")" = succeeded ] || fail "archive over HTTP: $(cat "$T/body")"
id2=$(jq -r .result.backup "$T/body")
[ -f "$M/$id2.tar.zst.age" ] || fail "the HTTP archive is not encrypted"
call GET /v1/backups
[ "$(jq -r --arg id "$id2" '.[] | select(.id == $id) | .encrypted' "$T/body")" = true ] || fail "/v1/backups: $(cat "$T/body")"
call GET /v1/status
[ "$(jq -r .last_backup.encrypted "$T/body")" = true ] &&
	[ "$(jq -r '.last_backup.recipients | length' "$T/body")" = 2 ] || fail "/v1/status: $(jq .last_backup "$T/body")"
# The controller: verify --stored passes with no key; the full verify is
# that member's no_identity.
CONTROLLER=${CONTROLLER:-$top_builddir/quorum-backup}
printf '[controller]\nmembers = 1\ntoken_file = %s\njob_timeout = 120\n\n[member.1]\nurl = http://127.0.0.1:%s\n' \
	"$T/token" "$SERVE_PORT" >"$T/ctl.ini"
expect_exit 0 "$CONTROLLER" -c "$T/ctl.ini" verify 1 --stored --backup "$id"
assert_contains "$T/out" verified
expect_exit 1 "$CONTROLLER" -c "$T/ctl.ini" verify 1 --backup "$id"
grep -q no_identity "$T/out" "$T/err" || fail "controller verify: no no_identity in $(cat "$T/out" "$T/err")"
kill "$SERVE_PID"
wait "$SERVE_PID" || fail "the agent exited badly on SIGTERM"
ok "HTTP: no_identity 400 for verify and unpack with no job, ?stored=1 and the controller's verify --stored pass, archive encrypted, /v1/backups and /v1/status say so"

finish
