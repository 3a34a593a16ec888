/* progress: what the operator sees. Messages and progress go to stderr, the
 * summary to stdout (with --json: one JSON document, nothing else). On a
 * terminal the progress of a job is one line rewritten in place; otherwise
 * a plain line every progress_interval seconds, so that a CronJob's log
 * stays readable. */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "ctl.h"
#include "human.h"
#include "json.h"
#include "log.h"

void
human_age(double s, char *buf, size_t size)
{
	if (s < 0)
		snprintf(buf, size, "-");
	else if (s < 100)
		snprintf(buf, size, "%.1fs", s);
	else if (s < 3600)
		snprintf(buf, size, "%dm%02ds", (int)s / 60, (int)s % 60);
	else if (s < 86400 * 2)
		snprintf(buf, size, "%dh%02dm", (int)s / 3600, (int)s / 60 % 60);
	else
		snprintf(buf, size, "%dd%02dh", (int)(s / 86400),
		    (int)(s / 3600) % 24);
}

void
out_flush(struct ctl *c)
{
	if (c->live) {
		fputs("\r\033[K", stderr);
		c->live = 0;
	}
	fflush(stderr);
}

static void
vmessage(struct ctl *c, const char *prefix, const char *fmt, va_list ap)
{
	out_flush(c);
	fputs(prefix, stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	fflush(stderr);
}

void
out_info(struct ctl *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmessage(c, "", fmt, ap);
	va_end(ap);
}

void
out_warn(struct ctl *c, const char *fmt, ...)
{
	char text[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	/* The same warning again (e.g. once per member) is said once. */
	for (size_t i = 0; i < json_array_size(c->warnings); i++)
		if (strcmp(json_string_value(json_array_get(c->warnings, i)),
		    text) == 0)
			return;
	json_array_append_new(c->warnings, json_string(text));
	out_flush(c);
	fprintf(stderr, "warning: %s\n", text);
	fflush(stderr);
}

void
out_progress(struct ctl *c, int m, const char *step, const json_t *job,
    int force)
{
	const json_t *p = json_object_get(job, "progress");
	double t = qb_mono_now(), elapsed = 0;
	long long done = json_get_u(p, "bytes_done");
	long long total = json_get_u(p, "bytes_total");
	double rate = json_number_value(json_object_get(p, "bytes_per_second"));
	char d[32], tot[32], r[32], el[32], line[256];

	if (json_is_number(json_object_get(job, "elapsed")))
		elapsed = json_number_value(json_object_get(job, "elapsed"));
	if (!c->tty && !force && t - c->last_line < (double)c->cf.progress_interval)
		return;
	c->last_line = t;
	human_age(elapsed, el, sizeof el);
	if (total > 0) {
		human_bytes(done, d, sizeof d);
		human_bytes(total, tot, sizeof tot);
		human_bytes((long long)rate, r, sizeof r);
		snprintf(line, sizeof line, "member %d  %-9s %s / %s  %5.1f%%  "
		    "%s/s  %s", m, step, d, tot, total ? 100.0 * (double)done /
		    (double)total : 0.0, r, el);
	} else {
		snprintf(line, sizeof line, "member %d  %-9s %s", m, step, el);
	}
	if (c->tty) {
		fprintf(stderr, "\r\033[K%s", line);
		c->live = 1;
	} else {
		fprintf(stderr, "%s\n", line);
	}
	fflush(stderr);
}

static json_t *
result_json(const struct result *r)
{
	json_t *o = json_pack("{s:i, s:s}", "member", r->member, "result",
	    r->state);

	if (!o)
		return NULL;
	json_object_set_new(o, "backup", r->backup[0] ? json_string(r->backup) :
	    json_null());
	json_object_set_new(o, "size", r->size >= 0 ? json_integer(r->size) :
	    json_null());
	json_object_set_new(o, "height", r->height >= 0 ?
	    json_integer(r->height) : json_null());
	json_object_set_new(o, "height_now", r->height_now >= 0 ?
	    json_integer(r->height_now) : json_null());
	json_object_set_new(o, "duration_seconds", r->duration >= 0 ?
	    json_real(r->duration) : json_null());
	json_object_set_new(o, "downtime_seconds", r->downtime >= 0 ?
	    json_real(r->downtime) : json_null());
	if (r->offsite[0])
		json_object_set_new(o, "offsite", json_string(r->offsite));
	json_object_set_new(o, "error", r->code[0] ? json_pack("{s:s, s:s}",
	    "code", r->code, "message", r->msg) : json_null());
	return o;
}

void
out_summary(struct ctl *c, const char *command, int exit_code)
{
	out_flush(c);
	if (c->json) {
		json_t *members = json_array();
		json_t *doc;

		for (size_t i = 0; i < c->n_members; i++)
			if (c->res[i].state[0])
				json_array_append_new(members, result_json(&c->res[i]));
		doc = json_pack("{s:s, s:i, s:o, s:O}", "command", command,
		    "exit_code", exit_code, "members", members, "warnings",
		    c->warnings);
		json_print(doc);
		json_decref(doc);
		return;
	}
	/* OFFSITE only where a member has a copy to tell of (backup). */
	int offsite = 0;

	for (size_t i = 0; i < c->n_members; i++)
		offsite |= c->res[i].state[0] && c->res[i].offsite[0];
	printf("%-7s %-10s %-22s %10s %9s %9s %9s%s\n", "MEMBER", "RESULT",
	    "BACKUP", "SIZE", "HEIGHT", "DURATION", "DOWNTIME", offsite ?
	    "  OFFSITE" : "");
	for (size_t i = 0; i < c->n_members; i++) {
		const struct result *r = &c->res[i];
		char size[32], height[32], dur[32], down[32];

		if (!r->state[0])
			continue;
		human_bytes(r->size, size, sizeof size);
		if (r->height >= 0)
			snprintf(height, sizeof height, "%lld", r->height);
		else
			snprintf(height, sizeof height, "-");
		human_age(r->duration, dur, sizeof dur);
		human_age(r->downtime, down, sizeof down);
		printf("%-7d %-10s %-22s %10s %9s %9s %9s", r->member, r->state,
		    r->backup[0] ? r->backup : "-", size, height, dur, down);
		if (offsite)
			printf("  %s", r->offsite[0] ? r->offsite : "-");
		printf("\n");
	}
	for (size_t i = 0; i < c->n_members; i++)
		if (c->res[i].code[0])
			printf("member %d: %s: %s\n", c->res[i].member,
			    c->res[i].code, c->res[i].msg);
	for (size_t i = 0; i < json_array_size(c->warnings); i++)
		printf("warning: %s\n",
		    json_string_value(json_array_get(c->warnings, i)));
	fflush(stdout);
}
