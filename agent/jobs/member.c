/* member: the agent's runtime for its member: the job runner, the state
 * model, the prober, the lease. */
#include "config.h"

#include <pthread.h>
#include <string.h>

#include "log.h"
#include "member.h"
#include "offsite.h"

int
member_init(struct member *m, const struct agent_conf *cf, struct err *e)
{
	memset(m, 0, sizeof *m);
	m->cf = cf;
	pthread_mutex_init(&m->mu, NULL);
	pthread_mutex_init(&m->lease_mu, NULL);
	pthread_cond_init(&m->cv, NULL);
	for (size_t i = 0; i < cf->n_nodes; i++)
		if (node_def_validate(cf->nodes[i], e) < 0)
			return -1;
	if (!(m->state = state_new(cf)))
		return err_set(e, ERR_FAILED, "out of memory");
	if (!(m->jobs = jobs_new(cf, m->state, member_run_job, m, e)))
		return -1;
	lease_load(m);
	if (cf->offsite_url && cf->offsite_url[0]) {
		/* The metric of the last copy survives a restart. */
		struct err se;
		time_t last;

		err_clear(&se);
		if (offsite_local_state(cf, &last, NULL, &se) == 0)
			jobs_offsite_seed(m->jobs, last);
		else
			log_warn("offsite_state_unread", "error=%s", logq(se.msg));
	}
	if (prober_start(m, e) < 0) {
		jobs_free(m->jobs);
		m->jobs = NULL;
		return -1;
	}
	return 0;
}

void
member_fini(struct member *m)
{
	prober_stop(m);
	jobs_free(m->jobs);
	state_free(m->state);
	json_decref(m->facts);
	pthread_mutex_destroy(&m->mu);
	pthread_mutex_destroy(&m->lease_mu);
	pthread_cond_destroy(&m->cv);
}
