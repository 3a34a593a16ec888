/* Unit tests of agent/nodes against ganache, a real Ethereum JSON-RPC
 * node, when $GANACHE_CLI or
 * $top_srcdir/tests/e2e/node_modules/ganache/dist/node/cli.js (what
 * scripts/install-deps.sh installs) exists and `node` is on the PATH;
 * otherwise the test says "skipped" and passes.
 *
 * Every process started is killed by pid in the test's teardown; the
 * runner (nodes_fixture.h) is a child subreaper and kills (by pid) any
 * descendant still alive at the end, so a failed test leaves nothing. */
#include "config.h"

#include <check.h>
#include <limits.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "nodes_fixture.h"
#include "err.h"
#include "json.h"
#include "nodes.h"

/* ---- ganache: a real Ethereum JSON-RPC node ------------------------- */

START_TEST(test_ganache)
{
	char port[16], sock[PATH_MAX], state[PATH_MAX];
	char *argv[24], *url;
	struct node_def *d;
	struct node_state st;
	enum node_rpc_fail f;
	struct err e;
	json_t *facts, *r;
	char hash0[80];
	double end;
	int a = 0, p;

	if (!ganache_cli[0]) {
		printf("test_nodes: ganache cases skipped: no ganache (set "
		    "GANACHE_CLI or run scripts/install-deps.sh) "
		    "or no node on the PATH\n");
		return;
	}
	p = free_port();
	snprintf(port, sizeof port, "%d", p);
	snprintf(sock, sizeof sock, "%s", tp("ganache.sock"));
	snprintf(state, sizeof state, "%s", tp("ganache-state"));
	argv[a++] = (char *)gate_bin;
	argv[a++] = "--socket";
	argv[a++] = sock;
	argv[a++] = "--state-dir";
	argv[a++] = state;
	argv[a++] = "--";
	argv[a++] = "node";
	argv[a++] = ganache_cli;
	argv[a++] = "--server.host";
	argv[a++] = "127.0.0.1";
	argv[a++] = "--server.port";
	argv[a++] = port;
	argv[a++] = "--logging.quiet";
	argv[a++] = "--wallet.totalAccounts";
	argv[a++] = "1";
	argv[a] = NULL;
	spawn(argv, tp("ganache.log"), NULL);
	url = urlf(p, "");
	d = node_def_new("quorum", sock, url, NULL, 0, 20);
	end = now_s() + 60;
	while (node_rpc_call(url, "eth_blockNumber", NULL, 1, &r, NULL, &e) < 0) {
		ck_assert_msg(now_s() < end, "ganache not answering: %s", e.msg);
		msleep(100);
	}
	json_decref(r);

	facts = node_facts(d, &e);
	ck_assert_msg(facts != NULL, "%s", e.msg);
	ck_assert_int_eq(json_get_u(facts, "block_number"), 0);
	ck_assert(json_is_integer(json_object_get(facts, "block_number")));
	ck_assert_int_eq(strlen(json_get_str(facts, "block_hash")), 66);
	ck_assert_int_eq(strlen(json_get_str(facts, "state_root")), 66);
	ck_assert_msg(strncmp(json_get_str(facts, "client_version"), "Ganache/",
	    8) == 0, "%s", json_get_str(facts, "client_version"));
	/* no istanbul_/qbft_ calls: no validators, and no failure */
	ck_assert_ptr_null(json_object_get(facts, "validators"));
	snprintf(hash0, sizeof hash0, "%s", json_get_str(facts, "block_hash"));
	json_decref(facts);

	ck_assert_msg(node_rpc_call(url, "evm_mine", NULL, 5, &r, NULL, &e) == 0,
	    "%s", e.msg);
	json_decref(r);
	facts = node_facts(d, &e);
	ck_assert_msg(facts != NULL, "%s", e.msg);
	ck_assert_int_eq(json_get_u(facts, "block_number"), 1);
	ck_assert_str_ne(json_get_str(facts, "block_hash"), hash0);
	json_decref(facts);

	ck_assert_int_eq(node_rpc_call(url, "istanbul_getValidators", NULL, 5,
	    &r, &f, &e), -1);
	ck_assert_int_eq(f, NODE_RPC_NO_METHOD);

	/* under its gate, with eth_syncing false and min_peers 0: ready */
	ck_assert_int_eq(node_probe(d, &st), 1);
	ck_assert_str_eq(st.gate_state, "running");
	ck_assert_int_eq(st.height, 1);
	ck_assert_int_eq(st.syncing, 0);
	ck_assert_int_eq(st.peers, 0);
	node_state_clear(&st);
	d->min_peers = 1;
	ck_assert_int_eq(node_probe(d, &st), 0);
	ck_assert_msg(strstr(st.reason, "0 peers, fewer than min_peers 1") !=
	    NULL, "%s", st.reason);
	node_state_clear(&st);
	d->min_peers = 0;

	/* a real stop and start of a real node */
	ck_assert_msg(node_stop(d, "j-ganache", 0, NULL, &e) == 0, "%s", e.msg);
	node_probe(d, &st);
	ck_assert_str_eq(st.gate_state, "stopped");
	ck_assert_int_eq(st.ready, 0);
	node_state_clear(&st);
	ck_assert_ptr_null(node_facts(d, &e));
	ck_assert_msg(node_start(d, &e) == 0, "%s", e.msg);
	{
		struct node_def *list[1] = { d };
		ck_assert_msg(nodes_wait_ready(list, 1, 60, NULL, &e) == 0, "%s",
		    e.msg);
	}
	node_def_free(d);
	free(url);
}
END_TEST

/* ---- suite ---------------------------------------------------------- */

static Suite *
nodes_ganache_suite(void)
{
	Suite *s = suite_create("nodes_ganache");
	TCase *tc;

	tc = tcase_create("ganache");
	tcase_add_checked_fixture(tc, tmp_setup, teardown_tmp);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_ganache);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return nodes_run_suite(nodes_ganache_suite(), "nodes_ganache");
}
