#!/bin/sh
# conf/quorum-backup-agent.ini and conf/quorum-backup.ini are what the
# config tables generate, they load cleanly (commented or not), and --help
# documents every key.
. "$(dirname "$0")/lib.sh"

"$AGENT" --sample-config >"$T/sample.ini"
diff -u "$top_srcdir/conf/quorum-backup-agent.ini" "$T/sample.ini" >&2 ||
	fail "conf/quorum-backup-agent.ini is stale: regenerate it with --sample-config"
ok "sample file matches the config table"

sed 's/^;\([a-z_]* =\)/\1/' "$T/sample.ini" | grep -v '^member = 0$' >"$T/active.ini"
grep -q '^level = 3' "$T/active.ini" || fail "uncommenting failed"
expect_exit 0 "$AGENT" -c "$T/active.ini" --member 1 --backup-dir "$T" list
ok "the sample, uncommented, loads"

"$AGENT" --help >"$T/help"
for key in $(grep -o '^;[a-z_]* =' "$T/sample.ini" | tr -d ';= ' | sort -u); do
	grep -q "\] $key:" "$T/help" || fail "--help does not document $key"
done
ok "--help documents every key"

: "${CONTROLLER:=$top_builddir/quorum-backup}"
"$CONTROLLER" --sample-config >"$T/ctl.ini"
diff -u "$top_srcdir/conf/quorum-backup.ini" "$T/ctl.ini" >&2 ||
	fail "conf/quorum-backup.ini is stale: regenerate it with quorum-backup --sample-config"
sed 's/^;\([a-z_]* =\)/\1/' "$T/ctl.ini" >"$T/ctl-active.ini"
grep -q '^ready_timeout = 300' "$T/ctl-active.ini" || fail "uncommenting failed"
# No members are configured: status says so (exit 2), after the file loaded.
expect_exit 2 "$CONTROLLER" -c "$T/ctl-active.ini" status
assert_contains "$T/err" "no members are configured"
"$CONTROLLER" --help >"$T/help"
for key in $(grep -o '^;[a-z_]* =' "$T/ctl.ini" | tr -d ';= ' | sort -u); do
	grep -q "\] $key:" "$T/help" || fail "quorum-backup --help does not document $key"
done
ok "the controller's sample matches its table, loads, and --help documents it"

# README documents every key: a row of its configuration tables names it
# ("| `[archive] level` |" or "| `[agent] conn_timeout`, `conn_memory` |").
readme_keys() {
	awk '/^;?\[/ { s = $0; sub(/^;?\[/, "", s); sub(/[.\]].*/, "", s); next }
	     /^;[a-z_]+ =/ { k = $0; sub(/^;/, "", k); sub(/ =.*/, "", k); print s, k }' "$1" |
		sort -u | while read -r sec key; do
			grep -E "^\| \`\[$sec[].]" "$top_srcdir/README.md" |
				grep -qE "(\] |\`)$key\`" ||
				fail "README's configuration tables lack [$sec] $key"
		done
}
readme_keys "$T/sample.ini"
readme_keys "$T/ctl.ini"
ok "README's configuration tables name every key of both programs"
finish
