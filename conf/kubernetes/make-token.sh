#!/bin/sh
# Creates the Secret quorum-backup-token (key `token`) that the agents and
# the controller share, with a fresh random token: 32 bytes from
# /dev/urandom in base64. The token never appears on a command line or in
# a file of this repository.
#
#   make-token.sh [-n NAMESPACE] [--rotate] [--stdout]
#
#   -n NAMESPACE  the namespace of the members (default: quorum)
#   --rotate      replace an existing token; the agents read the new one
#                 when kubelet updates their volume (about a minute): do
#                 it outside the backup window
#   --stdout      print the Secret manifest instead of creating it (to
#                 seal or encrypt it for a GitOps repository)
set -eu

usage() {
	sed -n '7,16s/^# \{0,1\}//p' "$0"
}

ns=quorum
rotate=no
to_stdout=no
while [ $# -gt 0 ]; do
	case $1 in
	-n|--namespace)
		[ $# -ge 2 ] || { usage >&2; exit 2; }
		ns=$2
		shift 2 ;;
	--rotate) rotate=yes; shift ;;
	--stdout) to_stdout=yes; shift ;;
	-h|--help) usage; exit 0 ;;
	*) usage >&2; exit 2 ;;
	esac
done

token=$(head -c 32 /dev/urandom | base64 | tr -d '\n')
[ ${#token} -ge 40 ] || { echo "make-token.sh: could not read /dev/urandom" >&2; exit 1; }
encoded=$(printf '%s' "$token" | base64 | tr -d '\n')
token=

manifest() {
	cat <<MANIFEST
apiVersion: v1
kind: Secret
metadata:
  name: quorum-backup-token
  namespace: $ns
  labels:
    app.kubernetes.io/part-of: quorum-backup
type: Opaque
data:
  token: $encoded
MANIFEST
}

if [ "$to_stdout" = yes ]; then
	manifest
	exit 0
fi
if kubectl -n "$ns" get secret quorum-backup-token >/dev/null 2>&1; then
	if [ "$rotate" != yes ]; then
		echo "make-token.sh: secret quorum-backup-token exists in namespace $ns; --rotate replaces it" >&2
		exit 1
	fi
	manifest | kubectl replace -f -
else
	manifest | kubectl create -f -
fi
