#!/bin/sh
# The Kubernetes manifests (conf/kubernetes/) and the Dockerfile, checked
# without a cluster: yamllint; every manifest loads; the patch applied to
# the chart's StatefulSet (a small strategic merge of our own, and
# kustomize itself when kubectl is there) gives the full example; and the
# wiring holds for every member: the same gate sockets and state dirs in
# the gates and in agent.ini, on shared volumes; the PVC at /data/quorum,
# /data/tessera and /data; the backup volume at /backups; one Secret name
# and key everywhere and no token in any file; port 8181 from the agent to
# the Services; the probes (the agent's on its probe port, 8182, which
# Prometheus may reach and the PodMonitor scrapes); publishNotReadyAddresses;
# the grace period; one UID and no capabilities; the CronJob, the restore
# Job, the RBAC and the NetworkPolicy; off-site copies: off in agent.ini
# until url is set, the keys from the optional Secret quorum-backup-offsite
# (mode 0400) in the sidecar only, at the paths agent.ini names, the egress
# rule for the store (offsite-egress/, none in base/), the Secret's command
# in README.md; agent.ini and the controller's INI load in the real
# binaries; the Dockerfile builds all three binaries on Debian 12 and
# installs a run-time package for every library configure.ac checks for.
# The wiring is checked by k8s_manifests.py, next to this script.
. "$(dirname "$0")/lib.sh"

: "${CONTROLLER:=$top_builddir/quorum-backup}"
K8S="$top_srcdir/conf/kubernetes"

command -v python3 >/dev/null 2>&1 || fail "python3 is missing (scripts/install-deps.sh installs it)"
python3 -c 'import yaml' 2>/dev/null || fail "python3-yaml is missing (scripts/install-deps.sh installs it)"
command -v yamllint >/dev/null 2>&1 || fail "yamllint is missing (scripts/install-deps.sh installs it)"

# ---- yamllint ---------------------------------------------------------------
yamllint -s -c "$K8S/.yamllint" "$K8S" >"$T/yamllint.out" 2>&1 || {
	cat "$T/yamllint.out" >&2
	fail "yamllint found problems in conf/kubernetes"
}
ok "yamllint (strict) passes on every manifest"

# ---- the token script: a fresh random token, never a fixed one --------------
sh -n "$K8S/make-token.sh" || fail "make-token.sh: syntax error"
sh -n "$K8S/helm-post-render.sh" || fail "helm-post-render.sh: syntax error"
sh "$K8S/make-token.sh" --stdout -n ns1 >"$T/token1.yaml" || fail "make-token.sh --stdout failed"
sh "$K8S/make-token.sh" --stdout -n ns1 >"$T/token2.yaml" || fail "make-token.sh --stdout failed"

# ---- the key script: a fresh identity kept outside, its recipient in a ConfigMap --
sh -n "$K8S/make-keys.sh" || fail "make-keys.sh: syntax error"
escrow=$(age-keygen 2>/dev/null | sed -n 's/^# public key: //p')
sh "$K8S/make-keys.sh" -o "$T/id1.txt" -n ns1 --stdout >"$T/keys1.yaml" 2>/dev/null || fail "make-keys.sh --stdout failed"
sh "$K8S/make-keys.sh" -o "$T/id2.txt" -n ns1 --in-cluster --recipient "$escrow" --stdout \
	>"$T/keys2.yaml" 2>/dev/null || fail "make-keys.sh --in-cluster --stdout failed"
[ "$(stat -c %a "$T/id1.txt")" = 600 ] || fail "make-keys.sh: the identity file is not 0600"
expect_exit 1 sh "$K8S/make-keys.sh" -o "$T/id1.txt" --stdout
assert_contains "$T/err" "exists: refused"
expect_exit 2 sh "$K8S/make-keys.sh" --stdout
expect_exit 2 sh "$K8S/make-keys.sh" -o "$T/id3.txt" --recipient AGE-SECRET-KEY-1X --stdout
printf '%s\n' "$escrow" >"$T/escrow.txt"

# ---- the libraries the built binaries link (for the Dockerfile check) -------
: >"$T/needed-packages"
if command -v readelf >/dev/null 2>&1 && command -v dpkg-query >/dev/null 2>&1 &&
	[ -x "$AGENT" ] && [ -x "$CONTROLLER" ]; then
	for bin in "$AGENT" "$CONTROLLER" "$top_builddir/quorum-backup-gate"; do
		[ -x "$bin" ] || continue
		for so in $(readelf -d "$bin" | sed -n 's/.*NEEDED.*\[\(.*\)\]/\1/p'); do
			case $so in
			# libc and the sanitizer runtimes (the sanitizer build) are not ours to install
			libc.so.*|ld-linux*|libm.so.*|libpthread.so.*|libdl.so.*|librt.so.*|libasan.so.*|libubsan.so.*|libgcc_s.so.*|libstdc++.so.*)
				continue ;;
			esac
			pkg=$(dpkg-query -S "*/$so*" 2>/dev/null | cut -d: -f1 | tr ',' '\n' |
				sed 's/^ *//' | grep -v -- '-dev$' | sort -u | head -n 1)
			[ -n "$pkg" ] || fail "no Debian package holds $so (needed by $bin)"
			echo "$so $pkg" >>"$T/needed-packages"
		done
	done
	NEEDED_CHECKED=yes
else
	echo "# skipped: the run-time libraries of the built binaries (needs readelf, dpkg-query and a build)"
	NEEDED_CHECKED=no
fi

# ---- everything else: load and check the wiring -----------------------------
python3 "$top_srcdir/tests/integration/k8s_manifests.py" "$K8S" "$T" "$top_srcdir" "$NEEDED_CHECKED" \
	>"$T/py.out" 2>"$T/py.err" || {
	cat "$T/py.out"
	cat "$T/py.err" >&2
	fail "the manifests' wiring is broken (see above)"
}
while IFS= read -r line; do
	ok "$line"
done <"$T/py.out"

# ---- the INI files load in the real binaries ----------------------------------
# The controller: status with everything but the file's contents bounded
# (a token file of our own; one second per request). 2 is a config error.
printf 'test-token\n' >"$T/token"
set +e
timeout 30 "$CONTROLLER" -c "$T/controller.ini" --token-file "$T/token" \
	--set controller.request_timeout=1 status >"$T/out" 2>"$T/err"
rc=$?
set -e
[ "$rc" != 2 ] || { cat "$T/err" >&2; fail "the controller's INI does not load (exit 2)"; }
# and the same check does fail on a broken copy
sed 's/^members = .*/members = 1-x/' "$T/controller.ini" >"$T/controller-bad.ini"
expect_exit 2 "$CONTROLLER" -c "$T/controller-bad.ini" --token-file "$T/token" status
ok "the controller's ConfigMap INI loads in quorum-backup (status exit $rc, not 2)"

mkdir "$T/backups"
expect_exit 0 "$AGENT" -c "$T/agent.ini" --member 1 --backup-dir "$T/backups" list
set +e
"$AGENT" -c "$T/agent.ini" --member 1 list >"$T/out" 2>"$T/err"
rc=$?
set -e
[ "$rc" != 2 ] || { cat "$T/err" >&2; fail "agent.ini does not load (exit 2)"; }
sed 's/^stop_timeout = 300/stop_timeuot = 300/' "$T/agent.ini" >"$T/agent-bad.ini"
expect_exit 2 "$AGENT" -c "$T/agent-bad.ini" --member 1 --backup-dir "$T/backups" list
ok "the agent's ConfigMap INI loads in quorum-backup-agent"

# Off-site copies as the ConfigMap ships them: off (no url). With a url,
# the agent reads its keys from the files agent.ini names, which the py
# check tied to the Secret's volume.
expect_exit 2 "$AGENT" -c "$T/agent.ini" --member 1 --backup-dir "$T/backups" offsite list
assert_contains "$T/err" "url is not set"
akf=$(sed -n 's/^access_key_file *= *//p' "$T/agent.ini")
[ -n "$akf" ] || fail "agent.ini has no access_key_file"
expect_exit 2 "$AGENT" -c "$T/agent.ini" --member 1 --backup-dir "$T/backups" \
	--set offsite.url=https://s3.eu-central-1.amazonaws.com/bucket/prefix offsite list
assert_contains "$T/err" "access_key_file: open $akf"
# README.md's `quorum-backup list --offsite` Job, made from restore-job.yaml
e1='s/^\( *args:\).*/\1 ["list", "--offsite"]/'
e2='s/quorum-backup-restore-/quorum-backup-list-/'
grep -qF -- "-e '$e1'" "$K8S/README.md" && grep -qF -- "-e '$e2'" "$K8S/README.md" ||
	fail "README.md: the sed of the list --offsite Job is not the one checked here"
sed -e "$e1" -e "$e2" "$K8S/restore-job.yaml" >"$T/list-job.yaml"
python3 - "$T/list-job.yaml" <<'PY' || fail "README.md's list --offsite Job is not what it says"
import sys, yaml
j = yaml.safe_load(open(sys.argv[1]))
c = j["spec"]["template"]["spec"]["containers"][0]
assert c["command"][0] == "quorum-backup" and c["args"] == ["list", "--offsite"], c
assert j["metadata"]["generateName"] == "quorum-backup-list-", j["metadata"]
PY
ok "agent.ini: off-site copies off until url is set, keys read from the mounted Secret; README's list --offsite Job"

# Encryption as the manifests set it up: without the recipients the agent
# does not start; with make-keys.sh's it writes a backup that the identity
# written to -o opens with Debian's age.
mkdir -p "$T/kdata/geth"
printf 'k8s-marker\n' >"$T/kdata/geth/file"
expect_exit 2 "$AGENT" -c "$T/agent.ini" --member 1 --backup-dir "$T/backups" --data-dir "$T/kdata" archive
assert_contains "$T/err" "recipients.txt"
expect_exit 0 "$AGENT" -c "$T/agent.ini" --member 1 --backup-dir "$T/backups" --data-dir "$T/kdata" \
	--set encryption.recipients_file="$T/recipients2.txt" --json archive
kid=$(jq -r .id "$T/out")
age -d -i "$T/id2.txt" "$T/backups/member1/$kid.tar.zst.age" | zstd -dq | tar -xOf - geth/file >"$T/k.out"
assert_contains "$T/k.out" k8s-marker
ok "agent.ini requires encryption; make-keys.sh's recipients encrypt a backup its identity opens with age"

# ---- kustomize itself, when kubectl is there ------------------------------------
if command -v kubectl >/dev/null 2>&1 && kubectl kustomize --help >/dev/null 2>&1; then
	kubectl kustomize "$K8S/example" >"$T/kustomized-1.yaml" 2>"$T/err" || {
		cat "$T/err" >&2
		fail "kubectl kustomize conf/kubernetes/example failed"
	}
	for dir in base backup-volumes/per-member backup-volumes/shared offsite-egress; do
		kubectl kustomize "$K8S/$dir" >/dev/null 2>"$T/err" || {
			cat "$T/err" >&2
			fail "kubectl kustomize conf/kubernetes/$dir failed"
		}
	done
	n=1
	while [ $n -le 4 ]; do
		sed "s/member-1\\b/member-$n/g" "$K8S/example/chart-goquorum-node-member-1.yaml" >"$T/chart-$n.yaml"
		sh "$K8S/helm-post-render.sh" <"$T/chart-$n.yaml" >"$T/post-rendered-$n.yaml" 2>"$T/err" || {
			cat "$T/err" >&2
			fail "helm-post-render.sh failed for member $n"
		}
		n=$((n + 1))
	done
	QUORUM_BACKUP_SHARED_VOLUME=1 QUORUM_BACKUP_IMAGE=registry.example.com/qb/quorum-backup:9.9 \
		sh "$K8S/helm-post-render.sh" 1 <"$T/chart-1.yaml" >"$T/post-rendered-shared.yaml" ||
		fail "helm-post-render.sh with the shared volume and an image failed"
	python3 - "$T" "$K8S" <<'PY' || fail "kustomize and the test's strategic merge disagree (see above)"
import json, sys, yaml
T, K8S = sys.argv[1:3]
def norm(x, key=None):
    keys = ("containers", "initContainers", "volumes", "volumeMounts", "ports", "env")
    if isinstance(x, dict):
        return {k: norm(v, k) for k, v in x.items()}
    if isinstance(x, list):
        items = [norm(v) for v in x]
        return sorted(items, key=lambda i: json.dumps(i, sort_keys=True)) if key in keys else items
    return x
ex = yaml.safe_load(open(f"{K8S}/example/goquorum-node-member-1.yaml"))
got = yaml.safe_load(open(f"{T}/kustomized-1.yaml"))
if norm(got) != norm(ex):
    sys.exit("kubectl kustomize conf/kubernetes/example differs from example/goquorum-node-member-1.yaml")
for n in range(1, 5):
    got = [d for d in yaml.safe_load_all(open(f"{T}/post-rendered-{n}.yaml")) if d and d["kind"] == "StatefulSet"][0]
    want = json.load(open(f"{T}/rendered-{n}.json"))
    if norm(got) != norm(want):
        sys.exit(f"helm-post-render.sh for member {n} differs from the checked patch")
sh = [d for d in yaml.safe_load_all(open(f"{T}/post-rendered-shared.yaml")) if d and d["kind"] == "StatefulSet"][0]
pod = sh["spec"]["template"]["spec"]
if [v["persistentVolumeClaim"]["claimName"] for v in pod["volumes"] if v["name"] == "backups"] != ["quorum-backup-shared"]:
    sys.exit("QUORUM_BACKUP_SHARED_VOLUME=1 does not mount quorum-backup-shared")
imgs = {c["image"] for c in pod["containers"] + pod["initContainers"] if "quorum-backup" in c["image"]}
if imgs != {"registry.example.com/qb/quorum-backup:9.9"}:
    sys.exit(f"QUORUM_BACKUP_IMAGE gives {imgs}")
PY
	ok "kubectl kustomize and helm-post-render.sh render what the test checked, for members 1-4"
else
	echo "# skipped: kubectl kustomize (not installed); the test's own strategic merge checked the patches"
fi

finish
