/* lease: a controller's lease on the member. While one holder's lease is
 * live, other holders' mutating calls are refused (409 leased). It outlives
 * a restart of the agent: it is kept in member<N>/lease.json, so that a
 * controller whose agent restarted mid-run still holds it and a second
 * controller is still refused. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "json.h"
#include "log.h"
#include "member.h"
#include "store.h"

/* ---- the lease on disk --------------------------------------------------
 * A lease outlives a restart of the agent: it is kept in
 * member<N>/lease.json, so that a controller whose agent restarted
 * mid-run still holds it and a second controller is still refused. */

/* The lease file's name in the member's directory, for messages. */
static void
lease_shown(const struct member *a, char *out, size_t size)
{
	char name[32];

	store_member_name(a->cf->member, name, sizeof name);
	snprintf(out, size, "%s/%s/lease.json", a->cf->backup_dir, name);
}

/* Write the lease file for holder until until (or remove it when holder
 * is empty), never through a link. With a->lease_mu held. A failure is
 * logged: the lease still holds while this agent runs. */
static void
lease_save(const struct member *a, const char *holder, time_t until)
{
	char shown[4400];
	struct err e;
	json_t *o = NULL;
	int mfd;

	err_clear(&e);
	lease_shown(a, shown, sizeof shown);
	if ((mfd = jobs_member_dir(a->jobs, holder[0] != '\0', &e)) < 0) {
		if (holder[0] || e.code != ERR_NOT_FOUND)
			log_warn("lease_save_failed", "path=%s error=%s",
			    logq(shown), logq(e.msg));
		return;
	}
	if (!holder[0]) {
		if (unlinkat(mfd, "lease.json", 0) < 0 && errno != ENOENT)
			log_warn("lease_save_failed", "path=%s error=%s",
			    logq(shown), logq(strerror(errno)));
		close(mfd);
		return;
	}
	o = json_pack("{s:s, s:I}", "holder", holder, "expires",
	    (json_int_t)until);
	if (!o)
		err_set(&e, ERR_FAILED, "out of memory");
	if (!o || json_write_fileat(mfd, "lease.json", shown, o, 0600, &e) < 0)
		log_warn("lease_save_failed", "path=%s error=%s", logq(shown),
		    logq(e.msg));
	json_decref(o);
	close(mfd);
}

/* At start: a live lease from the file holds again; an expired or
 * unreadable one is removed (and an unreadable one logged). */
void
lease_load(struct member *a)
{
	char shown[4400];
	struct err e;
	struct stat st;
	json_t *o, *x;
	const char *holder;
	long long expires;
	int mfd;

	err_clear(&e);
	lease_shown(a, shown, sizeof shown);
	if ((mfd = jobs_member_dir(a->jobs, 0, &e)) < 0)
		return;
	if (fstatat(mfd, "lease.json", &st, AT_SYMLINK_NOFOLLOW) < 0) {
		close(mfd);
		return;
	}
	o = json_load_at(mfd, "lease.json", shown, 4096, &e);
	holder = o ? json_get_str(o, "holder") : NULL;
	x = o ? json_object_get(o, "expires") : NULL;
	expires = json_is_integer(x) ? (long long)json_integer_value(x) : 0;
	if (!lease_holder_valid(holder) || expires <= 0) {
		log_warn("lease_file_ignored", "path=%s error=%s", logq(shown),
		    logq(o ? "no valid holder and expires" : e.msg));
	} else if (expires > (long long)time(NULL)) {
		state_lease_set(a->state, holder, (time_t)expires);
		log_info("lease_restored", "holder=%s expires_in=%lld",
		    logq(holder), expires - (long long)time(NULL));
		json_decref(o);
		close(mfd);
		return;
	}
	json_decref(o);
	/* unlinkat removes a link, never what it points to */
	if (unlinkat(mfd, "lease.json", 0) < 0 && errno != ENOENT)
		log_warn("lease_save_failed", "path=%s error=%s", logq(shown),
		    logq(strerror(errno)));
	close(mfd);
}

int
lease_refuse(const char *who, struct err *e)
{
	return err_set(e, ERR_LEASED, "the agent is leased to %s; mutating "
	    "calls need X-Quorum-Backup-Holder: %s", who, who);
}

int
lease_other(struct member *m, const char *holder, char *who, size_t size)
{
	return state_lease(m->state, who, size) > 0 &&
	    (!holder || strcmp(holder, who) != 0);
}

int
lease_take(struct member *m, const char *holder, long long ttl,
    time_t *expires, struct err *e)
{
	char who[160];
	time_t now = time(NULL);

	if (lease_other(m, holder, who, sizeof who))
		return lease_refuse(who, e);
	*expires = now + (time_t)ttl;
	state_lease_set(m->state, holder, *expires);
	lease_save(m, holder, *expires);
	log_info("lease_taken", "holder=%s ttl=%lld", logq(holder), ttl);
	return 0;
}

int
lease_release(struct member *m, const char *holder, struct err *e)
{
	char who[160];

	if (lease_other(m, holder, who, sizeof who))
		return lease_refuse(who, e);
	state_lease_set(m->state, NULL, 0);
	lease_save(m, "", 0);
	log_info("lease_released", "holder=%s", logq(holder ? holder : ""));
	return 0;
}

int
lease_holder_valid(const char *holder)
{
	return holder && holder[0] && strlen(holder) <= 128 &&
	    strspn(holder, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789-_.:@") == strlen(holder);
}
