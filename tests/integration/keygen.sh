#!/bin/sh
# quorum-backup-agent keygen: its identity works with Debian's age and
# age-keygen (both ways), the file is 0600 and never overwritten or made
# through a link, stdout holds the identity and stderr the recipient as
# age-keygen prints them, and the identity never goes into JSON.
. "$(dirname "$0")/lib.sh"

command -v age >/dev/null 2>&1 && command -v age-keygen >/dev/null 2>&1 ||
	fail "age is not installed (Debian package age, in scripts/install-deps.sh)"

# -o FILE: 0600, age-keygen's format, the recipient on stderr.
expect_exit 0 "$AGENT" keygen -o "$T/id.txt"
[ "$(stat -c %a "$T/id.txt")" = 600 ] || fail "identity file mode $(stat -c %a "$T/id.txt")"
[ -s "$T/out" ] && fail "keygen -o wrote to stdout: $(cat "$T/out")"
recipient=$(sed -n 's/^Public key: //p' "$T/err")
case $recipient in age1?*) ;; *) fail "no 'Public key: age1...' on stderr: $(cat "$T/err")" ;; esac
grep -q '^# created: [0-9T:-]*Z$' "$T/id.txt" || fail "no '# created:' line"
grep -qx "# public key: $recipient" "$T/id.txt" || fail "no '# public key:' line"
[ "$(grep -c '^AGE-SECRET-KEY-1[0-9A-Z]*$' "$T/id.txt")" = 1 ] || fail "not one identity line"
[ "$(age-keygen -y "$T/id.txt")" = "$recipient" ] ||
	fail "age-keygen -y derives another recipient: $(age-keygen -y "$T/id.txt")"
ok "keygen -o: 0600, age-keygen's format, age-keygen -y agrees on the recipient"

# Both ways with age: encrypted to our recipient, our identity decrypts.
head -c 100000 /dev/urandom >"$T/plain"
age -r "$recipient" -o "$T/enc.age" "$T/plain"
age -d -i "$T/id.txt" -o "$T/dec" "$T/enc.age"
cmp -s "$T/plain" "$T/dec" || fail "age -d with our identity: content differs"
ok "age -r our recipient | age -d -i our identity round-trips"

# Without -o: the identity on stdout (nothing else there), usable as is.
expect_exit 0 "$AGENT" keygen
cp "$T/out" "$T/stdout-id.txt"
chmod 600 "$T/stdout-id.txt"
r2=$(sed -n 's/^Public key: //p' "$T/err")
[ "$(grep -vc '^#' "$T/stdout-id.txt")" = 1 ] || fail "stdout holds more than the identity"
[ "$(age-keygen -y "$T/stdout-id.txt")" = "$r2" ] || fail "stdout identity and stderr recipient disagree"
[ "$r2" != "$recipient" ] || fail "two keygens made the same key"
echo marker | age -r "$r2" | age -d -i "$T/stdout-id.txt" >"$T/m"
[ "$(cat "$T/m")" = marker ] || fail "the stdout identity does not decrypt"
ok "keygen to stdout: a fresh identity age decrypts with"

# Never over an existing file, never through a link (even a dangling one).
cp "$T/id.txt" "$T/id.before"
expect_exit 2 "$AGENT" keygen -o "$T/id.txt"
assert_contains "$T/err" "exists: keygen never overwrites a key file"
cmp -s "$T/id.txt" "$T/id.before" || fail "an existing identity file was changed"
ln -s "$T/elsewhere" "$T/link"
expect_exit 2 "$AGENT" keygen -o "$T/link"
[ -e "$T/elsewhere" ] && fail "keygen wrote through a symbolic link"
expect_exit 2 "$AGENT" keygen -o "$T/no-such-dir/id.txt"
assert_contains "$T/err" "no-such-dir/id.txt"
ok "an existing file, a link and a missing directory are refused, nothing written"

# --json: only with -o, and the secret never in it.
expect_exit 2 "$AGENT" keygen --json
assert_contains "$T/err" "keygen --json needs -o FILE"
[ -s "$T/out" ] && fail "keygen --json without -o printed: $(cat "$T/out")"
expect_exit 0 "$AGENT" --json keygen -o "$T/j.txt"
python3 - "$T/out" "$T/j.txt" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
assert j["identity_file"] == sys.argv[2], j
assert j["recipient"].startswith("age1"), j
assert len(j["fingerprint"]) == 16, j
assert "SECRET" not in open(sys.argv[1]).read().upper()
PY
fp=$(printf %s "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["recipient"])' "$T/out")" | sha256sum | cut -c1-16)
assert_contains "$T/out" "\"fingerprint\": \"$fp\""
ok "keygen --json -o: recipient, fingerprint (sha256 of the recipient), file; no secret"

# -o belongs to keygen; keygen takes no argument.
expect_exit 2 "$AGENT" list -o "$T/x"
assert_contains "$T/err" "-o/--output goes with keygen"
expect_exit 2 "$AGENT" keygen extra
[ -e "$T/x" ] && fail "list -o wrote a file"
ok "-o with another command and an argument to keygen are usage errors"

finish
