#include "config.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "agent_conf.h"

#define OFF(f) offsetof(struct agent_conf, f)
#define NOFF(f) offsetof(struct node_def, f)

static const struct conf_key keys[] = {
	{ "agent", "member", CONF_INT, 0, 999999, "0", NULL, NULL,
	  "Member number N: backups live in <backup_dir>/member<N>/. "
	  "Required by every command that reads or writes backups.",
	  OFF(member) },
	{ "agent", "data_dir", CONF_STR, 1, 0, "/data", NULL, NULL,
	  "The node's data volume (the PVC root).", OFF(data_dir) },
	{ "agent", "backup_dir", CONF_STR, 1, 0, "/backups", NULL, "BACKUP_DIR",
	  "The backup volume; each member has its own directory below it.",
	  OFF(backup_dir) },
	{ "agent", "node_key", CONF_STR, 0, 0, "geth/nodekey", NULL, NULL,
	  "File (relative to data_dir) whose SHA-256 identifies the node; "
	  "recorded in each backup's metadata. Empty: none.", OFF(node_key) },
	{ "agent", "log_level", CONF_ENUM, 0, 0, "info", "debug|info|warn|error",
	  NULL, "Least severe log level written to stderr.", OFF(log_level) },
	{ "agent", "listen", CONF_STR, 1, 0, "0.0.0.0:8181", NULL, NULL,
	  "Address of the HTTP API (serve): numeric IPv4:PORT, [IPv6]:PORT or "
	  "localhost:PORT.", OFF(listen) },
	{ "agent", "probe_listen", CONF_STR, 0, 0, "", NULL, NULL,
	  "Address of a second HTTP listener (same forms as listen) that "
	  "serves only /healthz, /readyz and /metrics, without a token, with "
	  "limits of its own (16 connections, 8 per address, 5 s timeouts): "
	  "kubelet's probes and Prometheus are answered there even while "
	  "clients hold every connection of listen. Empty: none.",
	  OFF(probe_listen) },
	{ "agent", "token_file", CONF_STR, 0, 0, "", NULL, NULL,
	  "File holding the bearer token every /v1/ request must carry. Re-read "
	  "when it changes. Required unless auth = none.", OFF(token_file) },
	{ "agent", "auth", CONF_ENUM, 0, 0, "token", "token|none", NULL,
	  "token: /v1/ needs the bearer token. none: no auth, allowed only with "
	  "a loopback listen address.", OFF(auth) },
	{ "agent", "conn_timeout", CONF_INT, 1, 3600, "30", NULL, NULL,
	  "Seconds an HTTP client has to send a whole request, from its "
	  "connect or the end of its previous reply, and the longest pause "
	  "while it reads a reply. The time the agent takes to answer "
	  "(?wait=S) does not count.", OFF(conn_timeout) },
	{ "agent", "idle_timeout", CONF_INT, 1, 3600, "5", NULL, NULL,
	  "Seconds an HTTP client has to send a request line, from its "
	  "connect or the end of its previous reply: a connection left idle, "
	  "new or kept alive, is closed after this (keep-alive clients "
	  "connect again).", OFF(idle_timeout) },
	{ "agent", "conn_memory", CONF_INT, 8192, 16777216, "65536", NULL, NULL,
	  "Bytes of memory per HTTP connection (headers and buffers).",
	  OFF(conn_memory) },
	{ "agent", "per_ip_limit", CONF_INT, 1, 10000, "64", NULL, NULL,
	  "Concurrent HTTP connections from one address.", OFF(per_ip_limit) },
	{ "agent", "max_connections", CONF_INT, 1, 100000, "512", NULL, NULL,
	  "Concurrent HTTP connections in all.", OFF(max_connections) },
	{ "agent", "max_body", CONF_INT, 0, 16777216, "65536", NULL, NULL,
	  "Largest request body accepted, in bytes (413 beyond).",
	  OFF(max_body) },
	{ "agent", "ready_timeout", CONF_INT, 1, 86400, "300", NULL, NULL,
	  "Seconds a resume waits for every node to be ready again.",
	  OFF(ready_timeout) },
	{ "agent", "quiesce_hold", CONF_INT, 1, 604800, "3600", NULL, NULL,
	  "Default hold of POST /v1/quiesce and of archive?quiesce=1, in "
	  "seconds: when it expires with no live job owning it, the agent "
	  "resumes the nodes.", OFF(quiesce_hold) },

	{ "archive", "level", CONF_INT, 1, 19, "3", NULL, NULL,
	  "zstd compression level.", OFF(level) },
	{ "archive", "threads", CONF_INT, 0, 256, "0", NULL, NULL,
	  "zstd worker threads; 0 = the CPUs this process may use (affinity "
	  "and cgroup CPU quota).", OFF(threads) },
	{ "archive", "exclude", CONF_LIST, 0, 0,
	  "geth/nodes geth/triecache geth.ipc", NULL, NULL,
	  "Path (relative to data_dir, shell wildcards allowed) left out of "
	  "archives, with everything below it. .quorum-backup/ is always left "
	  "out. Give the key once per path; 'exclude =' clears the list.",
	  OFF(exclude) },
	{ "archive", "lock_files", CONF_LIST, 0, 0,
	  "geth/LOCK geth/chaindata/LOCK geth/chaindata/ancient/FLOCK "
	  "tm/db.mv.db", NULL, NULL,
	  "Lock file (relative to data_dir) the running node holds. Each one "
	  "that exists is held (flock and OFD lock) for the whole job; the job "
	  "is refused when the node holds one.", OFF(lock_files) },
	{ "archive", "outside_links", CONF_ENUM, 0, 0, "fail", "fail|keep",
	  NULL, "A symbolic link in the data directory that resolves to a "
	  "directory outside it (geth/chaindata -> /elsewhere): that tree would "
	  "be missing from the backup. fail: the archive fails, naming it. "
	  "keep: the link itself is archived, with a warning in the job's "
	  "result and the backup's metadata. Links to directories inside the "
	  "data directory, links to files and links that resolve to nothing "
	  "are archived as links.",
	  OFF(outside_links) },

	{ "retention", "keep_last", CONF_INT, 0, 100000, "7", NULL, NULL,
	  "Keep the newest N complete backups. 0 = no count rule; with "
	  "keep_days also 0, retention is off.",
	  OFF(keep_last) },
	{ "retention", "keep_days", CONF_INT, 0, 36500, "0", NULL, NULL,
	  "Also keep every backup younger than N days. 0 = off. A backup is "
	  "deleted only when no rule keeps it; the newest complete backup is "
	  "never deleted, and neither are legacy .tar.gz backups.",
	  OFF(keep_days) },

	{ "encryption", "recipients_file", CONF_STR, 0, 0, "", NULL, NULL,
	  "age recipients file: one public key (age1...) per line, '#' "
	  "comments allowed. Set: every backup is encrypted with age to all "
	  "of them (<ID>.tar.zst.age), and any one of their identities reads "
	  "it. Read again for each backup. Public: a ConfigMap's 0644 is "
	  "fine. Empty: backups are not encrypted.",
	  OFF(recipients_file) },
	{ "encryption", "identity_file", CONF_STR, 0, 0, "", NULL, NULL,
	  "age identity file (AGE-SECRET-KEY-1... lines, the format of "
	  "age-keygen and of keygen): the secret key that reads encrypted "
	  "backups, needed only to verify one fully and to unpack it (verify "
	  "--stored needs none). Refused when group or others may read it. "
	  "Empty: none.",
	  OFF(identity_file) },
	{ "encryption", "require", CONF_BOOL, 0, 0, "false", NULL, NULL,
	  "Refuse to write a backup that is not encrypted: without "
	  "recipients_file the agent does not start (exit 2).",
	  OFF(require_encryption) },

	{ "offsite", "url", CONF_STR, 0, 0, "", NULL, NULL,
	  "Where off-site copies go: SCHEME://HOST[:PORT]/BUCKET[/PREFIX], e.g. "
	  "https://s3.eu-central-1.amazonaws.com/BUCKET/PREFIX, or "
	  "http://127.0.0.1:7480/BUCKET/PREFIX. Objects are "
	  "PREFIX/member<N>/<ID>.tar.zst[.age] and <ID>.json (written last). "
	  "Empty: no off-site copies.", OFF(offsite_url) },
	{ "offsite", "region", CONF_STR, 0, 0, "us-east-1", NULL, NULL,
	  "The bucket's region, signed into every request (SigV4); any name "
	  "for a store that has none.", OFF(offsite_region) },
	{ "offsite", "addressing", CONF_ENUM, 0, 0, "path", "path|virtual",
	  NULL, "path: http://HOST/BUCKET/KEY; virtual: http://BUCKET.HOST/KEY "
	  "(the bucket is still given in url's path).",
	  OFF(offsite_addressing) },
	{ "offsite", "ca_file", CONF_STR, 0, 0, "", NULL, NULL,
	  "PEM file of the CAs that sign the store's certificate (https). "
	  "Empty: the system's.", OFF(offsite_ca_file) },
	{ "offsite", "access_key_file", CONF_STR, 0, 0, "", NULL, NULL,
	  "File holding the access key id (a Secret's key); read for each "
	  "operation, so a rotated Secret is used at once.",
	  OFF(offsite_access_key_file) },
	{ "offsite", "secret_key_file", CONF_STR, 0, 0, "", NULL, NULL,
	  "File holding the secret access key; read for each operation. "
	  "Refused when group or others may read it.",
	  OFF(offsite_secret_key_file) },
	{ "offsite", "upload", CONF_ENUM, 0, 0, "auto", "auto|manual", NULL,
	  "auto: serve uploads each backup it makes, as a job of its own "
	  "after the archive job (the node is never stopped for it, and a "
	  "quiesce, archive, unpack, rollback or resume interrupts it; it "
	  "goes on after). manual: only POST /v1/backups/ID/upload and "
	  "offsite upload.", OFF(offsite_upload) },
	{ "offsite", "keep_last", CONF_INT, 0, 100000, "7", NULL, NULL,
	  "Remote retention, apart from the local one: keep the newest N "
	  "complete copies in the bucket. Applied after each upload and by "
	  "offsite prune; the newest copy always stays. With keep_days also "
	  "0, nothing is deleted from the bucket.", OFF(offsite_keep_last) },
	{ "offsite", "keep_days", CONF_INT, 0, 36500, "0", NULL, NULL,
	  "Also keep every copy younger than N days in the bucket. 0 = off.",
	  OFF(offsite_keep_days) },
	{ "offsite", "part_size", CONF_INT, 5242880, 5368709120LL, "16777216",
	  NULL, NULL, "Bytes per part of a multipart upload (S3: at least 5 MiB); "
	  "raised to size / 10000 for an archive that needs more parts. An "
	  "archive up to this size goes in one PUT.", OFF(offsite_part_size) },
	{ "offsite", "parallel", CONF_INT, 1, 32, "4", NULL, NULL,
	  "Parts in flight at once.", OFF(offsite_parallel) },
	{ "offsite", "bandwidth_limit", CONF_INT, 0, 1099511627776LL, "0",
	  NULL, NULL, "Bytes per second for a whole upload, shared by the parts "
	  "in flight. 0: no limit.", OFF(offsite_bandwidth_limit) },

	/* [node.NAME]: the node processes this agent guards, one section
	 * each; their offsets are into struct node_def. */
	{ "node.*", "gate_socket", CONF_STR, 1, 0, "", NULL, NULL,
	  "The control socket of the node's quorum-backup-gate. Required.",
	  NOFF(gate_socket) },
	{ "node.*", "rpc_url", CONF_STR, 0, 0, "", NULL, NULL,
	  "geth JSON-RPC URL (e.g. http://127.0.0.1:8545): ready when "
	  "eth_blockNumber answers and eth_syncing is false; facts for the "
	  "backup's metadata are read here before a stop.", NOFF(rpc_url) },
	{ "node.*", "health_url", CONF_STR, 0, 0, "", NULL, NULL,
	  "Plain HTTP check (e.g. Tessera's http://127.0.0.1:9000/upcheck): "
	  "ready when it answers 200. Used when there is no rpc_url.",
	  NOFF(health_url) },
	{ "node.*", "min_peers", CONF_INT, 0, 100000, "0", NULL, NULL,
	  "Ready only with at least this many peers (net_peerCount).",
	  NOFF(min_peers) },
	{ "node.*", "stop_timeout", CONF_INT, 1, 86400, "300", NULL, NULL,
	  "Seconds the gate waits for the node to stop after its one SIGTERM; "
	  "never followed by SIGKILL.", NOFF(stop_timeout) },
};

static void *
node_instance(void *cfg, const char *prefix, const char *name)
{
	struct agent_conf *c = cfg;
	struct node_def *n, **nv;
	struct err e;

	(void)prefix;
	for (size_t i = 0; i < c->n_nodes; i++)
		if (strcmp(c->nodes[i]->name, name) == 0)
			return c->nodes[i];
	if (!(n = calloc(1, sizeof *n)) || !(n->name = strdup(name))) {
		free(n);
		return NULL;
	}
	if (!(nv = realloc(c->nodes, (c->n_nodes + 1) * sizeof *nv))) {
		free(n->name);
		free(n);
		return NULL;
	}
	c->nodes = nv;
	c->nodes[c->n_nodes++] = n;
	conf_init_instance(&agent_conf_table, "node", n, &e);
	return n;
}

static void
free_nodes(void *cfg)
{
	struct agent_conf *c = cfg;

	for (size_t i = 0; i < c->n_nodes; i++)
		node_def_free(c->nodes[i]);
	free(c->nodes);
	c->nodes = NULL;
	c->n_nodes = 0;
}

const struct conf_table agent_conf_table = {
	"quorum-backup-agent", keys, sizeof keys / sizeof keys[0],
	node_instance, free_nodes
};
