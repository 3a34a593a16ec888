/* safety: may these members go down now? Every other member must be up
 * (not down as its agent defines it: every node running and ready, which
 * excludes syncing, no hold, no job that stops, unpacks or starts the
 * nodes; read with ?fresh=1), its head within max_lag blocks of the
 * highest, and the validators still running must stay at least the QBFT/IBFT
 * quorum ceil(2n/3) of n. n and membership come from the nodes'
 * validator-set calls; the configuration's validator flags only when no
 * node offers them, and the controller says so. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ctl.h"
#include "json.h"
#include "log.h"

#define LAG_RETRIES 3
#define LAG_RETRY_SECONDS 2.5   /* a little more than an agent's probe */

size_t
quorum_of(size_t n)
{
	return (2 * n + 2) / 3;
}

void
network_read(struct ctl *c, struct network *net)
{
	const json_t *vset = NULL;
	long long vset_height = -1;

	memset(net, 0, sizeof *net);
	net->highest = -1;
	net->n = c->n_members;
	net->st = calloc(c->n_members ? c->n_members : 1, sizeof *net->st);
	if (!net->st) {
		net->n = 0;
		return;
	}
	for (size_t i = 0; i < c->n_members; i++) {
		struct mstat *s = &net->st[i];

		member_status_ex(c, i, s, 1);
		if (s->reachable && s->height > net->highest)
			net->highest = s->height;
		/* The set as the most advanced node sees it. */
		if (s->validators && s->height >= vset_height) {
			vset = s->validators;
			vset_height = s->height;
		}
	}
	if (vset) {
		size_t identified = 0;

		net->vset_known = 1;
		net->vset_n = json_array_size(vset);
		for (size_t i = 0; i < c->n_members; i++) {
			const struct mstat *s = &net->st[i];
			size_t k;
			json_t *a;

			if (!s->address[0])
				continue;
			json_array_foreach(vset, k, a)
				if (json_is_string(a) && strcasecmp(
				    json_string_value(a), s->address) == 0) {
					identified++;
					break;
				}
		}
		net->unknown_validators = net->vset_n > identified ?
		    net->vset_n - identified : 0;
		/* Members whose node did not say who it is (agent down) but
		 * whom the configuration calls validators are among those. */
		for (size_t i = 0; i < c->n_members && net->unknown_validators;
		    i++)
			if (!net->st[i].address[0] && c->members[i].validator)
				net->unknown_validators--;
	}
}

void
network_free(struct network *net)
{
	for (size_t i = 0; i < net->n; i++)
		mstat_free(&net->st[i]);
	free(net->st);
	memset(net, 0, sizeof *net);
}

/* Whether member i counts as a validator. */
static int
is_validator(const struct ctl *c, const struct network *net, size_t i)
{
	const struct mstat *s = &net->st[i];

	if (net->vset_known && s->is_validator >= 0)
		return s->is_validator;
	if (net->vset_known && s->address[0]) {
		/* The node gave its address but not the answer: not in the
		 * set of the most advanced node. */
		return 0;
	}
	return c->members[i].validator;
}

static int
in_list(const size_t *v, size_t n, size_t x)
{
	for (size_t k = 0; k < n; k++)
		if (v[k] == x)
			return 1;
	return 0;
}

static void
append(char *buf, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void
append(char *buf, size_t size, const char *fmt, ...)
{
	size_t len = strlen(buf);
	va_list ap;

	if (len + 3 >= size)
		return;
	if (len) {
		strcat(buf, "; ");
		len += 2;
	}
	va_start(ap, fmt);
	vsnprintf(buf + len, size - len, fmt, ap);
	va_end(ap);
}

int
safety_check(struct ctl *c, const struct network *net, const size_t *down,
    size_t n_down, int check_others, char *why, size_t why_size)
{
	size_t n_val = 0, running = 0, need;

	why[0] = '\0';
	if (check_others)
		for (size_t i = 0; i < net->n; i++) {
			const struct mstat *s = &net->st[i];
			int m = c->members[i].n;

			if (in_list(down, n_down, i))
				continue;
			if (!s->reachable)
				append(why, why_size, "member %d: its agent does not "
				    "answer (%s)", m, s->msg);
			else if (s->down)
				append(why, why_size, "member %d is down: %s", m,
				    s->down_why);
			else if (s->height < 0)
				append(why, why_size, "member %d: its head is unknown",
				    m);
			else if (s->height + c->cf.max_lag < net->highest)
				append(why, why_size, "member %d is behind: head %lld, "
				    "highest %lld", m, s->height, net->highest);
		}

	for (size_t i = 0; i < net->n; i++) {
		if (!is_validator(c, net, i))
			continue;
		n_val++;
		if (!in_list(down, n_down, i) && net->st[i].reachable &&
		    !net->st[i].down)
			running++;
	}
	if (net->vset_known) {
		n_val = net->vset_n;
		running += net->unknown_validators;
		if (net->unknown_validators)
			out_warn(c, "%zu of the %zu validators are not configured "
			    "members; they are counted as running",
			    net->unknown_validators, net->vset_n);
	} else {
		out_warn(c, "no node offers istanbul_getValidators or "
		    "qbft_getValidatorsByBlockNumber: the quorum is counted from "
		    "the configuration's validator flags");
	}
	need = quorum_of(n_val);
	if (n_val > 0 && running < need)
		append(why, why_size, "%zu of %zu validators would be running, "
		    "the QBFT/IBFT quorum needs %zu: the network would halt",
		    running, n_val, need);
	return why[0] ? -1 : 0;
}

/* Whether every reason is only a lagging head (which a later look may
 * clear). */
static int
lag_only(const char *why)
{
	const char *p = why;

	while ((p = strstr(p, "member ")) != NULL) {
		const char *next = strstr(p + 7, "; member ");
		size_t len = next ? (size_t)(next - p) : strlen(p);
		if (!memmem(p, len, " is behind: ", 12))
			return 0;
		p += len;
	}
	return strstr(why, "validators would be running") == NULL;
}

int
safety_backup(struct ctl *c, size_t target, char *why, size_t why_size)
{
	for (int attempt = 0; ; attempt++) {
		struct network net;
		int rc;

		network_read(c, &net);
		rc = safety_check(c, &net, &target, 1, 1, why, why_size);
		network_free(&net);
		if (rc == 0 || attempt + 1 >= LAG_RETRIES || !lag_only(why))
			return rc;
		log_info("safety_retry", "member=%d why=%s",
		    c->members[target].n, logq(why));
		if (ctl_sleep(c, LAG_RETRY_SECONDS))
			return rc;
	}
}
