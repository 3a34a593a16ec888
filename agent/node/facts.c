/* facts: what a backup's metadata records of the node, read before the
 * stop. */
#include "config.h"

#include <string.h>

#include "clock.h"
#include "json.h"
#include "log.h"
#include "node_int.h"

/* ---- node facts ----------------------------------------------------- */

static int
facts_validators(const struct node_def *n, json_t *out, double deadline,
    int *answered)
{
	const char *method;
	json_t *set;

	node_rpc_validators(n, deadline, NULL, 1, &set, &method, answered);
	if (!set)
		return 0;
	if (json_object_set_new(out, "validators", set) < 0 ||
	    json_object_set_new(out, "validators_method",
	    json_string(method)) < 0)
		return -1;
	return 0;
}

json_t *
node_facts(const struct node_def *n, struct err *e)
{
	double deadline = qb_mono_now() + NODE_FACTS_TIMEOUT;
	struct err first = { .code = ERR_OK };
	enum node_rpc_fail f;
	json_t *out = json_object(), *r, *params;
	struct err ce;
	int answered = 0, bad = 0;
	long long num = -1;

	if (!out) {
		err_set(e, ERR_FAILED, "out of memory");
		return NULL;
	}
	if (!n->rpc_url)
		return out;

	params = json_pack("[sb]", "latest", 0);
	if (!params)
		goto oom;
	if (node_rpc_until(n->rpc_url, "eth_getBlockByNumber", params, deadline, &r,
	    &f, &ce) == 0) {
		answered = 1;
		if (json_is_object(r)) {
			const char *hash = json_get_str(r, "hash");
			const char *root = json_get_str(r, "stateRoot");

			num = node_hex_quantity(json_object_get(r, "number"));
			if (hash)
				bad |= json_object_set_new(out, "block_hash",
				    json_string(hash));
			if (root)
				bad |= json_object_set_new(out, "state_root",
				    json_string(root));
		} else {
			log_warn("node_facts_block", "node=%s error=%s",
			    logq(n->name), logq("eth_getBlockByNumber gave no "
			    "block object"));
		}
		json_decref(r);
	} else {
		if (f != NODE_RPC_TRANSPORT)
			answered = 1;
		first = ce;
		log_warn("node_facts_block", "node=%s error=%s", logq(n->name),
		    logq(ce.msg));
	}
	json_decref(params);
	if (num < 0 && node_rpc_until(n->rpc_url, "eth_blockNumber", NULL, deadline,
	    &r, &f, &ce) == 0) {
		answered = 1;
		num = node_hex_quantity(r);
		json_decref(r);
	} else if (num < 0 && f != NODE_RPC_TRANSPORT) {
		answered = 1;
	}
	if (num >= 0)
		bad |= json_object_set_new(out, "block_number",
		    json_integer(num));

	if (node_rpc_until(n->rpc_url, "web3_clientVersion", NULL, deadline, &r, &f,
	    &ce) == 0) {
		answered = 1;
		if (json_is_string(r))
			bad |= json_object_set_new(out, "client_version",
			    json_incref(r));
		json_decref(r);
	} else {
		if (f != NODE_RPC_TRANSPORT)
			answered = 1;
		if (first.code == ERR_OK)
			first = ce;
	}
	if (!answered) {
		json_decref(out);
		err_set(e, ERR_FAILED, "%s: the node does not answer JSON-RPC: "
		    "%s", n->name, first.msg);
		return NULL;
	}
	if (facts_validators(n, out, deadline, &answered) < 0 || bad)
		goto oom;
	return out;
oom:
	json_decref(out);
	err_set(e, ERR_FAILED, "out of memory");
	return NULL;
}
