#!/bin/sh
# A Helm post-renderer that adds quorum-backup to one goquorum-node
# release: the chart renders as always, then kustomize applies
# members/member-N (the gate, the probes, the `backup` sidecar) to its
# StatefulSet.
#
#   helm upgrade member-1 ./charts/goquorum-node -n quorum -f values/txnode.yml \
#       --post-renderer /path/to/conf/kubernetes/helm-post-render.sh \
#       --post-renderer-args 1
#
# The member number N: the first argument, else $QUORUM_BACKUP_MEMBER, else
# taken from the name goquorum-node-member-N in the chart's output.
# QUORUM_BACKUP_IMAGE=registry.example.com/quorum-backup:0.1.0 sets the
# image of the init container and the sidecar; QUORUM_BACKUP_SHARED_VOLUME=1
# mounts the shared ReadWriteMany backup volume instead of the member's own.
# Needs `kustomize` or `kubectl` on the PATH.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/qb-post-render.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM
cat >"$work/chart.yaml"

member=${1:-${QUORUM_BACKUP_MEMBER:-}}
if [ -z "$member" ]; then
	member=$(sed -n 's/^ *name: *goquorum-node-member-\([0-9][0-9]*\) *$/\1/p' \
		"$work/chart.yaml" | sort -u)
	case $member in
	*[!0-9]*|'')
		echo "helm-post-render.sh: cannot tell the member number from the chart's output; pass it: --post-renderer-args N" >&2
		exit 2 ;;
	esac
fi
case $member in
*[!0-9]*|'')
	echo "helm-post-render.sh: member must be a number, not '$member'" >&2
	exit 2 ;;
esac
if [ ! -f "$here/members/member-$member/kustomization.yaml" ]; then
	echo "helm-post-render.sh: $here/members/member-$member does not exist: copy members/member-1 and change the number" >&2
	exit 2
fi

# kustomize wants relative paths to components: reach them through a link.
ln -s "$here" "$work/quorum-backup"
{
	echo "apiVersion: kustomize.config.k8s.io/v1beta1"
	echo "kind: Kustomization"
	echo "resources:"
	echo "  - chart.yaml"
	echo "components:"
	echo "  - quorum-backup/members/member-$member"
	if [ "${QUORUM_BACKUP_SHARED_VOLUME:-0}" = 1 ]; then
		echo "  - quorum-backup/shared-backup-volume"
	fi
	if [ -n "${QUORUM_BACKUP_IMAGE:-}" ]; then
		ref=$QUORUM_BACKUP_IMAGE
		echo "images:"
		echo "  - name: quorum-backup"
		case $ref in
		*@*)
			echo "    newName: ${ref%%@*}"
			echo "    digest: ${ref#*@}" ;;
		*)
			case ${ref##*/} in
			*:*)
				echo "    newName: ${ref%:*}"
				echo "    newTag: \"${ref##*:}\"" ;;
			*)
				echo "    newName: $ref" ;;
			esac ;;
		esac
	fi
} >"$work/kustomization.yaml"

if command -v kustomize >/dev/null 2>&1; then
	kustomize build "$work"
else
	kubectl kustomize "$work"
fi
