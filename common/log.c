#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static enum log_level min_level = LOG_INFO;
static const char *program;

static const char *const level_names[] = { "debug", "info", "warn", "error" };

void
log_set_level(enum log_level level)
{
	min_level = level;
}

int
log_level_parse(const char *name)
{
	for (size_t i = 0; i < sizeof level_names / sizeof level_names[0]; i++)
		if (strcmp(name, level_names[i]) == 0)
			return (int)i;
	return -1;
}

void
log_set_program(const char *name)
{
	program = name;
}

#define LOGQ_SLOTS 8
#define LOGQ_SIZE 512

const char *
logq(const char *value)
{
	static _Thread_local char ring[LOGQ_SLOTS][LOGQ_SIZE];
	static _Thread_local unsigned next;
	char *out = ring[next++ % LOGQ_SLOTS];
	size_t o = 0;
	int plain = value[0] != '\0';

	for (const unsigned char *p = (const unsigned char *)value; *p; p++)
		if (*p <= ' ' || *p == '"' || *p == '=' || *p == '\\' || *p >= 0x7f) {
			plain = 0;
			break;
		}
	if (plain && strlen(value) < LOGQ_SIZE)
		return value;

	out[o++] = '"';
	for (const unsigned char *p = (const unsigned char *)value; *p; p++) {
		char esc[5];
		size_t n;
		if (*p == '"' || *p == '\\') {
			esc[0] = '\\'; esc[1] = (char)*p; n = 2;
		} else if (*p == '\n') {
			memcpy(esc, "\\n", 2); n = 2;
		} else if (*p == '\t') {
			memcpy(esc, "\\t", 2); n = 2;
		} else if (*p < ' ' || *p == 0x7f) {
			snprintf(esc, sizeof esc, "\\x%02x", *p); n = 4;
		} else {
			esc[0] = (char)*p; n = 1;   /* UTF-8 bytes pass through */
		}
		if (o + n + 5 >= LOGQ_SIZE) {
			memcpy(out + o, "...", 3);
			o += 3;
			break;
		}
		memcpy(out + o, esc, n);
		o += n;
	}
	out[o++] = '"';
	out[o] = '\0';
	return out;
}

void
log_event(enum log_level level, const char *event, const char *fmt, ...)
{
	char line[4096];
	struct timespec ts;
	struct tm tm;
	size_t n;
	int r;

	if (level < min_level)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n = strftime(line, sizeof line, "ts=%Y-%m-%dT%H:%M:%S", &tm);
	r = snprintf(line + n, sizeof line - n, ".%03ldZ level=%s%s%s event=%s",
	    ts.tv_nsec / 1000000, level_names[level],
	    program ? " program=" : "", program ? program : "", event);
	if (r > 0)
		n += (size_t)r;
	if (fmt && fmt[0] && n < sizeof line - 2) {
		va_list ap;
		line[n++] = ' ';
		va_start(ap, fmt);
		r = vsnprintf(line + n, sizeof line - n, fmt, ap);
		va_end(ap);
		if (r > 0)
			n += (size_t)r;
	}
	if (n > sizeof line - 2)
		n = sizeof line - 2;
	line[n++] = '\n';
	/* One write per line: lines from several threads never interleave. */
	(void)!write(STDERR_FILENO, line, n);
}
