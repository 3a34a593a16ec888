/* log: one line per event on stderr, as key=value fields.
 *
 *   ts=2026-11-24T01:02:03.456Z level=info event=archive_done id=... bytes=...
 *
 * libc only (the gate links it). Values that may hold spaces, quotes or
 * control characters go through logq(), which quotes and escapes them into
 * a small per-thread ring of buffers, so several may appear in one call. */
#ifndef QB_LOG_H
#define QB_LOG_H

enum log_level { LOG_DEBUG = 0, LOG_INFO, LOG_WARN, LOG_ERROR };

void log_set_level(enum log_level level);
/* Parse "debug", "info", "warn" or "error"; -1 when unknown. */
int log_level_parse(const char *name);
/* Name every line with program=NAME (NULL: no such field). */
void log_set_program(const char *name);

void log_event(enum log_level level, const char *event, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#define log_debug(ev, ...) log_event(LOG_DEBUG, ev, __VA_ARGS__)
#define log_info(ev, ...) log_event(LOG_INFO, ev, __VA_ARGS__)
#define log_warn(ev, ...) log_event(LOG_WARN, ev, __VA_ARGS__)
#define log_error(ev, ...) log_event(LOG_ERROR, ev, __VA_ARGS__)

/* A value ready to follow "key=": bare when it is a plain token, otherwise
 * in double quotes with \" \\ \n \t and \xNN escapes. The result lives until
 * the same thread has made 8 more calls. Long values are cut with "...". */
const char *logq(const char *value);

#endif
