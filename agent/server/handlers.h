/* handlers: what the handlers of agent/server/h_*.c share, inside the
 * server: the request arguments they read (args.c) and the one way they
 * start a job (jobstart.c). */
#ifndef QB_HANDLERS_H
#define QB_HANDLERS_H

#include <jansson.h>

#include "api.h"
#include "http.h"
#include "jobs.h"
#include "member.h"
#include "state.h"

/* ---- arguments (args.c) ---- */

/* ?NAME=1|true|0|false (absent: 0) into *out; -1 when malformed. */
int bool_arg(struct request *r, const char *name, int *out);
/* ?wait=S: 0..3600 seconds; -1 when malformed. */
int wait_arg(struct request *r, double *out);
/* The caller's lease holder name: X-Quorum-Backup-Holder or ?holder=. */
const char *holder_of(struct request *r);

/* ---- starting a job (jobstart.c) ---- */

/* What a job needs before it is created. */
enum job_need {
	NEED_NOTHING,
	NEED_STOPPED,            /* the nodes stopped (refused at once else) */
};

/* Start a job in phase `phase` (what it does first); 202 with Location,
 * or 200 when ?wait=S saw it finish. need: NEED_STOPPED refuses at once,
 * with 409 node_running and no job, while a node is not stopped (the job
 * checks again, as the node may start in between). Takes params over. */
enum MHD_Result start_job(struct request *r, enum job_kind kind,
    json_t *params, enum job_phase phase, enum job_need need);
/* 409 leased when another holder's lease is live: who gets the holder.
 * With the member's lease_mu held. */
int leased_to_other(struct request *r, char *who, size_t size);
enum MHD_Result reply_leased(struct request *r, const char *who);

#endif
