/* client: the controller's HTTP client for the agents' API (libcurl).
 *
 * One call, one request: the reply's status and JSON body, or, when the
 * agent did not answer as an agent does, a code of the controller's own
 * ("unreachable", "bad_reply", "timeout"). Agent errors keep the agent's
 * code and message ({"error":{"code","message"}}), so the controller can
 * show them as they are. */
#ifndef QB_CLIENT_H
#define QB_CLIENT_H

#include <jansson.h>

#include "ctl_conf.h"
#include "err.h"

struct client {
	char *token;          /* NULL: no Authorization header */
	char holder[160];     /* sent as X-Quorum-Backup-Holder */
	double timeout;       /* seconds per request */
	void *curl;           /* one handle, reused: keeps connections alive */
};

struct reply {
	long status;          /* HTTP status; 0 when there was no answer */
	json_t *body;         /* the JSON body, or NULL */
	char code[64];        /* the agent's error code, or the client's */
	char msg[1024];
};

/* Read the token file (the first line; "" = none) and set up libcurl. */
int client_init(struct client *c, const char *token_file, const char *holder,
    double timeout, struct err *e);
void client_fini(struct client *c);

/* METHOD base_url+path (path starts with '/' and holds its query). 0 when
 * the agent answered 2xx with JSON; -1 otherwise, r->code and r->msg say
 * why. wait_s > 0 adds that many seconds to the timeout (for ?wait=). The
 * caller frees r with reply_free() in both cases. */
int client_call(struct client *c, const struct member *m, const char *method,
    const char *path, double wait_s, struct reply *r);
void reply_free(struct reply *r);

/* Percent-encode s for a query value. */
void client_escape(const char *s, char *out, size_t size);

#endif
