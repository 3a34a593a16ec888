#!/usr/bin/env bash
# bench-restore.sh: compare `quorum-backup-agent unpack` with the plain
# shell way of restoring a GoQuorum data directory from a .tar.zst archive.
#
# Usage: tests/bench/bench-restore.sh [--size MIB] [--rounds N] [--keep]
#
#   --size MIB   size of the synthetic data dir (default 1024)
#   --rounds N   rounds of measurements (default 3)
#   --keep       keep the work dir (and its data, reused by the next run
#                with the same size) instead of deleting it at the end
#
# Environment: AGENT (default <repo>/quorum-backup-agent, or
# <repo>/build/quorum-backup-agent when only that exists; build it first),
# TMPDIR (the work dir is $TMPDIR/quorum-backup-bench-restore), GNU_TIME
# (default /usr/bin/time; without it peak RSS and CPU time are n/a). The
# agent binary is copied into the work dir first, so a rebuild during the
# run cannot break it.
#
# The data is made once by gen-chaindata.sh (deterministic), or reused: the
# data of an earlier bench-restore.sh --keep run, or of a
# bench-archive.sh --keep run ($TMPDIR/quorum-backup-bench/data-MIB), when
# the generator, the size and GEN_SEED match (that data is only read). Two
# backups of it are made with the agent (archive): a plain one, F =
# B/member1/<ID>.tar.zst, and one encrypted with age (--set
# encryption.recipients_file=R), E = B_AGE/member1/<ID>.tar.zst.age, to a
# key pair made in the work dir with the agent's keygen (identity K, 0600;
# removed at the end, with --keep too). Each round then restores each of
# them twice, with the agent and with the shell tools, with a warm page
# cache for the archive file (it is read once through cat before every
# measured run):
#   agent         quorum-backup-agent --data-dir T_A ... unpack
#                 --discard-previous <ID>, where T_A starts as a small
#                 tree (a few files, made fresh every round) that the
#                 agent moves aside and removes at the end; the agent
#                 verifies every hash, extracts into T_A/.quorum-backup/
#                 staging, syncs it (syncfs) and swaps it in
#   agent+age     the same for E, with --set encryption.identity_file=K
#   baseline      mkdir T_B && zstd -dc F | tar -xf - -C T_B && sync -f T_B
#                 (plain sync when sync has no -f)
#   baseline+age  mkdir T_B && age -d -i K E | zstd -dc | tar -xf - -C T_B
#                 && sync -f T_B  (left out, with a warning, when age is
#                 missing)
# and records wall time, CPU time (user + sys) and peak RSS (GNU time's
# %M; for the pipelines, each process separately). The agent runs come
# first in odd rounds (agent, agent+age, baseline, baseline+age) and last
# in even ones (the reverse order); one unmeasured warm-up round of all
# precedes round 1, so that round 1 does not pay for page cache memory
# not touched lately (slow in a VM). T_A and T_B are removed after each
# run and the removal is synced before the next measured run. In round 1,
# outside the timing, T_A is compared with the data after each agent run
# (diff -r, then type, mode, size and mtime of every entry; the agent's
# own .quorum-backup directory left out on both sides): different content
# fails the run, different metadata is reported.
# The report is a plain text table; the targets (agent time <= 0.7 x the
# baseline's; agent+age time <= 1.15 x agent time; medians) print PASS or
# MISS, and the exit status is 0 either way (1 only when a run fails or
# the restored content is wrong).
set -euo pipefail

script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$script_dir/../.." && pwd)
# The agent: $AGENT, else an in-tree build, else the out-of-tree build in
# build/ (what run-tests.sh makes).
if [ -n "${AGENT:-}" ]; then
	agent=$AGENT
elif [ -x "$repo/quorum-backup-agent" ] || [ ! -x "$repo/build/quorum-backup-agent" ]; then
	agent=$repo/quorum-backup-agent
else
	agent=$repo/build/quorum-backup-agent
fi

size_mib=1024
rounds=3
keep=0
usage() {
	echo "usage: $0 [--size MIB] [--rounds N] [--keep]" >&2
	exit 2
}
while [ $# -gt 0 ]; do
	case $1 in
	--size) [ $# -ge 2 ] || usage; size_mib=$2; shift 2 ;;
	--rounds) [ $# -ge 2 ] || usage; rounds=$2; shift 2 ;;
	--keep) keep=1; shift ;;
	-h | --help) sed -n '2,/^set -euo/{/^#/s/^# \{0,1\}//p}' "$0"; exit 0 ;;
	*) usage ;;
	esac
done
case $size_mib$rounds in
*[!0-9]*) usage ;;
esac
if [ "$size_mib" -lt 16 ] || [ "$rounds" -lt 1 ]; then
	usage
fi

die() {
	echo "bench-restore: $*" >&2
	exit 1
}
[ -x "$agent" ] || die "$agent not found or not executable (build it: make -C '$repo', or set AGENT)"
for tool in tar zstd sync awk diff find sort cmp sha256sum; do
	command -v "$tool" >/dev/null || die "$tool is required"
done
if command -v age >/dev/null; then
	have_age=1
else
	have_age=0
	echo "bench-restore: age is missing: the age -d | zstd -dc | tar -x baseline is left out" \
		"(install with: apt-get install -y age)" >&2
fi
gnu_time=${GNU_TIME:-/usr/bin/time}
if ! "$gnu_time" -f %M -o /dev/null true 2>/dev/null; then
	echo "bench-restore: GNU time ($gnu_time) is missing: peak RSS and CPU time will be n/a" \
		"(install with: apt-get install -y time)" >&2
	gnu_time=
fi

tmp_root=${TMPDIR:-/tmp}
work=$tmp_root/quorum-backup-bench-restore
out=$work/out
logs=$work/logs
backups=$out/backups
backups_age=$out/backups-age
keys=$out/keys
t_a=$out/restore-agent
t_b=$out/restore-baseline
cleanup() {
	if [ "$keep" -eq 0 ]; then
		rm -rf -- "$work"
	else
		rm -rf -- "$out"
		echo "bench-restore: kept $work" >&2
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir -p "$work" "$logs"
# Measure a snapshot of the binary (an ELF file; anything else runs in place).
if [ "$(head -c 4 "$agent" | od -An -c | tr -d ' ')" = '177ELF' ]; then
	cp -- "$agent" "$work/quorum-backup-agent"
	agent_src=$agent
	agent=$work/quorum-backup-agent
else
	agent_src=$agent
fi

# The data: ours from a --keep run, else bench-archive's from a --keep run
# (same stamp format), else generated here.
want_stamp="size=$size_mib gen=$(sha256sum <"$script_dir/gen-chaindata.sh" | cut -c1-16) seed=${GEN_SEED:-}"
stamp_ok() { # DIR STAMP
	[ -d "$1" ] && [ -f "$2" ] && [ "$(cat "$2")" = "$want_stamp" ]
}
data=$work/data-$size_mib
stamp=$work/data-$size_mib.stamp
shared=$tmp_root/quorum-backup-bench/data-$size_mib
if stamp_ok "$data" "$stamp"; then
	echo "bench-restore: reusing $data" >&2
	data_from="reused, bench-restore --keep"
elif stamp_ok "$shared" "$shared.stamp"; then
	data=$shared
	echo "bench-restore: reusing $data (bench-archive.sh --keep)" >&2
	data_from="reused, bench-archive --keep"
else
	rm -rf -- "$data" "$stamp"
	echo "bench-restore: generating $size_mib MiB in $data" >&2
	t0=$EPOCHREALTIME
	"$script_dir/gen-chaindata.sh" "$data" "$size_mib" >&2
	echo "bench-restore: generated in $(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }') s" >&2
	printf '%s\n' "$want_stamp" >"$stamp"
	data_from="generated"
fi

# What gets restored: the data minus the agent's own dir.
read -r in_files in_bytes < <(find "$data" -path "$data/.quorum-backup" -prune -o -type f -printf '%s\n' |
	awk '{ n++; s += $1 } END { printf "%d %d\n", n, s }')
free_kib=$(df -Pk "$work" | awk 'NR == 2 { print $4 }')
if [ "$free_kib" -lt $((in_bytes * 2 / 1024)) ]; then
	echo "bench-restore: warning: only $((free_kib / 1024)) MiB free in $work" >&2
fi

# sync -f flushes only the file system of its argument (coreutils >= 8.24).
if sync -f "$work" 2>/dev/null; then
	sync_f=1
	sync_label="sync -f T_B"
else
	sync_f=0
	sync_label="sync"
fi

# timed STATFILE CMD...: run CMD under GNU time (peak RSS in KiB, user and
# system seconds to STATFILE) when available.
timed() {
	local st=$1
	shift
	if [ -n "$gnu_time" ]; then
		"$gnu_time" -f '%M %U %S' -o "$st" "$@"
	else
		echo n/a >"$st"
		"$@"
	fi
}

# stat_rss FILE -> peak RSS in MiB, or n/a; stat_cpu FILE -> user + sys, or n/a
stat_rss() {
	awk 'END { if ($1 ~ /^[0-9]+$/) printf "%.1f", $1 / 1024; else print "n/a" }' "$1" 2>/dev/null || echo n/a
}
stat_cpu() {
	awk 'END { if ($2 ~ /^[0-9.]+$/ && $3 ~ /^[0-9.]+$/) printf "%.2f", $2 + $3; else print "n/a" }' "$1" 2>/dev/null || echo n/a
}
add_cpu() { # a b -> a + b, or n/a
	awk -v a="$1" -v b="$2" 'BEGIN { if (a ~ /^[0-9.]+$/ && b ~ /^[0-9.]+$/) printf "%.2f", a + b; else print "n/a" }'
}

elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }

# --- setup: a key pair, two backups ------------------------------------------
rm -rf -- "$out"
mkdir -p "$backups" "$backups_age"
mkdir -m 700 "$keys"
identity=$keys/identity
if ! "$agent" --json keygen -o "$identity" >"$keys/keygen.json" 2>"$logs/keygen.log"; then
	cat "$logs/keygen.log" >&2
	die "the agent's keygen failed (log above)"
fi
chmod 600 "$identity"
recipient=$(sed -n 's/.*"recipient": *"\(age1[^"]*\)".*/\1/p' "$keys/keygen.json")
[ -n "$recipient" ] || die "no recipient in the keygen's output: $(cat "$keys/keygen.json")"
printf '# bench-restore.sh: a key pair for this run only\n%s\n' "$recipient" >"$keys/recipients"

backup() { # NAME BACKUP_DIR [ARGS...]: archive with the agent; sets $id
	local name=$1 dir=$2
	shift 2
	echo "bench-restore: archiving $data with the agent ($name)" >&2
	if ! "$agent" --data-dir "$data" --backup-dir "$dir" --member 1 --json "$@" \
		archive >"$logs/archive-$name.json" 2>"$logs/archive-$name.log"; then
		cat "$logs/archive-$name.log" >&2
		die "the agent's archive ($name) failed (log above)"
	fi
	id=$(sed -n 's/.*"id": *"\([^"]*\)".*/\1/p' "$logs/archive-$name.json" | head -n 1)
	[ -n "$id" ] || die "no id in the archive's output: $(cat "$logs/archive-$name.json")"
}
backup plain "$backups"
id_plain=$id
archive=$backups/member1/$id.tar.zst
[ -f "$archive" ] || die "$archive is missing"
archive_bytes=$(stat -c %s "$archive")
echo "bench-restore: backup $id, $archive_bytes bytes" >&2
backup age "$backups_age" --set "encryption.recipients_file=$keys/recipients"
id_age=$id
archive_age=$backups_age/member1/$id.tar.zst.age
[ -f "$archive_age" ] || die "$archive_age is missing"
[ "$(head -c 21 -- "$archive_age")" = age-encryption.org/v1 ] ||
	die "$archive_age does not start with an age header"
archive_age_bytes=$(stat -c %s "$archive_age")
echo "bench-restore: encrypted backup $id, $archive_age_bytes bytes" >&2
# Write back the archives (and fresh data) so round 1 does not pay for them.
sync

warm() { # FILE
	cat -- "$1" >/dev/null
}

# The small tree the agent's target starts as (no geth/nodekey: the agent
# would refuse a node key that differs from the backup's).
small_tree() { # DIR
	mkdir -p "$1/geth/chaindata" "$1/keystore" "$1/tm"
	head -c $((1024 * 1024)) /dev/urandom >"$1/geth/chaindata/000001.ldb"
	printf 'MANIFEST-000001\n' >"$1/geth/chaindata/CURRENT"
	: >"$1/geth/chaindata/LOCK"
	: >"$1/geth/LOCK"
	printf '{"address":"00"}\n' >"$1/keystore/UTC--old"
	head -c 65536 /dev/urandom >"$1/tm/db.mv.db"
	printf 'an old tree, to be moved aside\n' >"$1/OLD-TREE"
}

# Entry list for the metadata check: path, type, mode, size (files and
# links only), mtime, link target; the root and .quorum-backup left out.
tree_meta() { # DIR
	find "$1" -mindepth 1 -path "$1/.quorum-backup" -prune -o \
		-printf '%P\t%y\t%m\t%s\t%T@\t%l\n' |
		awk -F '\t' -v OFS='\t' '$2 == "d" { $4 = "-" } { print }' | LC_ALL=C sort
}

check_tree() { # round which (plain or age): T_A must equal the data
	local which=$2 content meta
	echo "bench-restore: round $1: comparing $t_a ($which) with $data" >&2
	if ! diff -r --no-dereference -x .quorum-backup "$data" "$t_a" >"$logs/diff-$which.txt" 2>&1; then
		head -n 20 "$logs/diff-$which.txt" >&2
		die "round $1: the agent's restore ($which) differs from the data (diff -r above)"
	fi
	content="identical (diff -r --no-dereference, $in_files files)"
	tree_meta "$data" >"$logs/meta-data.txt"
	tree_meta "$t_a" >"$logs/meta-restored-$which.txt"
	if cmp -s "$logs/meta-data.txt" "$logs/meta-restored-$which.txt"; then
		meta="identical ($(wc -l <"$logs/meta-data.txt") entries)"
	else
		local n first
		n=$(diff "$logs/meta-data.txt" "$logs/meta-restored-$which.txt" | grep -c '^<' || true)
		first=$(diff "$logs/meta-data.txt" "$logs/meta-restored-$which.txt" | grep -m 1 '^<' | cut -c3- | cut -f1 || true)
		meta="$n entries differ (first: $first; see $logs/meta-*.txt with --keep)"
		echo "bench-restore: warning: metadata of the restored tree ($which): $meta" >&2
	fi
	if [ -e "$t_a/.quorum-backup/previous" ]; then
		meta="$meta; .quorum-backup/previous is still there"
	fi
	if [ "$which" = age ]; then
		check_content_age=$content check_meta_age=$meta
	else
		check_content=$content check_meta=$meta
	fi
}

# Results, one line per run: round method seconds cpu_s rss_mib [rss2 [rss3]]
results=$work/results
: >"$results"
check_content="not checked"
check_meta="not checked"
check_content_age="not checked"
check_meta_age="not checked"

run_agent() { # round [age]: restore the plain backup, or the encrypted one
	local log=$logs/agent-$1.log t0 t1 method=agent which=plain file=$archive
	local -a args=(--backup-dir "$backups")
	local -a unpack=(unpack --discard-previous "$id_plain")
	if [ "${2:-}" = age ]; then
		log=$logs/agent-age-$1.log method=agentage which=age file=$archive_age
		args=(--backup-dir "$backups_age" --set "encryption.identity_file=$identity")
		unpack=(unpack --discard-previous "$id_age")
	fi
	rm -rf -- "$t_a"
	small_tree "$t_a"
	sync
	warm "$file"
	t0=$EPOCHREALTIME
	if ! timed "$logs/agent.stat" "$agent" --data-dir "$t_a" "${args[@]}" \
		--member 1 "${unpack[@]}" >"$log" 2>&1; then
		cat "$log" >&2
		die "the agent ($which) failed in round $1 (log above)"
	fi
	t1=$EPOCHREALTIME
	[ "$1" -eq 0 ] ||
		echo "$1 $method $(elapsed "$t0" "$t1") $(stat_cpu "$logs/agent.stat") $(stat_rss "$logs/agent.stat")" >>"$results"
	[ "$1" -ne 1 ] || check_tree "$1" "$which"
	rm -rf -- "$t_a"
	sync
}

sync_t_b() {
	if [ "$sync_f" -eq 1 ]; then
		sync -f "$t_b"
	else
		sync # plain: sync FILE would flush only that one file
	fi
}

run_baseline() { # round
	local t0 t1
	rm -rf -- "$t_b"
	sync
	warm "$archive"
	t0=$EPOCHREALTIME
	mkdir "$t_b"
	if ! timed "$logs/zstd.stat" zstd -q -dc -- "$archive" |
		timed "$logs/tar.stat" tar -xf - -C "$t_b"; then
		die "zstd -dc | tar -x failed in round $1"
	fi
	sync_t_b
	t1=$EPOCHREALTIME
	[ "$1" -eq 0 ] || echo "$1 baseline $(elapsed "$t0" "$t1")" \
		"$(add_cpu "$(stat_cpu "$logs/zstd.stat")" "$(stat_cpu "$logs/tar.stat")")" \
		"$(stat_rss "$logs/zstd.stat") $(stat_rss "$logs/tar.stat")" >>"$results"
	rm -rf -- "$t_b"
	sync
}

run_baseline_age() { # round
	local t0 t1
	[ "$have_age" -eq 1 ] || return 0
	rm -rf -- "$t_b"
	sync
	warm "$archive_age"
	t0=$EPOCHREALTIME
	mkdir "$t_b"
	if ! timed "$logs/age.stat" age -d -i "$identity" -- "$archive_age" |
		timed "$logs/zstd.stat" zstd -q -dc |
		timed "$logs/tar.stat" tar -xf - -C "$t_b"; then
		die "age -d | zstd -dc | tar -x failed in round $1"
	fi
	sync_t_b
	t1=$EPOCHREALTIME
	[ "$1" -eq 0 ] || echo "$1 baselineage $(elapsed "$t0" "$t1")" \
		"$(add_cpu "$(add_cpu "$(stat_cpu "$logs/age.stat")" "$(stat_cpu "$logs/zstd.stat")")" "$(stat_cpu "$logs/tar.stat")")" \
		"$(stat_rss "$logs/zstd.stat") $(stat_rss "$logs/tar.stat") $(stat_rss "$logs/age.stat")" >>"$results"
	rm -rf -- "$t_b"
	sync
}

# Warm-up, unmeasured: one round of all runs (round 0, not recorded).
# The first run that fills SIZE of fresh page cache pays for memory the
# system has not touched lately (in a VM, the host faults it in), which
# would slow round 1's first run for reasons outside the tool measured.
echo "bench-restore: warm-up round (not measured)" >&2
run_agent 0
run_agent 0 age
run_baseline 0
run_baseline_age 0

load_start=$(cut -d ' ' -f 1 /proc/loadavg)
for r in $(seq 1 "$rounds"); do
	echo "bench-restore: round $r/$rounds" >&2
	# Alternate the order so no run always comes right after the same
	# other one's removal.
	if [ $((r % 2)) -eq 1 ]; then
		run_agent "$r"
		run_agent "$r" age
		run_baseline "$r"
		run_baseline_age "$r"
	else
		run_baseline_age "$r"
		run_baseline "$r"
		run_agent "$r" age
		run_agent "$r"
	fi
done

# --- report ------------------------------------------------------------------
cpu=$(grep -m1 'model name' /proc/cpuinfo | sed 's/^[^:]*: *//' || true)
agent_version=$("$agent" --version 2>&1 | head -n 1 || true)
zstd_version=$(zstd --version | sed -n 's/.* v\([0-9.]*\).*/\1/p')
tar_version=$(tar --version | sed -n '1s/.* //p')
age_version=n/a
[ "$have_age" -eq 0 ] || age_version=$(age --version 2>&1 | head -n 1)

awk -v cpu="${cpu:-unknown}" -v nproc="$(nproc)" -v in_bytes="$in_bytes" \
	-v in_files="$in_files" -v size_mib="$size_mib" -v rounds="$rounds" \
	-v data_from="$data_from" -v data_dir="$data" \
	-v archive_bytes="$archive_bytes" -v backup_id="$id_plain" \
	-v archive_age_bytes="$archive_age_bytes" -v backup_id_age="$id_age" \
	-v agent_src="$agent_src" -v agent_version="$agent_version" \
	-v tools="zstd $zstd_version, GNU tar $tar_version, age $age_version" -v sync_label="$sync_label" \
	-v check_content="$check_content" -v check_meta="$check_meta" \
	-v check_content_age="$check_content_age" -v check_meta_age="$check_meta_age" \
	-v load="$load_start / $(cut -d ' ' -f 1 /proc/loadavg)" \
	-v kernel="$(uname -r)" -v fs="$(df -PT "$work" | awk 'NR == 2 { print $2 }')" '
function median(list, n,   a, i, j, t) {
	n = split(list, a, " ")
	for (i = 2; i <= n; i++)            # insertion sort, numeric
		for (j = i; j > 1 && a[j - 1] + 0 > a[j] + 0; j--) {
			t = a[j]; a[j] = a[j - 1]; a[j - 1] = t
		}
	return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
function num(v) { return v ~ /^[0-9.]+$/ }
function nmedian(list,   a, n, i, l) { # median of the numeric values, or n/a
	n = split(list, a, " "); l = ""
	for (i = 1; i <= n; i++)
		if (num(a[i])) l = l " " a[i]
	return l == "" ? "n/a" : sprintf("%.2f", median(l))
}
function maxrss(list,   a, n, i, m) {
	n = split(list, a, " "); m = "n/a"
	for (i = 1; i <= n; i++)
		if (num(a[i]) && (m == "n/a" || a[i] + 0 > m + 0)) m = a[i]
	return m
}
function mib(b) { return sprintf("%.1f", b / 1048576) }
function row(r, name, t, c, rss) {
	printf "%-7s %-36s %9.2f %8.1f %7s  %s\n", r, name, t, in_bytes / 1048576 / t, c, rss
}
function hdr(a, b, c, d, e, f) { printf "%-7s %-36s %9s %8s %7s  %s\n", a, b, c, d, e, f }
function pf(ok) { return ok ? "PASS" : "MISS" }
BEGIN {
	s = sync_label == "sync" ? "sync" : "sync -f"
	label["agent"] = "quorum-backup-agent unpack"
	label["agentage"] = "quorum-backup-agent unpack +age"
	label["baseline"] = "zstd -dc | tar -x; " s
	label["baselineage"] = "age -d | zstd -dc | tar -x; " s
}
{
	m = $2
	T[m] = T[m] " " $3; C[m] = C[m] " " $4; R[m] = R[m] " " $5
	if (m == "baseline") RT = RT " " $6
	if (m == "baselineage") { RAT = RAT " " $6; RAA = RAA " " $7 }
	line[NR] = $0
}
END {
	printf "quorum-backup restore benchmark\n\n"
	printf "  cpu      %s\n", cpu
	printf "  nproc    %s\n", nproc
	printf "  kernel   %s, work dir on %s\n", kernel, fs
	printf "  data     %s MiB in %d files (gen-chaindata.sh %s; %s: %s)\n", mib(in_bytes), in_files, size_mib, data_from, data_dir
	printf "  archive  %s MiB (%d bytes, %.3f of the data), backup %s\n", mib(archive_bytes), archive_bytes, archive_bytes / in_bytes, backup_id
	printf "  age      %s MiB (%d bytes, %+.3f%% on the plain archive), backup %s\n", mib(archive_age_bytes), archive_age_bytes, (archive_age_bytes / archive_bytes - 1) * 100, backup_id_age
	printf "  agent    %s (%s)\n", agent_version, agent_src
	printf "  tools    %s\n", tools
	printf "  baseline mkdir T_B && zstd -dc F | tar -xf - -C T_B && %s\n", sync_label
	printf "           mkdir T_B && age -d -i K E | zstd -dc | tar -xf - -C T_B && %s (+age)\n", sync_label
	printf "  rounds   %d after one unmeasured warm-up round; agent runs first in odd rounds, last\n", rounds
	printf "           in even ones; archive warm in the page cache, targets synced, removals synced\n"
	printf "  loadavg  %s (1 min, before / after the rounds)\n\n", load
	hdr("round", "method", "wall_s", "MiB/s", "cpu_s", "peak_RSS_MiB")
	hdr("-----", "------", "------", "-----", "-----", "------------")
	for (i = 1; i <= NR; i++) {
		split(line[i], f, " ")
		rss = f[2] == "baseline" ? "zstd " f[5] ", tar " f[6] : \
			f[2] == "baselineage" ? "zstd " f[5] ", tar " f[6] ", age " f[7] : f[5]
		row(f[1], label[f[2]], f[3], f[4], rss)
	}
	for (m in T) { mt[m] = median(T[m]); mc[m] = nmedian(C[m]); mr[m] = maxrss(R[m]) }
	mrt = maxrss(RT)
	hdr("-----", "------", "------", "-----", "-----", "------------")
	row("median", label["agent"], mt["agent"], mc["agent"], mr["agent"] " (max)")
	row("median", label["agentage"], mt["agentage"], mc["agentage"], mr["agentage"] " (max)")
	row("median", label["baseline"], mt["baseline"], mc["baseline"], "zstd " mr["baseline"] ", tar " mrt " (max)")
	if ("baselineage" in T)
		row("median", label["baselineage"], mt["baselineage"], mc["baselineage"], "zstd " mr["baselineage"] ", tar " maxrss(RAT) ", age " maxrss(RAA) " (max)")
	printf "\ncpu_s: user + sys of the processes (the baselines: zstd + tar, + age; writeback by the kernel is not counted)\n"

	rt = mt["agent"] / mt["baseline"]; re = mt["agentage"] / mt["agent"]
	printf "\nratios (medians)\n"
	printf "  agent time / baseline time     %6.3f\n", rt
	if (num(mc["agent"]) && num(mc["baseline"]) && mc["baseline"] > 0)
		printf "  agent cpu / baseline cpu       %6.3f\n", mc["agent"] / mc["baseline"]
	printf "  agent peak RSS                 %s (max over rounds)\n", num(mr["agent"]) ? mr["agent"] " MiB" : "n/a"
	printf "  agent+age time / agent time    %6.3f\n", re
	if (num(mc["agent"]) && num(mc["agentage"]) && mc["agent"] > 0)
		printf "  agent+age cpu / agent cpu      %6.3f\n", mc["agentage"] / mc["agent"]
	if ("baselineage" in T) {
		printf "  baseline+age / baseline time   %6.3f\n", mt["baselineage"] / mt["baseline"]
		printf "  agent+age / baseline+age time  %6.3f\n", mt["agentage"] / mt["baselineage"]
	}
	printf "  agent+age peak RSS             %s (max over rounds)\n", num(mr["agentage"]) ? mr["agentage"] " MiB" : "n/a"

	printf "\ncheck (round 1, outside the timing; agent exit status 0 in every round)\n"
	printf "  content    %s\n", check_content
	printf "  metadata   %s\n", check_meta
	printf "  +age       content %s; metadata %s\n", check_content_age, check_meta_age

	printf "\ntargets\n"
	printf "  wall time <= 0.7 x baseline    %6.3f x       %s\n", rt, pf(rt <= 0.7)
	printf "  agent+age time <= 1.15 x agent %6.3f x       %s\n", re, pf(re <= 1.15)
}' "$results"
