/* nodes: what the agent knows of the node processes it guards (geth,
 * Tessera): their gates' control sockets (agent/gate_proto.h), their
 * JSON-RPC or plain HTTP health checks (libcurl), and the facts a backup
 * records. No HTTP-server and no tar knowledge.
 *
 * Every call is bounded in time and closes what it opened on every path.
 * The functions keep no global state and may run on several threads at
 * once, for different or the same nodes.
 *
 * libcurl: the caller runs curl_global_init(CURL_GLOBAL_DEFAULT) once, before
 * any thread starts, and curl_global_cleanup() at the end; nothing here
 * calls either. Transfers use CURLOPT_NOSIGNAL, http:// and https:// only,
 * no proxy (the node runs in the same pod), no redirects, and replies of at
 * most NODE_RPC_REPLY_MAX bytes.
 *
 * Errors: functions returning int give 0 on success and -1 after filling
 * the caller's struct err (see common/err.h). */
#ifndef QB_NODES_H
#define QB_NODES_H

#include <jansson.h>
#include <stddef.h>

#include "err.h"

/* Limits and the short timeouts of probes. */
#define NODE_RPC_REPLY_MAX (1u << 20)      /* bytes of one HTTP reply */
#define NODE_GATE_REPLY_MAX (64u << 10)    /* bytes of one gate reply line */
#define NODE_GATE_LOGS_REPLY_MAX (1u << 20) /* ... of a `logs` reply */
#define NODE_PROBE_GATE_TIMEOUT 1.5        /* s, the status request */
#define NODE_PROBE_CHECK_TIMEOUT 2.0       /* s, all the RPC calls together */
#define NODE_FACTS_TIMEOUT 10.0            /* s, all the facts calls together */
#define NODE_START_TIMEOUT 30.0            /* s, a start request */
#define NODE_STOP_SLACK 10.0               /* s added to stop_timeout */
#define NODE_ERROR_LOG_LINES 8             /* log lines quoted in errors */

/* One [node.NAME] section of the agent's configuration, in file order
 * (stop order; starts go in reverse). */
struct node_def {
	char *name;              /* "quorum", "tessera", ... */
	char *gate_socket;       /* the node's quorum-backup-gate control socket */
	char *rpc_url;           /* geth JSON-RPC, e.g. http://127.0.0.1:8545, or NULL */
	char *health_url;        /* plain HTTP check, e.g. http://127.0.0.1:9000/upcheck, or NULL */
	long long min_peers;     /* ready only with at least this many peers (rpc nodes) */
	long long stop_timeout;  /* seconds the gate waits for a stop (0..86400) */
};

/* A node_def with copies of the strings (rpc_url and health_url may be
 * NULL); NULL when out of memory. Freed with node_def_free. */
struct node_def *node_def_new(const char *name, const char *gate_socket,
    const char *rpc_url, const char *health_url, long long min_peers,
    long long stop_timeout);
/* Free a node_def and its strings; NULL is allowed. */
void node_def_free(struct node_def *n);
/* Check a node_def as a configuration: a name, a gate socket path that fits
 * in sockaddr_un, URLs starting with http:// or https://, min_peers >= 0,
 * stop_timeout from 0 to 86400. ERR_CONFIG naming the node and the key. */
int node_def_validate(const struct node_def *n, struct err *e);

/* A snapshot of one node, from node_probe; JSON-able with node_state_json.
 * Numbers that are not known are -1, pointers NULL. The validator facts
 * (address, validators) come only from node_probe_with, and only when the
 * gate says running and eth_blockNumber answered: they are facts for a
 * controller's safety checks, never part of readiness. */
struct node_state {
	char gate_state[16];     /* running/stopping/stopped/starting, or "unreachable" */
	long long pid;           /* the node's pid, -1 when none */
	long long restarts;      /* starts the gate made after its first */
	double uptime;           /* seconds since the node started, -1 when none */
	int held;                /* the gate's hold marker is present */
	json_t *hold;            /* the gate's hold object (job, reason, until, since) or NULL */
	int rpc_ok;              /* the check answered (rpc: eth_blockNumber; health: any HTTP status) */
	long long height;        /* eth_blockNumber, -1 unknown */
	int syncing;             /* eth_syncing is not false: 1, false: 0, -1 unknown */
	long long peers;         /* net_peerCount, -1 unknown */
	int ready;               /* gate running AND the check passes */
	char reason[256];        /* why not ready ("" when ready) */
	char *address;           /* istanbul_nodeAddress: the node's signer
	                          * address (malloc'ed), NULL unknown */
	json_t *validators;      /* the validator set at "latest": an array
	                          * of address strings, NULL unknown */
	const char *validators_method; /* the method that gave it (a static
	                          * string, not freed), NULL unknown */
};

/* The optional JSON-RPC methods node_probe_with asks, as indexes of
 * struct node_probe_memo's skip_until. */
enum node_probe_method {
	NODE_PM_NODE_ADDRESS,    /* istanbul_nodeAddress */
	NODE_PM_ISTANBUL_VALIDATORS, /* istanbul_getValidators("latest") */
	NODE_PM_QBFT_VALIDATORS, /* qbft_getValidatorsByBlockNumber("latest") */
	NODE_PM_COUNT
};

/* A node that answers "method not found" for an optional method is not
 * asked again for this long: most nodes never gain a method, and the
 * prober asks every node every 2 s. */
#define NODE_PROBE_SKIP_S 60.0

/* What a prober remembers of one node between its rounds. Zeroed: nothing
 * known. Not locked: only the thread that owns it may pass it to
 * node_probe_with (the agent's prober keeps one per node; the job
 * worker's node_facts and nodes_wait_ready use none). */
struct node_probe_memo {
	double skip_until[NODE_PM_COUNT]; /* CLOCK_MONOTONIC s; 0: ask */
	long long pid;           /* the node's pid the skips were learnt from:
	                          * a restarted node may offer other APIs */
};

/* ---- gate control --------------------------------------------------- */

/* Send one request line (without '\n', e.g. "status") to the node's gate
 * and read its one JSON reply line, all within timeout_s seconds (connect,
 * write and read together). *reply gets the reply object (the caller
 * decrefs it) whatever its "ok" says: 0 means the gate answered. -1 and
 * *reply NULL: ERR_FAILED when there is no such socket, nothing listens,
 * the gate does not answer in time, or the reply is not a JSON object or
 * is longer than NODE_GATE_REPLY_MAX (NODE_GATE_LOGS_REPLY_MAX for `logs`);
 * ERR_CONFIG when the socket path does not fit in sockaddr_un;
 * ERR_BAD_REQUEST when request is longer than GATE_REQUEST_MAX or holds a
 * newline. Messages start with "NAME: gate PATH: ". */
int node_gate_request(const struct node_def *n, const char *request,
    double timeout_s, json_t **reply, struct err *e);

/* Ask the gate to stop the node: "stop timeout=<stop_timeout> [job=JOB]
 * [until=UNTIL] [reason=REASON]", waiting up to stop_timeout +
 * NODE_STOP_SLACK seconds for the reply. job: the gate's job syntax (A-Z a-z
 * 0-9 - . _ : @ /, at most 128; NULL for none; ERR_BAD_REQUEST otherwise);
 * until: epoch seconds the hold lasts (0 for none); reason: any text (NULL
 * for none), spaces and control characters become '_', cut to 256 bytes.
 * 0 only when the reply says "stopped". Otherwise ERR_FAILED with the
 * gate's reason and the node's last output lines (a `logs` request), e.g.
 * "quorum: did not stop within 1 s (state stopping): ...". */
int node_stop(const struct node_def *n, const char *job, long long until,
    const char *reason, struct err *e);

/* Ask the gate to start the node (it removes the hold marker). 0 when the
 * reply says "running" (or "starting"); ERR_FAILED with the gate's reason
 * and the last output lines otherwise (e.g. still stopping, exec failed). */
int node_start(const struct node_def *n, struct err *e);

/* The node's last output lines, at most `lines` (0: all the gate keeps):
 * *out gets a JSON array of strings, oldest first (the caller decrefs it). */
int node_logs(const struct node_def *n, size_t lines, json_t **out,
    struct err *e);

/* ---- probing -------------------------------------------------------- */

/* Fill *st with a fresh snapshot: the gate's status (within
 * NODE_PROBE_GATE_TIMEOUT), then the node's check within
 * NODE_PROBE_CHECK_TIMEOUT: with rpc_url, eth_blockNumber, eth_syncing and
 * net_peerCount; with health_url (and no rpc_url), one GET that must answer
 * 200; with neither, a running gate is enough. Never blocks longer than
 * those two timeouts. *st is overwritten without being freed: a previous
 * snapshot in it must be node_state_clear'ed first. Returns st->ready. */
int node_probe(const struct node_def *n, struct node_state *st);

/* node_probe, then, with rpc_url, when the gate says running and
 * eth_blockNumber answered, the validator facts, within the same
 * NODE_PROBE_CHECK_TIMEOUT (they come after the readiness calls, so that a
 * slow answer costs them, never readiness): istanbul_nodeAddress ->
 * st->address; istanbul_getValidators("latest"), else
 * qbft_getValidatorsByBlockNumber("latest") -> st->validators and
 * st->validators_method. A method that answers "method not found" is
 * skipped for NODE_PROBE_SKIP_S seconds, remembered in *memo (NULL: ask
 * every time); the memo forgets when the node's pid changes. Whatever they
 * answer, they change neither st->ready nor st->reason. Returns st->ready. */
int node_probe_with(const struct node_def *n, struct node_state *st,
    struct node_probe_memo *memo);

/* node_probe_with (validators set) or node_probe, with the gate's status
 * request bounded by gate_timeout and the node's check (and the validator
 * facts) by check_timeout seconds: GET /v1/status?fresh=1 asks within
 * about a second. Returns st->ready. */
int node_probe_within(const struct node_def *n, struct node_state *st,
    int validators, struct node_probe_memo *memo, double gate_timeout,
    double check_timeout);

/* Move the snapshot src into dst (whose old contents are released); src is
 * left "unknown". */
void node_state_move(struct node_state *dst, struct node_state *src);

/* The snapshot as a new JSON object (NULL when out of memory):
 * {"name","state","pid","uptime","restarts","held","hold","check",
 *  "rpc_ok","height","syncing","peers","ready","reason","address",
 *  "validators","validators_method","is_validator"}, unknown values as
 * null. "address" is the node's signer address (istanbul_nodeAddress),
 * "validators" the validator set (array of address strings) and
 * "validators_method" the call that gave it; "is_validator" is true or
 * false when both are known (the address compared with the set's without
 * regard to case, as nodes differ in their checksum casing), else null. */
json_t *node_state_json(const struct node_def *n, const struct node_state *st);

/* Release what a snapshot holds (the hold object, the address, the
 * validator set) and reset it to "unknown"; the struct itself is the
 * caller's. */
void node_state_clear(struct node_state *st);

/* ---- node facts ----------------------------------------------------- */

/* Facts read before a stop, for a backup's metadata, over the node's
 * JSON-RPC (within NODE_FACTS_TIMEOUT in all):
 *   eth_getBlockByNumber("latest", false) -> block_number (integer),
 *     block_hash, state_root (eth_blockNumber gives block_number when the
 *     block call gives no block);
 *   web3_clientVersion -> client_version;
 *   istanbul_getValidators("latest"), else
 *   qbft_getValidatorsByBlockNumber("latest") -> validators (array of
 *     addresses) and validators_method; a node without either call ("method
 *     not found" / "does not exist") simply has no "validators".
 * A new JSON object (never NULL on success: {} for a node with no rpc_url).
 * NULL and ERR_FAILED when the node answers none of the calls. */
json_t *node_facts(const struct node_def *n, struct err *e);

/* ---- several nodes -------------------------------------------------- */

/* What the functions below do to a node, told to a watcher as it happens,
 * so that whoever keeps the nodes' state (the agent's state model) is
 * never behind its own actions. */
enum node_event {
	NODE_EV_STOP_REQUESTED,  /* a stop is about to be asked (st NULL) */
	NODE_EV_STOPPED,         /* the gate said stopped (st: probed after) */
	NODE_EV_START_REQUESTED, /* a start is about to be asked (st NULL) */
	NODE_EV_STARTED,         /* the gate said running or starting (st:
	                          * probed after) */
	NODE_EV_FAILED,          /* a stop or start failed (st: probed after) */
	NODE_EV_PROBED,          /* a readiness probe while waiting (st) */
};

/* fn runs on the caller's thread, for nodes[i]; st is a snapshot it may
 * take over with node_state_move, NULL where the event says so. */
struct node_watch {
	void (*fn)(void *arg, size_t i, enum node_event ev,
	    struct node_state *st);
	void *arg;
};

/* Stop nodes[0..n) in order with node_stop. When one fails, the ones it
 * had stopped are started again in reverse order (the failed one is asked
 * to start first: its gate refuses while it is still stopping), and the
 * stop's error is returned. w (NULL for none) is told of each step. */
int nodes_stop_all(struct node_def *const *nodes, size_t n, const char *job,
    long long until, const char *reason, const struct node_watch *w,
    struct err *e);

/* Start nodes[0..n) in reverse order with node_start; tries every node and
 * returns the first error. w (NULL for none) is told of each step. */
int nodes_start_all(struct node_def *const *nodes, size_t n,
    const struct node_watch *w, struct err *e);

/* Probe every node about every 0.5 s until all are ready; ERR_FAILED after
 * timeout_s seconds, naming the first node that is not ready, why, and its
 * last output lines. w (NULL for none) gets every probe (NODE_EV_PROBED),
 * with the validator facts. */
int nodes_wait_ready(struct node_def *const *nodes, size_t n,
    double timeout_s, const struct node_watch *w, struct err *e);

/* ---- JSON-RPC, for the probes and for tests ------------------------- */

/* How a JSON-RPC call failed. */
enum node_rpc_fail {
	NODE_RPC_OK = 0,
	NODE_RPC_TRANSPORT,      /* no HTTP answer, bad HTTP status, not JSON-RPC */
	NODE_RPC_ERROR,          /* the node answered with a JSON-RPC error */
	NODE_RPC_NO_METHOD       /* ... saying the method does not exist */
};

/* POST {"jsonrpc":"2.0","id":1,"method":METHOD,"params":PARAMS} to url
 * within timeout_s seconds. params: an array or NULL for []; the call does
 * not take it over. On success *result gets the "result" value (the caller
 * decrefs it; JSON null is a value too). On failure *fail (if not NULL)
 * says which kind and e says what, e.g. "http://...: eth_syncing: connect:
 * Connection refused". */
int node_rpc_call(const char *url, const char *method, json_t *params,
    double timeout_s, json_t **result, enum node_rpc_fail *fail,
    struct err *e);

/* A JSON-RPC quantity ("0x1b4") or a non-negative JSON integer as a number;
 * -1 when v is neither, has no digits, a bad digit or is >= 2^63. */
long long node_hex_quantity(const json_t *v);

/* GET url within timeout_s seconds: *status gets the HTTP status; -1 and
 * ERR_FAILED when there is no HTTP answer. */
int node_http_status(const char *url, double timeout_s, long *status,
    struct err *e);

#endif
