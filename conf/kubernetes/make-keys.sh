#!/bin/sh
# Makes the age key pair that encrypts the backups: the identity (the
# secret key) goes to FILE, mode 0600, to be kept out of the cluster (a
# safe, a password manager: it is what decrypts the backups when the
# cluster is gone); its recipient (the public key) goes into the ConfigMap
# quorum-backup-recipients (key recipients.txt), which every agent reads
# for each backup. With --in-cluster the identity is also put into the
# Secret quorum-backup-identity (key identity.txt), so that restores and
# full verifies work from the cluster.
#
#   make-keys.sh -o FILE [-n NAMESPACE] [--recipient age1...]... [--in-cluster] [--replace] [--stdout]
#
#   -o FILE           where the new identity is written (must not exist)
#   -n NAMESPACE      the namespace of the members (default: quorum)
#   --recipient R     one more recipient, e.g. an escrow key (repeatable)
#   --in-cluster      also create the Secret quorum-backup-identity
#   --replace         replace an existing ConfigMap (and Secret): the
#                     agents use the new recipients from their next backup;
#                     keep the old identity for the backups made before
#   --stdout          print the manifests instead of creating them
#
# The identity is made with age-keygen (Debian package age) when it is
# installed, else with quorum-backup-agent keygen.
set -eu

usage() {
	sed -n '11,20s/^# \{0,1\}//p' "$0"
}

ns=quorum
out=
extra=
in_cluster=no
replace=no
to_stdout=no
while [ $# -gt 0 ]; do
	case $1 in
	-o|--output)
		[ $# -ge 2 ] || { usage >&2; exit 2; }
		out=$2
		shift 2 ;;
	-n|--namespace)
		[ $# -ge 2 ] || { usage >&2; exit 2; }
		ns=$2
		shift 2 ;;
	--recipient)
		[ $# -ge 2 ] || { usage >&2; exit 2; }
		case $2 in
		age1*) ;;
		*) echo "make-keys.sh: --recipient $2: not an age recipient (age1...)" >&2; exit 2 ;;
		esac
		extra="$extra $2"
		shift 2 ;;
	--in-cluster) in_cluster=yes; shift ;;
	--replace) replace=yes; shift ;;
	--stdout) to_stdout=yes; shift ;;
	-h|--help) usage; exit 0 ;;
	*) usage >&2; exit 2 ;;
	esac
done
[ -n "$out" ] || { echo "make-keys.sh: -o FILE is required: the identity must be kept somewhere" >&2; exit 2; }
if [ -e "$out" ] || [ -L "$out" ]; then
	echo "make-keys.sh: $out exists: refused (it may be the identity of earlier backups)" >&2
	exit 1
fi

umask 077
if command -v age-keygen >/dev/null 2>&1; then
	age-keygen -o "$out" 2>/dev/null
	recipient=$(age-keygen -y "$out")
elif command -v quorum-backup-agent >/dev/null 2>&1; then
	recipient=$(quorum-backup-agent keygen -o "$out" 2>&1 >/dev/null | sed -n 's/^Public key: //p')
else
	echo "make-keys.sh: neither age-keygen (Debian package age) nor quorum-backup-agent is installed" >&2
	exit 1
fi
case $recipient in
age1*) ;;
*) echo "make-keys.sh: no recipient could be read from $out" >&2; exit 1 ;;
esac
chmod 600 "$out"

recipients() {
	echo "# age recipients of the backups (public keys), from make-keys.sh"
	echo "# the identity of $recipient was written to $(basename "$out")"
	echo "$recipient"
	for r in $extra; do
		echo "$r"
	done
}

configmap() {
	cat <<MANIFEST
apiVersion: v1
kind: ConfigMap
metadata:
  name: quorum-backup-recipients
  namespace: $ns
  labels:
    app.kubernetes.io/part-of: quorum-backup
data:
  recipients.txt: |
MANIFEST
	recipients | sed 's/^/    /'
}

secret() {
	cat <<MANIFEST
apiVersion: v1
kind: Secret
metadata:
  name: quorum-backup-identity
  namespace: $ns
  labels:
    app.kubernetes.io/part-of: quorum-backup
type: Opaque
data:
  identity.txt: $(base64 <"$out" | tr -d '\n')
MANIFEST
}

# create_or_replace KIND NAME MANIFEST-FUNCTION
create_or_replace() {
	if kubectl -n "$ns" get "$1" "$2" >/dev/null 2>&1; then
		if [ "$replace" != yes ]; then
			echo "make-keys.sh: $1 $2 exists in namespace $ns; --replace replaces it" >&2
			return 1
		fi
		"$3" | kubectl replace -f -
	else
		"$3" | kubectl create -f -
	fi
}

if [ "$to_stdout" = yes ]; then
	configmap
	if [ "$in_cluster" = yes ]; then
		echo ---
		secret
	fi
else
	create_or_replace configmap quorum-backup-recipients configmap
	if [ "$in_cluster" = yes ]; then
		create_or_replace secret quorum-backup-identity secret
	fi
fi
echo "make-keys.sh: identity in $out (keep it safe and out of the cluster); recipient $recipient" >&2
