/* probe: a snapshot of one node (the gate's status, the node's check, the
 * validator facts), and its JSON. */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "clock.h"
#include "gate_proto.h"
#include "json.h"
#include "log.h"
#include "node_int.h"
#include "utf8.h"

/* ---- probing -------------------------------------------------------- */

static void
state_reset(struct node_state *st)
{
	memset(st, 0, sizeof *st);
	st->pid = -1;
	st->restarts = -1;
	st->uptime = -1;
	st->height = -1;
	st->syncing = -1;
	st->peers = -1;
}

void
node_state_clear(struct node_state *st)
{
	json_decref(st->hold);
	free(st->address);
	json_decref(st->validators);
	state_reset(st);
}

static void
set_reason(struct node_state *st, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void
set_reason(struct node_state *st, const char *fmt, ...)
{
	char tmp[1024];
	va_list ap;

	if (st->reason[0])
		return;   /* the first reason is the one that matters */
	va_start(ap, fmt);
	vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	utf8_cut(st->reason, sizeof st->reason, tmp, sizeof st->reason - 1);
}

static void
probe_gate(const struct node_def *n, struct node_state *st, double timeout_s)
{
	const char *s;
	json_t *r, *v;
	struct err e;

	if (node_gate_request(n, GATE_REQ_STATUS, timeout_s, &r, &e) < 0) {
		snprintf(st->gate_state, sizeof st->gate_state, "unreachable");
		set_reason(st, "%s", e.msg);
		return;
	}
	s = json_get_str(r, GATE_KEY_STATE);
	if (!json_is_true(json_object_get(r, GATE_KEY_OK)) || !s ||
	    strlen(s) >= sizeof st->gate_state) {
		s = json_get_str(r, GATE_KEY_ERROR);
		snprintf(st->gate_state, sizeof st->gate_state, "unreachable");
		set_reason(st, "%s: gate %s: status: %s", n->name,
		    n->gate_socket, s ? s : "an unexpected reply");
		json_decref(r);
		return;
	}
	snprintf(st->gate_state, sizeof st->gate_state, "%s", s);
	v = json_object_get(r, GATE_KEY_PID);
	st->pid = json_is_integer(v) ? json_integer_value(v) : -1;
	v = json_object_get(r, GATE_KEY_UPTIME);
	st->uptime = json_is_number(v) ? json_number_value(v) : -1;
	st->restarts = json_get_u(r, GATE_KEY_RESTARTS);
	v = json_object_get(r, GATE_KEY_HOLD);
	if (json_is_object(v)) {
		st->held = 1;
		st->hold = json_incref(v);
	}
	json_decref(r);
}

static void
probe_rpc(const struct node_def *n, struct node_state *st, int running,
    double deadline)
{
	json_t *r;
	struct err e;

	if (node_rpc_until(n->rpc_url, "eth_blockNumber", NULL, deadline, &r, NULL,
	    &e) < 0) {
		if (running)
			set_reason(st, "%s", e.msg);
		return;
	}
	st->rpc_ok = 1;
	st->height = node_hex_quantity(r);
	json_decref(r);
	if (st->height < 0 && running)
		set_reason(st, "%s: eth_blockNumber: not a quantity",
		    n->rpc_url);

	if (node_rpc_until(n->rpc_url, "eth_syncing", NULL, deadline, &r, NULL,
	    &e) < 0) {
		if (running)
			set_reason(st, "%s", e.msg);
	} else {
		st->syncing = json_is_false(r) ? 0 : 1;
		if (st->syncing && running) {
			long long cur = node_hex_quantity(
			    json_object_get(r, "currentBlock"));
			long long hi = node_hex_quantity(
			    json_object_get(r, "highestBlock"));
			if (cur >= 0 && hi >= 0)
				set_reason(st, "syncing: block %lld of %lld",
				    cur, hi);
			else
				set_reason(st, "syncing");
		}
		json_decref(r);
	}

	if (node_rpc_until(n->rpc_url, "net_peerCount", NULL, deadline, &r, NULL,
	    &e) < 0) {
		if (running && n->min_peers > 0)
			set_reason(st, "%s", e.msg);
		return;
	}
	st->peers = node_hex_quantity(r);
	json_decref(r);
	if (running && st->peers < n->min_peers) {
		if (st->peers < 0)
			set_reason(st, "%s: net_peerCount: not a quantity",
			    n->rpc_url);
		else
			set_reason(st, "%lld peers, fewer than min_peers %lld",
			    st->peers, n->min_peers);
	}
}

static void
probe_health(const struct node_def *n, struct node_state *st, int running,
    double timeout_s)
{
	long status;
	struct err e;

	if (node_http_status(n->health_url, timeout_s, &status, &e) < 0) {
		if (running)
			set_reason(st, "%s", e.msg);
		return;
	}
	st->rpc_ok = 1;
	if (status != 200 && running)
		set_reason(st, "%s: HTTP %ld", n->health_url, status);
}

/* The optional methods, by enum node_probe_method. */
static const char *const probe_methods[NODE_PM_COUNT] = {
	[NODE_PM_NODE_ADDRESS] = "istanbul_nodeAddress",
	[NODE_PM_ISTANBUL_VALIDATORS] = "istanbul_getValidators",
	[NODE_PM_QBFT_VALIDATORS] = "qbft_getValidatorsByBlockNumber",
};

/* Longest string taken as an address: 0x and 40 hex digits, with room for
 * other spellings, but not a page of text in /v1/status. */
#define ADDRESS_MAX 128

static int
memo_asks(const struct node_probe_memo *memo, enum node_probe_method m)
{
	return !memo || memo->skip_until[m] <= qb_mono_now();
}

/* The node answered "method not found" for m: leave m alone for a while. */
static void
memo_missing(struct node_probe_memo *memo, const struct node_def *n,
    enum node_probe_method m)
{
	if (!memo)
		return;
	memo->skip_until[m] = qb_mono_now() + NODE_PROBE_SKIP_S;
	log_debug("node_method_missing", "node=%s method=%s retry_in=%.0f",
	    logq(n->name), probe_methods[m], NODE_PROBE_SKIP_S);
}

/* The validator set at "latest": istanbul_getValidators (IBFT, and QBFT in
 * GoQuorum, which keeps the istanbul_ API), else
 * qbft_getValidatorsByBlockNumber. *set gets an array of strings (the
 * caller decrefs it) and *method the call that gave it, or both NULL.
 * memo: methods to leave alone, and where to note a "method not found"
 * (NULL: ask both). *answered is set when a call got a JSON-RPC answer.
 * warn: log failures other than "method not found" (node_facts, once per
 * backup; the prober, every 2 s, keeps quiet). */
void
node_rpc_validators(const struct node_def *n, double deadline,
    struct node_probe_memo *memo, int warn, json_t **set,
    const char **method, int *answered)
{
	static const enum node_probe_method order[] = {
		NODE_PM_ISTANBUL_VALIDATORS, NODE_PM_QBFT_VALIDATORS };

	*set = NULL;
	*method = NULL;
	for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
		const char *m = probe_methods[order[i]];
		enum node_rpc_fail f;
		json_t *params, *r = NULL;
		struct err e;
		int ok = 1;

		if (!memo_asks(memo, order[i]))
			continue;
		if (!(params = json_pack("[s]", "latest")))
			return;   /* out of memory: unknown */
		if (node_rpc_until(n->rpc_url, m, params, deadline, &r, &f,
		    &e) < 0) {
			json_decref(params);
			if (f != NODE_RPC_TRANSPORT)
				*answered = 1;
			if (f == NODE_RPC_NO_METHOD)
				memo_missing(memo, n, order[i]);
			else if (warn)
				log_warn("node_facts_validators", "node=%s "
				    "error=%s", logq(n->name), logq(e.msg));
			continue;
		}
		json_decref(params);
		*answered = 1;
		if (!json_is_array(r))
			ok = 0;
		for (size_t k = 0; ok && k < json_array_size(r); k++)
			if (!json_is_string(json_array_get(r, k)))
				ok = 0;
		if (!ok) {
			if (warn)
				log_warn("node_facts_validators", "node=%s "
				    "method=%s error=%s", logq(n->name), m,
				    logq("the result is not an array of "
				    "addresses"));
			json_decref(r);
			continue;
		}
		*set = r;
		*method = m;
		return;
	}
}

/* The node's signer address and the validator set, for a controller that
 * must know whether stopping this node costs the chain a validator. */
static void
probe_validators(const struct node_def *n, struct node_state *st,
    struct node_probe_memo *memo, double deadline)
{
	enum node_rpc_fail f;
	struct err e;
	json_t *r;
	int answered = 0;

	if (memo && memo->pid != st->pid) {
		memset(memo->skip_until, 0, sizeof memo->skip_until);
		memo->pid = st->pid;
	}
	if (memo_asks(memo, NODE_PM_NODE_ADDRESS)) {
		if (node_rpc_until(n->rpc_url, probe_methods[NODE_PM_NODE_ADDRESS],
		    NULL, deadline, &r, &f, &e) == 0) {
			const char *a = json_string_value(r);

			/* strdup failing leaves it unknown, as it should */
			if (a && a[0] && strlen(a) <= ADDRESS_MAX)
				st->address = strdup(a);
			json_decref(r);
		} else if (f == NODE_RPC_NO_METHOD) {
			memo_missing(memo, n, NODE_PM_NODE_ADDRESS);
		}
	}
	node_rpc_validators(n, deadline, memo, 0, &st->validators,
	    &st->validators_method, &answered);
}

int
node_probe_within(const struct node_def *n, struct node_state *st,
    int validators, struct node_probe_memo *memo, double gate_timeout,
    double check_timeout)
{
	int running;

	state_reset(st);
	probe_gate(n, st, gate_timeout);
	running = strcmp(st->gate_state, GATE_STATE_RUNNING) == 0;
	if (!running && strcmp(st->gate_state, "unreachable") != 0) {
		const char *job = st->hold ? json_get_str(st->hold, "job") : NULL;
		const char *why = st->hold ? json_get_str(st->hold, "reason") :
		    NULL;

		if (st->held)
			set_reason(st, "the node is %s, held by job %s (%s)",
			    st->gate_state, job ? job : "-", why ? why : "-");
		else
			set_reason(st, "the node is %s", st->gate_state);
	}
	/* A stopped node has no process to ask. */
	if (strcmp(st->gate_state, GATE_STATE_STOPPED) != 0) {
		if (n->rpc_url) {
			/* one deadline: the facts get what readiness left */
			double deadline = qb_mono_now() + check_timeout;

			probe_rpc(n, st, running, deadline);
			if (validators && running && st->rpc_ok)
				probe_validators(n, st, memo, deadline);
		} else if (n->health_url) {
			probe_health(n, st, running, check_timeout);
		}
	}
	st->ready = running && !st->reason[0];
	return st->ready;
}

int
node_probe(const struct node_def *n, struct node_state *st)
{
	return node_probe_within(n, st, 0, NULL, NODE_PROBE_GATE_TIMEOUT,
	    NODE_PROBE_CHECK_TIMEOUT);
}

int
node_probe_with(const struct node_def *n, struct node_state *st,
    struct node_probe_memo *memo)
{
	return node_probe_within(n, st, 1, memo, NODE_PROBE_GATE_TIMEOUT,
	    NODE_PROBE_CHECK_TIMEOUT);
}

void
node_state_move(struct node_state *dst, struct node_state *src)
{
	node_state_clear(dst);
	*dst = *src;
	state_reset(src);
}

/* 1 when address is in the validator set, 0 when not, -1 unknown. */
static int
is_validator(const struct node_state *st)
{
	if (!st->address || !json_is_array(st->validators))
		return -1;
	for (size_t i = 0; i < json_array_size(st->validators); i++) {
		const char *v = json_string_value(json_array_get(st->validators,
		    i));

		if (v && strcasecmp(v, st->address) == 0)
			return 1;
	}
	return 0;
}

json_t *
node_state_json(const struct node_def *n, const struct node_state *st)
{
	json_t *j = json_object();
	int bad = 0, iv = is_validator(st);

#define SET(k, v) bad |= json_object_set_new(j, k, v)
	if (!j)
		return NULL;
	SET("name", json_string(n->name));
	SET("state", json_string(st->gate_state[0] ? st->gate_state :
	    "unknown"));
	SET("pid", st->pid >= 0 ? json_integer(st->pid) : json_null());
	SET("uptime", st->uptime >= 0 ? json_real(st->uptime) : json_null());
	SET("restarts", st->restarts >= 0 ? json_integer(st->restarts) :
	    json_null());
	SET("held", json_boolean(st->held));
	SET("hold", st->hold ? json_deep_copy(st->hold) : json_null());
	SET("check", json_string(n->rpc_url ? "rpc" : n->health_url ?
	    "health" : "none"));
	SET("rpc_ok", json_boolean(st->rpc_ok));
	SET("height", st->height >= 0 ? json_integer(st->height) :
	    json_null());
	SET("syncing", st->syncing >= 0 ? json_boolean(st->syncing) :
	    json_null());
	SET("peers", st->peers >= 0 ? json_integer(st->peers) : json_null());
	SET("ready", json_boolean(st->ready));
	SET("reason", st->reason[0] ? json_string(st->reason) : json_null());
	SET("address", st->address ? json_string(st->address) : json_null());
	SET("validators", st->validators ? json_deep_copy(st->validators) :
	    json_null());
	SET("validators_method", st->validators_method ?
	    json_string(st->validators_method) : json_null());
	SET("is_validator", iv >= 0 ? json_boolean(iv) : json_null());
#undef SET
	if (bad) {
		json_decref(j);
		return NULL;
	}
	return j;
}
