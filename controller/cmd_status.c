/* status: one line per member from its agent's /v1/status: node state,
 * readiness, height, syncing, last backup and its age, hold, agent
 * version. Read-only: no lease. Exit 1 when an agent does not answer. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctl.h"
#include "json.h"

/* Seconds since an RFC 3339 UTC time ("2026-11-24T03:40:51Z"), -1 when it
 * is not one. */
static double
age_of(const char *ts)
{
	struct tm tm;
	const char *end;

	if (!ts)
		return -1;
	memset(&tm, 0, sizeof tm);
	end = strptime(ts, "%Y-%m-%dT%H:%M:%S", &tm);
	if (!end)
		return -1;
	return difftime(time(NULL), timegm(&tm));
}

/* "running" when every node says so, else "quorum:stopped,tessera:running". */
static void
node_states(const json_t *status, char *out, size_t size)
{
	const json_t *nodes = json_object_get(status, "nodes");
	const char *first = NULL;
	int same = 1;
	size_t k, o = 0;
	json_t *nd;

	out[0] = '\0';
	json_array_foreach(nodes, k, nd) {
		const char *st = json_get_str(nd, "state");
		if (!first)
			first = st ? st : "unknown";
		else if (!st || strcmp(st, first) != 0)
			same = 0;
	}
	if (!first) {
		snprintf(out, size, "no nodes");
		return;
	}
	if (same) {
		snprintf(out, size, "%s", first);
		return;
	}
	json_array_foreach(nodes, k, nd) {
		const char *st = json_get_str(nd, "state");
		int w = snprintf(out + o, size - o, "%s%s:%s", k ? "," : "",
		    json_get_str(nd, "name") ? json_get_str(nd, "name") : "?",
		    st ? st : "unknown");
		if (w < 0 || (size_t)w >= size - o)
			break;
		o += (size_t)w;
	}
}

static int
cmd_status_exec(struct ctl *c, const struct cmd_opts *o)
{
	size_t *idx, n;
	json_t *doc = json_array();
	int rc = EXIT_OK;

	if (select_members(c, o, 1, &idx, &n) < 0) {
		json_decref(doc);
		return EXIT_USAGE;
	}
	if (!c->json)
		printf("%-7s %-12s %-5s %9s %-7s %-22s %8s %-4s %s\n", "MEMBER",
		    "NODE", "READY", "HEIGHT", "SYNCING", "LAST BACKUP", "AGE",
		    "HELD", "AGENT");
	for (size_t k = 0; k < n; k++) {
		struct mstat s;
		const json_t *last;
		const char *last_id;
		char state[160], height[32], age[32];
		double a;

		member_status(c, idx[k], &s);
		if (!s.reachable) {
			rc = EXIT_FAILED;
			if (c->json)
				json_array_append_new(doc, json_pack("{s:i, s:b, "
				    "s:{s:s, s:s}}", "member", c->members[idx[k]].n,
				    "reachable", 0, "error", "code", s.code, "message",
				    s.msg));
			else
				printf("%-7d %-12s %s\n", c->members[idx[k]].n,
				    "unreachable", s.msg);
			mstat_free(&s);
			continue;
		}
		if (c->json) {
			json_t *one = json_pack("{s:i, s:b, s:b, s:b}", "member",
			    c->members[idx[k]].n, "reachable", 1, "ready", !s.down,
			    "down", s.down);
			json_object_set(one, "status", s.status);
			json_array_append_new(doc, one);
			mstat_free(&s);
			continue;
		}
		last = json_object_get(s.status, "last_backup");
		last_id = json_get_str(last, "id");
		a = age_of(json_get_str(last, "created"));
		node_states(s.status, state, sizeof state);
		if (s.height >= 0)
			snprintf(height, sizeof height, "%lld", s.height);
		else
			snprintf(height, sizeof height, "-");
		human_age(last_id ? a : -1, age, sizeof age);
		printf("%-7d %-12s %-5s %9s %-7s %-22s %8s %-4s %s\n",
		    c->members[idx[k]].n, state, s.down ? "no" : "yes", height,
		    s.height < 0 ? "-" : s.syncing ? "yes" : "no",
		    last_id ? last_id : "-", age, s.held ? "yes" : "no", s.version);
		if (s.down)
			printf("        down: %s\n", s.down_why);
		mstat_free(&s);
	}
	if (c->json)
		json_print(doc);
	json_decref(doc);
	free(idx);
	return rc;
}

const struct cmd_entry cmd_status_entry = {
	.name = "status",
	.usage = "status [N...]",
	.help = "each member: node, height, last backup, hold",
	.exec = cmd_status_exec,
};
