#!/usr/bin/env bash
# bench-archive.sh: compare `quorum-backup-agent archive` with the plain
# shell ways of archiving a GoQuorum data directory.
#
# Usage: tests/bench/bench-archive.sh [--size MIB] [--rounds N] [--keep]
#
#   --size MIB   size of the synthetic data dir (default 1024)
#   --rounds N   rounds of measurements (default 3)
#   --keep       keep the work dir (and its data, reused by the next run
#                with the same size) instead of deleting it at the end
#
# Environment: AGENT (default <repo>/quorum-backup-agent, or
# <repo>/build/quorum-backup-agent when only that exists; build it first),
# TMPDIR (the work dir is $TMPDIR/quorum-backup-bench), GNU_TIME (default
# /usr/bin/time; without it peak RSS is n/a). The agent binary is
# copied into the work dir first, so a rebuild during the run cannot break it.
#
# The data is made once by gen-chaindata.sh (deterministic). Each round runs,
# on the same data, with a warm page cache (nothing is dropped; one warm-up
# read of the whole tree precedes every measured run):
#   agent          quorum-backup-agent ... archive  (ends with its own fsync)
#   agent+age      the same with --set encryption.recipients_file=R: the
#                  archive encrypted with age (tar -> zstd -> age),
#                  <ID>.tar.zst.age
#   tar|zstd       tar -cf - -C DIR . | zstd -q -T0 -3 > F && sync F
#   tar|zstd|age   tar -cf - -C DIR . | zstd -q -T0 -3 | age -r RECIPIENT > F
#                  && sync F  (left out, with a warning, when age is missing)
#   tar -czf       tar -czf F -C DIR . && sync F
# and records wall time, output size and peak RSS (GNU time's %M; for the
# pipelines, each process separately). The tar runs leave out
# DIR/.quorum-backup, the agent's own directory, which it never archives.
# The key pair is made in the work dir before round 1 with the agent's
# keygen (identity 0600; R holds its one age1... recipient) and removed
# at the end, with --keep too.
# The report is a plain text table; the targets (time <= 0.9 x tar|zstd,
# size within 3% of tar|zstd, peak RSS < 100 MiB, and for encryption:
# agent+age time <= 1.15 x agent time) print PASS or MISS, and the exit
# status is 0 either way (1 only when a run fails).
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
	echo "bench-archive: $*" >&2
	exit 1
}
[ -x "$agent" ] || die "$agent not found or not executable (build it: make -C '$repo', or set AGENT)"
for tool in tar zstd gzip sync awk; do
	command -v "$tool" >/dev/null || die "$tool is required"
done
if command -v age >/dev/null; then
	have_age=1
else
	have_age=0
	echo "bench-archive: age is missing: the tar | zstd | age reference is left out" \
		"(install with: apt-get install -y age)" >&2
fi
gnu_time=${GNU_TIME:-/usr/bin/time}
if ! "$gnu_time" -f %M -o /dev/null true 2>/dev/null; then
	echo "bench-archive: GNU time ($gnu_time) is missing: peak RSS will be n/a" \
		"(install with: apt-get install -y time)" >&2
	gnu_time=
fi

work=${TMPDIR:-/tmp}/quorum-backup-bench
data=$work/data-$size_mib
stamp=$work/data-$size_mib.stamp
out=$work/out
logs=$work/logs
keys=$out/keys
cleanup() {
	if [ "$keep" -eq 0 ]; then
		rm -rf -- "$work"
	else
		rm -rf -- "$out"
		echo "bench-archive: kept $work" >&2
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
# Reuse the data of a --keep run when the generator and the size match.
want_stamp="size=$size_mib gen=$(sha256sum <"$script_dir/gen-chaindata.sh" | cut -c1-16) seed=${GEN_SEED:-}"
if [ -d "$data" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want_stamp" ]; then
	echo "bench-archive: reusing $data" >&2
else
	rm -rf -- "$data" "$stamp"
	echo "bench-archive: generating $size_mib MiB in $data" >&2
	t0=$EPOCHREALTIME
	"$script_dir/gen-chaindata.sh" "$data" "$size_mib" >&2
	echo "bench-archive: generated in $(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }') s" >&2
	printf '%s\n' "$want_stamp" >"$stamp"
fi
# Write back whatever is still dirty (fresh data) so round 1 does not pay
# for it.
sync

# Input size: what every method archives (the agent's own dir left out).
read -r in_files in_bytes < <(find "$data" -path "$data/.quorum-backup" -prune -o -type f -printf '%s\n' |
	awk '{ n++; s += $1 } END { printf "%d %d\n", n, s }')
free_kib=$(df -Pk "$work" | awk 'NR == 2 { print $4 }')
if [ "$free_kib" -lt $((in_bytes * 2 / 1024)) ]; then
	echo "bench-archive: warning: only $((free_kib / 1024)) MiB free in $work" >&2
fi

# warm: read the whole tree through a pipe (GNU tar skips reading the file
# contents when the archive is /dev/null itself).
warm() {
	tar -cf - -C "$data" . | cat >/dev/null
}

# timed RSSFILE CMD...: run CMD under GNU time (peak RSS in KiB to RSSFILE)
# when available.
timed() {
	local rss=$1
	shift
	if [ -n "$gnu_time" ]; then
		"$gnu_time" -f %M -o "$rss" "$@"
	else
		echo n/a >"$rss"
		"$@"
	fi
}

rss_mib() { # KiB file -> MiB, or n/a
	local v
	v=$(tail -n 1 "$1" 2>/dev/null || true)
	case $v in
	'' | *[!0-9]*) echo n/a ;;
	*) awk -v k="$v" 'BEGIN { printf "%.1f", k / 1024 }' ;;
	esac
}

elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }

# Results, one line per run: round method seconds bytes rss_mib [extra]
results=$work/results
: >"$results"

# make_keys: an age identity ($keys/identity, 0600) and a recipients file
# with its recipient ($keys/recipients), for the encrypted runs.
make_keys() {
	rm -rf -- "$keys"
	mkdir -m 700 "$keys"
	if ! "$agent" --json keygen -o "$keys/identity" >"$keys/keygen.json" 2>"$logs/keygen.log"; then
		cat "$logs/keygen.log" >&2
		die "the agent's keygen failed (log above)"
	fi
	chmod 600 "$keys/identity"
	recipient=$(sed -n 's/.*"recipient": *"\(age1[^"]*\)".*/\1/p' "$keys/keygen.json")
	[ -n "$recipient" ] || die "no recipient in the keygen's output: $(cat "$keys/keygen.json")"
	printf '# bench-archive.sh: a key pair for this run only\n%s\n' "$recipient" >"$keys/recipients"
}

run_agent() { # round [age]: the agent's archive, encrypted with "age"
	local b=$out/agent log=$logs/agent-$1.log t0 t1 f method=agent ext=tar.zst
	local -a enc=()
	if [ "${2:-}" = age ]; then
		method=agentage ext=tar.zst.age log=$logs/agent-age-$1.log
		enc=(--set "encryption.recipients_file=$keys/recipients")
	fi
	rm -rf -- "$b"
	mkdir -p "$b"
	warm
	t0=$EPOCHREALTIME
	if ! timed "$logs/agent.rss" "$agent" --data-dir "$data" --backup-dir "$b" \
		--member 1 --set retention.keep_last=1 "${enc[@]}" archive >"$log" 2>&1; then
		cat "$log" >&2
		die "the agent ($method) failed in round $1 (log above)"
	fi
	t1=$EPOCHREALTIME
	f=$(find "$b/member1" -maxdepth 1 -name "*.$ext" | head -n 1)
	[ -n "$f" ] || die "round $1: no $b/member1/*.$ext"
	if [ "$method" = agentage ] && [ "$(head -c 21 -- "$f")" != age-encryption.org/v1 ]; then
		die "round $1: $f does not start with an age header"
	fi
	echo "$1 $method $(elapsed "$t0" "$t1") $(stat -c %s "$f") $(rss_mib "$logs/agent.rss")" >>"$results"
	rm -rf -- "${b:?}"/member1/*
}

run_zstd() { # round
	local f=$out/baseline.tar.zst t0 t1
	rm -f -- "$f"
	warm
	t0=$EPOCHREALTIME
	if ! timed "$logs/tar.rss" tar -cf - -C "$data" --exclude=./.quorum-backup . |
		timed "$logs/zstd.rss" zstd -q -T0 -3 >"$f"; then
		die "tar | zstd failed in round $1"
	fi
	sync "$f"
	t1=$EPOCHREALTIME
	echo "$1 zstd $(elapsed "$t0" "$t1") $(stat -c %s "$f") $(rss_mib "$logs/zstd.rss") $(rss_mib "$logs/tar.rss")" >>"$results"
	rm -f -- "$f"
}

run_zstd_age() { # round
	local f=$out/baseline.tar.zst.age t0 t1
	rm -f -- "$f"
	warm
	t0=$EPOCHREALTIME
	if ! timed "$logs/tar.rss" tar -cf - -C "$data" --exclude=./.quorum-backup . |
		timed "$logs/zstd.rss" zstd -q -T0 -3 |
		timed "$logs/age.rss" age -r "$recipient" >"$f"; then
		die "tar | zstd | age failed in round $1"
	fi
	sync "$f"
	t1=$EPOCHREALTIME
	echo "$1 zstdage $(elapsed "$t0" "$t1") $(stat -c %s "$f") $(rss_mib "$logs/zstd.rss")" \
		"$(rss_mib "$logs/tar.rss") $(rss_mib "$logs/age.rss")" >>"$results"
	rm -f -- "$f"
}

run_gzip() { # round
	local f=$out/baseline.tar.gz t0 t1
	rm -f -- "$f"
	warm
	t0=$EPOCHREALTIME
	timed "$logs/gzip.rss" tar -czf "$f" -C "$data" --exclude=./.quorum-backup . ||
		die "tar -czf failed in round $1"
	sync "$f"
	t1=$EPOCHREALTIME
	echo "$1 gzip $(elapsed "$t0" "$t1") $(stat -c %s "$f") $(rss_mib "$logs/gzip.rss")" >>"$results"
	rm -f -- "$f"
}

load_start=$(cut -d ' ' -f 1 /proc/loadavg)
mkdir -p "$out"
make_keys
for r in $(seq 1 "$rounds"); do
	echo "bench-archive: round $r/$rounds" >&2
	run_agent "$r"
	run_agent "$r" age
	run_zstd "$r"
	[ "$have_age" -eq 0 ] || run_zstd_age "$r"
	run_gzip "$r"
done

# --- report ------------------------------------------------------------------
cpu=$(grep -m1 'model name' /proc/cpuinfo | sed 's/^[^:]*: *//' || true)
agent_version=$("$agent" --version 2>&1 | head -n 1 || true)
zstd_version=$(zstd --version | sed -n 's/.* v\([0-9.]*\).*/\1/p')
tar_version=$(tar --version | sed -n '1s/.* //p')
gzip_version=$(gzip --version | sed -n '1s/.* //p')
age_version=n/a
[ "$have_age" -eq 0 ] || age_version=$(age --version 2>&1 | head -n 1)

awk -v cpu="${cpu:-unknown}" -v nproc="$(nproc)" -v in_bytes="$in_bytes" \
	-v in_files="$in_files" -v size_mib="$size_mib" -v rounds="$rounds" \
	-v agent_src="$agent_src" -v agent_version="$agent_version" \
	-v tools="zstd $zstd_version, GNU tar $tar_version, gzip $gzip_version, age $age_version" \
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
function maxrss(list,   a, n, i, m) {
	n = split(list, a, " "); m = "n/a"
	for (i = 1; i <= n; i++)
		if (num(a[i]) && (m == "n/a" || a[i] + 0 > m + 0)) m = a[i]
	return m
}
function mib(b) { return sprintf("%.1f", b / 1048576) }
function row_m(r, name, t, s, rss) {
	printf "%-7s %-24s %9.2f %10s %7.3f  %s\n", r, name, t, mib(s), s / in_bytes, rss
}
function pf(ok) { return ok ? "PASS" : "MISS" }
BEGIN {
	label["agent"] = "quorum-backup-agent"; label["agentage"] = "quorum-backup-agent +age"
	label["zstd"] = "tar | zstd -T0 -3"; label["zstdage"] = "tar | zstd -T0 -3 | age"
	label["gzip"] = "tar -czf"
}
{
	m = $2
	T[m] = T[m] " " $3; S[m] = S[m] " " $4; R[m] = R[m] " " $5
	if (m == "zstd") RT = RT " " $6
	if (m == "zstdage") { RAT = RAT " " $6; RAA = RAA " " $7 }
	line[NR] = $0
}
END {
	printf "quorum-backup archive benchmark\n\n"
	printf "  cpu      %s\n", cpu
	printf "  nproc    %s\n", nproc
	printf "  kernel   %s, work dir on %s\n", kernel, fs
	printf "  data     %s MiB in %d files (gen-chaindata.sh %s)\n", mib(in_bytes), in_files, size_mib
	printf "  agent    %s (%s)\n", agent_version, agent_src
	printf "  tools    %s\n", tools
	printf "  rounds   %d, warm page cache, outputs fsynced\n", rounds
	printf "  loadavg  %s (1 min, before / after the rounds)\n\n", load
	printf "%-7s %-24s %9s %10s %7s  %s\n", "round", "method", "wall_s", "size_MiB", "ratio", "peak_RSS_MiB"
	printf "%-7s %-24s %9s %10s %7s  %s\n", "-----", "------", "------", "--------", "-----", "------------"
	for (i = 1; i <= NR; i++) {
		split(line[i], f, " ")
		rss = f[2] == "zstd" ? "zstd " f[5] ", tar " f[6] : \
			f[2] == "zstdage" ? "zstd " f[5] ", tar " f[6] ", age " f[7] : \
			f[2] == "gzip" ? f[5] " (tar+gzip)" : f[5]
		row_m(f[1], label[f[2]], f[3], f[4], rss)
	}
	for (m in T) { mt[m] = median(T[m]); ms[m] = median(S[m]); mr[m] = maxrss(R[m]) }
	mrt = maxrss(RT)
	printf "%-7s %-24s %9s %10s %7s  %s\n", "-----", "------", "------", "--------", "-----", "------------"
	row_m("median", label["agent"], mt["agent"], ms["agent"], mr["agent"] " (max)")
	row_m("median", label["agentage"], mt["agentage"], ms["agentage"], mr["agentage"] " (max)")
	row_m("median", label["zstd"], mt["zstd"], ms["zstd"], "zstd " mr["zstd"] ", tar " mrt " (max)")
	if ("zstdage" in T)
		row_m("median", label["zstdage"], mt["zstdage"], ms["zstdage"], "zstd " mr["zstdage"] ", tar " maxrss(RAT) ", age " maxrss(RAA) " (max)")
	row_m("median", label["gzip"], mt["gzip"], ms["gzip"], mr["gzip"] " (tar+gzip, max)")

	rt = mt["agent"] / mt["zstd"]; rs = ms["agent"] / ms["zstd"]; rg = mt["agent"] / mt["gzip"]
	re = mt["agentage"] / mt["agent"]; rse = ms["agentage"] / ms["agent"]
	printf "\nratios (medians)\n"
	printf "  agent time / tar|zstd time     %6.3f\n", rt
	printf "  agent size / tar|zstd size     %6.4f\n", rs
	printf "  agent time / tar -czf time     %6.3f\n", rg
	printf "  agent peak RSS                 %s (max over rounds)\n", num(mr["agent"]) ? mr["agent"] " MiB" : "n/a"
	printf "  agent+age time / agent time    %6.3f\n", re
	printf "  agent+age size / agent size    %8.6f (%+.3f%%, %+d bytes)\n", rse, (rse - 1) * 100, ms["agentage"] - ms["agent"]
	if ("zstdage" in T) {
		printf "  tar|zstd|age / tar|zstd time   %6.3f\n", mt["zstdage"] / mt["zstd"]
		printf "  agent+age / tar|zstd|age time  %6.3f\n", mt["agentage"] / mt["zstdage"]
	}
	printf "  agent+age peak RSS             %s (max over rounds)\n", num(mr["agentage"]) ? mr["agentage"] " MiB" : "n/a"

	printf "\ntargets\n"
	printf "  wall time <= 0.9 x tar|zstd    %6.3f x       %s\n", rt, pf(rt <= 0.9)
	printf "  size within 3%% of tar|zstd     %+6.2f%%        %s\n", (rs - 1) * 100, pf(rs >= 0.97 && rs <= 1.03)
	if (num(mr["agent"]))
		printf "  peak RSS < 100 MiB             %6.1f MiB     %s\n", mr["agent"], pf(mr["agent"] + 0 < 100)
	else
		printf "  peak RSS < 100 MiB             n/a            n/a (GNU time missing)\n"
	printf "  agent+age time <= 1.15 x agent %6.3f x       %s\n", re, pf(re <= 1.15)
}' "$results"
