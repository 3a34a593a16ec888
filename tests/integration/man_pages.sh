#!/bin/sh
# The manual pages in doc/: mandoc finds nothing to warn about, and each
# page documents what its program really offers, read from the programs
# themselves: every long option of --help, every section and key (with its
# default) of --sample-config, every command, every exit code of --help,
# and, for the agent, every route of the HTTP route table in agent/server/routes.c
# (and no route that is not there).
. "$(dirname "$0")/lib.sh"

: "${CONTROLLER:=$top_builddir/quorum-backup}"
: "${GATE:=$top_builddir/quorum-backup-gate}"
DOC=$top_srcdir/doc
AGENT_PAGE=$DOC/quorum-backup-agent.8
CTL_PAGE=$DOC/quorum-backup.1
GATE_PAGE=$DOC/quorum-backup-gate.8

command -v mandoc >/dev/null 2>&1 ||
	fail "mandoc is not installed (Debian package mandoc, in scripts/install-deps.sh)"
for page in "$AGENT_PAGE" "$CTL_PAGE" "$GATE_PAGE"; do
	[ -s "$page" ] || fail "$page is missing or empty"
done

# (1) mandoc -Tlint: no message at warning level or above, exit status 0.
for page in "$AGENT_PAGE" "$CTL_PAGE" "$GATE_PAGE"; do
	set +e
	mandoc -Tlint -Wwarning "$page" >"$T/lint" 2>&1
	rc=$?
	set -e
	if [ "$rc" -ne 0 ] || [ -s "$T/lint" ]; then
		cat "$T/lint" >&2
		fail "mandoc -Tlint -Wwarning: $page (exit $rc)"
	fi
done
ok "mandoc -Tlint -Wwarning reports nothing for the three pages"

# render PAGE OUT: the page as plain text, wide enough that no item wraps;
# the overstrike of bold and underlined text removed.
render() {
	mandoc -Tascii -Owidth=200 "$1" 2>/dev/null |
		awk '{ gsub(/.\010/, ""); print }' >"$2"
	[ -s "$2" ] || fail "mandoc rendered nothing for $1"
}
render "$AGENT_PAGE" "$T/agent.txt"
render "$CTL_PAGE" "$T/ctl.txt"
render "$GATE_PAGE" "$T/gate.txt"

# section NAME TEXT: the lines of one section (headers are at column 0).
section() {
	awk -v name="$1" '
		/^[A-Z][A-Z ]*$/ { on = ($0 == name); next }
		on { print }' "$2"
}

# items: the first lines of list items (and of paragraphs), that is the
# lines that follow a blank line or a subsection header; a line that only
# continues a wrapped paragraph is not one.
items() {
	awk 'prev ~ /^ *$/ || prev ~ /^   [^ ]/ { if ($0 ~ /^ +[^ ]/) print }
		{ prev = $0 }'
}

# The sections every page has.
for f in agent ctl gate; do
	for s in NAME SYNOPSIS DESCRIPTION COMMANDS CONFIGURATION ENVIRONMENT \
	    FILES "EXIT STATUS" EXAMPLES "SEE ALSO"; do
		grep -qx "$s" "$T/$f.txt" || fail "$f page: no section $s"
	done
done
grep -qx "HTTP API" "$T/agent.txt" || fail "agent page: no section HTTP API"
section "SEE ALSO" "$T/agent.txt" | grep -q 'quorum-backup(1), quorum-backup-gate(8)' ||
	fail "agent page: SEE ALSO lacks quorum-backup(1) or quorum-backup-gate(8)"
section "SEE ALSO" "$T/ctl.txt" | grep -q 'quorum-backup-agent(8), quorum-backup-gate(8)' ||
	fail "controller page: SEE ALSO lacks quorum-backup-agent(8) or quorum-backup-gate(8)"
section "SEE ALSO" "$T/gate.txt" | grep -q 'quorum-backup(1), quorum-backup-agent(8)' ||
	fail "gate page: SEE ALSO lacks quorum-backup(1) or quorum-backup-agent(8)"
ok "every page has the sections, and SEE ALSO names the other two"

"$AGENT" --help >"$T/agent.help"
"$CONTROLLER" --help >"$T/ctl.help"
"$GATE" --help >"$T/gate.help"

# (2) Every long option --help prints is an item of the page: an item that
# starts with it (or with its short form, then it), as in "-c, --config".
check_options() {
	help=$1 text=$2 what=$3
	opts=$(grep -o -- '--[a-z][a-z-]*' "$help" | sort -u)
	[ -n "$opts" ] || fail "$what: no options found in --help"
	items <"$text" >"$T/items.txt"
	n=0
	for opt in $opts; do
		grep -Eq -e "^ +(-[A-Za-z], )?$opt( |,|\$)" "$T/items.txt" ||
			fail "$what page: option $opt (from --help) is not documented as an item"
		n=$((n + 1))
	done
	echo "# $what: $n options"
}
check_options "$T/agent.help" "$T/agent.txt" agent
check_options "$T/ctl.help" "$T/ctl.txt" controller
check_options "$T/gate.help" "$T/gate.txt" gate
ok "every long option of each program's --help is an item of its page"

# (3) Every section and key of --sample-config is in CONFIGURATION: the
# section as a subsection "[section]", each key as an item "key = default"
# in it ("key = " and a placeholder when the default is empty); a list key
# (one that the sample repeats) as an item "key = ...", with each default
# value named in its subsection.
check_config() {
	prog=$1 text=$2 what=$3
	"$prog" --sample-config >"$T/sample.ini"
	awk '
		/^;*\[[^]]+\]$/ { sec = $0; sub(/^;*\[/, "", sec); sub(/\]$/, "", sec)
			print "S|" sec; next }
		/^;+[a-z_]+ = / { line = $0; sub(/^;+/, "", line)
			key = line; sub(/ = .*/, "", key)
			val = line; sub(/^[a-z_]+ = /, "", val); sub(/ +$/, "", val)
			print "K|" sec "|" key "|" val }' "$T/sample.ini" >"$T/expect"
	grep -q '^S|' "$T/expect" && grep -q '^K|' "$T/expect" ||
		fail "$what: nothing parsed from --sample-config"
	section CONFIGURATION "$text" >"$T/conf.txt"
	awk -F'|' -v what="$what" '
		# Lines of the page, by subsection (a "   [name]" header).
		FILENAME != ARGV[1] {
			if ($0 ~ /^   \[[^]]+\]$/) {
				cur = $0; sub(/^   \[/, "", cur); sub(/\]$/, "", cur)
				have_sec[cur] = 1; next
			}
			line = $0; sub(/^ +/, "", line)
			text[cur] = text[cur] "\n" line
			next
		}
		$1 == "S" { secs[$2] = 1; next }
		$1 == "K" { n[$2 "|" $3]++; vals[$2 "|" $3, n[$2 "|" $3]] = $4
			if (n[$2 "|" $3] == 1) order[++nk] = $2 "|" $3 }
		function has_line(sec, want,   t) {
			t = text[sec] "\n"
			return index(t, "\n" want "\n") > 0
		}
		function has_prefix(sec, want) {
			return index(text[sec] "\n", "\n" want) > 0
		}
		# A value as a word of its own: not inside a longer path or name.
		function has_word(sec, want,   t, i, before, after, rest) {
			t = " " text[sec] " "
			while ((i = index(t, want)) > 0) {
				before = substr(t, i - 1, 1)
				rest = substr(t, i + length(want))
				after = substr(rest, 1, 1)
				if (before !~ /[A-Za-z0-9_\/.-]/ &&
				    (after !~ /[A-Za-z0-9_\/.-]/ ||
				    (after == "." && substr(rest, 2, 1) !~ /[A-Za-z0-9_\/-]/)))
					return 1
				t = rest
			}
			return 0
		}
		END {
			bad = 0; count = 0
			for (s in secs)
				if (!(s in have_sec)) {
					printf "%s page: no subsection [%s] in CONFIGURATION\n", what, s
					bad = 1
				}
			for (k = 1; k <= nk; k++) {
				split(order[k], p, "|"); sec = p[1]; key = p[2]; m = n[order[k]]
				count++
				if (m == 1 && vals[order[k], 1] != "") {
					if (!has_line(sec, key " = " vals[order[k], 1])) {
						printf "%s page: [%s] %s: no item \"%s = %s\"\n", what, sec, key, key, vals[order[k], 1]
						bad = 1
					}
					continue
				}
				if (!has_prefix(sec, key " = ")) {
					printf "%s page: [%s] %s: no item \"%s = ...\"\n", what, sec, key, key
					bad = 1
					continue
				}
				for (j = 1; j <= m; j++)
					if (vals[order[k], j] != "" && !has_word(sec, vals[order[k], j])) {
						printf "%s page: [%s] %s: default %s not named\n", what, sec, key, vals[order[k], j]
						bad = 1
					}
			}
			printf "# %s: %d keys\n", what, count
			exit bad
		}' "$T/expect" "$T/conf.txt" >"$T/conf.out" || {
		cat "$T/conf.out" >&2
		fail "$what page: CONFIGURATION does not match --sample-config"
	}
	cat "$T/conf.out"
}
check_config "$AGENT" "$T/agent.txt" agent
check_config "$CONTROLLER" "$T/ctl.txt" controller
ok "every section and key of --sample-config, with its default, is in CONFIGURATION"

# (4) Every command is an item of COMMANDS. The commands are read from
# --help (the agent's and the controller's "Commands:" list, the gate's
# usage lines) and must include the known ones, so that a change in the
# help's layout cannot make this check pass on an empty list.
help_commands() {
	awk '/^Commands:/ { on = 1; next } on && /^$/ { exit }
		on && /^  [a-z]/ { print $1 }' "$1"
}
gate_commands() {
	awk '$1 == "quorum-backup-gate" && $2 ~ /^[a-z]+$/ { print $2 }' "$1" |
		sort -u
}
check_commands() {
	list=$1 text=$2 what=$3 known=$4
	for c in $known; do
		echo "$list" | grep -qx -- "$c" ||
			fail "$what: command $c not found in --help (its layout changed?)"
	done
	section COMMANDS "$text" | items >"$T/cmds.txt"
	for c in $list; do
		grep -Eq "^ +$c( |\$)" "$T/cmds.txt" ||
			fail "$what page: command $c is not an item of COMMANDS"
		grep -Eq "(^|[^a-z-])$c([^a-z-]|\$)" "$T/syn.txt" ||
			fail "$what page: command $c is not in SYNOPSIS"
	done
}
section SYNOPSIS "$T/agent.txt" >"$T/syn.txt"
check_commands "$(help_commands "$T/agent.help")" "$T/agent.txt" agent \
	"serve archive unpack rollback discard-previous verify list prune"
section SYNOPSIS "$T/ctl.txt" >"$T/syn.txt"
check_commands "$(help_commands "$T/ctl.help")" "$T/ctl.txt" controller \
	"backup restore list status verify prune"
section SYNOPSIS "$T/gate.txt" >"$T/syn.txt"
check_commands "$(gate_commands "$T/gate.help")" "$T/gate.txt" gate "probe ctl"
ok "every command is in SYNOPSIS and an item of COMMANDS"

# Every exit code of --help ("Exit codes: 0 ..., 1 ...") is an item of EXIT
# STATUS (agent and controller; the gate describes its statuses in prose).
check_exit_codes() {
	help=$1 text=$2 what=$3
	codes=$(sed -n '/^Exit codes:/,/^$/p' "$help" | tr '\n' ' ' |
		grep -oE '(: |, )[0-9]+ ' | tr -dc '0-9\n')
	[ "$(echo "$codes" | wc -w)" -ge 5 ] || fail "$what: exit codes not found in --help"
	section "EXIT STATUS" "$text" >"$T/exit.txt"
	for c in $codes; do
		grep -Eq "^ +$c( |\$)" "$T/exit.txt" ||
			fail "$what page: exit status $c is not in EXIT STATUS"
	done
}
check_exit_codes "$T/agent.help" "$T/agent.txt" agent
check_exit_codes "$T/ctl.help" "$T/ctl.txt" controller
ok "every exit code of --help is in EXIT STATUS"

# (5) Every route of agent/server/routes.c's route table is an item "METHOD PATH" of
# HTTP API ({id} written ID), and every such item is a route.
sed -n 's/^[[:space:]]*{ *"\([A-Z]*\)", *"\(\/[^"]*\)",.*/\1 \2/p' \
	"$top_srcdir/agent/server/routes.c" | sed 's/{id}/ID/g' | sort -u >"$T/routes"
[ "$(wc -l <"$T/routes")" -ge 15 ] ||
	fail "fewer than 15 routes read from agent/server/routes.c: its route table changed?"
section "HTTP API" "$T/agent.txt" |
	grep -E '^ *(GET|POST|PUT|DELETE|PATCH|HEAD) /[^ ]*$' | sed 's/^ *//' |
	sort -u >"$T/documented" || true
while read -r route; do
	grep -qxF -- "$route" "$T/documented" ||
		fail "agent page: route $route (agent/server/routes.c) is not an item of HTTP API"
done <"$T/routes"
while read -r route; do
	grep -qxF -- "$route" "$T/routes" ||
		fail "agent page: HTTP API documents $route, which agent/server/routes.c does not route"
done <"$T/documented"
echo "# $(wc -l <"$T/routes") routes"
ok "every route of the agent's route table is in HTTP API, and only those"

finish
