/* Unit tests of agent/nodes: parsing (hex quantities, node definitions,
 * the state's JSON), JSON-RPC and node facts against a testnode without a
 * gate, nothing listening, a listener that never answers, and the
 * client's limits (oversized, non-JSON and error replies) against a small
 * canned HTTP server.
 *
 * Every process started is killed by pid in the test's teardown; the
 * runner (nodes_fixture.h) is a child subreaper and kills (by pid) any
 * descendant still alive at the end, so a failed test leaves nothing. */
#include "config.h"

#include <check.h>
#include <limits.h>
#include <dirent.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "testutil.h"
#include "nodes_fixture.h"
#include "err.h"
#include "json.h"
#include "nodes.h"

/* ---- nodes under gates ---------------------------------------------- */

/* Start a testnode without a gate on a free port; its port. */
static int
testnode_alone(void)
{
	char port[16], data[PATH_MAX], pidf[PATH_MAX];
	char *argv[10];
	int p = free_port();
	char *url;
	double end = now_s() + 10;
	struct err e;
	long st;

	snprintf(port, sizeof port, "%d", p);
	snprintf(data, sizeof data, "%s", tp("alone-%d", p));
	snprintf(pidf, sizeof pidf, "%s", tp("alone-%d.pid", p));
	argv[0] = (char *)testnode_bin;
	argv[1] = "--data";
	argv[2] = data;
	argv[3] = "--port";
	argv[4] = port;
	argv[5] = "--pid-file";
	argv[6] = pidf;
	argv[7] = NULL;
	spawn(argv, tp("alone-%d.log", p), NULL);
	url = urlf(p, "/");
	while (node_http_status(url, 1.0, &st, &e) < 0) {
		ck_assert_msg(now_s() < end, "testnode not answering: %s",
		    e.msg);
		msleep(20);
	}
	free(url);
	return p;
}

/* ---- parsing -------------------------------------------------------- */

START_TEST(test_hex_quantity)
{
	static const struct { const char *s; long long v; } cases[] = {
		{ "0x0", 0 }, { "0x1b4", 436 }, { "0X1B4", 436 },
		{ "0x00ff", 255 }, { "0x7fffffffffffffff", 0x7fffffffffffffffLL },
		{ "0x8000000000000000", -1 }, { "0xffffffffffffffffff", -1 },
		{ "0x", -1 }, { "1b4", -1 }, { "0xg", -1 }, { "0x-1", -1 },
		{ "", -1 }, { " 0x1", -1 }, { "0x1 ", -1 },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		json_t *j = json_string(cases[i].s);
		ck_assert_msg(node_hex_quantity(j) == cases[i].v, "%s: %lld",
		    cases[i].s, node_hex_quantity(j));
		json_decref(j);
	}
	json_t *j = json_integer(42);
	ck_assert_int_eq(node_hex_quantity(j), 42);
	json_decref(j);
	j = json_integer(-3);
	ck_assert_int_eq(node_hex_quantity(j), -1);
	json_decref(j);
	ck_assert_int_eq(node_hex_quantity(NULL), -1);
	j = json_false();
	ck_assert_int_eq(node_hex_quantity(j), -1);
	json_decref(j);
}
END_TEST

START_TEST(test_def_validate)
{
	char longpath[200];
	struct node_def *d;
	struct err e;

	d = node_def_new("quorum", "/run/qb/quorum.sock",
	    "http://127.0.0.1:8545", NULL, 1, 60);
	ck_assert_ptr_nonnull(d);
	ck_assert_int_eq(node_def_validate(d, &e), 0);
	free(d->rpc_url);
	d->rpc_url = strdup("file:///etc/passwd");
	ck_assert_int_eq(node_def_validate(d, &e), -1);
	ck_assert_int_eq(e.code, ERR_CONFIG);
	ck_assert_msg(strstr(e.msg, "node.quorum: rpc_url") != NULL, "%s",
	    e.msg);
	free(d->rpc_url);
	d->rpc_url = NULL;
	d->health_url = strdup("ftp://127.0.0.1/");
	ck_assert_int_eq(node_def_validate(d, &e), -1);
	ck_assert_msg(strstr(e.msg, "health_url") != NULL, "%s", e.msg);
	free(d->health_url);
	d->health_url = NULL;
	d->stop_timeout = 86401;
	ck_assert_int_eq(node_def_validate(d, &e), -1);
	ck_assert_msg(strstr(e.msg, "stop_timeout") != NULL, "%s", e.msg);
	d->stop_timeout = 10;
	d->min_peers = -1;
	ck_assert_int_eq(node_def_validate(d, &e), -1);
	ck_assert_msg(strstr(e.msg, "min_peers") != NULL, "%s", e.msg);
	d->min_peers = 0;
	memset(longpath, 'a', sizeof longpath - 1);
	longpath[0] = '/';
	longpath[sizeof longpath - 1] = '\0';
	free(d->gate_socket);
	d->gate_socket = strdup(longpath);
	ck_assert_int_eq(node_def_validate(d, &e), -1);
	ck_assert_msg(strstr(e.msg, "gate_socket: longer than") != NULL, "%s",
	    e.msg);
	/* and the client says so too, at once */
	json_t *r = (json_t *)1;
	ck_assert_int_eq(node_gate_request(d, "status", 1, &r, &e), -1);
	ck_assert_ptr_null(r);
	ck_assert_int_eq(e.code, ERR_CONFIG);
	ck_assert_msg(strstr(e.msg, "longer than 107 bytes") != NULL, "%s",
	    e.msg);
	node_def_free(d);
	node_def_free(NULL);
}
END_TEST

START_TEST(test_state_json_unknown)
{
	struct node_def *d = node_def_new("tessera", "/x", NULL,
	    "http://127.0.0.1:1/upcheck", 0, 5);
	struct node_state st;
	json_t *j;

	memset(&st, 0, sizeof st);
	node_state_clear(&st);
	snprintf(st.gate_state, sizeof st.gate_state, "unreachable");
	snprintf(st.reason, sizeof st.reason, "why");
	j = node_state_json(d, &st);
	ck_assert_ptr_nonnull(j);
	ck_assert_str_eq(json_get_str(j, "name"), "tessera");
	ck_assert_str_eq(json_get_str(j, "state"), "unreachable");
	ck_assert_str_eq(json_get_str(j, "check"), "health");
	ck_assert_str_eq(json_get_str(j, "reason"), "why");
	ck_assert(json_is_null(json_object_get(j, "pid")));
	ck_assert(json_is_null(json_object_get(j, "uptime")));
	ck_assert(json_is_null(json_object_get(j, "height")));
	ck_assert(json_is_null(json_object_get(j, "syncing")));
	ck_assert(json_is_null(json_object_get(j, "peers")));
	ck_assert(json_is_null(json_object_get(j, "hold")));
	ck_assert(json_is_false(json_object_get(j, "ready")));
	json_decref(j);
	node_def_free(d);
}
END_TEST

/* ---- JSON-RPC against a real node ----------------------------------- */

static long long
journal_lines(const char *path)
{
	FILE *f = fopen(path, "r");
	long long n = 0;
	int c;

	ck_assert_ptr_nonnull(f);
	while ((c = getc(f)) != EOF)
		if (c == '\n')
			n++;
	fclose(f);
	return n;
}

START_TEST(test_rpc_testnode)
{
	int port = testnode_alone();
	char *url = urlf(port, "");
	json_t *r;
	struct err e;
	enum node_rpc_fail f;
	long long h1, h2, lines;

	ck_assert_msg(node_rpc_call(url, "eth_blockNumber", NULL, 2, &r, &f,
	    &e) == 0, "%s", e.msg);
	ck_assert_int_eq(f, NODE_RPC_OK);
	ck_assert(json_is_string(r));
	ck_assert_msg(strncmp(json_string_value(r), "0x", 2) == 0, "%s",
	    json_string_value(r));
	h1 = node_hex_quantity(r);
	json_decref(r);
	lines = journal_lines(tp("alone-%d/geth/chaindata/journal.log", port));
	/* the height is the journal's line count when it answered */
	ck_assert_int_gt(h1, 0);
	ck_assert_int_ge(lines, h1);
	ck_assert_int_le(lines, h1 + 10);
	msleep(300);
	ck_assert_msg(node_rpc_call(url, "eth_blockNumber", NULL, 2, &r, NULL,
	    &e) == 0, "%s", e.msg);
	h2 = node_hex_quantity(r);
	json_decref(r);
	ck_assert_int_ge(h2, h1 + 3);

	ck_assert_msg(node_rpc_call(url, "eth_syncing", NULL, 2, &r, &f, &e) ==
	    0, "%s", e.msg);
	ck_assert(json_is_false(r));
	json_decref(r);
	ck_assert_int_eq(node_rpc_call(url, "qbft_getValidatorsByBlockNumber",
	    NULL, 2, &r, &f, &e), -1);
	ck_assert_int_eq(f, NODE_RPC_NO_METHOD);
	ck_assert_int_eq(e.code, ERR_FAILED);
	free(url);
}
END_TEST

START_TEST(test_facts_testnode)
{
	int port = testnode_alone();
	char *url = urlf(port, "");
	struct node_def *d = node_def_new("quorum", tp("none.sock"), url, NULL,
	    0, 5);
	struct err e;
	json_t *f;

	json_t *v;
	long long num;

	f = node_facts(d, &e);
	ck_assert_msg(f != NULL, "%s", e.msg);
	/* all from one eth_getBlockByNumber reply: testnode's hash is the
	 * height and its state root the height + 1, both 32 bytes */
	num = json_get_u(f, "block_number");
	ck_assert_int_gt(num, 0);
	ck_assert(json_is_integer(json_object_get(f, "block_number")));
	ck_assert_int_eq(strlen(json_get_str(f, "block_hash")), 66);
	ck_assert_int_eq(strlen(json_get_str(f, "state_root")), 66);
	v = json_string(json_get_str(f, "block_hash"));
	ck_assert_int_eq(node_hex_quantity(v), num);
	json_decref(v);
	v = json_string(json_get_str(f, "state_root"));
	ck_assert_int_eq(node_hex_quantity(v), num + 1);
	json_decref(v);
	ck_assert_str_eq(json_get_str(f, "client_version"), "testnode/v1");
	/* istanbul_/qbft_ "does not exist": no validators, no failure */
	ck_assert_ptr_null(json_object_get(f, "validators"));
	ck_assert_ptr_null(json_object_get(f, "validators_method"));
	json_decref(f);

	/* no rpc_url: nothing to ask, an empty object */
	free(d->rpc_url);
	d->rpc_url = NULL;
	f = node_facts(d, &e);
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(json_object_size(f), 0);
	json_decref(f);
	node_def_free(d);
	free(url);
}
END_TEST

START_TEST(test_rpc_nothing_listening)
{
	int port = free_port();
	char *url = urlf(port, "");
	struct node_def *d = node_def_new("quorum", tp("none.sock"), url, NULL,
	    0, 5);
	struct node_state st;
	enum node_rpc_fail f;
	struct err e;
	json_t *r = (json_t *)1;
	double t0 = now_s();
	long status;

	ck_assert_int_eq(node_rpc_call(url, "eth_blockNumber", NULL, 2, &r, &f,
	    &e), -1);
	ck_assert_ptr_null(r);
	ck_assert_int_eq(f, NODE_RPC_TRANSPORT);
	ck_assert_int_eq(e.code, ERR_FAILED);
	ck_assert_msg(strstr(e.msg, url) && strstr(e.msg, "eth_blockNumber") &&
	    (strstr(e.msg, "refused") || strstr(e.msg, "connect")), "%s",
	    e.msg);
	ck_assert_int_eq(node_http_status(url, 2, &status, &e), -1);
	ck_assert_int_eq(e.code, ERR_FAILED);

	ck_assert_ptr_null(node_facts(d, &e));
	ck_assert_int_eq(e.code, ERR_FAILED);
	ck_assert_msg(strstr(e.msg, "quorum: the node does not answer "
	    "JSON-RPC") != NULL, "%s", e.msg);

	node_probe(d, &st);
	ck_assert_str_eq(st.gate_state, "unreachable");
	ck_assert_int_eq(st.rpc_ok, 0);
	ck_assert_int_eq(st.ready, 0);
	ck_assert_int_eq(st.height, -1);
	node_state_clear(&st);
	ck_assert_msg(now_s() - t0 < 3, "took %.1f s", now_s() - t0);
	node_def_free(d);
	free(url);
}
END_TEST

START_TEST(test_rpc_silent)
{
	int port, fd = silent_tcp(&port);
	char *url = urlf(port, "");
	struct node_def *d = node_def_new("quorum", tp("none.sock"), url, NULL,
	    0, 5);
	struct node_state st;
	struct err e;
	json_t *r;
	double t0 = now_s(), dt;

	ck_assert_int_eq(node_rpc_call(url, "eth_blockNumber", NULL, 0.5, &r,
	    NULL, &e), -1);
	dt = now_s() - t0;
	ck_assert_msg(dt >= 0.4 && dt < 1.5, "took %.2f s", dt);
	ck_assert_msg(strstr(e.msg, "no answer within 0.5 s") != NULL, "%s",
	    e.msg);

	/* a probe never blocks long: every RPC call shares one deadline */
	t0 = now_s();
	node_probe(d, &st);
	dt = now_s() - t0;
	ck_assert_msg(dt < NODE_PROBE_CHECK_TIMEOUT + 1, "probe took %.2f s",
	    dt);
	ck_assert_int_eq(st.ready, 0);
	ck_assert_int_eq(st.rpc_ok, 0);
	node_state_clear(&st);
	close(fd);
	node_def_free(d);
	free(url);
}
END_TEST

/* ---- the client's limits, with canned replies ----------------------- */

struct canned {
	int lfd;
	const char *reply;       /* headers and body, or NULL for big */
	size_t big;              /* bytes of body sent when reply is NULL */
	char req[8192];
	size_t req_len;
};

static void *
canned_serve(void *arg)
{
	struct canned *c = arg;
	int fd = accept4(c->lfd, NULL, NULL, SOCK_CLOEXEC);

	if (fd < 0)
		return NULL;
	c->req_len = read_request(fd, c->req, sizeof c->req);
	if (c->reply) {
		(void)!send(fd, c->reply, strlen(c->reply), MSG_NOSIGNAL);
	} else {
		static char chunk[65536];
		const char *h = "HTTP/1.1 200 OK\r\nContent-Type: "
		    "application/json\r\nConnection: close\r\n\r\n[\"";
		memset(chunk, 'a', sizeof chunk);
		(void)!send(fd, h, strlen(h), MSG_NOSIGNAL);
		for (size_t s = 0; s < c->big; s += sizeof chunk)
			if (send(fd, chunk, sizeof chunk, MSG_NOSIGNAL) < 0)
				break;
	}
	close(fd);
	return NULL;
}

/* One call against a server that answers reply once. */
static int
canned_call(const char *reply, size_t big, const char *method,
    struct canned *c, enum node_rpc_fail *f, json_t **r, struct err *e)
{
	pthread_t th;
	int port, rc;
	char *url;

	memset(c, 0, sizeof *c);
	c->lfd = silent_tcp(&port);
	c->reply = reply;
	c->big = big;
	ck_assert_int_eq(pthread_create(&th, NULL, canned_serve, c), 0);
	url = urlf(port, "/rpc");
	rc = node_rpc_call(url, method, NULL, 3, r, f, e);
	pthread_join(th, NULL);
	close(c->lfd);
	free(url);
	return rc;
}

#define HTTP200 "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n" \
	"Connection: close\r\n\r\n"

START_TEST(test_rpc_canned)
{
	struct canned c;
	enum node_rpc_fail f;
	struct err e;
	json_t *r, *req;
	const char *body;

	/* the request: POST, JSON, a JSON-RPC 2.0 object */
	ck_assert_msg(canned_call(HTTP200 "{\"jsonrpc\":\"2.0\",\"id\":1,"
	    "\"result\":{\"currentBlock\":\"0x5\",\"highestBlock\":\"0x10\"}}",
	    0, "eth_syncing", &c, &f, &r, &e) == 0, "%s", e.msg);
	ck_assert(json_is_object(r));
	json_decref(r);
	ck_assert_msg(strncmp(c.req, "POST /rpc HTTP/1.1\r\n", 20) == 0, "%s",
	    c.req);
	ck_assert_ptr_nonnull(strcasestr(c.req,
	    "\r\nContent-Type: application/json\r\n"));
	body = strstr(c.req, "\r\n\r\n") + 4;
	req = json_loads(body, 0, NULL);
	ck_assert_ptr_nonnull(req);
	ck_assert_str_eq(json_get_str(req, "jsonrpc"), "2.0");
	ck_assert_int_eq(json_get_u(req, "id"), 1);
	ck_assert_str_eq(json_get_str(req, "method"), "eth_syncing");
	ck_assert(json_is_array(json_object_get(req, "params")));
	ck_assert_int_eq(json_array_size(json_object_get(req, "params")), 0);
	json_decref(req);

	/* more than 1 MiB: refused, whatever the server sends */
	ck_assert_int_eq(canned_call(NULL, 2u << 20, "eth_blockNumber", &c, &f,
	    &r, &e), -1);
	ck_assert_int_eq(f, NODE_RPC_TRANSPORT);
	ck_assert_msg(strstr(e.msg, "reply longer than 1048576 bytes") != NULL,
	    "%s", e.msg);
	/* the same with a Content-Length that says so */
	{
		static char big[256];
		snprintf(big, sizeof big, "HTTP/1.1 200 OK\r\nContent-Length: "
		    "%u\r\nConnection: close\r\n\r\n[", 3u << 20);
		ck_assert_int_eq(canned_call(big, 0, "eth_blockNumber", &c, &f,
		    &r, &e), -1);
		ck_assert_msg(strstr(e.msg, "reply longer than") != NULL, "%s",
		    e.msg);
	}
	/* not JSON */
	ck_assert_int_eq(canned_call(HTTP200 "hello", 0, "eth_blockNumber", &c,
	    &f, &r, &e), -1);
	ck_assert_int_eq(f, NODE_RPC_TRANSPORT);
	ck_assert_msg(strstr(e.msg, "not a JSON-RPC object") != NULL, "%s",
	    e.msg);
	/* an HTTP error with a text body */
	ck_assert_int_eq(canned_call("HTTP/1.1 500 Oops\r\nConnection: close"
	    "\r\n\r\nbroken", 0, "eth_blockNumber", &c, &f, &r, &e), -1);
	ck_assert_int_eq(f, NODE_RPC_TRANSPORT);
	ck_assert_msg(strstr(e.msg, "HTTP 500") != NULL, "%s", e.msg);
	/* JSON-RPC errors: geth's "method not found" and any other */
	ck_assert_int_eq(canned_call(HTTP200 "{\"jsonrpc\":\"2.0\",\"id\":1,"
	    "\"error\":{\"code\":-32601,\"message\":\"the method "
	    "istanbul_getValidators does not exist/is not available\"}}", 0,
	    "istanbul_getValidators", &c, &f, &r, &e), -1);
	ck_assert_int_eq(f, NODE_RPC_NO_METHOD);
	ck_assert_msg(strstr(e.msg, "error -32601") != NULL, "%s", e.msg);
	ck_assert_int_eq(canned_call(HTTP200 "{\"jsonrpc\":\"2.0\",\"id\":1,"
	    "\"error\":{\"code\":-32000,\"message\":\"boom\"}}", 0,
	    "eth_blockNumber", &c, &f, &r, &e), -1);
	ck_assert_int_eq(f, NODE_RPC_ERROR);
	ck_assert_msg(strstr(e.msg, "error -32000: boom") != NULL, "%s", e.msg);
	/* neither result nor error */
	ck_assert_int_eq(canned_call(HTTP200 "{\"jsonrpc\":\"2.0\",\"id\":1}",
	    0, "eth_blockNumber", &c, &f, &r, &e), -1);
	ck_assert_msg(strstr(e.msg, "neither result nor error") != NULL, "%s",
	    e.msg);
	/* other schemes never reach libcurl */
	ck_assert_int_eq(node_rpc_call("file:///etc/passwd", "eth_blockNumber",
	    NULL, 1, &r, &f, &e), -1);
	ck_assert_int_eq(e.code, ERR_CONFIG);
	ck_assert_int_eq(node_rpc_call("gopher://127.0.0.1/", "x", NULL, 1, &r,
	    &f, &e), -1);
	ck_assert_int_eq(e.code, ERR_CONFIG);
}
END_TEST

/* ---- suite ---------------------------------------------------------- */

static Suite *
nodes_rpc_suite(void)
{
	Suite *s = suite_create("nodes_rpc");
	TCase *tc;

	tc = tcase_create("parse");
	tcase_add_checked_fixture(tc, tmp_setup, teardown_tmp);
	tcase_add_test(tc, test_hex_quantity);
	tcase_add_test(tc, test_def_validate);
	tcase_add_test(tc, test_state_json_unknown);
	suite_add_tcase(s, tc);

	tc = tcase_create("rpc");
	tcase_add_checked_fixture(tc, tmp_setup, teardown_tmp);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_rpc_testnode);
	tcase_add_test(tc, test_facts_testnode);
	tcase_add_test(tc, test_rpc_nothing_listening);
	tcase_add_test(tc, test_rpc_silent);
	tcase_add_test(tc, test_rpc_canned);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return nodes_run_suite(nodes_rpc_suite(), "nodes_rpc");
}
