/* serve: the sidecar. The HTTP API on its threads, jobs on theirs; this
 * thread waits for SIGTERM/SIGINT and then stops both, cancelling a
 * running job (which removes what it left half-done). */
#include "config.h"

#include <curl/curl.h>
#include <pthread.h>
#include <signal.h>

#include "cmd_table.h"
#include "http.h"
#include "jobs.h"
#include "log.h"
#include "member.h"

static int
cmd_serve_exec(const struct cmd_args *a)
{
	const struct agent_conf *cf = a->cf;
	struct member member;
	struct http_server *srv;
	struct store s;
	struct err e;
	sigset_t set;
	int sig = 0;

	err_clear(&e);
	/* Only this thread takes the stop signals. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	if (op_encryption_check(cf, &e) < 0 ||
	    store_open(&s, cf->backup_dir, cf->member, 1, &e) < 0)
		return cmd_fail("serve", &e);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	if (member_init(&member, cf, &e) < 0) {
		member_fini(&member);
		curl_global_cleanup();
		return cmd_fail("serve", &e);
	}
	if (!(srv = http_start(cf, &member, &e))) {
		member_fini(&member);
		curl_global_cleanup();
		return cmd_fail("serve", &e);
	}
	sigwait(&set, &sig);
	log_info("stopping", "signal=%d", sig);
	/* The job first: it cleans up (and resumes what it stopped), and the
	 * requests waiting for it get their answer; then the server. */
	jobs_stop(member.jobs);
	http_stop(srv);
	member_fini(&member);
	curl_global_cleanup();
	log_info("stopped", "signal=%d", sig);
	return 0;
}

const struct cmd_entry cmd_serve_entry = {
	.name = "serve",
	.usage = "serve",
	.help = "run the HTTP sidecar (default)",
	.exec = cmd_serve_exec,
};
