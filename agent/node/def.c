/* def: a [node.NAME] section of the configuration, and its checks. */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/un.h>

#include "gate_proto.h"
#include "node_int.h"

static char *
xstrdup_or_null(const char *s, int *oom)
{
	char *d;

	if (!s)
		return NULL;
	d = strdup(s);
	if (!d)
		*oom = 1;
	return d;
}

/* ---- node_def ------------------------------------------------------- */

struct node_def *
node_def_new(const char *name, const char *gate_socket, const char *rpc_url,
    const char *health_url, long long min_peers, long long stop_timeout)
{
	struct node_def *n = calloc(1, sizeof *n);
	int oom = 0;

	if (!n)
		return NULL;
	n->name = xstrdup_or_null(name ? name : "", &oom);
	n->gate_socket = xstrdup_or_null(gate_socket ? gate_socket : "", &oom);
	n->rpc_url = xstrdup_or_null(rpc_url, &oom);
	n->health_url = xstrdup_or_null(health_url, &oom);
	n->min_peers = min_peers;
	n->stop_timeout = stop_timeout;
	if (oom) {
		node_def_free(n);
		return NULL;
	}
	return n;
}

void
node_def_free(struct node_def *n)
{
	if (!n)
		return;
	free(n->name);
	free(n->gate_socket);
	free(n->rpc_url);
	free(n->health_url);
	free(n);
}

int
node_url_scheme_ok(const char *url)
{
	return strncasecmp(url, "http://", 7) == 0 ||
	    strncasecmp(url, "https://", 8) == 0;
}

int
node_def_validate(const struct node_def *n, struct err *e)
{
	struct sockaddr_un sa;
	const char *name = n->name && n->name[0] ? n->name : "?";

	if (!n->name || !n->name[0])
		return err_set(e, ERR_CONFIG, "node: empty name");
	if (!n->gate_socket || !n->gate_socket[0])
		return err_set(e, ERR_CONFIG, "node.%s: gate_socket: missing",
		    name);
	if (strlen(n->gate_socket) >= sizeof sa.sun_path)
		return err_set(e, ERR_CONFIG, "node.%s: gate_socket: longer "
		    "than %zu bytes: %s", name, sizeof sa.sun_path - 1,
		    n->gate_socket);
	if (n->rpc_url && !node_url_scheme_ok(n->rpc_url))
		return err_set(e, ERR_CONFIG, "node.%s: rpc_url: must start "
		    "with http:// or https://: %s", name, n->rpc_url);
	if (n->health_url && !node_url_scheme_ok(n->health_url))
		return err_set(e, ERR_CONFIG, "node.%s: health_url: must start "
		    "with http:// or https://: %s", name, n->health_url);
	if (n->min_peers < 0)
		return err_set(e, ERR_CONFIG, "node.%s: min_peers: must be 0 "
		    "or more", name);
	if (n->stop_timeout < 0 || n->stop_timeout > GATE_STOP_TIMEOUT_MAX)
		return err_set(e, ERR_CONFIG, "node.%s: stop_timeout: must be "
		    "from 0 to %d seconds", name, GATE_STOP_TIMEOUT_MAX);
	return 0;
}
