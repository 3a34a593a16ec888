/* state: the member's state model. See state.h. */
#include "config.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "json.h"
#include "state.h"

static const struct {
	const char *name;
	int down;
} phases[PHASE_COUNT] = {
	[PHASE_NONE] = { NULL, 0 },
	[PHASE_READING_FACTS] = { "reading node facts", 1 },
	[PHASE_STOPPING] = { "stopping", 1 },
	[PHASE_ARCHIVING] = { "archiving", 0 },
	[PHASE_UNPACKING] = { "unpacking", 1 },
	[PHASE_ROLLING_BACK] = { "rolling back", 1 },
	[PHASE_STARTING] = { "starting", 1 },
	[PHASE_WAITING_READY] = { "waiting for readiness", 1 },
	[PHASE_VERIFYING] = { "verifying", 0 },
	[PHASE_PRUNING] = { "pruning", 0 },
	[PHASE_UPLOADING] = { "uploading", 0 },
};

const char *
state_phase_name(enum job_phase p)
{
	return (int)p >= 0 && p < PHASE_COUNT ? phases[p].name : NULL;
}

int
state_phase_down(enum job_phase p)
{
	return (int)p >= 0 && p < PHASE_COUNT && phases[p].down;
}

struct snode {
	struct node_state st;
	double at;               /* epoch seconds of the last reading or
	                          * transition; 0: never */
	unsigned long seq;       /* tickets handed out (readings begun and
	                          * transitions) */
	unsigned long stored;    /* the ticket of what st holds */
};

struct state {
	const struct agent_conf *cf;
	pthread_mutex_t mu;
	struct snode *nodes;     /* cf->n_nodes */
	/* the current job */
	int job_active;
	char job_id[64];
	const char *job_kind;
	enum job_phase phase;
	/* the lease */
	char lease_holder[129];
	time_t lease_until;
	/* disk, from the prober */
	uint64_t free_data, free_backup;
	json_t *last_backup;
	double disk_at;
};

static double
wall_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct state *
state_new(const struct agent_conf *cf)
{
	struct state *s = calloc(1, sizeof *s);

	if (!s)
		return NULL;
	s->nodes = calloc(cf->n_nodes ? cf->n_nodes : 1, sizeof *s->nodes);
	if (!s->nodes) {
		free(s);
		return NULL;
	}
	s->cf = cf;
	for (size_t i = 0; i < cf->n_nodes; i++)
		node_state_clear(&s->nodes[i].st);
	pthread_mutex_init(&s->mu, NULL);
	return s;
}

void
state_free(struct state *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->cf->n_nodes; i++)
		node_state_clear(&s->nodes[i].st);
	free(s->nodes);
	json_decref(s->last_backup);
	pthread_mutex_destroy(&s->mu);
	free(s);
}

/* ---- nodes ---------------------------------------------------------- */

unsigned long
state_node_begin(struct state *s, size_t i)
{
	unsigned long t = 0;

	pthread_mutex_lock(&s->mu);
	if (i < s->cf->n_nodes)
		t = ++s->nodes[i].seq;
	pthread_mutex_unlock(&s->mu);
	return t;
}

int
state_node_commit(struct state *s, size_t i, unsigned long ticket,
    struct node_state *st)
{
	int stored = 0;

	pthread_mutex_lock(&s->mu);
	if (i < s->cf->n_nodes && ticket > s->nodes[i].stored) {
		node_state_move(&s->nodes[i].st, st);
		s->nodes[i].stored = ticket;
		s->nodes[i].at = wall_now();
		stored = 1;
	}
	pthread_mutex_unlock(&s->mu);
	if (!stored)
		node_state_clear(st);
	return stored;
}

/* The node is on its way (state "stopping" or "starting"): not ready, for
 * the reason given; a stop also holds it (the gate writes its hold marker
 * before it signals the node). With s->mu held. */
static void
mark(struct state *s, struct snode *n, const char *gate_state, int held)
{
	const char *job = s->job_active ? s->job_id : "-";

	snprintf(n->st.gate_state, sizeof n->st.gate_state, "%s", gate_state);
	n->st.ready = 0;
	snprintf(n->st.reason, sizeof n->st.reason, "job %s is %s the node",
	    job, strcmp(gate_state, "stopping") == 0 ? "stopping" :
	    "starting");
	if (held && !n->st.held) {
		n->st.held = 1;
		json_decref(n->st.hold);
		n->st.hold = json_pack("{s:s}", "job", job);
	}
}

void
state_node_event(void *arg, size_t i, enum node_event ev,
    struct node_state *st)
{
	struct state *s = arg;
	struct snode *n;

	pthread_mutex_lock(&s->mu);
	if (i >= s->cf->n_nodes) {
		pthread_mutex_unlock(&s->mu);
		return;
	}
	n = &s->nodes[i];
	switch (ev) {
	case NODE_EV_STOP_REQUESTED:
		mark(s, n, "stopping", 1);
		break;
	case NODE_EV_START_REQUESTED:
		mark(s, n, "starting", 0);
		break;
	default:
		if (st)
			node_state_move(&n->st, st);
		break;
	}
	n->stored = ++n->seq;
	n->at = wall_now();
	pthread_mutex_unlock(&s->mu);
}

/* ---- the current job ------------------------------------------------ */

void
state_job_begin(struct state *s, const char *id, const char *kind,
    enum job_phase phase)
{
	pthread_mutex_lock(&s->mu);
	s->job_active = 1;
	snprintf(s->job_id, sizeof s->job_id, "%s", id);
	s->job_kind = kind;
	s->phase = phase;
	pthread_mutex_unlock(&s->mu);
}

void
state_job_phase(struct state *s, enum job_phase phase)
{
	pthread_mutex_lock(&s->mu);
	if (s->job_active)
		s->phase = phase;
	pthread_mutex_unlock(&s->mu);
}

void
state_job_end(struct state *s, const char *id)
{
	pthread_mutex_lock(&s->mu);
	if (s->job_active && strcmp(s->job_id, id) == 0) {
		s->job_active = 0;
		s->job_id[0] = '\0';
		s->job_kind = NULL;
		s->phase = PHASE_NONE;
	}
	pthread_mutex_unlock(&s->mu);
}

const char *
state_job_phase_name(struct state *s)
{
	const char *p;

	pthread_mutex_lock(&s->mu);
	p = s->job_active ? state_phase_name(s->phase) : NULL;
	pthread_mutex_unlock(&s->mu);
	return p;
}

/* ---- the lease ------------------------------------------------------ */

time_t
state_lease(struct state *s, char *holder, size_t size)
{
	time_t until = 0;

	pthread_mutex_lock(&s->mu);
	if (s->lease_holder[0] && s->lease_until > time(NULL))
		until = s->lease_until;
	snprintf(holder, size, "%s", until ? s->lease_holder : "");
	pthread_mutex_unlock(&s->mu);
	return until;
}

void
state_lease_set(struct state *s, const char *holder, time_t until)
{
	pthread_mutex_lock(&s->mu);
	snprintf(s->lease_holder, sizeof s->lease_holder, "%s",
	    holder ? holder : "");
	s->lease_until = holder && holder[0] ? until : 0;
	pthread_mutex_unlock(&s->mu);
}

/* ---- disk ----------------------------------------------------------- */

void
state_disk_commit(struct state *s, uint64_t free_data, uint64_t free_backup,
    json_t *last)
{
	pthread_mutex_lock(&s->mu);
	s->free_data = free_data;
	s->free_backup = free_backup;
	json_decref(s->last_backup);
	s->last_backup = last;
	s->disk_at = wall_now();
	pthread_mutex_unlock(&s->mu);
}

/* ---- reading -------------------------------------------------------- */

/* Add one reason: the first into why, all into *reasons. */
static void
add_reason(char *why, size_t size, json_t *reasons, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void
add_reason(char *why, size_t size, json_t *reasons, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	if (why && size && !why[0])
		snprintf(why, size, "%s", buf);
	if (reasons)
		json_array_append_new(reasons, json_string(buf));
}

/* state_down with s->mu held. */
static int
down_locked(struct state *s, char *why, size_t size, json_t *reasons)
{
	int down = 0;

	if (why && size)
		why[0] = '\0';
	if (s->job_active && state_phase_down(s->phase)) {
		add_reason(why, size, reasons, "job %s (%s): %s", s->job_id,
		    s->job_kind ? s->job_kind : "?", state_phase_name(s->phase));
		down = 1;
	}
	for (size_t i = 0; i < s->cf->n_nodes; i++) {
		const struct snode *n = &s->nodes[i];
		const char *name = s->cf->nodes[i]->name;

		if (n->at == 0) {
			add_reason(why, size, reasons, "%s: not probed yet", name);
			down = 1;
		} else if (n->st.held) {
			const char *job = json_get_str(n->st.hold, "job");
			const char *r = json_get_str(n->st.hold, "reason");

			add_reason(why, size, reasons, "%s: held by job %s (%s), "
			    "state %s", name, job ? job : "-", r ? r : "-",
			    n->st.gate_state);
			down = 1;
		} else if (!n->st.ready) {
			add_reason(why, size, reasons, "%s: %s", name,
			    n->st.reason[0] ? n->st.reason : "not ready");
			down = 1;
		}
	}
	return down;
}

int
state_down(struct state *s, char *why, size_t size, json_t **reasons)
{
	int down;

	if (reasons)
		*reasons = json_array();
	pthread_mutex_lock(&s->mu);
	down = down_locked(s, why, size, reasons ? *reasons : NULL);
	pthread_mutex_unlock(&s->mu);
	return down;
}

int
state_probed(struct state *s)
{
	int all = 1;

	pthread_mutex_lock(&s->mu);
	for (size_t i = 0; i < s->cf->n_nodes; i++)
		if (s->nodes[i].at == 0)
			all = 0;
	pthread_mutex_unlock(&s->mu);
	return all;
}

int
state_node_hold(struct state *s, size_t i, char *job, size_t size,
    long long *until)
{
	int held = 0;

	job[0] = '\0';
	*until = 0;
	pthread_mutex_lock(&s->mu);
	if (i < s->cf->n_nodes && s->nodes[i].st.held) {
		const json_t *h = s->nodes[i].st.hold;
		const char *j = json_get_str(h, "job");

		held = 1;
		snprintf(job, size, "%s", j ? j : "");
		*until = json_integer_value(json_object_get(h, "until"));
	}
	pthread_mutex_unlock(&s->mu);
	return held;
}

json_t *
state_json(struct state *s)
{
	json_t *o = json_object(), *nodes = json_array(), *reasons = json_array();
	double oldest = 0;
	int bad = 0, down;

	if (!o || !nodes || !reasons) {
		json_decref(o);
		json_decref(nodes);
		json_decref(reasons);
		return NULL;
	}
	pthread_mutex_lock(&s->mu);
	for (size_t i = 0; i < s->cf->n_nodes; i++) {
		const struct snode *n = &s->nodes[i];
		json_t *nd = node_state_json(s->cf->nodes[i], &n->st);

		if (!nd) {
			bad = 1;
			break;
		}
		bad |= json_object_set_new(nd, "probed_at", n->at > 0 ?
		    json_real(n->at) : json_null());
		bad |= json_array_append_new(nodes, nd);
		if (i == 0 || n->at < oldest)
			oldest = n->at;
	}
	if (s->cf->n_nodes == 0)
		oldest = s->disk_at;
	down = down_locked(s, NULL, 0, reasons);
	bad |= json_object_set_new(o, "nodes", nodes);
	bad |= json_object_set_new(o, "lease", s->lease_holder[0] &&
	    s->lease_until > time(NULL) ? json_pack("{s:s, s:I}", "holder",
	    s->lease_holder, "expires", (json_int_t)s->lease_until) :
	    json_null());
	bad |= json_object_set(o, "last_backup", s->last_backup ?
	    s->last_backup : json_null());
	bad |= json_object_set_new(o, "free_bytes", json_pack("{s:I, s:I}",
	    "data", (json_int_t)s->free_data,
	    "backup", (json_int_t)s->free_backup));
	bad |= json_object_set_new(o, "probed_at", oldest > 0 ?
	    json_real(oldest) : json_null());
	bad |= json_object_set_new(o, "down", json_boolean(down));
	bad |= json_object_set_new(o, "down_reasons", reasons);
	pthread_mutex_unlock(&s->mu);
	if (bad) {
		json_decref(o);
		return NULL;
	}
	return o;
}

void
state_metrics(struct state *s, int *ready, double *held_seconds, int *down)
{
	time_t now = time(NULL);

	*held_seconds = 0;
	pthread_mutex_lock(&s->mu);
	for (size_t i = 0; i < s->cf->n_nodes; i++) {
		const struct snode *n = &s->nodes[i];
		long long since = json_integer_value(json_object_get(n->st.hold,
		    "since"));

		ready[i] = n->at > 0 ? n->st.ready : -1;
		if (n->st.held && since > 0 &&
		    (double)(now - since) > *held_seconds)
			*held_seconds = (double)(now - since);
	}
	*down = down_locked(s, NULL, 0, NULL);
	pthread_mutex_unlock(&s->mu);
}
