#!/bin/sh
# seed-compat.sh: what backup-member.sh, restore-member.sh, backup-all.sh
# and restore-all.sh run. The seed's scripts, with the seed's usage, are
# now thin wrappers around the controller:
#   ./backup-member.sh <member_number>    quorum-backup backup N
#   ./restore-member.sh <member_number>   quorum-backup restore N --backup latest
#   ./backup-all.sh                       quorum-backup backup --all
#   ./restore-all.sh                      quorum-backup restore --all --backup latest
# Environment: NAMESPACE (default quorum), QUORUM_BACKUP_CONFIG (default
# /etc/quorum-backup/quorum-backup.ini when it exists), QUORUM_BACKUP (the
# controller; default: quorum-backup next to this script, else on PATH).
# Exit status: the controller's (0 ok, 1 a member failed, 2 usage,
# 3 refused, 4 backup not found).
set -eu
name=$1
shift
case $name in
backup-member | restore-member)
	if [ $# -ne 1 ] || ! printf '%s' "$1" | grep -Eq '^[0-9]+$'; then
		echo "Usage: $name.sh <member_number>" >&2
		exit 2
	fi ;;
backup-all | restore-all)
	if [ $# -ne 0 ]; then
		echo "Usage: $name.sh" >&2
		exit 2
	fi ;;
*)
	echo "seed-compat.sh: unknown script $name" >&2
	exit 2 ;;
esac
case $name in
backup-member) set -- backup "$1" ;;
restore-member) set -- restore "$1" --backup latest ;;
backup-all) set -- backup --all ;;
restore-all) set -- restore --all --backup latest ;;
esac
here=$(cd "$(dirname "$0")" && pwd)
bin=${QUORUM_BACKUP:-}
if [ -z "$bin" ]; then
	if [ -x "$here/quorum-backup" ]; then bin=$here/quorum-backup; else bin=quorum-backup; fi
fi
conf=${QUORUM_BACKUP_CONFIG:-/etc/quorum-backup/quorum-backup.ini}
if [ -f "$conf" ]; then
	exec "$bin" -c "$conf" "$@"
fi
exec "$bin" "$@"
