#!/bin/sh
# Regenerate the seed corpora of tests/fuzz/corpus/ (they are committed;
# run this only to change them). Needs a build in build/ (the agent and
# tests/helpers/mktar: `make -C build check TESTS=`), zstd, GNU tar and
# python3.
#
#   tests/fuzz/make-seeds.sh
#
# fuzz_archive seeds start with the harness's mode byte (see
# fuzz_archive.c): archives the agent made of a tiny data directory, plain
# tars for the modes that compress here, hostile tars from mktar (the specs
# of tests/integration/hostile.sh), and a legacy .tar.gz of GNU tar.
set -eu
cd "$(dirname "$0")/../.."
top=$(pwd)
b=${BUILD:-$top/build}
agent=$b/quorum-backup-agent
mktar=$b/tests/helpers/mktar
[ -x "$agent" ] && [ -x "$mktar" ] || {
	echo "make-seeds: build first (need $agent and $mktar)" >&2
	exit 2
}
C=$top/tests/fuzz/corpus
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT

# seed FILE MODE-BYTE [PARTS...]: the byte, then the parts concatenated.
# A part "json:F" is F preceded by its length in two bytes (modes 4, 5).
seed() {
	out=$1 mode=$2
	shift 2
	python3 - "$out" "$mode" "$@" <<'EOF'
import sys
out, mode = sys.argv[1], int(sys.argv[2], 0)
buf = bytes([mode])
for part in sys.argv[3:]:
    if part.startswith("json:"):
        j = open(part[5:], "rb").read()
        buf += len(j).to_bytes(2, "big") + j
    else:
        buf += open(part, "rb").read()
open(out, "wb").write(buf)
EOF
}

# mktar_tar NAME SPEC: a plain pax tar (and NAME.tar.zst, NAME.json).
mktar_tar() {
	printf '%s\n' "$2" | "$mktar" --out "$W/$1.tar.zst" --meta "$W/$1.json"
	zstd -qdc "$W/$1.tar.zst" >"$W/$1.tar"
}

rm -rf "$C"
mkdir -p "$C/fuzz_archive" "$C/fuzz_config" "$C/fuzz_http"

# ---- fuzz_archive ----------------------------------------------------------
A=$C/fuzz_archive
mkdir -p "$W/data/geth/chaindata" "$W/data/tessera" "$W/backups"
printf 'nodekey-abc\n' >"$W/data/geth/nodekey"
printf 'LOG data\n' >"$W/data/geth/chaindata/000001.log"
printf 'MANIFEST-000002\n' >"$W/data/geth/chaindata/CURRENT"
ln -s 000001.log "$W/data/geth/chaindata/LOG"
ln "$W/data/geth/nodekey" "$W/data/geth/nodekey.bak"
printf 'x' >"$W/data/tessera/db.mv.db"
"$agent" --data-dir "$W/data" --backup-dir "$W/backups" --member 1 \
	--set archive.lock_files= --log-level error archive >/dev/null
zst=$(ls "$W"/backups/member1/*.tar.zst)
seed "$A/agent-archive.zst" 0 "$zst"
seed "$A/agent-archive-own-meta" 4 "json:${zst%.tar.zst}.json" "$zst"
seed "$A/agent-archive-in-place" 0x08 "$zst"
(cd "$W/data" && tar --format=gnu -b 1 -cf "$W/gnu.tar" geth tessera)
gzip -9nc "$W/gnu.tar" >"$W/gnu.tar.gz"
seed "$A/legacy-gnu.tar.gz" 1 "$W/gnu.tar.gz"
seed "$A/gnu.tar-for-gzip" 3 "$W/gnu.tar"

mktar_tar plain "dir geth 755
file geth/nodekey 600 nodekey-abc
symlink geth/LOCKLINK LOCK
hardlink geth/nodekey.bak geth/nodekey"
seed "$A/plain-zst" 2 "$W/plain.tar"
seed "$A/plain-in-place-force" 0x1a "$W/plain.tar"
seed "$A/plain-cap-and-key" 6 "$W/plain.tar"
seed "$A/plain-own-meta" 5 "json:$W/plain.json" "$W/plain.tar"
mktar_tar hexname "$(printf 'file caf\351/x 644 not utf-8\nfile ./a//b/ 644 dots')"
seed "$A/hex-names" 7 "$W/hexname.tar"
# Top-level names that read like the restore journal's own "hex:" encoding.
mktar_tar journalnames "$(printf 'file hex:41 644 a\nfile hex:zz 644 b\nfile raw\377 644 c')"
seed "$A/journal-names" 2 "$W/journalnames.tar"
mktar_tar bomb "zeros bomb 644 1048576"
seed "$A/zeros-1MiB.zst" 0 "$W/bomb.tar.zst"

# Hostile tars, as hostile.sh builds them (checked with metadata, mode 2),
# aimed at the harness's tree: from the staging directory
# ROOT/data/.quorum-backup/staging, ../../../ is ROOT.
n=0
while IFS='|' read -r name spec; do
	n=$((n + 1))
	mktar_tar "h$n" "$(printf '%b' "$spec")"
	seed "$A/hostile-$name" 2 "$W/h$n.tar"
done <<'EOF'
parent|file ../../../escaped 644 pwned
parent-inside|dir a 755\nfile a/../../../escaped 644 pwned
absolute|file /tmp/escaped 644 pwned
symlink-then-file|symlink link ../../../outside\nfile link/pwned 644 pwned
symlink-dir|symlink d ../../../outside\ndir d/sub 755
hardlink-outside|hardlink hl ../../../outside/victim
hardlink-live|hardlink hl geth/nodekey
chardev|chardev dev
fifo|fifo pipe
duplicate|file same 644 one\nfile same 644 two
file-as-dir|file geth 644 x\nfile geth/nodekey 644 y
agent-dir|file .quorum-backup/journal 644 {}
EOF
# Two of them as legacy archives (no metadata at all).
seed "$A/hostile-legacy-parent" 3 "$W/h1.tar"
seed "$A/hostile-legacy-symlink" 3 "$W/h4.tar"

# ---- fuzz_config -----------------------------------------------------------
F=$C/fuzz_config
cp conf/quorum-backup-agent.ini "$F/sample-agent.ini"
cp conf/quorum-backup.ini "$F/sample-controller.ini"
cat >"$F/agent-nodes.ini" <<'EOF'
[agent]
member = 3
data_dir = /data
backup_dir = /backups
token_file = /etc/quorum-backup/token
listen = 127.0.0.1:8181
[archive]
level = 19
exclude =
exclude = geth/nodes
lock_files = geth/LOCK
[retention]
keep_last = 0
keep_days = 30
[node.quorum]
gate_socket = /run/quorum.sock
rpc_url = http://127.0.0.1:8545
min_peers = 1
[node.tessera]
gate_socket = /run/tessera.sock
health_url = http://127.0.0.1:9000/upcheck
#set node.quorum.stop_timeout=60
#set archive.exclude=geth/triecache
#env BACKUP_DIR=/mnt/backups
EOF
cat >"$F/controller-members.ini" <<'EOF'
[controller]
members = 1-4, 7
url_template = http://agent-{n}.{namespace}.svc:8181/
namespace = quorum
lease_ttl = 60
[member.2]
url = https://10.0.0.2:8181//
validator = no
[member.0009]
validator = off
#set controller.max_lag=5
#env NAMESPACE=other
EOF
printf '[agent]\nmember = 99999999999999999999\n' >"$F/bad-int.ini"
printf '[agent]\nlog_level = loud\n' >"$F/bad-enum.ini"
printf '[agent]\nmember = 1\nmember = 2\n' >"$F/set-twice.ini"
printf '[agent\nmember = 1\n' >"$F/unclosed-section.ini"
printf '[agent]\nmember 1\n' >"$F/no-equals.ini"
printf '[agent]\ndata_dir = /data\n   continued = x\n\tbackup_dir = /b\n' >"$F/indented.ini"
printf '[agent]\nnode_key = a\000b\n' >"$F/nul-byte.ini"
printf '[agent]\ndata_dir = /%0250d\n' 0 >"$F/long-line.ini"
printf '[node.UPPER]\ngate_socket = /s\n[node.%040d]\ngate_socket = /s\n' 0 >"$F/bad-section-names.ini"
printf '[controller]\nmembers = 3-1,0,10000\nurl_template = ftp://{n}/{bogus}\n' >"$F/bad-members.ini"
# A literal "PREFIX.*" section once reached the instance keys with the
# program's own struct (memory corruption in conf_free).
printf '[member.*]\nurl = h://1\nvalidator = no\n[node.*]\ngate_socket = /s\n' >"$F/star-sections.ini"
printf '\357\273\277[agent]\r\nmember = 1\r\n; comment\r\nauth = none\r\n' >"$F/bom-crlf.ini"

# ---- fuzz_http -------------------------------------------------------------
H=$C/fuzz_http
i=0
while IFS= read -r line; do
	i=$((i + 1))
	printf '%b' "$line" >"$H/$(printf 'req%02d' "$i")"
done <<'EOF'
GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n
GET /v1/status?fresh=1 HTTP/1.1\r\nAuthorization: Bearer t\r\n\r\n
GET /v1/backups/20200101T000000Z HTTP/1.1\r\n\r\n
GET /v1/backups/20200101T000000Z-12/archive HTTP/1.1\r\n\r\n
DELETE /v1/backups/latest?force=1 HTTP/1.1\r\n\r\n
POST /v1/backups/seed.tar.gz/verify?wait=2.5 HTTP/1.1\r\n\r\n
GET /v1/backups/..%2F..%2Fetc HTTP/1.1\r\n\r\n
GET /v1/backups/..%2F..%2Fetc%2Fpasswd/archive HTTP/1.1\r\n\r\n
GET /v1/backups/.. HTTP/1.1\r\n\r\n
GET /v1/backups/%2e%2e.tar.gz HTTP/1.1\r\n\r\n
GET /v1/backups/20200101T000000Z%00../x HTTP/1.1\r\n\r\n
POST /v1/unpack?backup=latest&force=true&in_place=0&wait=3600 HTTP/1.1\r\n\r\n
POST /v1/unpack?backup=..%2Fother.tar.gz&force=2&wait=nan HTTP/1.1\r\n\r\n
POST /v1/archive?quiesce=yes&wait=-1 HTTP/1.1\r\n\r\n
POST /v1/archive?quiesce=1&wait=1e309 HTTP/1.1\r\n\r\n
GET /v1/jobs/j20200101T000000Z-3?wait=0x10 HTTP/1.1\r\n\r\n
GET /v1/jobs/%3Bls HTTP/1.1\r\n\r\n
POST /v1/quiesce?hold=604801 HTTP/1.1\r\n\r\n
POST /v1/lease?holder=quorum-backup@host:42&ttl=86400 HTTP/1.1\r\nX-Quorum-Backup-Holder: quorum-backup@host:42\r\n\r\n
POST /v1/lease?holder=a+b%0Ac&ttl=0 HTTP/1.1\r\n\r\n
DELETE /v1/lease?holder= HTTP/1.1\r\n\r\n
PUT /v1/prune HTTP/1.1\r\n\r\n
GET /v1/nothing HTTP/1.1\r\n\r\n
GET //v1//backups/ HTTP/1.0\r\n\r\n
EOF
printf 'made %s files, %s bytes\n' "$(find "$C" -type f | wc -l)" \
	"$(du -sb "$C" | cut -f1)"
