/* node_int: what the files of agent/node/ share among themselves; the
 * room's interface is nodes.h. */
#ifndef QB_NODE_INT_H
#define QB_NODE_INT_H

#include <jansson.h>
#include <stddef.h>

#include "err.h"
#include "nodes.h"

/* def.c: http:// or https:// */
int node_url_scheme_ok(const char *url);

/* rpc.c: node_rpc_call within what is left until deadline (monotonic
 * seconds). */
int node_rpc_until(const char *url, const char *method, json_t *params,
    double deadline, json_t **result, enum node_rpc_fail *fail,
    struct err *e);

/* gatectl.c: append the node's last output lines to e's message. */
void node_err_append_logs(const struct node_def *n, struct err *e);

/* probe.c: the validator set at "latest" (istanbul_getValidators, else
 * qbft_getValidatorsByBlockNumber): *set and *method, or both NULL; memo
 * (NULL: ask both) says which methods to leave alone and learns of those
 * missing; *answered is set when a call got a JSON-RPC answer; warn logs
 * failures other than "method not found". */
void node_rpc_validators(const struct node_def *n, double deadline,
    struct node_probe_memo *memo, int warn, json_t **set,
    const char **method, int *answered);

#endif
