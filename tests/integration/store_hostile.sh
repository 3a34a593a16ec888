#!/bin/sh
# The backup volume is written by others too: links and FIFOs put in
# member<N>/ over HTTP. A symlinked legacy archive, ID.tar.zst and ID.json
# are not listed, and refused by describe, both downloads, verify, unpack
# and delete; their targets are neither served nor written nor chmodded,
# through archive and prune jobs as well. A FIFO named ID.json leaves the
# other requests, /readyz and the background prober (/v1/status's
# probed_at) working, and is warned about once. A member directory that is
# a link is refused. Downloads name the file per RFC 6266, legacy names
# with quotes and semicolons included.
. "$(dirname "$0")/lib.sh"
mkdata
printf 'token-h\n' >"$T/token"
chmod 0600 "$T/token"
TOKEN=token-h
M=$T/backups/member1

start_agent() {
	serve_agent 7 --data-dir "$T/data" --backup-dir "$T/backups" --member 1 \
		--set agent.token_file="$T/token" "$@"
	PORT=$SERVE_PORT AGENT_PID=$SERVE_PID
}

stop_agent() {
	kill "$AGENT_PID"
	wait "$AGENT_PID" || { tail -60 "$T/agent.err" >&2; fail "the agent exited badly on SIGTERM"; }
}

# call METHOD PATH [curl args]: status in $STATUS, body in $T/body. Each
# call gives up after 60 s: a FIFO opened for reading would block it.
call() {
	m=$1 p=$2
	shift 2
	STATUS=$(curl -s -m 60 -o "$T/body" -w '%{http_code}' -X "$m" \
		-H "Authorization: Bearer $TOKEN" "$@" "http://127.0.0.1:$PORT$p") ||
		STATUS="curl failed ($?)"
}
expect() {
	[ "$STATUS" = "$1" ] || { cat "$T/body" >&2; fail "$2: HTTP $STATUS, expected $1"; }
}
expect_code() {
	expect "$1" "$3"
	[ "$(jq -r .error.code "$T/body")" = "$2" ] || { cat "$T/body" >&2; fail "$3: error code"; }
}
# What the link targets are: content, mode, size, mtime, inode.
targets() {
	for f in "$T/secret" "$T/secret.json" "$T/secret.tar.zst"; do
		printf '%s %s\n' "$(stat -c '%n %a %s %Y %i' "$f")" \
			"$(sha256sum <"$f" | cut -d' ' -f1)"
	done
}

start_agent
call POST "/v1/archive?wait=60"
expect 200 "first archive"
[ "$(jq -r .state "$T/body")" = succeeded ] || fail "first archive: $(cat "$T/body")"
id=$(jq -r .result.backup "$T/body")

# What a followed link would expose or let the agent write: a secret, and
# a valid metadata file and archive (a followed link would verify).
printf 'TOPSECRET\n' >"$T/secret"
cp "$M/$id.json" "$T/secret.json"
cp "$M/$id.tar.zst" "$T/secret.tar.zst"
chmod 0644 "$T/secret" "$T/secret.json" "$T/secret.tar.zst"
targets >"$T/targets.before"

LA=20200101T000001Z   # its archive a link
LM=20200101T000002Z   # its metadata a link
FM=20200101T000003Z   # its metadata a FIFO
ln -s "$T/secret" "$M/evil.tar.gz"
ln -s "$T/secret.tar.zst" "$M/$LA.tar.zst"
sed "s/$id/$LA/g" "$M/$id.json" >"$M/$LA.json"
cp "$M/$id.tar.zst" "$M/$LM.tar.zst"
ln -s "$T/secret.json" "$M/$LM.json"
cp "$M/$id.tar.zst" "$M/$FM.tar.zst"
mkfifo "$M/$FM.json"
# A leftover reservation that is a link: cleanup removes the link only.
ln -s "$T/secret" "$M/20200101T000009Z.tar.zst.partial"

call GET /v1/backups
expect 200 "list"
[ "$(jq -r '[.[].id] | join(" ")' "$T/body")" = "$id" ] ||
	fail "the list holds more than $id: $(jq -c '[.[].id]' "$T/body")"
for x in evil.tar.gz "$LA" "$LM" "$FM"; do
	call GET "/v1/backups/$x"
	expect_code 404 not_found "describe $x"
	jq -r .error.message "$T/body" | grep -q "refused" ||
		fail "describe $x: the reason: $(cat "$T/body")"
	for what in archive metadata; do
		call GET "/v1/backups/$x/$what"
		expect_code 404 not_found "$what of $x"
		! grep -q TOPSECRET "$T/body" || fail "$what of $x served the secret"
	done
	call DELETE "/v1/backups/$x?force=1"
	expect_code 404 not_found "delete $x"
	call POST "/v1/backups/$x/verify?wait=30"
	[ "$(jq -r .state "$T/body")" = failed ] &&
		[ "$(jq -r .error.code "$T/body")" = not_found ] ||
		fail "verify $x: $(cat "$T/body")"
done
ok "a symlinked legacy archive, ID.tar.zst and ID.json and a FIFO ID.json: not listed; describe, downloads, delete and verify refuse them (404)"

tree_before=$(tree_hash "$T/data")
call POST "/v1/unpack?backup=$LA&wait=30"
[ "$(jq -r .state "$T/body")" = failed ] &&
	[ "$(jq -r .error.code "$T/body")" = not_found ] || fail "unpack $LA: $(cat "$T/body")"
[ "$(tree_hash "$T/data")" = "$tree_before" ] || fail "a refused unpack changed the data"
call POST "/v1/archive?wait=60"
[ "$(jq -r .state "$T/body")" = succeeded ] || fail "archive next to the links: $(cat "$T/body")"
id2=$(jq -r .result.backup "$T/body")
call POST "/v1/prune?wait=30"
[ "$(jq -r .state "$T/body")" = succeeded ] || fail "prune next to the links: $(cat "$T/body")"
[ ! -e "$M/20200101T000009Z.tar.zst.partial" ] && [ ! -L "$M/20200101T000009Z.tar.zst.partial" ] ||
	fail "the leftover link was kept"
for l in evil.tar.gz "$LA.tar.zst" "$LM.json"; do
	[ -L "$M/$l" ] || fail "$l is no longer the link it was"
done
[ -p "$M/$FM.json" ] || fail "the FIFO is gone"
targets >"$T/targets.after"
diff -u "$T/targets.before" "$T/targets.after" >&2 ||
	fail "a link's target was written or chmodded"
call GET /v1/backups
[ "$(jq -r '[.[].id] | sort | join(" ")' "$T/body")" = "$(printf '%s\n' "$id" "$id2" | sort | tr '\n' ' ' | sed 's/ $//')" ] ||
	fail "the list after the jobs: $(jq -c '[.[].id]' "$T/body")"
ok "unpack of a linked archive refused, data untouched; archive and prune jobs beside the links: the targets neither read into a reply, written nor chmodded"

# The FIFO: refused at once (a FIFO opened for reading would block the
# request); every other request and /readyz answer; the prober goes on.
call GET "/v1/backups/$FM/metadata"
expect_code 404 not_found "metadata download of a FIFO"
STATUS=$(curl -s -m 10 -o "$T/body" -w '%{http_code}' "http://127.0.0.1:$PORT/readyz")
expect 200 "readyz beside a FIFO"
call GET "/v1/backups/$id/metadata"
expect 200 "metadata of a good backup beside a FIFO"
call GET /v1/status
expect 200 status
p1=$(jq -r .probed_at "$T/body")
[ "$p1" != null ] || fail "no probed_at: $(cat "$T/body")"
newer() { # A B: A is a later time than B
	awk -v a="$1" -v b="$2" 'BEGIN { exit !(a > b) }'
}
probed_after() {
	call GET /v1/status
	newer "$(jq -r .probed_at "$T/body")" "$1"
}
wait_for "probed_after $p1" 300
p2=$(jq -r .probed_at "$T/body")
wait_for "probed_after $p2" 300
n=$(grep -c "event=backup_file_skipped .*name=$FM.json " "$T/agent.err" || true)
[ "$n" = 1 ] || fail "the FIFO was warned about $n times, not once"
grep "event=backup_file_skipped .*name=$FM.json " "$T/agent.err" | grep -q 'kind="a FIFO"' ||
	fail "the warning does not say FIFO"
for l in evil.tar.gz "$LA.tar.zst" "$LM.json"; do
	[ "$(grep -c "event=backup_file_skipped .*name=$l " "$T/agent.err")" = 1 ] ||
		fail "$l: not warned about exactly once"
done
ok "a FIFO named ID.json: /readyz and other requests answer, probed_at keeps moving (twice in a row), one warning per skipped name"

# Content-Disposition (RFC 6266): an ASCII stand-in, then the exact name.
disposition() { # PATH: the download's Content-Disposition value
	curl -s -m 60 -o /dev/null -D "$T/headers" -H "Authorization: Bearer $TOKEN" \
		"http://127.0.0.1:$PORT$1"
	tr -d '\r' <"$T/headers" | sed -n 's/^[Cc]ontent-[Dd]isposition: //p'
}
tar -czf "$M/a\";x=1.tar.gz" -C "$T/data" geth/nodekey
tar -czf "$M/é.tar.gz" -C "$T/data" geth/nodekey
got=$(disposition "/v1/backups/a%22%3Bx%3D1.tar.gz/archive")
[ "$got" = "attachment; filename=\"a_;x=1.tar.gz\"; filename*=UTF-8''a%22%3Bx%3D1.tar.gz" ] ||
	fail "Content-Disposition of a\";x=1.tar.gz: $got"
got=$(disposition "/v1/backups/%C3%A9.tar.gz/archive")
[ "$got" = "attachment; filename=\"__.tar.gz\"; filename*=UTF-8''%C3%A9.tar.gz" ] ||
	fail "Content-Disposition of é.tar.gz: $got"
got=$(disposition "/v1/backups/$id/archive")
[ "$got" = "attachment; filename=\"$id.tar.zst\"; filename*=UTF-8''$id.tar.zst" ] ||
	fail "Content-Disposition of $id: $got"
got=$(disposition "/v1/backups/$id/metadata")
[ "$got" = "attachment; filename=\"$id.json\"; filename*=UTF-8''$id.json" ] ||
	fail "Content-Disposition of $id's metadata: $got"
call GET "/v1/backups/a%22%3Bx%3D1.tar.gz/archive"
expect 200 "download of a\";x=1.tar.gz"
cmp -s "$T/body" "$M/a\";x=1.tar.gz" || fail "a\";x=1.tar.gz: other bytes served"
ok "Content-Disposition: filename with an ASCII stand-in, filename* percent-encoded UTF-8 (quote, semicolon, non-ASCII)"
stop_agent

# member<N> itself a link: refused at start and by the offline commands;
# what it points to is neither chmodded nor written.
mkdir "$T/elsewhere"
chmod 0755 "$T/elsewhere"
ln -s "$T/elsewhere" "$T/backups/member2"
# (an agent that would serve through the link is stopped after 20 s)
expect_exit 1 timeout 20 "$AGENT" --data-dir "$T/data" --backup-dir "$T/backups" \
	--member 2 --set agent.token_file="$T/token" --set agent.listen=127.0.0.1:1 serve
assert_contains "$T/err" "member2 is a symbolic link: refused"
expect_exit 1 "$AGENT" --data-dir "$T/data" --backup-dir "$T/backups" --member 2 list
assert_contains "$T/err" "member2 is a symbolic link: refused"
expect_exit 1 "$AGENT" --data-dir "$T/data" --backup-dir "$T/backups" --member 2 archive
assert_contains "$T/err" "member2 is a symbolic link: refused"
[ "$(stat -c %a "$T/elsewhere")" = 755 ] || fail "the link's target was chmodded"
[ -z "$(ls -A "$T/elsewhere")" ] || fail "files made through the link: $(ls -A "$T/elsewhere")"
ok "a member directory that is a link: serve, list and archive refuse it (exit 1), its target untouched"
finish
