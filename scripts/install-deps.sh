#!/bin/sh
# Install what quorum-backup needs to build and test on Debian 12 (as root).
# Installs only when something is missing, so a second run is quick.
set -eu

PACKAGES="autoconf automake libtool pkg-config make gcc
	libarchive-dev libzstd-dev libxxhash-dev zlib1g-dev libmicrohttpd-dev
	libinih-dev check libcurl4-openssl-dev libjansson-dev libssl-dev
	zstd jq curl util-linux tar gzip xz-utils"

missing=""
for p in $PACKAGES; do
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
