#!/usr/bin/env bash
# bench-offsite.sh: compare the agent's off-site transfers (`offsite
# upload`, `offsite verify --stored`) with Debian's awscli (`aws s3 cp`), on the
# same archive and the same S3 gateway, side by side.
#
# Usage: tests/bench/bench-offsite.sh [--size MIB] [--rounds N] [--keep]
#
#   --size MIB   about the size of the archive transferred (default 1024,
#                at least 32)
#   --rounds N   rounds of measurements (default 3)
#   --keep       keep the work dir (the data and its backup, reused by the
#                next run with the same size) instead of deleting it at
#                the end
#
# Environment: AGENT (default <repo>/quorum-backup-agent, or
# <repo>/build/quorum-backup-agent when only that exists; build it first),
# TMPDIR (the work dir is $TMPDIR/quorum-backup-bench-offsite), GNU_TIME
# (default /usr/bin/time; without it CPU time and peak RSS are n/a), AWSCLI
# (default /usr/bin/aws, Debian's awscli; never another aws on PATH),
# S3_PORT (default 31480: the gateway's port, the monitor's is the next
# one; outside 21000-29000, which the integration tests take; a pair in
# use is skipped for the next, up to 3 tries), OFFSITE_PART_SIZE and
# OFFSITE_PARALLEL (unset: the agent's defaults, 16 MiB and 4; else passed
# as --set offsite.part_size=, offsite.parallel=). The agent binary is
# copied into the work dir first, so a rebuild during the run cannot break
# it.
#
# The S3 server is tests/helpers/s3-server.sh: Ceph's object gateway
# (radosgw) with one monitor and one OSD whose memstore holds the objects
# in RAM, all on 127.0.0.1, started in the work dir with S3_MEMSTORE_BYTES
# sized for three copies of the archive (Ceph's default, 1 GiB, holds
# less than one at the default size), and stopped by its daemons' PIDs at
# the end, on failure too. The bucket is made with aws s3 mb. awscli reads
# no configuration of this machine's user: AWS_CONFIG_FILE (region
# us-east-1, path-style addressing, nothing else: awscli's defaults of
# 8 MiB parts and 10 requests in flight) and AWS_SHARED_CREDENTIALS_FILE
# point into the work dir, the keys come as AWS_ACCESS_KEY_ID and
# AWS_SECRET_ACCESS_KEY. The agent gets the same endpoint, region,
# addressing and keys (--set offsite.url=ENDPOINT/BUCKET/bench,
# offsite.region, offsite.addressing, offsite.access_key_file,
# offsite.secret_key_file; files 0600 in the work dir).
#
# The data is gen-chaindata.sh's 16 MiB tree (a node key, keystore,
# LevelDB tables...) plus SIZE - 16 MiB of incompressible AES-CTR
# keystream in 64 MiB LevelDB-named files, so that the archive is about
# SIZE MiB; it is archived once with the agent (archive), F =
# B/member1/<ID>.tar.zst. Throughput is F's size over the wall time of
# each command, start-up included (awscli's Python start is measured
# apart, as the median of three `aws s3 ls` of an empty prefix, and
# printed; it is not subtracted). Each round runs, with F warm in the page
# cache:
#   agent upload    quorum-backup-agent ... offsite upload <ID>: F to
#                   bench/member1/<ID>.tar.zst as a multipart upload
#                   (part_size parts, parallel in flight, each part read
#                   twice: once for its SHA-256 and MD5, once to send
#                   it), with the ListMultipartUploads of its resume check,
#                   Create and Complete, then the metadata's PUT, a HEAD
#                   and the local metadata's rewrite
#   aws upload      aws s3 cp --only-show-errors F s3://BUCKET/aws/<ID>.tar.zst
#   agent download  quorum-backup-agent ... offsite verify --stored <ID>: the remote
#                   metadata's GET, a HEAD, then one GET of the agent's
#                   object streamed through SHA-256 and compared; nothing
#                   is written to disk. This is the agent's closest to a
#                   pure download: unpack --from offsite streams the same
#                   GET, but through zstd, the tar extraction and every
#                   file's hash into staging, then a sync and the swap (a
#                   restore, measured by bench-restore.sh for local
#                   archives), not the transfer alone.
#   aws download    aws s3 cp --only-show-errors s3://BUCKET/bench/member1/<ID>.tar.zst -
#                   >/dev/null: the same object as the agent's download,
#                   to /dev/null as the agent writes nothing (awscli's
#                   ranged GETs, in parallel, written in order to stdout)
# and records wall time, the client's CPU time (user + sys) and peak RSS
# (GNU time), and the server's CPU time (radosgw + ceph-osd + ceph-mon,
# from /proc/PID/stat): on a small machine the client and the gateway
# share the cores. The agent runs first in odd rounds (agent upload, aws
# upload, agent download, aws download) and second in even ones (aws
# upload, agent upload, aws download, agent download). Every object is
# then deleted (aws s3 rm --recursive) and the gateway's garbage
# collection run (radosgw-admin gc process --include-all), so that each
# upload is fresh and the memstore freed. One unmeasured warm-up round of
# all four precedes round 1 (memory the system has not touched lately is
# slow to fault in, in a VM) and checks, outside any timing, that the
# agent's upload is multipart, that aws reads back the agent's object
# with F's SHA-256 (the local metadata's), and that aws's object has F's
# size.
# The report is a plain text table with MiB/s per run and the medians of
# the wall times (MiB/s from them); the ratios agent / aws (MiB/s) for
# upload and download, target >= 1.0 each, print PASS or MISS, and the
# exit status is 0 either way (1 only when a run fails or a check does).
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
s3_server=$repo/tests/helpers/s3-server.sh

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
if [ "$size_mib" -lt 32 ] || [ "$rounds" -lt 1 ]; then
	usage
fi

die() {
	echo "bench-offsite: $*" >&2
	exit 1
}
warn() {
	echo "bench-offsite: warning: $*" >&2
}
awscli=${AWSCLI:-/usr/bin/aws}
[ -x "$agent" ] || die "$agent not found or not executable (build it: make -C '$repo', or set AGENT)"
[ -x "$awscli" ] || die "$awscli is missing (apt-get install -y awscli, or set AWSCLI)"
for tool in openssl awk sha256sum sed stat curl radosgw radosgw-admin; do
	command -v "$tool" >/dev/null || die "$tool is required (scripts/install-deps.sh installs the S3 server's)"
done
gnu_time=${GNU_TIME:-/usr/bin/time}
if ! "$gnu_time" -f %M -o /dev/null true 2>/dev/null; then
	warn "GNU time ($gnu_time) is missing: CPU time and peak RSS will be n/a" \
		"(install with: apt-get install -y time)"
	gnu_time=
fi
s3_port=${S3_PORT:-31480}
case $s3_port in
'' | *[!0-9]*) die "S3_PORT=$s3_port: not a port" ;;
esac
tune=()
tune_label="the agent's defaults"
if [ -n "${OFFSITE_PART_SIZE:-}" ]; then
	tune+=(--set "offsite.part_size=$OFFSITE_PART_SIZE")
fi
if [ -n "${OFFSITE_PARALLEL:-}" ]; then
	tune+=(--set "offsite.parallel=$OFFSITE_PARALLEL")
fi
[ ${#tune[@]} -eq 0 ] || tune_label="${tune[*]}"

tmp_root=${TMPDIR:-/tmp}
work=$tmp_root/quorum-backup-bench-offsite
data=$work/data-$size_mib
backups=$work/backups-$size_mib
stamp=$work/data-$size_mib.stamp
out=$work/out
logs=$work/logs
keys=$out/keys
s3dir=
bucket=qb-bench
prefix=bench

stop_s3() {
	if [ -n "$s3dir" ] && [ -f "$s3dir/pids" ]; then
		sh "$s3_server" stop "$s3dir" || warn "s3-server.sh stop $s3dir failed"
	fi
}
cleanup() {
	local rc=$?
	trap - EXIT
	stop_s3
	if [ "$keep" -eq 0 ]; then
		rm -rf -- "$work"
	else
		rm -rf -- "$out"
		echo "bench-offsite: kept $work" >&2
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir -p "$work" "$logs"
rm -rf -- "$out"
mkdir -p "$out"
mkdir -m 700 "$keys"
# Measure a snapshot of the binary (an ELF file; anything else runs in place).
if [ "$(head -c 4 "$agent" | od -An -c | tr -d ' ')" = '177ELF' ]; then
	cp -- "$agent" "$work/quorum-backup-agent"
	agent_src=$agent
	agent=$work/quorum-backup-agent
else
	agent_src=$agent
fi

# --- the data and its backup -------------------------------------------------
want_stamp="size=$size_mib gen=$(sha256sum <"$script_dir/gen-chaindata.sh" | cut -c1-16) seed=${GEN_SEED:-} fill=aes-ctr-64m"
backup_id=
if [ -d "$data" ] && [ -f "$stamp" ] && [ "$(head -n 1 "$stamp")" = "$want_stamp" ] &&
	[ -f "$work/backup-id" ]; then
	backup_id=$(cat "$work/backup-id")
	if [ -f "$backups/member1/$backup_id.tar.zst" ] && [ -f "$backups/member1/$backup_id.json" ]; then
		echo "bench-offsite: reusing $data and backup $backup_id" >&2
	else
		backup_id=
	fi
fi
if [ -z "$backup_id" ]; then
	rm -rf -- "$data" "$backups" "$stamp" "$work/backup-id"
	echo "bench-offsite: generating $size_mib MiB in $data" >&2
	t0=$EPOCHREALTIME
	"$script_dir/gen-chaindata.sh" "$data" 16 >&2
	# The rest: incompressible, in 64 MiB files (the last one shorter).
	fill_key=$(printf '%s/offsite-fill' "${GEN_SEED:-quorum-backup-bench}" | sha256sum | cut -c1-32)
	left=$(((size_mib - 16) * 1048576))
	n=0
	while [ "$left" -gt 0 ]; do
		chunk=$((left < 67108864 ? left : 67108864))
		head -c "$chunk" /dev/zero |
			openssl enc -aes-128-ctr -nosalt -K "$fill_key" -iv "$(printf '%032x' "$n")" \
				>"$data/geth/chaindata/$(printf '%06d' $((900000 + n))).ldb"
		left=$((left - chunk))
		n=$((n + 1))
	done
	echo "bench-offsite: generated in $(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }') s" >&2
	mkdir -p "$backups"
	echo "bench-offsite: archiving $data with the agent" >&2
	if ! "$agent" --data-dir "$data" --backup-dir "$backups" --member 1 --json \
		archive >"$logs/archive.json" 2>"$logs/archive.log"; then
		cat "$logs/archive.log" >&2
		die "the agent's archive failed (log above)"
	fi
	backup_id=$(sed -n 's/.*"id": *"\([^"]*\)".*/\1/p' "$logs/archive.json" | head -n 1)
	[ -n "$backup_id" ] || die "no id in the archive's output: $(cat "$logs/archive.json")"
	printf '%s\n' "$backup_id" >"$work/backup-id"
	printf '%s\n' "$want_stamp" >"$stamp"
fi
archive=$backups/member1/$backup_id.tar.zst
[ -f "$archive" ] || die "$archive is missing"
archive_bytes=$(stat -c %s "$archive")
archive_sha=$(sha256sum <"$archive" | cut -d ' ' -f 1)
read -r in_files in_bytes < <(find "$data" -path "$data/.quorum-backup" -prune -o -type f -printf '%s\n' |
	awk '{ n++; s += $1 } END { printf "%d %d\n", n, s }')
echo "bench-offsite: backup $backup_id, $archive_bytes bytes" >&2
sync

# --- the S3 server -----------------------------------------------------------
# Three copies of the archive (two in the bucket at most between rounds,
# one more for what the gateway frees late) and 256 MiB, under the OSD's
# nearfull ratio (0.85) with room to spare.
memstore_bytes=$(((archive_bytes * 3 + 268435456) * 10 / 8))
[ "$memstore_bytes" -ge 1073741824 ] || memstore_bytes=1073741824
avail_kib=$(awk '/^MemAvailable:/ { print $2 }' /proc/meminfo)
if [ -n "$avail_kib" ] && [ "$avail_kib" -lt $(((memstore_bytes + archive_bytes) / 1024)) ]; then
	warn "only $((avail_kib / 1024)) MiB of memory available: the memstore ($((memstore_bytes / 1048576)) MiB)" \
		"and the archive's page cache may not fit"
fi

port_free() { # PORT: nothing listens on 127.0.0.1:PORT
	! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}
try=0
while :; do
	port=$((s3_port + try * 2))
	if port_free "$port" && port_free $((port + 1)); then
		s3dir=$work/s3.$try
		rm -rf -- "$s3dir"
		echo "bench-offsite: starting the S3 gateway on 127.0.0.1:$port (memstore $((memstore_bytes / 1048576)) MiB)" >&2
		if S3_MEMSTORE_BYTES=$memstore_bytes sh "$s3_server" start "$s3dir" "$port" >"$logs/s3-start.out" 2>&1; then
			break
		fi
		stop_s3
		tail -n 30 "$logs/s3-start.out" >&2
		warn "the S3 gateway did not start on $port"
	else
		warn "127.0.0.1:$port or $((port + 1)) is in use"
	fi
	try=$((try + 1))
	[ "$try" -lt 3 ] || die "the S3 gateway did not start (3 port pairs from $s3_port tried)"
done
# shellcheck disable=SC1091
. "$s3dir/env"
s3_pids=$(tr '\n' ' ' <"$s3dir/pids")

AWS_ACCESS_KEY_ID=$S3_ACCESS_KEY
AWS_SECRET_ACCESS_KEY=$S3_SECRET_KEY
AWS_DEFAULT_REGION=us-east-1
AWS_CONFIG_FILE=$out/aws-config
AWS_SHARED_CREDENTIALS_FILE=$out/aws-credentials
AWS_EC2_METADATA_DISABLED=true
AWS_PAGER=
export AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_DEFAULT_REGION AWS_CONFIG_FILE \
	AWS_SHARED_CREDENTIALS_FILE AWS_EC2_METADATA_DISABLED AWS_PAGER
printf '[default]\nregion = us-east-1\ns3 =\n    addressing_style = path\n' >"$AWS_CONFIG_FILE"
: >"$AWS_SHARED_CREDENTIALS_FILE"
aws_cmd=("$awscli" --endpoint-url "$S3_ENDPOINT")
aws_() {
	"${aws_cmd[@]}" "$@"
}
aws_ s3 mb "s3://$bucket" >"$logs/mb.out" 2>&1 || { cat "$logs/mb.out" >&2; die "aws s3 mb s3://$bucket failed"; }

printf '%s\n' "$S3_ACCESS_KEY" >"$keys/ak"
( umask 077 && printf '%s\n' "$S3_SECRET_KEY" >"$keys/sk" )
chmod 600 "$keys/sk"
# The agent with [offsite] set to the bucket (an array: GNU time runs it).
agent_off=("$agent" --data-dir "$data" --backup-dir "$backups" --member 1
	--set "offsite.url=$S3_ENDPOINT/$bucket/$prefix" --set offsite.region=us-east-1
	--set offsite.addressing=path --set "offsite.access_key_file=$keys/ak"
	--set "offsite.secret_key_file=$keys/sk" "${tune[@]}")
agent_key=$prefix/member1/$backup_id.tar.zst
aws_key=aws/$backup_id.tar.zst

# --- measuring -----------------------------------------------------------------
clk_tck=$(getconf CLK_TCK)
# server_cpu: user + sys seconds of the S3 server's daemons so far.
server_cpu() {
	local pid ticks=0 t
	for pid in $s3_pids; do
		t=$(awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$pid/stat" 2>/dev/null) ||
			die "the S3 server's process $pid is gone (see $s3dir/log with --keep)"
		ticks=$((ticks + t))
	done
	awk -v t="$ticks" -v h="$clk_tck" 'BEGIN { printf "%.2f", t / h }'
}

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
stat_rss() {
	awk 'END { if ($1 ~ /^[0-9]+$/) printf "%.1f", $1 / 1024; else print "n/a" }' "$1" 2>/dev/null || echo n/a
}
stat_cpu() {
	awk 'END { if ($2 ~ /^[0-9.]+$/ && $3 ~ /^[0-9.]+$/) printf "%.2f", $2 + $3; else print "n/a" }' "$1" 2>/dev/null || echo n/a
}
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }

# Results, one line per run: round method seconds cpu_s rss_mib server_cpu_s
results=$work/results
: >"$results"
gc_ok=1

# measure ROUND METHOD LOG CMD...: one timed run (stderr to LOG), recorded
# unless ROUND is 0; stdout to $measure_out (default: LOG.out).
measure_out=
measure() {
	local r=$1 method=$2 log=$3 t0 t1 s0 s1 dest
	shift 3
	dest=${measure_out:-$log.out}
	s0=$(server_cpu)
	t0=$EPOCHREALTIME
	if ! timed "$logs/run.stat" "$@" >"$dest" 2>"$log"; then
		tail -n 30 "$log" >&2
		die "round $r: $method failed (log above)"
	fi
	t1=$EPOCHREALTIME
	s1=$(server_cpu)
	[ "$r" -eq 0 ] ||
		echo "$r $method $(elapsed "$t0" "$t1") $(stat_cpu "$logs/run.stat") $(stat_rss "$logs/run.stat")" \
			"$(awk -v a="$s0" -v b="$s1" 'BEGIN { printf "%.2f", b - a }')" >>"$results"
}

warm() {
	cat -- "$archive" >/dev/null
}

agent_upload() { # round
	warm
	measure "$1" agentup "$logs/agent-up-$1.log" "${agent_off[@]}" --json offsite upload "$backup_id"
	if [ "$1" -eq 0 ]; then
		agent_parts=$(sed -n 's/.*"parts": *\([0-9]*\).*/\1/p' "$logs/agent-up-$1.log.out")
		[ "${agent_parts:-0}" -ge 2 ] ||
			die "the agent's upload is not multipart: $(cat "$logs/agent-up-$1.log.out")"
	fi
}
aws_upload() { # round
	warm
	measure "$1" awsup "$logs/aws-up-$1.log" "${aws_cmd[@]}" s3 cp --only-show-errors "$archive" "s3://$bucket/$aws_key"
	if [ "$1" -eq 0 ]; then
		aws_ s3api head-object --bucket "$bucket" --key "$aws_key" >"$logs/head.json" 2>&1 ||
			{ cat "$logs/head.json" >&2; die "aws s3api head-object of aws's copy failed"; }
		grep -q "\"ContentLength\": *$archive_bytes," "$logs/head.json" ||
			die "aws's copy is not $archive_bytes bytes: $(cat "$logs/head.json")"
	fi
}
agent_download() { # round
	measure "$1" agentdown "$logs/agent-down-$1.log" "${agent_off[@]}" --json offsite verify --stored "$backup_id"
}
aws_download() { # round
	measure_out=/dev/null
	measure "$1" awsdown "$logs/aws-down-$1.log" "${aws_cmd[@]}" s3 cp --only-show-errors "s3://$bucket/$agent_key" -
	measure_out=
}
check_download() { # outside the timing: aws reads the agent's object back
	local got
	got=$(aws_ s3 cp --only-show-errors "s3://$bucket/$agent_key" - 2>"$logs/check.log" | sha256sum | cut -d ' ' -f 1)
	[ "$got" = "$archive_sha" ] ||
		die "aws reads the agent's object with SHA-256 $got, the archive's is $archive_sha ($(head -c 300 "$logs/check.log"))"
}
clear_bucket() {
	aws_ s3 rm --recursive --only-show-errors "s3://$bucket/" >"$logs/rm.log" 2>&1 ||
		{ cat "$logs/rm.log" >&2; die "aws s3 rm --recursive s3://$bucket/ failed"; }
	if ! radosgw-admin -c "$s3dir/ceph.conf" -n client.rgw gc process --include-all \
		>"$logs/gc.log" 2>&1; then
		[ "$gc_ok" -eq 0 ] || warn "radosgw-admin gc process failed: the memstore may fill ($(tail -n 1 "$logs/gc.log"))"
		gc_ok=0
	fi
}

round() { # round
	if [ $(($1 % 2)) -eq 1 ] || [ "$1" -eq 0 ]; then
		agent_upload "$1"
		aws_upload "$1"
		agent_download "$1"
		aws_download "$1"
	else
		aws_upload "$1"
		agent_upload "$1"
		aws_download "$1"
		agent_download "$1"
	fi
	[ "$1" -ne 0 ] || check_download
	clear_bucket
}

# awscli's start-up: an aws s3 ls of an empty prefix (Python, botocore and
# one request), the median of three.
aws_start=()
for _ in 1 2 3; do
	t0=$EPOCHREALTIME
	aws_ s3 ls "s3://$bucket/nothing-here/" >/dev/null 2>&1 || true
	aws_start+=("$(elapsed "$t0" "$EPOCHREALTIME")")
done
aws_start_s=$(printf '%s\n' "${aws_start[@]}" | sort -n | sed -n 2p)

echo "bench-offsite: warm-up round (not measured), with the checks" >&2
round 0
load_start=$(cut -d ' ' -f 1 /proc/loadavg)
for r in $(seq 1 "$rounds"); do
	echo "bench-offsite: round $r/$rounds" >&2
	round "$r"
done

# --- report ------------------------------------------------------------------
cpu=$(grep -m1 'model name' /proc/cpuinfo | sed 's/^[^:]*: *//' || true)
agent_version=$("$agent" --version 2>&1 | head -n 1 || true)
aws_version=$("$awscli" --version 2>&1 | head -n 1 | cut -d ' ' -f 1-2 || true)
ceph_version=$(radosgw --version 2>&1 | sed -n '1s/^ceph version \([^ ]*\).*/\1/p' || true)
curl_version=$(curl --version | sed -n '1s/^curl [^ ]* (\([^)]*\)) \(libcurl\/[^ ]*\).*/\2/p' || true)

awk -v cpu="${cpu:-unknown}" -v nproc="$(nproc)" -v size_mib="$size_mib" -v rounds="$rounds" \
	-v archive_bytes="$archive_bytes" -v backup_id="$backup_id" -v in_bytes="$in_bytes" \
	-v in_files="$in_files" -v agent_src="$agent_src" -v agent_version="$agent_version" \
	-v agent_parts="${agent_parts:-?}" -v tune="$tune_label" -v aws_version="$aws_version" \
	-v ceph_version="${ceph_version:-?}" -v curl_version="${curl_version:-?}" \
	-v aws_start="$aws_start_s" -v memstore="$memstore_bytes" -v port="$port" \
	-v load="$load_start / $(cut -d ' ' -f 1 /proc/loadavg)" -v gc_ok="$gc_ok" \
	-v kernel="$(uname -r)" '
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
function maxv(list,   a, n, i, m) {
	n = split(list, a, " "); m = "n/a"
	for (i = 1; i <= n; i++)
		if (num(a[i]) && (m == "n/a" || a[i] + 0 > m + 0)) m = a[i]
	return m
}
function mib(b) { return sprintf("%.1f", b / 1048576) }
function row(r, name, t, c, rss, s) {
	printf "%-7s %-44s %8.2f %8.1f %7s %9s  %s\n", r, name, t, archive_bytes / 1048576 / t, c, s, rss
}
function hdr(a, b, c, d, e, f, g) { printf "%-7s %-44s %8s %8s %7s %9s  %s\n", a, b, c, d, e, f, g }
function pf(ok) { return ok ? "PASS" : "MISS" }
BEGIN {
	label["agentup"] = "upload   quorum-backup-agent offsite upload"
	label["awsup"] = "upload   aws s3 cp FILE s3://..."
	label["agentdown"] = "download quorum-backup-agent offsite verify --stored"
	label["awsdown"] = "download aws s3 cp s3://... - >/dev/null"
	order[1] = "agentup"; order[2] = "awsup"; order[3] = "agentdown"; order[4] = "awsdown"
}
{
	m = $2
	T[m] = T[m] " " $3; C[m] = C[m] " " $4; R[m] = R[m] " " $5; S[m] = S[m] " " $6
	line[NR] = $0
}
END {
	printf "quorum-backup off-site benchmark\n\n"
	printf "  cpu      %s\n", cpu
	printf "  nproc    %s (client and S3 server on the same machine)\n", nproc
	printf "  kernel   %s\n", kernel
	printf "  data     %s MiB in %d files (gen-chaindata.sh 16 + incompressible fill; --size %s)\n", mib(in_bytes), in_files, size_mib
	printf "  archive  %s MiB (%d bytes), backup %s, warm in the page cache\n", mib(archive_bytes), archive_bytes, backup_id
	printf "  server   Ceph radosgw %s on 127.0.0.1:%s, memstore (RAM) %s MiB\n", ceph_version, port, mib(memstore)
	printf "  agent    %s (%s), %s; %s parts, [offsite] %s\n", agent_version, agent_src, curl_version, agent_parts, tune
	printf "  aws      %s, its defaults (8 MiB parts, 10 requests in flight); start-up %.2f s\n", aws_version, aws_start
	printf "           (aws s3 ls of an empty prefix, median of 3; included in its times, not subtracted)\n"
	printf "  download agent: offsite verify --stored (GET streamed through SHA-256, nothing written; no extraction)\n"
	printf "           aws: aws s3 cp s3://BUCKET/KEY - >/dev/null, the same object\n"
	printf "  rounds   %d after one unmeasured warm-up round; agent first in odd rounds, second in even\n", rounds
	printf "           ones; every object deleted and the gateway'"'"'s gc run after each round%s\n", gc_ok ? "" : " (gc FAILED)"
	printf "  loadavg  %s (1 min, before / after the rounds)\n\n", load
	hdr("round", "method", "wall_s", "MiB/s", "cpu_s", "srv_cpu_s", "peak_RSS_MiB")
	hdr("-----", "------", "------", "-----", "-----", "---------", "------------")
	for (i = 1; i <= NR; i++) {
		split(line[i], f, " ")
		row(f[1], label[f[2]], f[3], f[4], f[5], f[6])
	}
	hdr("-----", "------", "------", "-----", "-----", "---------", "------------")
	for (k = 1; k <= 4; k++) {
		m = order[k]
		mt[m] = median(T[m])
		row("median", label[m], mt[m], nmedian(C[m]), maxv(R[m]) " (max)", nmedian(S[m]))
	}
	printf "\nMiB/s: the archive'"'"'s size over the wall time; cpu_s: the client'"'"'s user + sys; srv_cpu_s: radosgw +\n"
	printf "ceph-osd + ceph-mon user + sys meanwhile\n"

	up = mt["awsup"] / mt["agentup"]; down = mt["awsdown"] / mt["agentdown"]
	printf "\nthroughput (medians)      agent MiB/s   aws MiB/s   agent / aws\n"
	printf "  upload                  %11.1f %11.1f   %8.3f x\n", archive_bytes / 1048576 / mt["agentup"], archive_bytes / 1048576 / mt["awsup"], up
	printf "  download                %11.1f %11.1f   %8.3f x\n", archive_bytes / 1048576 / mt["agentdown"], archive_bytes / 1048576 / mt["awsdown"], down
	cu = nmedian(C["agentup"]); ca = nmedian(C["awsup"])
	cd = nmedian(C["agentdown"]); cw = nmedian(C["awsdown"])
	if (num(cu) && num(ca) && ca > 0)
		printf "  upload cpu agent / aws      %6.3f\n", cu / ca
	if (num(cd) && num(cw) && cw > 0)
		printf "  download cpu agent / aws    %6.3f\n", cd / cw

	printf "\ntargets\n"
	printf "  upload   agent / aws >= 1.0    %6.3f x       %s\n", up, pf(up >= 1.0)
	printf "  download agent / aws >= 1.0    %6.3f x       %s\n", down, pf(down >= 1.0)
}' "$results"
