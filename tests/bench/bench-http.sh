#!/usr/bin/env bash
# bench-http.sh: the sidecar's HTTP answers while an archive saturates the
# CPUs. Not a test: it prints figures.
#
# Usage: tests/bench/bench-http.sh [--size MIB] [--seconds S] [--keep]
#
# Generates the data (gen-chaindata.sh, default 512 MiB), starts
# `quorum-backup-agent serve` on 127.0.0.1 with a token, times three
# archive jobs on an idle agent, then runs wrk (Debian package `wrk`)
# against /readyz and against /v1/status (with the token) for S seconds
# each (default 30) while archive jobs run back to back, and prints
# requests per second, latency percentiles, errors, and the archives'
# slowdown under that load. wrk alone sends as fast as it can and would
# measure how much CPU it takes from the archive; a paced Lua script (each
# of 4 connections waits 2 ms between requests) holds the load near the
# target's rate instead (about 1,000 to 1,600 requests per second). Targets (printed PASS/MISS): 0 errors, p99 under
# 10 ms at 1,000 requests per second or more, slowdown under 10 %.
set -euo pipefail

script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$script_dir/../.." && pwd)
agent=${AGENT:-$repo/build/quorum-backup-agent}
[ -x "$agent" ] || agent=$repo/quorum-backup-agent
size=512 seconds=30 keep=0
while [ $# -gt 0 ]; do
	case $1 in
	--size) size=$2; shift 2 ;;
	--seconds) seconds=$2; shift 2 ;;
	--keep) keep=1; shift ;;
	*) echo "usage: $0 [--size MIB] [--seconds S] [--keep]" >&2; exit 2 ;;
	esac
done
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install -y wrk" >&2; exit 1; }
[ -x "$agent" ] || { echo "build the agent first (./run-tests.sh --fast)" >&2; exit 1; }

work=${TMPDIR:-/tmp}/quorum-backup-bench-http
agent_pid=""
loop_pid=""
cleanup() {
	[ -z "$loop_pid" ] || { kill "$loop_pid" 2>/dev/null || true; wait "$loop_pid" 2>/dev/null || true; }
	[ -z "$agent_pid" ] || { kill "$agent_pid" 2>/dev/null || true; wait "$agent_pid" 2>/dev/null || true; }
	[ "$keep" = 1 ] || rm -rf "$work"
}
trap cleanup EXIT
mkdir -p "$work"
data=$work/data-$size
if [ ! -d "$data/geth" ]; then
	rm -rf "$data"
	mkdir -p "$data"
	"$script_dir/gen-chaindata.sh" "$data" "$size" >/dev/null
	sync
fi
rm -rf "$work/backups"
mkdir -p "$work/backups"
printf 'bench-token\n' >"$work/token"
port=$((30000 + $$ % 20000))
"$agent" --data-dir "$data" --backup-dir "$work/backups" --member 1 \
	--set agent.listen=127.0.0.1:$port --set agent.token_file="$work/token" \
	--set retention.keep_last=1 --log-level warn serve 2>"$work/agent.err" &
agent_pid=$!
for _ in $(seq 1 50); do
	curl -s -o /dev/null "http://127.0.0.1:$port/healthz" && break
	sleep 0.1
done
auth="Authorization: Bearer bench-token"

archive_once() {
	curl -s -X POST -H "$auth" "http://127.0.0.1:$port/v1/archive?wait=600" |
		python3 -c 'import json,sys; print(json.load(sys.stdin)["elapsed"])' 2>/dev/null ||
		curl -s -X POST -H "$auth" "http://127.0.0.1:$port/v1/archive?wait=600" | jq -r .elapsed
}
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

archive_once >/dev/null   # warm the page cache
idle=$(for _ in 1 2 3; do archive_once; done | median)

# Archives back to back while wrk runs; their times are collected.
( while :; do archive_once >>"$work/loaded.times"; done ) &
loop_pid=$!
sleep 1
: >"$work/wrk.out"
printf 'function delay()\n  return 2\nend\n' >"$work/pace.lua"
for path in /readyz /v1/status; do
	echo "== wrk -t2 -c4 -d${seconds}s --latency (paced: 2 ms between requests per connection) $path" >>"$work/wrk.out"
	wrk -t2 -c4 -d"${seconds}s" --latency -s "$work/pace.lua" -H "$auth" \
		"http://127.0.0.1:$port$path" >>"$work/wrk.out" 2>&1
done
kill "$loop_pid"; wait "$loop_pid" 2>/dev/null || true; loop_pid=""
loaded=$(median <"$work/loaded.times")

echo "quorum-backup sidecar under load"
echo
echo "  cpu      $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "  nproc    $(nproc)"
echo "  data     $size MiB (gen-chaindata.sh); archives back to back during wrk"
echo
sed -n '/^==/p; /Latency Distribution/,/99%/p; /Requests\/sec/p; /Non-2xx\|Socket errors/p' "$work/wrk.out"
echo
printf '  archive job, idle agent     %6.2f s (median of 3)\n' "$idle"
printf '  archive job, under wrk      %6.2f s (median of %d)\n' "$loaded" "$(wc -l <"$work/loaded.times")"
slow=$(awk -v a="$idle" -v b="$loaded" 'BEGIN {printf "%.1f", (b / a - 1) * 100}')
echo "  slowdown                    ${slow} %"
echo
errors=$(grep -c 'Non-2xx\|Socket errors' "$work/wrk.out" || true)
rps_min=$(awk '/Requests\/sec/ {print $2}' "$work/wrk.out" | sort -n | head -1)
p99_max=$(awk '/ 99%/ {v=$2; if (v ~ /us$/) {sub(/us/,"",v); v/=1000} else if (v ~ /ms$/) {sub(/ms/,"",v)} else if (v ~ /s$/) {sub(/s/,"",v); v*=1000}; print v}' "$work/wrk.out" | sort -n | tail -1)
echo "targets"
[ "$errors" = 0 ] && echo "  errors = 0                  PASS" || echo "  errors = 0                  MISS ($errors lines of errors)"
awk -v p="$p99_max" -v r="$rps_min" 'BEGIN {printf "  p99 < 10 ms at >= 1000 rps  %s (p99 %.2f ms, %d rps)\n", (p < 10 && r >= 1000) ? "PASS" : "MISS", p, r}'
awk -v s="$slow" 'BEGIN {printf "  slowdown < 10 %%             %s\n", (s < 10) ? "PASS" : "MISS"}'
