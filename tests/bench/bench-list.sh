#!/usr/bin/env bash
# bench-list.sh: the cost of listing backups whose metadata is large, and
# of the idle agent that lists them in the background. Not a test: it
# prints figures.
#
# Usage: tests/bench/bench-list.sh [--backups N] [--entries N]
#                                  [--requests N] [--idle S] [--keep]
#
#   --backups N    backups in the store (default 7)
#   --entries N    entries in each backup's metadata (default 150000, about
#                  a 300 GiB chain's .ldb files: a 25 MB metadata file)
#   --requests N   timed GET /v1/backups (default 50)
#   --idle S       seconds the idle agent's CPU time is measured (default 20)
#   --keep         keep the work dir ($TMPDIR/quorum-backup-bench-list)
#
# Environment: AGENT (default <repo>/quorum-backup-agent, or
# <repo>/build/quorum-backup-agent when only that exists), TMPDIR.
#
# One small real backup is made with the agent (archive of a few files);
# its archive is copied under N ids and each gets a metadata file written
# here, as the agent writes them (the same fields, indented), with N
# entries: so the agent takes them as complete backups. Then
# `quorum-backup-agent serve` runs on 127.0.0.1 with no [node] sections,
# and the script measures:
#   GET /v1/backups       median, 90th percentile and maximum of the
#                         timed requests (curl's time_total), after one
#                         untimed request
#   GET /v1/backups/ID    median of 20 (the newest backup)
#   idle CPU              the agent's utime + stime (/proc/PID/stat) over
#                         S seconds with no request, as a share of one core
#   memory                VmRSS idle, then VmHWM (peak) after 8 parallel
#                         GET /v1/backups
# Targets (printed PASS or MISS; the exit status is 0 either way):
# GET /v1/backups under 10 ms (median), the idle agent under 2 % of a core.
set -euo pipefail

script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$script_dir/../.." && pwd)
if [ -n "${AGENT:-}" ]; then
	agent=$AGENT
elif [ -x "$repo/quorum-backup-agent" ] || [ ! -x "$repo/build/quorum-backup-agent" ]; then
	agent=$repo/quorum-backup-agent
else
	agent=$repo/build/quorum-backup-agent
fi

backups=7 entries=150000 requests=50 idle=20 keep=0
usage() {
	echo "usage: $0 [--backups N] [--entries N] [--requests N] [--idle S] [--keep]" >&2
	exit 2
}
while [ $# -gt 0 ]; do
	case $1 in
	--backups) [ $# -ge 2 ] || usage; backups=$2; shift 2 ;;
	--entries) [ $# -ge 2 ] || usage; entries=$2; shift 2 ;;
	--requests) [ $# -ge 2 ] || usage; requests=$2; shift 2 ;;
	--idle) [ $# -ge 2 ] || usage; idle=$2; shift 2 ;;
	--keep) keep=1; shift ;;
	-h | --help) sed -n '2,/^set -euo/{/^#/s/^# \{0,1\}//p}' "$0"; exit 0 ;;
	*) usage ;;
	esac
done
case $backups$entries$requests$idle in
*[!0-9]*) usage ;;
esac
if [ "$backups" -lt 1 ] || [ "$backups" -gt 28 ] || [ "$requests" -lt 1 ] ||
	[ "$idle" -lt 1 ]; then
	usage
fi

die() {
	echo "bench-list: $*" >&2
	exit 1
}
[ -x "$agent" ] || die "$agent not found or not executable (build it: make -C '$repo', or set AGENT)"
for tool in curl awk sort sha256sum stat getconf; do
	command -v "$tool" >/dev/null || die "$tool is required"
done

work=${TMPDIR:-/tmp}/quorum-backup-bench-list
agent_pid=""
cleanup() {
	if [ -n "$agent_pid" ]; then
		kill "$agent_pid" 2>/dev/null || true
		wait "$agent_pid" 2>/dev/null || true
	fi
	if [ "$keep" = 0 ]; then
		rm -rf -- "$work"
	else
		echo "bench-list: kept $work" >&2
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

rm -rf -- "$work"
mkdir -p "$work/data/geth/chaindata" "$work/backups"
# Measure a snapshot of the binary (an ELF file; anything else runs in place).
if [ "$(head -c 4 "$agent" | od -An -c | tr -d ' ')" = '177ELF' ]; then
	cp -- "$agent" "$work/quorum-backup-agent"
	agent=$work/quorum-backup-agent
fi
printf '%064x\n' 7 >"$work/data/geth/nodekey"
seq 1 1000 >"$work/data/geth/chaindata/000001.ldb"
"$agent" --data-dir "$work/data" --backup-dir "$work/backups" --member 1 \
	--log-level warn archive >/dev/null || die "the first archive failed"
m=$work/backups/member1
seed=$(ls "$m" | sed -n 's/\.tar\.zst$//p' | head -1)
[ -n "$seed" ] || die "no archive was made"
asize=$(stat -c %s "$m/$seed.tar.zst")
asha=$(sha256sum <"$m/$seed.tar.zst" | cut -d' ' -f1)

# metadata ID: the metadata of one backup with $entries entries, on stdout.
metadata() {
	awk -v id="$1" -v n="$entries" -v asize="$asize" -v asha="$asha" '
	BEGIN {
		created = sprintf("%s-%s-%sT%s:%s:%sZ", substr(id, 1, 4),
		    substr(id, 5, 2), substr(id, 7, 2), substr(id, 10, 2),
		    substr(id, 12, 2), substr(id, 14, 2))
		bytes = n * 2097152
		printf "{\n  \"format\": 1,\n  \"id\": \"%s\",\n  \"member\": 1,\n", id
		printf "  \"created\": \"%s\",\n  \"finished\": \"%s\",\n", created, created
		printf "  \"duration_seconds\": 812.5,\n"
		printf "  \"archive\": {\n    \"file\": \"%s.tar.zst\",\n", id
		printf "    \"size\": %d,\n    \"sha256\": \"%s\",\n", asize, asha
		printf "    \"format\": \"pax\",\n    \"compression\": \"zstd\",\n    \"level\": 3\n  },\n"
		printf "  \"bytes\": %.0f,\n  \"files\": %d,\n  \"skipped\": 0,\n", bytes, n + 2
		printf "  \"file_hash\": \"xxh3-128\",\n  \"agent_version\": \"0.1.0\",\n"
		printf "  \"node\": {\n    \"block_number\": 48211907,\n"
		printf "    \"hash\": \"0x%064x\",\n    \"state_root\": \"0x%064x\",\n", 1, 2
		printf "    \"client_version\": \"Geth/v1.10.3-stable/linux-amd64/go1.20\",\n"
		printf "    \"validators\": [\n"
		for (v = 0; v < 7; v++)
			printf "      \"0x%040x\"%s\n", v + 1, v < 6 ? "," : ""
		printf "    ]\n  },\n"
		printf "  \"node_key\": {\n    \"path\": \"geth/nodekey\",\n"
		printf "    \"sha256\": \"%064x\"\n  },\n", 3
		printf "  \"entries\": [\n"
		printf "    {\n      \"path\": \"geth\",\n      \"type\": \"dir\",\n      \"mode\": 493\n    },\n"
		printf "    {\n      \"path\": \"geth/chaindata\",\n      \"type\": \"dir\",\n      \"mode\": 493\n    }"
		for (i = 0; i < n; i++)
			printf ",\n    {\n      \"path\": \"geth/chaindata/%06d.ldb\",\n      \"size\": 2097152,\n      \"type\": \"file\",\n      \"mode\": 420,\n      \"hash\": \"xxh3-128:%016x%016x\"\n    }", i, i * 2654435761 % 4294967296, i
		printf "\n  ]\n}\n"
	}'
}
for k in $(seq 1 "$backups"); do
	id=$(printf '202611%02dT010203Z' "$k")
	cp -- "$m/$seed.tar.zst" "$m/$id.tar.zst"
	metadata "$id" >"$m/$id.json.tmp"
	mv -- "$m/$id.json.tmp" "$m/$id.json"
done
rm -f -- "$m/$seed.tar.zst" "$m/$seed.json"
newest=$id
meta_mb=$(awk -v s="$(stat -c %s "$m/$newest.json")" 'BEGIN {printf "%.1f", s / 1e6}')

printf 'bench-token\n' >"$work/token"
chmod 0600 "$work/token"
# A free port of 127.0.0.1: another one when it is taken.
up=0
for try in 0 1 2 3 4; do
	port=$((30000 + ($$ + try * 7919) % 20000))
	"$agent" --data-dir "$work/data" --backup-dir "$work/backups" --member 1 \
		--set agent.listen=127.0.0.1:$port --set agent.token_file="$work/token" \
		--log-level warn serve 2>"$work/agent.err" &
	agent_pid=$!
	for _ in $(seq 1 100); do
		if curl -s -o /dev/null "http://127.0.0.1:$port/healthz"; then
			up=1
			break
		fi
		kill -0 "$agent_pid" 2>/dev/null || break
		sleep 0.1
	done
	[ "$up" = 0 ] || break
	kill "$agent_pid" 2>/dev/null || true
	wait "$agent_pid" 2>/dev/null || true
	agent_pid=""
done
[ "$up" = 1 ] || die "the agent did not start: $(tail -3 "$work/agent.err")"
auth="Authorization: Bearer bench-token"
get() { # PATH: prints time_total in ms; fails unless 200
	curl -s -o "$work/body" -w '%{http_code} %{time_total}\n' --max-time 600 \
		-H "$auth" "http://127.0.0.1:$port$1" |
		awk '$1 != 200 { exit 1 } { printf "%.3f\n", $2 * 1000 }'
}
stats() { # median p90 max of numbers on stdin
	sort -n | awk '{ a[NR] = $1 } END {
		med = NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2
		p = int(NR * 0.9 + 0.999); if (p < 1) p = 1
		printf "%.2f %.2f %.2f\n", med, a[p], a[NR] }'
}
cpu_ticks() { # utime + stime of the agent
	sed 's/.*) //' "/proc/$agent_pid/stat" | awk '{ print $12 + $13 }'
}
status_kb() { # FIELD of /proc/PID/status, in kB
	awk -v f="$1:" '$1 == f { print $2 }' "/proc/$agent_pid/status"
}

get /v1/backups >/dev/null || die "GET /v1/backups failed: $(cat "$work/body")"
listed=$(grep -o '"id"' "$work/body" | wc -l)
[ "$listed" = "$backups" ] || die "GET /v1/backups listed $listed backups, not $backups"
: >"$work/list.ms"
for _ in $(seq 1 "$requests"); do
	get /v1/backups >>"$work/list.ms" || die "GET /v1/backups failed: $(cat "$work/body")"
done
read -r l_med l_p90 l_max < <(stats <"$work/list.ms")
: >"$work/get.ms"
for _ in $(seq 1 20); do
	get "/v1/backups/$newest" >>"$work/get.ms" || die "GET /v1/backups/$newest failed"
done
read -r g_med _ _ < <(stats <"$work/get.ms")

# Idle: no request for the whole window; the prober lists every 2 s.
hz=$(getconf CLK_TCK)
sleep 2
c0=$(cpu_ticks)
t0=$(date +%s.%N)
sleep "$idle"
c1=$(cpu_ticks)
t1=$(date +%s.%N)
cpu=$(awk -v c="$((c1 - c0))" -v hz="$hz" -v a="$t0" -v b="$t1" \
	'BEGIN { printf "%.2f", c / hz / (b - a) * 100 }')
rss_idle=$(status_kb VmRSS)

pids=""
for k in $(seq 1 8); do
	curl -s -o /dev/null --max-time 600 -H "$auth" "http://127.0.0.1:$port/v1/backups" &
	pids="$pids $!"
done
for p in $pids; do
	wait "$p" || true
done
hwm=$(status_kb VmHWM)

echo "quorum-backup: listing backups with large metadata"
echo
echo "  cpu      $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "  nproc    $(nproc)"
echo "  agent    $("$agent" --version 2>/dev/null | head -1)"
echo "  store    $backups backups, $entries entries each (metadata $meta_mb MB each), no [node] sections"
echo "  loadavg  $(cut -d' ' -f1-3 /proc/loadavg)"
echo
printf '  GET /v1/backups       median %9.2f ms   p90 %9.2f ms   max %9.2f ms  (%d requests)\n' \
	"$l_med" "$l_p90" "$l_max" "$requests"
printf '  GET /v1/backups/ID    median %9.2f ms  (20 requests)\n' "$g_med"
printf '  idle agent CPU        %6s %% of a core over %s s\n' "$cpu" "$idle"
printf '  agent memory          VmRSS idle %d MiB, VmHWM after 8 parallel lists %d MiB\n' \
	"$((rss_idle / 1024))" "$((hwm / 1024))"
echo
echo "targets"
awk -v v="$l_med" 'BEGIN { printf "  GET /v1/backups < 10 ms     %s (%.2f ms)\n", v < 10 ? "PASS" : "MISS", v }'
awk -v v="$cpu" 'BEGIN { printf "  idle agent < 2 %% of a core  %s (%.2f %%)\n", v < 2 ? "PASS" : "MISS", v }'
