#!/bin/sh
# Install what quorum-backup needs to build and test on Debian 12 (as root).
# Installs only when something is missing, so a second run is quick.
set -eu

# To build (the Dockerfile's build stage installs the same -dev packages).
PACKAGES="autoconf automake libtool pkg-config make gcc binutils libc6-dev
	libarchive-dev libzstd-dev libxxhash-dev zlib1g-dev libmicrohttpd-dev
	libinih-dev check libcurl4-openssl-dev libjansson-dev libssl-dev
	libsodium-dev libxml2-dev"
# To test: tools the tests drive (age: encrypted backups must open with the
# age tool; Ceph's object gateway, the S3 server of the off-site tests, and
# awscli, the independent S3 client), lint, valgrind, and clang's libFuzzer.
TEST_PACKAGES="zstd jq curl util-linux bsdutils tar gzip xz-utils age
	radosgw ceph-mon ceph-osd ceph-common uuid-runtime awscli
	yamllint python3 python3-yaml mandoc valgrind
	clang-14 libclang-rt-14-dev llvm-14"

missing=""
for p in $PACKAGES $TEST_PACKAGES; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
		missing="$missing $p"
done
if [ -n "$missing" ]; then
	if [ "$(id -u)" != 0 ]; then
		echo "install-deps: missing packages:$missing (run as root)" >&2
		exit 1
	fi
	echo "install-deps: installing$missing"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	# shellcheck disable=SC2086
	apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

# The end-to-end tests and the demo run a real Ethereum node: ganache, from
# the npm registry, at the versions tests/e2e/package-lock.json pins. Node.js
# and npm from Debian when the machine has none.
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
	if [ "$(id -u)" != 0 ]; then
		echo "install-deps: node and npm are missing (run as root)" >&2
		exit 1
	fi
	echo "install-deps: installing nodejs npm"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
fi
e2e=$(cd "$(dirname "$0")/../tests/e2e" && pwd)
if [ ! -f "$e2e/node_modules/ganache/dist/node/cli.js" ] ||
	! cmp -s "$e2e/package-lock.json" "$e2e/node_modules/.package-lock.json.installed"; then
	echo "install-deps: npm ci in tests/e2e (ganache)"
	(cd "$e2e" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
	cp "$e2e/package-lock.json" "$e2e/node_modules/.package-lock.json.installed"
fi
