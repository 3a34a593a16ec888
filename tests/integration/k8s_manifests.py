#!/usr/bin/env python3
"""k8s_manifests.py K8S T SRC NEEDED_CHECKED: the wiring of conf/kubernetes.

Run by tests/integration/k8s_manifests.sh, which also runs yamllint,
make-token.sh and make-keys.sh, loads the INI files in the real binaries and
runs kubectl kustomize. K8S is conf/kubernetes; T the test's directory (the
token and key scripts' output, escrow.txt and needed-packages are read from
it; agent.ini, controller.ini, the recipients files and the rendered patches
are written to it); SRC the source tree; NEEDED_CHECKED "yes" when
needed-packages lists the built binaries' libraries. Prints the name of each
group of checks that passed, one a line; lists the failures on stderr and
exits 1 if any failed. python3 with PyYAML.
"""
import base64, copy, difflib, glob, json, os, re, sys
from urllib.parse import urlsplit
import yaml

K8S, T, SRC, NEEDED_CHECKED = sys.argv[1:5]
MEMBERS = [1, 2, 3, 4]
SECRET, SECRET_KEY = "quorum-backup-token", "token"
RECIPIENTS, RECIPIENTS_KEY = "quorum-backup-recipients", "recipients.txt"
IDENTITY, IDENTITY_KEY = "quorum-backup-identity", "identity.txt"
OFFSITE, OFFSITE_KEYS = "quorum-backup-offsite", ("access_key", "secret_key")
OPTIONAL_SECRETS = (IDENTITY, OFFSITE)  # made by the operator, when wanted
GATE_IN_IMAGE = "/usr/local/bin/quorum-backup-gate"
failures = []


class Fail(Exception):
    pass


def check(cond, msg):
    if not cond:
        raise Fail(msg)


def group(name, fn, *args):
    """Run one group of checks; report it as passed or list why not."""
    try:
        fn(*args)
        print(name)
    except Fail as e:
        failures.append(f"{name}: {e}")


def rel(p):
    return os.path.relpath(p, K8S)


# ---- load every YAML file ----------------------------------------------------
files = {}
for path in sorted(glob.glob(os.path.join(K8S, "**", "*.yaml"), recursive=True)):
    with open(path) as f:
        try:
            files[rel(path)] = [d for d in yaml.safe_load_all(f) if d is not None]
        except yaml.YAMLError as e:
            failures.append(f"{rel(path)} does not load: {e}")
if failures:
    print("\n".join(failures), file=sys.stderr)
    sys.exit(1)
print(f"every manifest loads ({len(files)} files)")

kustomizations = {p: d[0] for p, d in files.items() if os.path.basename(p) == "kustomization.yaml"}
CHART = "example/chart-goquorum-node-member-1.yaml"
EXAMPLE = "example/goquorum-node-member-1.yaml"
objects = []  # (file, doc) of the objects one installs
for p, docs in files.items():
    if p in kustomizations or p in (CHART, EXAMPLE) or p.startswith(("patch/", "members/")):
        continue
    for d in docs:
        objects.append((p, d))


def objs(kind, where=None):
    return [d for p, d in objects if d.get("kind") == kind and (where is None or p.startswith(where))]


def one(kind, name):
    found = [d for d in objs(kind) if d["metadata"].get("name") == name]
    check(len(found) == 1, f"expected one {kind} {name}, found {len(found)}")
    return found[0]


def load_one(path):
    docs = files.get(path)
    check(docs and len(docs) == 1, f"{path}: expected one document")
    return docs[0]


# ---- INI as the agent and the controller read it (sections in order) ----------
def parse_ini(text):
    sections, cur = {}, None
    for line in text.splitlines():
        s = line.strip()
        if not s or s[0] in ";#":
            continue
        m = re.fullmatch(r"\[([^\]]+)\]", s)
        if m:
            cur = sections.setdefault(m.group(1), {})
            continue
        check(cur is not None and "=" in s, f"INI line outside a section or without '=': {s}")
        k, v = s.split("=", 1)
        cur[k.strip()] = v.strip()
    return sections


def configmap_file(name, key):
    cm = one("ConfigMap", name)
    check(key in cm.get("data", {}), f"ConfigMap {name} has no key {key}")
    return cm["data"][key]


# ---- a strategic merge patch, as far as these manifests use it -------------------
MERGE_KEYS = {"containers": "name", "initContainers": "name", "volumes": "name",
              "volumeMounts": "mountPath", "ports": "containerPort", "env": "name",
              "volumeClaimTemplates": None}


def smp(base, patch):
    out = copy.deepcopy(base)
    for k, v in patch.items():
        if v is None:
            out.pop(k, None)
        elif k in MERGE_KEYS and MERGE_KEYS[k] and isinstance(v, list) and isinstance(out.get(k), list):
            key = MERGE_KEYS[k]
            for item in v:
                at = [i for i, b in enumerate(out[k]) if b.get(key) == item.get(key)]
                if at:
                    out[k][at[0]] = smp(out[k][at[0]], item)
                else:
                    out[k].append(copy.deepcopy(item))
        elif isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = smp(out[k], v)
        else:
            out[k] = copy.deepcopy(v)
    return out


def normalize(x, key=None):
    """Order-free form of lists that Kubernetes merges by a key."""
    if isinstance(x, dict):
        return {k: normalize(v, k) for k, v in x.items()}
    if isinstance(x, list):
        items = [normalize(v) for v in x]
        if key in MERGE_KEYS and all(isinstance(i, dict) for i in items):
            return sorted(items, key=lambda i: json.dumps(i, sort_keys=True))
        return items
    return x


def same(a, b, what):
    na, nb = normalize(a), normalize(b)
    if na != nb:
        da = json.dumps(na, indent=1, sort_keys=True).splitlines()
        db = json.dumps(nb, indent=1, sort_keys=True).splitlines()
        diff = "\n".join(list(difflib.unified_diff(da, db, lineterm=""))[:60])
        raise Fail(f"{what} differ:\n{diff}")


def without_name(patch):
    p = copy.deepcopy(patch)
    p.get("metadata", {}).pop("name", None)
    return p


def labels_match(selector, labels):
    check("matchExpressions" not in selector, "matchExpressions: not checked by this test")
    ml = selector.get("matchLabels") or {}
    return bool(ml) and all(labels.get(k) == v for k, v in ml.items())


chart_text = open(os.path.join(K8S, CHART)).read()
patch_common = load_one("patch/statefulset.yaml")


def render(n):
    """The chart's StatefulSet of member n with the patch of member n."""
    chart = yaml.safe_load(re.sub(r"member-1\b", f"member-{n}", chart_text))
    k = kustomizations["patch/kustomization.yaml"]
    check(k.get("kind") == "Component", "patch/ is not a kustomize Component")
    sel = k["patches"][0]["target"]["labelSelector"]
    want = dict(kv.split("=", 1) for kv in sel.split(","))
    check(all(chart["metadata"]["labels"].get(a) == b for a, b in want.items()),
          f"patch/ targets {sel}, which the chart's StatefulSet does not carry")
    km = kustomizations.get(f"members/member-{n}/kustomization.yaml")
    check(km is not None, f"members/member-{n}/kustomization.yaml is missing")
    check(km.get("components") == ["../../patch"], f"members/member-{n} does not include ../../patch")
    tgt = km["patches"][0].get("target", {})
    check(tgt.get("name") == f"goquorum-node-member-{n}",
          f"members/member-{n}: the patch targets {tgt.get('name')}")
    member_patch = load_one(f"members/member-{n}/{km['patches'][0]['path']}")
    # every member's patch is member 1's with the number changed
    want = yaml.safe_load(re.sub(r"member-1\b", f"member-{n}",
                                 open(os.path.join(K8S, "members/member-1/statefulset.yaml")).read()))
    for c in want["spec"]["template"]["spec"]["containers"]:
        if "--member" in (c.get("args") or []):
            c["args"][c["args"].index("--member") + 1] = str(n)
    same(member_patch, want, f"members/member-{n}/statefulset.yaml and member 1's with {n} for 1")
    return chart, smp(smp(chart, without_name(patch_common)), without_name(member_patch))


# ---- kustomizations: every path exists, every manifest is listed -----------------
def check_kustomizations():
    for p, k in kustomizations.items():
        d = os.path.dirname(p)
        listed = set()
        for r in (k.get("resources") or []) + (k.get("components") or []) + \
                [x["path"] for x in k.get("patches") or [] if "path" in x]:
            check(os.path.exists(os.path.join(K8S, d, r)), f"{p}: {r} does not exist")
            listed.add(os.path.normpath(os.path.join(d, r)))
        check("secretGenerator" not in k or all("literals" not in g for g in k["secretGenerator"]),
              f"{p}: a secretGenerator with literals puts a token in the repository")
        for f in glob.glob(os.path.join(K8S, d, "*.yaml")):
            r = rel(f)
            if r == p or r == EXAMPLE:
                continue
            check(r in listed, f"{r} is not listed in {p}")


group("kustomizations: every path exists, every manifest is listed", check_kustomizations)


# ---- the configurations ----------------------------------------------------------
agent_ini_text = configmap_file("quorum-backup-agent", "agent.ini")
ctl_ini_text = configmap_file("quorum-backup-controller", "quorum-backup.ini")
open(os.path.join(T, "agent.ini"), "w").write(agent_ini_text)
open(os.path.join(T, "controller.ini"), "w").write(ctl_ini_text)
AGENT_INI = parse_ini(agent_ini_text)
CTL_INI = parse_ini(ctl_ini_text)
A = AGENT_INI.get("agent", {})
NODES = [s[5:] for s in AGENT_INI if s.startswith("node.")]


def check_agent_ini():
    check(NODES == ["quorum", "tessera"],
          f"agent.ini node sections {NODES}: geth must stop first and start last ([node.quorum] first)")
    check(A.get("data_dir") == "/data" and A.get("backup_dir") == "/backups",
          "agent.ini: data_dir /data, backup_dir /backups")
    check(A.get("token_file"), "agent.ini has no token_file")
    check(A.get("auth", "token") == "token", "agent.ini: auth must be token")
    check("member" not in A, "agent.ini names a member: it is --member N per pod")
    q, t = AGENT_INI["node.quorum"], AGENT_INI["node.tessera"]
    check(urlsplit(q.get("rpc_url", "")).hostname == "127.0.0.1", "[node.quorum] rpc_url on 127.0.0.1")
    check(urlsplit(t.get("health_url", "")).path == "/upcheck", "[node.tessera] health_url is /upcheck")
    socks = [AGENT_INI[f"node.{n}"].get("gate_socket") for n in NODES]
    check(all(socks) and len(set(socks)) == 2, f"the nodes need two distinct gate sockets: {socks}")
    check(A.get("probe_listen"), "agent.ini has no probe_listen: kubelet's probes would share the API's connections")
    check(A["probe_listen"].rsplit(":", 1)[0] == A.get("listen", "0.0.0.0:8181").rsplit(":", 1)[0] and
          A["probe_listen"] != A.get("listen", "0.0.0.0:8181"),
          f"agent.ini: probe_listen {A['probe_listen']} must be another port of listen's address")


group("agent.ini: data, backups, token, [node.quorum] before [node.tessera]", check_agent_ini)

LISTEN_PORT = int(A.get("listen", "0.0.0.0:8181").rsplit(":", 1)[1])
PROBE_PORT = int(A["probe_listen"].rsplit(":", 1)[1]) if A.get("probe_listen") else None


def stop_timeout(node):
    return int(AGENT_INI[f"node.{node}"].get("stop_timeout", "300"))


# ---- a pod's parts -------------------------------------------------------------
def cmdline(c):
    return list(c.get("command") or []) + list(c.get("args") or [])


def opt(argv, name):
    check(name in argv, f"{argv[0]}: no {name}")
    i = argv.index(name)
    check(i + 1 < len(argv), f"{argv[0]}: {name} without a value")
    return argv[i + 1]


def mount_of(c, vol):
    ms = [m for m in c.get("volumeMounts") or [] if m["name"] == vol]
    check(len(ms) == 1, f"container {c['name']} mounts volume {vol} {len(ms)} times, not once")
    return ms[0]


def volume_at(c, path):
    """The volume mounted at path or at the nearest directory above it."""
    best = None
    for m in c.get("volumeMounts") or []:
        mp = m["mountPath"].rstrip("/")
        if path == mp or path.startswith(mp + "/"):
            if best is None or len(mp) > len(best["mountPath"].rstrip("/")):
                best = m
    check(best is not None, f"container {c['name']}: nothing is mounted at {path}")
    return best


def port_number(c, port):
    if isinstance(port, int):
        return port
    ps = [p["containerPort"] for p in c.get("ports") or [] if p.get("name") == port]
    check(len(ps) == 1, f"container {c['name']} has no port named {port}")
    return ps[0]


def projected_file(pod, c, path, kind):
    """The ConfigMap or Secret (name, key) that a projected volume puts at path."""
    m = volume_at(c, path)
    vols = {v["name"]: v for v in pod.get("volumes") or []}
    v = vols.get(m["name"])
    check(v is not None, f"no volume {m['name']}")
    sub = os.path.relpath(path, m["mountPath"])
    srcs = [v[kind]] if kind in v and "projected" not in v else \
        [s[kind] for s in v.get("projected", {}).get("sources", []) if kind in s]
    for s in srcs:
        for it in s.get("items") or []:
            if it["path"] == sub:
                return s.get("name") or s.get("secretName"), it["key"], it.get("mode"), v
    raise Fail(f"container {c['name']}: {path} comes from no {kind} item")


def effective_user(pod, c):
    u = (c.get("securityContext") or {}).get("runAsUser")
    return u if u is not None else (pod.get("securityContext") or {}).get("runAsUser")


def check_security(pod, what, want_uid=None):
    cs = (pod.get("initContainers") or []) + pod["containers"]
    uids = {c["name"]: effective_user(pod, c) for c in cs}
    check(None not in uids.values(), f"{what}: runAsUser not set for {[n for n, u in uids.items() if u is None]}")
    check(len(set(uids.values())) == 1, f"{what}: containers run as different users: {uids}")
    if want_uid is not None:
        check(set(uids.values()) == {want_uid}, f"{what}: runs as {uids}, the image's user is {want_uid}")
    for c in cs:
        sc = c.get("securityContext") or {}
        check(not (sc.get("capabilities") or {}).get("add"), f"{what}: {c['name']} adds capabilities")
        check(sc.get("privileged") is not True, f"{what}: {c['name']} is privileged")
        check(sc.get("allowPrivilegeEscalation") is False, f"{what}: {c['name']} allows privilege escalation")
        check("ALL" in ((sc.get("capabilities") or {}).get("drop") or []), f"{what}: {c['name']} keeps capabilities")
    return next(iter(uids.values()))


def check_encryption(pod, agent, name):
    """agent.ini's recipients from the ConfigMap make-keys.sh makes, the
    identity from the optional Secret, mounted read-only in the sidecar only."""
    E = AGENT_INI.get("encryption", {})
    check(E.get("require") == "true", f"{name}: agent.ini must require encryption")
    cm, key, _, _ = projected_file(pod, agent, E.get("recipients_file", "/none"), "configMap")
    check((cm, key) == (RECIPIENTS, RECIPIENTS_KEY), f"{name}: recipients_file is {cm}/{key}")
    idf = E.get("identity_file", "/none")
    m = volume_at(agent, idf)
    check(m.get("readOnly") is True, f"{name}: the identity is mounted writable")
    vol = {v["name"]: v for v in pod.get("volumes") or []}[m["name"]]
    sec = vol.get("secret") or {}
    check(sec.get("secretName") == IDENTITY and sec.get("optional") is True and sec.get("defaultMode") == 0o400,
          f"{name}: identity_file is not in the optional Secret {IDENTITY} of mode 0400: {vol}")
    check(os.path.relpath(idf, m["mountPath"]) == IDENTITY_KEY, f"{name}: identity_file is not {IDENTITY_KEY}")
    only_in_agent(pod, agent, m["name"], f"{name}: the identity")


def only_in_agent(pod, agent, vol, what):
    for c in (pod.get("initContainers") or []) + pod["containers"]:
        if c is not agent:
            check(all(x["name"] != vol for x in c.get("volumeMounts") or []), f"{what}: {c['name']} mounts it too")


def optional_secret_ok(v):
    """An operator-made Secret as a volume: optional, 0400, every key."""
    return v.get("optional") is True and v.get("defaultMode") == 0o400 and not v.get("items")


def check_offsite(pod, agent, name):
    """[offsite] off until the operator sets url; access_key_file and
    secret_key_file are the keys of the optional Secret quorum-backup-offsite
    (mode 0400), mounted read-only in the sidecar only, at a path of its own."""
    O = AGENT_INI.get("offsite")
    check(O is not None, f"{name}: agent.ini has no [offsite] section")
    check(not O.get("url"), f"{name}: [offsite] url is set; off-site copies stay off until the operator sets it")
    paths = [O.get("access_key_file"), O.get("secret_key_file")]
    check(all(paths), f"{name}: [offsite] access_key_file and secret_key_file must be set: {paths}")
    m = volume_at(agent, paths[0])
    check(volume_at(agent, paths[1])["name"] == m["name"], f"{name}: the two key files are on different volumes")
    check(m.get("readOnly") is True and not m.get("subPath"),
          f"{name}: the off-site keys must be mounted read-only, without subPath (kubelet updates them)")
    vol = {v["name"]: v for v in pod.get("volumes") or []}.get(m["name"], {})
    sec = vol.get("secret") or {}
    check(sec.get("secretName") == OFFSITE and optional_secret_ok(sec),
          f"{name}: the off-site keys are not in the optional Secret {OFFSITE} of mode 0400: {vol}")
    want = [os.path.join(m["mountPath"].rstrip("/"), k) for k in OFFSITE_KEYS]
    check(paths == want, f"{name}: access_key_file, secret_key_file are {paths}; the Secret puts its keys at {want}")
    mp = m["mountPath"].rstrip("/") + "/"
    outer = [x["mountPath"] for x in agent.get("volumeMounts") or []
             if x is not m and mp.startswith(x["mountPath"].rstrip("/") + "/")]
    check(not outer, f"{name}: the off-site keys are mounted inside {outer}, not at a path of their own")
    if O.get("ca_file"):
        check(volume_at(agent, O["ca_file"])["name"] == m["name"], f"{name}: ca_file is not in {OFFSITE}")
    only_in_agent(pod, agent, m["name"], f"{name}: the off-site keys")


def secret_ref_ok(name, key, what):
    check(name == SECRET and key == SECRET_KEY, f"{what}: token from Secret {name} key {key}, not {SECRET}/{SECRET_KEY}")


# ---- one member's StatefulSet ------------------------------------------------------
def check_member(n, sts, chart):
    pod = sts["spec"]["template"]["spec"]
    cs = {c["name"]: c for c in pod["containers"]}
    chart_cs = {c["name"]: c for c in chart["spec"]["template"]["spec"]["containers"]}
    name = sts["metadata"]["name"]
    check(name == f"goquorum-node-member-{n}", f"StatefulSet {name}")
    nodes = {"quorum": cs.get(f"{name}-quorum"), "tessera": cs.get(f"{name}-tessera")}
    check(all(nodes.values()), f"{name}: containers {name}-quorum and {name}-tessera")
    agent = cs.get("backup")
    check(agent is not None, f"{name}: no backup container")
    vols = {v["name"]: v for v in pod.get("volumes") or []}
    claims = {t["metadata"]["name"] for t in sts["spec"].get("volumeClaimTemplates") or []}

    # the agent's command line and configuration
    argv = cmdline(agent)
    check(argv[0] == "quorum-backup-agent", f"{name}: the sidecar runs {argv[0]}")
    check(opt(argv, "--member") == str(n), f"{name}: the agent is --member {opt(argv, '--member')}")
    check(argv[-1] == "serve", f"{name}: the agent's command is {argv[-1]}, not serve")
    conf = opt(argv, "-c")
    cm, key, _, _ = projected_file(pod, agent, conf, "configMap")
    check((cm, key) == ("quorum-backup-agent", "agent.ini"), f"{name}: {conf} is {cm}/{key}")
    sname, skey, smode, _ = projected_file(pod, agent, A["token_file"], "secret")
    secret_ref_ok(sname, skey, f"{name} agent")
    check(smode is None or smode & 0o400, f"{name}: the token file is unreadable for its owner")
    check_encryption(pod, agent, name)
    check_offsite(pod, agent, name)

    # the data volume: the same PVC at /data/quorum, /data/tessera and /data
    data_q = mount_of(nodes["quorum"], "data")
    data_t = mount_of(nodes["tessera"], "data")
    data_a = mount_of(agent, "data")
    check("data" in claims and "data" not in vols, f"{name}: data is not the claim template")
    check(data_q["mountPath"] == "/data/quorum" and data_t["mountPath"] == "/data/tessera",
          f"{name}: the PVC is at {data_q['mountPath']} and {data_t['mountPath']}")
    check(data_a["mountPath"] == A["data_dir"], f"{name}: the agent has the PVC at {data_a['mountPath']}, "
          f"agent.ini data_dir is {A['data_dir']}")
    check(not any(m.get("subPath") for m in (data_q, data_t, data_a)), f"{name}: the PVC root must be mounted")
    check(not data_a.get("readOnly"), f"{name}: the agent restores onto the PVC: not read-only")

    # the backup volume
    b = mount_of(agent, "backups")
    check(b["mountPath"] == A["backup_dir"], f"{name}: backups at {b['mountPath']}, agent.ini says {A['backup_dir']}")
    claim = vols["backups"].get("persistentVolumeClaim", {}).get("claimName")
    check(claim == f"quorum-backup-member-{n}", f"{name}: backups from claim {claim}")
    pvc = one("PersistentVolumeClaim", claim)
    check(pvc["spec"]["accessModes"] == ["ReadWriteOnce"], f"PVC {claim}: ReadWriteOnce")

    # the gates
    init = pod.get("initContainers") or []
    gate_paths = set()
    sock_vols = set()
    state_rel = {}
    for node, c in nodes.items():
        argv = c["command"]
        gate = argv[0]
        gate_paths.add(gate)
        check(gate.endswith("/quorum-backup-gate"), f"{c['name']} runs {gate}, not the gate")
        check("--" in argv, f"{c['name']}: gate without --")
        gopts = argv[1:argv.index("--")]
        sock, state = opt([gate] + gopts, "--socket"), opt([gate] + gopts, "--state-dir")
        check(sock == AGENT_INI[f"node.{node}"]["gate_socket"],
              f"{c['name']}: gate socket {sock}, agent.ini [node.{node}] gate_socket is "
              f"{AGENT_INI[f'node.{node}']['gate_socket']}")
        # the chart's command runs unchanged under the gate
        chart_c = chart_cs[c["name"]]
        check(argv[argv.index("--") + 1:] == chart_c["command"],
              f"{c['name']}: the gate runs {argv[argv.index('--') + 1:]}, the chart's command is {chart_c['command']}")
        check(c.get("args") == chart_c.get("args"), f"{c['name']}: the chart's args changed")
        # socket: an emptyDir shared with the agent at the same path
        ms = volume_at(c, os.path.dirname(sock))
        check(ms["mountPath"] == os.path.dirname(sock), f"{c['name']}: {sock} not directly in a mount")
        check("emptyDir" in vols.get(ms["name"], {}), f"{c['name']}: sockets on {ms['name']}, not an emptyDir")
        check(mount_of(agent, ms["name"])["mountPath"] == ms["mountPath"],
              f"{name}: the agent mounts {ms['name']} elsewhere than {ms['mountPath']}")
        sock_vols.add(ms["name"])
        # state dir: on the PVC, inside the agent's .quorum-backup/
        dm = volume_at(c, state)
        check(dm["name"] == "data", f"{c['name']}: gate state dir {state} is not on the PVC")
        r = os.path.relpath(state, dm["mountPath"])
        check(r.startswith(".quorum-backup/"), f"{c['name']}: state dir {state} is not in .quorum-backup/ "
              "of the PVC (it would be archived and swapped)")
        state_rel[node] = r
        # the gate binary: an emptyDir the init container fills, read-only here
        bm = volume_at(c, gate)
        check(os.path.dirname(gate) == bm["mountPath"] and bm.get("readOnly") is True,
              f"{c['name']}: {gate} must sit on a read-only mount")
        check("emptyDir" in vols.get(bm["name"], {}), f"{c['name']}: {gate} not on an emptyDir")
        fills = [i for i in init if any(m["name"] == bm["name"] and
                 os.path.join(m["mountPath"], os.path.basename(gate)) == gate for m in i.get("volumeMounts") or [])
                 and GATE_IN_IMAGE in cmdline(i) and gate in cmdline(i)]
        check(fills, f"{name}: no init container copies {GATE_IN_IMAGE} to {gate}")
        # liveness: the gate's probe, on the same socket
        lp = c.get("livenessProbe") or {}
        check(set(lp) & {"exec", "httpGet", "tcpSocket", "grpc"} == {"exec"},
              f"{c['name']}: liveness must be the gate's probe only, has {sorted(lp)}")
        pa = lp["exec"]["command"]
        check(pa[:2] == [gate, "probe"], f"{c['name']}: liveness runs {pa[:2]}")
        check(opt(pa, "--socket") == sock, f"{c['name']}: the probe asks {opt(pa, '--socket')}, the gate is at {sock}")
        ptimeout = int(opt(pa, "--timeout")) if "--timeout" in pa else 2
        check(lp.get("timeoutSeconds", 1) > ptimeout, f"{c['name']}: probe timeoutSeconds <= the gate's --timeout")
    check(len(gate_paths) == 1 and len(sock_vols) == 1, f"{name}: the nodes use different gate copies or socket volumes")
    check(len(set(state_rel.values())) == 2, f"{name}: the gates share a state dir {state_rel}")

    # quorum's probes: liveness with --http to its RPC, readiness on the RPC
    q = nodes["quorum"]
    rpc = urlsplit(AGENT_INI["node.quorum"]["rpc_url"])
    rpc_port = port_number(q, "json-rpc")
    check(rpc.port == rpc_port, f"agent.ini rpc_url port {rpc.port}, the container's json-rpc is {rpc_port}")
    u = urlsplit(opt(q["livenessProbe"]["exec"]["command"], "--http"))
    check(u.hostname == "127.0.0.1" and u.port == rpc_port,
          f"{name}: quorum's probe --http {u.geturl()}, want http://127.0.0.1:{rpc_port}")
    rp = q.get("readinessProbe") or {}
    check("httpGet" in rp and port_number(q, rp["httpGet"]["port"]) == rpc_port,
          f"{name}: quorum's readiness probe is not on its RPC port")
    hp = urlsplit(AGENT_INI["node.tessera"]["health_url"]).port
    check(hp == port_number(nodes["tessera"], "tessera"), f"agent.ini health_url port {hp} is not Tessera's P2P port")

    # grace period
    g = pod.get("terminationGracePeriodSeconds", 30)
    need = max(stop_timeout(x) for x in NODES) + 60
    check(g >= need, f"{name}: terminationGracePeriodSeconds {g} < stop_timeout + 60 = {need}")

    # users and capabilities; no fsGroup (it would chown the whole PVC)
    check_security(pod, name)
    check("fsGroup" not in (pod.get("securityContext") or {}), f"{name}: fsGroup would re-own the data volume")

    # the agent's port, its probe, its Service and the controller's URL
    ap = [p for p in agent.get("ports") or [] if p["containerPort"] == LISTEN_PORT]
    check(len(ap) == 1 and ap[0].get("protocol", "TCP") == "TCP",
          f"{name}: the agent listens on {LISTEN_PORT}, the container does not declare it")
    # its probes on the probe listener, which clients of the API cannot starve
    pp = [p for p in agent.get("ports") or [] if p["containerPort"] == PROBE_PORT]
    check(len(pp) == 1 and pp[0].get("protocol", "TCP") == "TCP",
          f"{name}: the agent's probe listener is on {PROBE_PORT}, the container does not declare it")
    for kind in ("livenessProbe", "readinessProbe"):
        pr = (agent.get(kind) or {}).get("httpGet")
        check(pr, f"{name}: the agent has no {kind} over HTTP")
        check(port_number(agent, pr["port"]) == PROBE_PORT,
              f"{name}: the agent's {kind} is not on its probe port {PROBE_PORT}")
        check(pr.get("path") == "/healthz",
              f"{name}: the agent's {kind} asks {pr.get('path')}, not /healthz "
              "(/readyz is the member's state: 503 during every backup)")
    svc = one("Service", f"quorum-backup-member-{n}")
    s = svc["spec"]
    check(s.get("clusterIP") == "None", f"Service {svc['metadata']['name']} is not headless")
    check(s.get("publishNotReadyAddresses") is True,
          f"Service {svc['metadata']['name']}: publishNotReadyAddresses must be true "
          "(a quiesced member is NotReady and must stay reachable)")
    check(s.get("selector") == {"statefulset.kubernetes.io/pod-name": f"{name}-0"},
          f"Service {svc['metadata']['name']} selects {s.get('selector')}")
    check(len(s["ports"]) == 1 and port_number(agent, s["ports"][0].get("targetPort", s["ports"][0]["port"])) == LISTEN_PORT,
          f"Service {svc['metadata']['name']}: targetPort is not the agent's {LISTEN_PORT}")
    ns = CTL_INI["controller"].get("namespace", "quorum")
    url = urlsplit(CTL_INI["controller"]["url_template"].replace("{n}", str(n)).replace("{namespace}", ns))
    check(url.hostname == f"{svc['metadata']['name']}.{ns}.svc" and url.port == s["ports"][0]["port"],
          f"url_template gives {url.geturl()} for member {n}, the Service is "
          f"{svc['metadata']['name']}:{s['ports'][0]['port']}")

    # the NetworkPolicies: 8181 only from the controller; the store's egress
    check_policies(sts["spec"]["template"]["metadata"]["labels"], name)
    check_offsite_egress(sts["spec"]["template"]["metadata"]["labels"], name)


# ---- controller pods (CronJob, restore Job) ------------------------------------------
CONTROLLER_LABELS = {}
CONTROLLER_LABEL = ("app.kubernetes.io/name", "quorum-backup-controller")


def check_controller_pod(what, tmpl, verb):
    pod = tmpl["spec"]
    labels = tmpl["metadata"]["labels"]
    CONTROLLER_LABELS[what] = labels
    check(labels.get(CONTROLLER_LABEL[0]) == CONTROLLER_LABEL[1], f"{what}: pods without {'='.join(CONTROLLER_LABEL)}")
    check(len(pod["containers"]) == 1, f"{what}: one container")
    c = pod["containers"][0]
    argv = cmdline(c)
    check(argv[0] == "quorum-backup", f"{what} runs {argv[0]}")
    check(verb in argv, f"{what} does not run {verb}: {argv}")
    conf = opt(argv, "-c")
    cm, key, _, _ = projected_file(pod, c, conf, "configMap")
    check((cm, key) == ("quorum-backup-controller", "quorum-backup.ini"), f"{what}: {conf} is {cm}/{key}")
    tf = CTL_INI["controller"].get("token_file")
    check(tf, "the controller's INI has no token_file")
    sname, skey, mode, _ = projected_file(pod, c, tf, "secret")
    secret_ref_ok(sname, skey, what)
    uid = check_security(pod, what, want_uid=IMAGE_UID)
    sc = pod.get("securityContext") or {}
    if uid != 0:
        check(sc.get("runAsNonRoot") is True, f"{what}: runAsNonRoot")
        check(sc.get("fsGroup") is not None and mode is not None and mode & 0o040,
              f"{what}: user {uid} reads the root-owned token only with fsGroup and a group-readable mode (0440)")
    envs = {e["name"]: e for e in c.get("env") or []}
    check(envs.get("NAMESPACE", {}).get("valueFrom", {}).get("fieldRef", {}).get("fieldPath") == "metadata.namespace",
          f"{what}: NAMESPACE from the pod's namespace")
    sa = pod.get("serviceAccountName")
    check(sa == "quorum-backup-controller", f"{what}: service account {sa}")
    check(pod.get("automountServiceAccountToken") is False, f"{what}: mounts an API token it never uses")
    check(pod.get("restartPolicy") == "Never", f"{what}: restartPolicy Never")


def check_cronjob():
    cj = one("CronJob", "quorum-backup")
    s = cj["spec"]
    check(s.get("concurrencyPolicy") == "Forbid", f"CronJob: concurrencyPolicy {s.get('concurrencyPolicy')}")
    check(len(s["schedule"].split()) == 5, "CronJob: schedule")
    jt = s["jobTemplate"]["spec"]
    check(jt.get("backoffLimit") == 0, "CronJob: a failed backup run is not retried blindly (backoffLimit 0)")
    check_controller_pod("CronJob", jt["template"], "backup")
    argv = cmdline(jt["template"]["spec"]["containers"][0])
    i = argv.index("backup")
    check(argv[i:] == ["backup", "--all"], f"CronJob runs {argv[i:]}, not backup --all")


def check_restore_job():
    jobs = objs("Job")
    check(len(jobs) == 1, f"one restore Job template, found {len(jobs)}")
    j = jobs[0]
    check(j["metadata"].get("generateName"), "restore Job: generateName (one name per run)")
    check(j["spec"].get("backoffLimit") == 0, "restore Job: never retried (backoffLimit 0)")
    check_controller_pod("restore Job", j["spec"]["template"], "restore")


def check_rbac():
    sa = one("ServiceAccount", "quorum-backup-controller")
    check(sa.get("automountServiceAccountToken") is False, "ServiceAccount: automountServiceAccountToken false")
    role = one("Role", "quorum-backup-controller")
    check(not role.get("rules"), f"Role grants {role.get('rules')}: the controller needs no API access")
    rb = one("RoleBinding", "quorum-backup-controller")
    check(rb["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "quorum-backup-controller"},
          "RoleBinding: roleRef")
    check([(x["kind"], x["name"]) for x in rb["subjects"]] == [("ServiceAccount", "quorum-backup-controller")],
          "RoleBinding: subjects")
    check(not objs("ClusterRole") and not objs("ClusterRoleBinding"), "no cluster-wide RBAC")


def port_admits(rule, port, c, proto="TCP"):
    ports = rule.get("ports")
    if not ports:
        return True
    for p in ports:
        if p.get("protocol", "TCP") != proto:
            continue
        if "port" not in p:
            return True
        lo = p["port"] if isinstance(p["port"], int) else port_number(c, p["port"])
        if lo == port or (p.get("endPort") and lo <= port <= p["endPort"]):
            return True
    return False


AGENT_CONTAINER = {}


def check_policies(pod_labels, what):
    pols = [p for p in objs("NetworkPolicy") if labels_match(p["spec"]["podSelector"], pod_labels)]
    check(any("Ingress" in (p["spec"].get("policyTypes") or ["Ingress"]) for p in pols),
          f"{what}: no NetworkPolicy isolates the member pod's ingress")
    from_controller = False
    for p in pols:
        for rule in p["spec"].get("ingress") or []:
            if not port_admits(rule, LISTEN_PORT, AGENT_CONTAINER):
                continue
            peers = rule.get("from")
            check(peers, f"NetworkPolicy {p['metadata']['name']} lets anyone reach {LISTEN_PORT}")
            for peer in peers:
                check(set(peer) == {"podSelector"},
                      f"NetworkPolicy {p['metadata']['name']}: {LISTEN_PORT} reachable from {sorted(peer)}")
                check(CONTROLLER_LABELS, "no controller pods were found")
                ml = peer["podSelector"].get("matchLabels") or {}
                ok = ml.get(CONTROLLER_LABEL[0]) == CONTROLLER_LABEL[1] and \
                    all(labels_match(peer["podSelector"], l) for l in CONTROLLER_LABELS.values())
                check(ok, f"NetworkPolicy {p['metadata']['name']}: {LISTEN_PORT} reachable from pods "
                      f"{peer['podSelector']}, not only from those labelled {'='.join(CONTROLLER_LABEL)}")
            from_controller = True
    check(from_controller, f"{what}: no NetworkPolicy lets the controller reach {LISTEN_PORT}")
    check(any(port_admits(rule, PROBE_PORT, AGENT_CONTAINER) for p in pols for rule in p["spec"].get("ingress") or []),
          f"{what}: no NetworkPolicy lets Prometheus reach the probe port {PROBE_PORT}")


def policy_types(p):
    spec = p["spec"]
    return spec.get("policyTypes") or ["Ingress"] + (["Egress"] if "egress" in spec else [])


def store_port():
    """The store's port: url's, or 443 (https) while url is empty."""
    u = urlsplit(AGENT_INI.get("offsite", {}).get("url") or "https://s3.amazonaws.com/")
    return u.port or {"https": 443, "http": 80}[u.scheme]


def check_offsite_egress(pod_labels, what):
    """base/ leaves egress as it was (open): an Egress policy there would cut
    geth and Tessera off from their peers. offsite-egress/, for a namespace
    that restricts egress, lets the member pods reach the store and DNS."""
    for p in objs("NetworkPolicy", "base/"):
        check("Egress" not in policy_types(p),
              f"base/: NetworkPolicy {p['metadata']['name']} restricts egress of the pods it selects")
    pols = [p for p in objs("NetworkPolicy", "offsite-egress/") if labels_match(p["spec"]["podSelector"], pod_labels)]
    check(pols, f"{what}: no NetworkPolicy in offsite-egress/ selects the member pod")
    for p in pols:
        check(policy_types(p) == ["Egress"], f"NetworkPolicy {p['metadata']['name']}: policyTypes "
              f"{policy_types(p)}, not [Egress] (it must leave ingress to base/)")
    rules = [r for p in pols for r in p["spec"].get("egress") or []]
    port = store_port()
    check(any(port_admits(r, port, AGENT_CONTAINER) for r in rules),
          f"{what}: no egress rule for the store's port {port}")
    for proto in ("UDP", "TCP"):
        check(any(port_admits(r, 53, AGENT_CONTAINER, proto) for r in rules),
              f"{what}: no egress rule for DNS ({proto} 53)")


def check_podmonitor():
    pms = objs("PodMonitor")
    check(len(pms) == 1, f"one PodMonitor, found {len(pms)}")
    spec = pms[0]["spec"]
    check(spec["selector"].get("matchLabels") == {"quorum-backup/agent": "true"},
          f"PodMonitor selects {spec['selector']}, not the member pods")
    eps = spec.get("podMetricsEndpoints") or []
    check(len(eps) == 1 and eps[0].get("path") == "/metrics" and
          port_number(AGENT_CONTAINER, eps[0].get("port")) == PROBE_PORT,
          f"PodMonitor scrapes {eps}, not /metrics on the agent's probe port {PROBE_PORT}")


def check_no_token():
    for p, docs in files.items():
        for d in docs:
            check(d.get("kind") != "Secret", f"{p}: a Secret in the repository (make-token.sh creates it)")
            check(not (d.get("kind") == "ConfigMap" and d["metadata"]["name"] == RECIPIENTS),
                  f"{p}: the ConfigMap {RECIPIENTS} in the repository (make-keys.sh creates it)")

            def walk(x):
                if isinstance(x, dict):
                    check("stringData" not in x, f"{p}: stringData")
                    for k, v in x.items():
                        if k in ("secret", "secretKeyRef") and isinstance(v, dict):
                            nm = v.get("name") or v.get("secretName")
                            if nm in OPTIONAL_SECRETS:
                                check(optional_secret_ok(v), f"{p}: the Secret {nm} must be an optional "
                                      f"volume of mode 0400: {v}")
                            elif nm and nm.startswith("quorum-backup"):
                                check(nm == SECRET, f"{p}: Secret {nm}, not {SECRET}")
                                keys = [i["key"] for i in v.get("items") or []] + ([v["key"]] if "key" in v else [])
                                check(keys == [SECRET_KEY], f"{p}: Secret {nm} keys {keys}, not [{SECRET_KEY}]")
                        walk(v)
                elif isinstance(x, list):
                    for v in x:
                        walk(v)
            walk(d)
    toks = []
    for f in ("token1.yaml", "token2.yaml"):
        s = yaml.safe_load(open(os.path.join(T, f)))
        check(s["kind"] == "Secret" and s["metadata"]["name"] == SECRET and s["metadata"]["namespace"] == "ns1",
              "make-token.sh --stdout: not the Secret quorum-backup-token in the namespace given")
        check(list(s["data"]) == [SECRET_KEY], f"make-token.sh: keys {list(s['data'])}")
        toks.append(base64.b64decode(s["data"][SECRET_KEY]))
        check(len(toks[-1]) >= 40 and b"\n" not in toks[-1], "make-token.sh: a token of 32 random bytes in base64")
    check(toks[0] != toks[1], "make-token.sh gives the same token twice")
    k1 = list(yaml.safe_load_all(open(os.path.join(T, "keys1.yaml"))))
    k2 = list(yaml.safe_load_all(open(os.path.join(T, "keys2.yaml"))))
    check([d["kind"] for d in k1] == ["ConfigMap"] and [d["kind"] for d in k2] == ["ConfigMap", "Secret"],
          "make-keys.sh --stdout: a ConfigMap, and with --in-cluster a Secret")
    for d in k1 + k2:
        check(d["metadata"]["namespace"] == "ns1", "make-keys.sh: not in the namespace given")
    check(k1[0]["metadata"]["name"] == RECIPIENTS and list(k1[0]["data"]) == [RECIPIENTS_KEY],
          f"make-keys.sh: not the ConfigMap {RECIPIENTS} with key {RECIPIENTS_KEY}")
    check(k2[1]["metadata"]["name"] == IDENTITY and list(k2[1]["data"]) == [IDENTITY_KEY],
          f"make-keys.sh: not the Secret {IDENTITY} with key {IDENTITY_KEY}")
    check(base64.b64decode(k2[1]["data"][IDENTITY_KEY]) == open(os.path.join(T, "id2.txt"), "rb").read(),
          "make-keys.sh: the Secret does not hold the identity written to -o")
    open(os.path.join(T, "recipients1.txt"), "w").write(k1[0]["data"][RECIPIENTS_KEY])
    open(os.path.join(T, "recipients2.txt"), "w").write(k2[0]["data"][RECIPIENTS_KEY])
    escrow = open(os.path.join(T, "escrow.txt")).read().strip()
    check(escrow in k2[0]["data"][RECIPIENTS_KEY].split("\n"), "make-keys.sh: --recipient is not among the recipients")


# ---- the Dockerfile --------------------------------------------------------------
RUNTIME_PKG = {"libarchive": "libarchive13", "libzstd": "libzstd1", "libxxhash": "libxxhash0",
               "zlib": "zlib1g", "libmicrohttpd": "libmicrohttpd12", "inih": "libinih1",
               "libcurl": "libcurl4", "jansson": "libjansson4", "libcrypto": "libssl3",
               "libsodium": "libsodium23", "libxml-2.0": "libxml2"}
DEV_PKG = {"libarchive": "libarchive-dev", "libzstd": "libzstd-dev", "libxxhash": "libxxhash-dev",
           "zlib": "zlib1g-dev", "libmicrohttpd": "libmicrohttpd-dev", "inih": "libinih-dev",
           "libcurl": "libcurl4-openssl-dev", "jansson": "libjansson-dev", "libcrypto": "libssl-dev",
           "libsodium": "libsodium-dev", "libxml-2.0": "libxml2-dev", "check": "check"}
TEST_ONLY = {"check"}
IMAGE_UID = None


def dockerfile_stages():
    text = open(os.path.join(SRC, "Dockerfile")).read()
    lines, cur = [], ""
    for raw in text.splitlines():
        s = raw.strip()
        if s.startswith("#") and not cur:
            continue
        if s.startswith("#"):
            continue
        if s.endswith("\\"):
            cur += s[:-1] + " "
            continue
        cur += s
        if cur.strip():
            lines.append(cur.strip())
        cur = ""
    stages = []
    for ln in lines:
        word = ln.split(None, 1)[0].upper()
        if word == "FROM":
            stages.append({"from": ln.split()[1], "as": ln.split()[3] if len(ln.split()) > 3 else None, "lines": []})
        else:
            check(stages, "Dockerfile: an instruction before FROM")
            stages[-1]["lines"].append((word, ln.split(None, 1)[1] if " " in ln else ""))
    return stages


def apt_packages(stage):
    pkgs = set()
    for word, rest in stage["lines"]:
        if word != "RUN":
            continue
        for part in re.split(r"&&|;", rest):
            w = part.split()
            if "apt-get" in w and "install" in w:
                pkgs |= {x for x in w[w.index("install") + 1:] if not x.startswith("-")}
    return pkgs


def check_dockerfile():
    global IMAGE_UID
    stages = dockerfile_stages()
    check(len(stages) >= 2, "Dockerfile: multi-stage")
    build, final = stages[0], stages[-1]
    check(build["from"] in ("debian:12", "debian:bookworm"), f"Dockerfile: build stage FROM {build['from']}")
    check(final["from"] in ("debian:12-slim", "debian:bookworm-slim"), f"Dockerfile: final stage FROM {final['from']}")
    mods = re.findall(r"PKG_CHECK_MODULES\(\[\w+\],\s*\[([\w.+-]+)", open(os.path.join(SRC, "configure.ac")).read())
    check(mods, "configure.ac: no PKG_CHECK_MODULES found")
    unknown = [m for m in mods if m not in DEV_PKG or (m not in TEST_ONLY and m not in RUNTIME_PKG)]
    check(not unknown, f"configure.ac checks for {unknown}: add the Debian packages to the Dockerfile and this test")
    dev, rt = apt_packages(build), apt_packages(final)
    miss = [DEV_PKG[m] for m in mods if DEV_PKG[m] not in dev]
    check(not miss, f"Dockerfile build stage lacks {miss}")
    deps = open(os.path.join(SRC, "scripts/install-deps.sh")).read()
    # The build packages (PACKAGES=); TEST_PACKAGES are for the tests only.
    pk = re.search(r'^PACKAGES="([^"]*)"', deps, re.M)
    check(pk is not None, "scripts/install-deps.sh has no PACKAGES= list")
    devdeps = set(re.findall(r"\b[\w.+-]+-dev\b", pk.group(1) if pk else ""))
    check(devdeps <= dev, f"Dockerfile build stage lacks {sorted(devdeps - dev)} of scripts/install-deps.sh")
    miss = [RUNTIME_PKG[m] for m in mods if m not in TEST_ONLY and RUNTIME_PKG[m] not in rt]
    check(not miss, f"Dockerfile runtime stage lacks {miss}")
    check(not {p for p in rt if p.endswith("-dev")}, "Dockerfile runtime stage installs -dev packages")
    if NEEDED_CHECKED == "yes":
        for line in open(os.path.join(T, "needed-packages")):
            so, pkg = line.split()
            check(pkg in rt or pkg == "libc6", f"the binaries need {so} from {pkg}, which the image does not install")
    btext = " ".join(r for _, r in build["lines"])
    for step in ("./autogen.sh", "./configure", "make", "install"):
        check(step in btext, f"Dockerfile build stage does not run {step}")
    check(re.search(r"DESTDIR=(\S+)", btext), "Dockerfile: make install DESTDIR=...")
    words = set(re.findall(r"[\w./-]+", btext))
    for b in ("quorum-backup-agent", "quorum-backup-gate", "quorum-backup"):
        check(b in words or f"/out/usr/local/bin/{b}" in words, f"Dockerfile build stage does not check {b}")
    ftext = " ".join(f"{w} {r}" for w, r in final["lines"])
    check(re.search(rf"COPY --from=({build['as']}|0) ", ftext), "Dockerfile: the final stage copies the build's output")
    users = [r for w, r in final["lines"] if w == "USER"]
    check(users, "Dockerfile: no USER: the image would run as root")
    u = users[-1].split(":")[0]
    check(u.isdigit() and int(u) != 0, f"Dockerfile: USER {users[-1]}: a fixed non-root UID")
    IMAGE_UID = int(u)
    check(re.search(rf"--uid {u}\b", ftext), f"Dockerfile: no user with UID {u} is created")
    ign = os.path.join(SRC, ".dockerignore")
    check(os.path.exists(ign), ".dockerignore is missing")
    ig = open(ign).read().split()
    for must in (".git", "build", "GNUmakefile", "Makefile", "configure"):
        check(must in ig, f".dockerignore does not leave out {must}")


group("Dockerfile: Debian 12 build stage, Debian 12 slim runtime with a package for every library, fixed UID",
      check_dockerfile)
group("RBAC: a ServiceAccount without API token, a Role that grants nothing", check_rbac)
group("CronJob: concurrencyPolicy Forbid, backup --all, config and token mounted", check_cronjob)
group("restore Job: generateName, no retries, config and token mounted", check_restore_job)
group("no token in any file; one Secret name and key everywhere; make-token.sh makes a fresh one", check_no_token)

# ---- members -----------------------------------------------------------------------
AGENT_CONTAINER.update(next(c for c in patch_common["spec"]["template"]["spec"]["containers"]
                            if c["name"] == "backup"))


def check_example():
    chart, sts = render(1)
    same(sts, load_one(EXAMPLE), "the patch applied to the chart and example/goquorum-node-member-1.yaml")


group("the patch of member 1 applied to the chart's StatefulSet is the full example", check_example)
for n in MEMBERS:
    def member(n=n):
        chart, sts = render(n)
        check_member(n, sts, chart)
        json.dump(sts, open(os.path.join(T, f"rendered-{n}.json"), "w"))
    group(f"member {n}: gates, sockets, state dirs, PVC, backups, token, encryption, off-site keys, probes, grace, "
          "UID, Service, policies, off-site egress", member)


def check_example_itself():
    ex = load_one(EXAMPLE)
    check_member(1, ex, yaml.safe_load(chart_text))


group("the full example itself: the same wiring", check_example_itself)
group("PodMonitor: the agents' /metrics on their probe port", check_podmonitor)


def check_shared_volume():
    k = kustomizations["shared-backup-volume/kustomization.yaml"]
    patch = yaml.safe_load(k["patches"][0]["patch"])
    claim = [v for v in patch["spec"]["template"]["spec"]["volumes"] if v["name"] == "backups"]
    check(len(claim) == 1, "shared-backup-volume: no backups volume")
    cn = claim[0]["persistentVolumeClaim"]["claimName"]
    pvc = one("PersistentVolumeClaim", cn)
    check(pvc["spec"]["accessModes"] == ["ReadWriteMany"], f"PVC {cn}: ReadWriteMany")


group("shared backup volume: the component mounts a ReadWriteMany claim that exists", check_shared_volume)


def check_offsite_docs():
    """README.md tells how to make the Secret (its keys as the pods mount
    them), check the copies and open egress; no file holds an access key."""
    readme = open(os.path.join(K8S, "README.md")).read()
    cmd = re.search(r"kubectl .*create secret generic " + OFFSITE + r"((?:.*\\\n)*.*)", readme)
    check(cmd, f"README.md: no `kubectl create secret generic {OFFSITE}`")
    keys = re.findall(r"--from-file=([\w.-]+)=", cmd.group(1))
    check(set(OFFSITE_KEYS) <= set(keys),
          f"README.md: the Secret {OFFSITE} is made with keys {keys}, not {OFFSITE_KEYS}")
    for what in ("## Off-site copies", "/v1/offsite/backups", "list --offsite", "offsite-egress"):
        check(what in readme, f"README.md does not mention {what}")
    for f in glob.glob(os.path.join(K8S, "**", "*"), recursive=True) + glob.glob(os.path.join(K8S, ".*")):
        if os.path.isfile(f):
            check(not re.search(r"\b(AKIA|ASIA)[0-9A-Z]{16}\b", open(f, errors="replace").read()),
                  f"{rel(f)}: an AWS access key id in the repository")


group("off-site: README.md makes the Secret with the mounted keys; no access key in any file", check_offsite_docs)

for f in failures:
    print("FAIL: " + f, file=sys.stderr)
sys.exit(1 if failures else 0)
