#!/bin/sh
# verify PATH of an archive encrypted with Debian's age (tar | zstd | age):
# read through with an identity from age-keygen or keygen, each of two
# recipients' identities alone; every kind of tampering (header, MAC, a
# middle chunk, the last chunk, truncations at and inside a chunk, two
# chunks swapped) is exit 5 (a changed recipient stanza, which names no
# recipient, reads as another's file: exit 2); no identity, the wrong one, a world-readable
# identity file and a malformed one are exit 2 with a clear message.
. "$(dirname "$0")/lib.sh"

command -v age >/dev/null 2>&1 && command -v age-keygen >/dev/null 2>&1 ||
	fail "age is not installed (Debian package age, in scripts/install-deps.sh)"

# A tree of about 300 KiB that does not compress: five chunks of 64 KiB.
mkdir -p "$T/tree/geth/chaindata" "$T/tree/keystore"
head -c 300000 /dev/urandom >"$T/tree/geth/chaindata/000001.ldb"
echo '{"address":"00"}' >"$T/tree/keystore/UTC--key"
ln -s chaindata/000001.ldb "$T/tree/geth/link"
age-keygen -o "$T/a.key" 2>/dev/null
"$AGENT" keygen -o "$T/b.key" 2>/dev/null
ra=$(age-keygen -y "$T/a.key")
rb=$(age-keygen -y "$T/b.key")
tar -C "$T/tree" -cf - . | zstd -q --check | age -r "$ra" -r "$rb" >"$T/two.tar.zst.age"
tar -C "$T/tree" -cf - . | zstd -q --check | age -r "$ra" >"$T/a.tar.zst.age"

# verify_with KEY FILE: the agent's verify of FILE with identity KEY.
verify_with() {
	"$AGENT" --set encryption.identity_file="$1" verify "$2"
}

expect_exit 0 verify_with "$T/a.key" "$T/a.tar.zst.age"
assert_contains "$T/out" "ok a: 7 entries"
assert_contains "$T/out" "age (every chunk authenticated)"
ok "tar | zstd | age -r (an age-keygen key) passes verify PATH"

expect_exit 0 verify_with "$T/a.key" "$T/two.tar.zst.age"
expect_exit 0 verify_with "$T/b.key" "$T/two.tar.zst.age"
expect_exit 0 "$AGENT" --json --set encryption.identity_file="$T/b.key" verify "$T/two.tar.zst.age"
python3 - "$T/out" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
assert j["ok"] is True and j["encrypted"] is True and j["legacy"] is False, j
assert j["files"] == 7, j
PY
ok "two recipients: the age-keygen identity and keygen's each alone open it"

# Keys: none, the wrong one, readable by others, malformed.
expect_exit 2 "$AGENT" verify "$T/a.tar.zst.age"
assert_contains "$T/err" "is encrypted with age: set [encryption] identity_file"
assert_contains "$T/err" "code=no_identity"
expect_exit 2 verify_with "$T/b.key" "$T/a.tar.zst.age"
assert_contains "$T/err" "no identity matches any of the file's 1 X25519 recipient"
assert_contains "$T/err" "code=wrong_identity"
cp "$T/a.key" "$T/open.key"
chmod 644 "$T/open.key"
expect_exit 2 verify_with "$T/open.key" "$T/a.tar.zst.age"
assert_contains "$T/err" "open.key is readable by others (mode 0644): chmod 600 it"
printf '# a key\nAGE-SECRET-KEY-1NOTAKEY\n' >"$T/bad.key"
chmod 600 "$T/bad.key"
expect_exit 2 verify_with "$T/bad.key" "$T/a.tar.zst.age"
assert_contains "$T/err" "bad.key:2: "
grep -q NOTAKEY "$T/err" && fail "the message quotes the key line"
ok "no identity, the wrong one, a world-readable and a malformed identity file: exit 2, said clearly"

# Tampering: age_tamper.py says where each kind changes the file.
tamper() { # KIND OUT: a changed copy of a.tar.zst.age
	python3 "$top_srcdir/tests/integration/age_tamper.py" "$T/a.tar.zst.age" "$2" "$1"
}
for kind in header mac middle last cut-boundary cut-inside swap; do
	tamper "$kind" "$T/t-$kind.tar.zst.age"
	cmp -s "$T/a.tar.zst.age" "$T/t-$kind.tar.zst.age" && fail "$kind: nothing changed"
	expect_exit 5 verify_with "$T/a.key" "$T/t-$kind.tar.zst.age"
	assert_contains "$T/err" "code=verification_failed"
done
assert_contains "$T/err" "chunk"
ok "a flipped byte in the header, the MAC, a middle and the last chunk, two truncations and two chunks swapped: exit 5"

# A stanza's ephemeral share changed: age stanzas do not name their
# recipient, so without metadata this reads as a file for someone else.
tamper stanza "$T/t-stanza.tar.zst.age"
expect_exit 2 verify_with "$T/a.key" "$T/t-stanza.tar.zst.age"
assert_contains "$T/err" "code=wrong_identity"
ok "a changed recipient stanza, without metadata: wrong_identity (exit 2), nothing read"

# The same archive, not encrypted, still verifies by its path.
tar -C "$T/tree" -cf - . | zstd -q --check >"$T/plain.tar.zst"
expect_exit 4 "$AGENT" verify "$T/plain.tar.zst"
assert_contains "$T/err" "plain.json"
ok "a .tar.zst path still needs its metadata; only .tar.zst.age reads without"

finish
