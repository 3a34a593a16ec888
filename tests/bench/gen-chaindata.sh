#!/usr/bin/env bash
# gen-chaindata.sh: generate a synthetic GoQuorum data directory for the
# archive benchmark (tests/bench/bench-archive.sh).
#
# Usage: tests/bench/gen-chaindata.sh DIR [SIZE_MIB]     (default 1024)
#
# DIR must not exist or be empty. The tree resembles a geth/tessera volume:
#
#   geth/chaindata/NNNNNN.ldb       LevelDB tables, ~1.75-2.25 MiB each,
#                                   ~65% incompressible, the rest text
#                                   records, zero runs and hex strings
#   geth/chaindata/ancient/         freezer: bodies.000{0,1}.cdat (~15% of
#                                   SIZE_MIB each), receipts, headers, hashes
#                                   and diffs tables (mostly incompressible),
#                                   *.cidx/*.ridx index files, FLOCK
#   geth/chaindata/{CURRENT,LOCK,LOG,MANIFEST-000123}
#   geth/{nodekey,LOCK}, keystore/UTC--..., tm/{db.mv.db,tm.pub,tm.key}
#
# The total is at least SIZE_MIB MiB; zstd -3 compresses it to about 0.75.
# The output is deterministic: the same arguments (and GEN_SEED, default
# "quorum-backup-bench") give byte-identical files. Incompressible bytes are
# AES-128-CTR keystream (openssl) with a key derived from the seed and a
# distinct IV per segment; text comes from awk with a fixed LCG. It takes a
# few seconds per GiB.
# Files are written in parallel (GEN_JOBS, default nproc).
set -euo pipefail

usage() {
	echo "usage: $0 DIR [SIZE_MIB]" >&2
	exit 2
}

if [ $# -lt 1 ] || [ $# -gt 2 ]; then
	usage
fi
dir=$1
size_mib=${2:-1024}
case $size_mib in
'' | *[!0-9]*) usage ;;
esac
if [ "$size_mib" -lt 16 ]; then
	echo "$0: SIZE_MIB must be at least 16" >&2
	exit 2
fi
for tool in openssl awk xxd dd head nproc xargs sha256sum; do
	command -v "$tool" >/dev/null || {
		echo "$0: $tool is required" >&2
		exit 1
	}
done
if [ -e "$dir" ] && [ -n "$(ls -A "$dir")" ]; then
	echo "$0: $dir exists and is not empty" >&2
	exit 1
fi

seed=${GEN_SEED:-quorum-backup-bench}
jobs=${GEN_JOBS:-$(nproc)}
MiB=1048576
total=$((size_mib * MiB))

mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/gen-chaindata.XXXXXX")
trap 'rm -rf -- "$tmp"' EXIT

# Everything the per-file worker needs, exported for xargs' bash -c.
export GEN_KEY GEN_TEXT GEN_HEX GEN_TEXT_SIZE GEN_HEX_SIZE
GEN_KEY=$(printf '%s' "$seed" | sha256sum | cut -c1-32)
GEN_TEXT=$tmp/text.pool
GEN_HEX=$tmp/hex.pool

# hexdigest LABEL: 64 hex chars derived from the seed and LABEL.
hexdigest() {
	printf '%s/%s' "$seed" "$1" | sha256sum | cut -c1-64
}

# rnd ID N: N incompressible bytes, stream ID (IV high 64 bits = ID, so the
# streams of different IDs never overlap).
rnd() {
	head -c "$2" /dev/zero |
		openssl enc -aes-128-ctr -K "$GEN_KEY" -iv "$(printf '%016x%016x' "$1" 0)"
}

# slice POOL POOL_SIZE KEY N: N bytes of POOL at an offset picked from KEY.
slice() {
	local off=$((($3 * 2654435761) % ($2 - $4)))
	dd if="$1" bs=1M skip="$off" count="$4" iflag=skip_bytes,count_bytes status=none
}

# mixed_file OUT SIZE PERMILLE CHUNK FILEID: OUT gets SIZE bytes, written in
# chunks of CHUNK bytes; each chunk is PERMILLE/1000 incompressible bytes,
# then text records (half the rest), zeros (3/10) and hex strings (1/5).
mixed_file() {
	local out=$1 size=$2 permille=$3 chunk=$4 id=$5
	local done=0 k=0 n r c t z h
	{
		while [ "$done" -lt "$size" ]; do
			n=$((size - done < chunk ? size - done : chunk))
			r=$((n * permille / 1000))
			c=$((n - r))
			t=$((c * 5 / 10))
			z=$((c * 3 / 10))
			h=$((c - t - z))
			[ "$r" -eq 0 ] || rnd $(((id << 20) | k)) "$r"
			[ "$t" -eq 0 ] || slice "$GEN_TEXT" "$GEN_TEXT_SIZE" $((id * 131 + k)) "$t"
			[ "$z" -eq 0 ] || head -c "$z" /dev/zero
			[ "$h" -eq 0 ] || slice "$GEN_HEX" "$GEN_HEX_SIZE" $((id * 137 + k + 7)) "$h"
			done=$((done + n))
			k=$((k + 1))
		done
	} >"$out"
}
export -f rnd slice mixed_file

# --- pools of compressible data ------------------------------------------
# Text: receipt/log-like records with a few repeating addresses and topics.
GEN_TEXT_SIZE=$((8 * MiB))
awk -v want="$GEN_TEXT_SIZE" 'BEGIN {
	x = 12345
	while (len < want) {
		x = (x * 16807) % 2147483647; a = x
		x = (x * 16807) % 2147483647; b = x
		x = (x * 16807) % 2147483647; c = x
		line = sprintf("r%09d|blk=%d|tx=0x%08x%08x|from=0x5a1b%04d00000000000000000000000000%04d|gas=%d|st=%d|topic=ddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef|v=%d\n",
			n, 1000000 + int(n / 40), a, b, c % 97, c % 13, 21000 + (a % 40) * 1000,
			(b % 50) != 0, c % 100000)
		printf "%s", line
		len += length(line); n++
	}
}' >"$GEN_TEXT"
truncate -s "$GEN_TEXT_SIZE" "$GEN_TEXT"
# Hex: hex-encoded incompressible bytes (RLP/JSON dumps of hashes).
GEN_HEX_SIZE=$((4 * MiB))
rnd $((1 << 40)) $((GEN_HEX_SIZE / 2)) | xxd -p >"$GEN_HEX"
truncate -s "$GEN_HEX_SIZE" "$GEN_HEX"

# --- layout ----------------------------------------------------------------
cd_=$dir/geth/chaindata
anc=$cd_/ancient
mkdir -p "$anc" "$dir/keystore" "$dir/tm"

jobsfile=$tmp/jobs
: >"$jobsfile"
# job OUT SIZE PERMILLE CHUNK FILEID
job() { printf '%s %s %s %s %s\n' "$@" >>"$jobsfile"; }

scaled() { echo $((total * $1 / 1024)); } # $1 per 1024 of the total
used=0
add() { # like job, counting the size
	job "$@"
	used=$((used + $2))
}

# Freezer (ancient) tables, biggest first for load balance.
add "$anc/bodies.0000.cdat" "$(scaled 150)" 800 $((4 * MiB)) 100001
add "$anc/bodies.0001.cdat" "$(($(scaled 150) - 3 * MiB / 2))" 800 $((4 * MiB)) 100002
add "$anc/receipts.0000.cdat" "$(scaled 40)" 600 $((4 * MiB)) 100003
add "$anc/headers.0000.cdat" "$(scaled 24)" 800 $((4 * MiB)) 100004
add "$anc/hashes.0000.rdat" "$(scaled 4)" 1000 $((4 * MiB)) 100005
add "$anc/diffs.0000.rdat" "$(scaled 1)" 100 $((4 * MiB)) 100006
# Tessera's H2 database: a few MiB, mostly compressible pages.
tm_mib=$((size_mib / 256))
tm_mib=$((tm_mib < 1 ? 1 : tm_mib > 16 ? 16 : tm_mib))
add "$dir/tm/db.mv.db" $((tm_mib * MiB + 12288)) 300 $((64 * 1024)) 100007
add "$cd_/MANIFEST-000123" 65536 700 65536 100008

# LevelDB tables fill the rest: ~2 MiB each, varied by +-12%.
i=0
while [ "$used" -lt "$total" ]; do
	sz=$((2 * MiB + (i * 7919 * 61) % (MiB / 2) - MiB / 4))
	add "$(printf '%s/%06d.ldb' "$cd_" $((4100 + i * 3)))" "$sz" 650 "$sz" $((i + 1))
	i=$((i + 1))
done

xargs -P "$jobs" -L 1 bash -c 'set -euo pipefail; mixed_file "$@"' _ <"$jobsfile"

# --- freezer index files (6-byte entries: file number, end offset) ----------
# index NAME ENTRIES FILES: ENTRIES entries spread over FILES data files.
index() {
	awk -v n="$2" -v files="$3" 'BEGIN {
		x = 777; per = int(n / files) + 1
		for (i = 0; i < n; i++) {
			if (i % per == 0) off = 0
			x = (x * 16807) % 2147483647
			off = (off + 200 + x % 3000) % 2147483648
			printf "%04x%08x\n", int(i / per), off
		}
	}' | xxd -r -p >"$anc/$1"
}
entries=$((size_mib * 40))
index bodies.cidx "$entries" 2
index receipts.cidx "$entries" 1
index headers.cidx "$entries" 1
index hashes.ridx "$entries" 1
index diffs.ridx "$entries" 1
: >"$anc/FLOCK"

# --- small files -------------------------------------------------------------
printf 'MANIFEST-000123\n' >"$cd_/CURRENT"
: >"$cd_/LOCK"
: >"$dir/geth/LOCK"
awk 'BEGIN {
	for (i = 0; i < 300; i++)
		printf "2024/01/%02d-10:%02d:%02d.%06d 7f%010d Compacting %d@%d + %d@%d files\n",
			1 + i % 28, i % 60, (i * 7) % 60, i * 3331 % 1000000, i * 97,
			1 + i % 4, i % 3, 1 + i % 5, 1 + i % 3 + 1
}' >"$cd_/LOG"
printf '%s' "$(hexdigest nodekey)" >"$dir/geth/nodekey"
for k in 1 2; do
	addr=$(hexdigest "addr$k" | cut -c1-40)
	cat >"$dir/keystore/UTC--2024-01-15T10-20-3${k}.123456789Z--$addr" <<EOF
{"address":"$addr","crypto":{"cipher":"aes-128-ctr","ciphertext":"$(hexdigest "ct$k")","cipherparams":{"iv":"$(hexdigest "iv$k" | cut -c1-32)"},"kdf":"scrypt","kdfparams":{"dklen":32,"n":262144,"p":1,"r":8,"salt":"$(hexdigest "salt$k")"},"mac":"$(hexdigest "mac$k")"},"id":"$(hexdigest "id$k" | sed -E 's/^(.{8})(.{4})(.{4})(.{4})(.{12}).*/\1-\2-\3-\4-\5/')","version":3}
EOF
done
printf '%s\n' "$(hexdigest tmpub | xxd -r -p | base64)" >"$dir/tm/tm.pub"
printf '{"type":"unlocked","data":{"bytes":"%s"}}\n' \
	"$(hexdigest tmkey | xxd -r -p | base64)" >"$dir/tm/tm.key"

files=$(find "$dir" -type f | wc -l)
bytes=$(find "$dir" -type f -printf '%s\n' | awk '{ s += $1 } END { printf "%d", s }')
echo "gen-chaindata: $dir: $files files, $bytes bytes ($((bytes / MiB)) MiB)"
