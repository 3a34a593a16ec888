#!/bin/sh
# conf/quorum-backup-agent.ini is what the config table generates, it loads
# cleanly (commented or not), and --help documents every key.
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
finish
