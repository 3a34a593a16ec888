#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "err.h"

static const struct {
	const char *name;
	int exit_code;
	int http_status;
} err_table[ERR_CODE_COUNT] = {
	[ERR_OK]           = { "ok",                   0, 200 },
	[ERR_FAILED]       = { "failed",               1, 500 },
	[ERR_USAGE]        = { "usage",                2, 400 },
	[ERR_CONFIG]       = { "config",               2, 500 },
	[ERR_BAD_REQUEST]  = { "bad_request",          2, 400 },
	[ERR_NODE_RUNNING] = { "node_running",         3, 409 },
	[ERR_BUSY]         = { "busy",                 1, 409 },
	[ERR_NOT_FOUND]    = { "not_found",            4, 404 },
	[ERR_VERIFY]       = { "verification_failed",  5, 422 },
	[ERR_NO_SPACE]     = { "insufficient_storage", 6, 507 },
	[ERR_UNAUTHORIZED] = { "unauthorized",         2, 401 },
	[ERR_NODE_KEY]     = { "node_key_mismatch",    1, 409 },
	[ERR_INCOMPLETE]   = { "in_place_incomplete",  1, 409 },
	[ERR_LEASED]       = { "leased",               3, 409 },
	[ERR_NEWEST_BACKUP] = { "newest_backup",       1, 409 },
	[ERR_METHOD]       = { "method_not_allowed",   2, 405 },
	[ERR_LENGTH_REQUIRED] = { "length_required",   2, 411 },
	[ERR_BODY_TOO_LARGE] = { "body_too_large",     2, 413 },
	[ERR_TOO_MANY_ARGS] = { "too_many_arguments",  2, 414 },
	[ERR_NO_IDENTITY]  = { "no_identity",          2, 400 },
	[ERR_WRONG_IDENTITY] = { "wrong_identity",     2, 400 },
	[ERR_OFFSITE]      = { "offsite_failed",       1, 502 },
};

static int
valid(enum err_code code)
{
	return (int)code >= 0 && code < ERR_CODE_COUNT;
}

int
err_exit_code(enum err_code code)
{
	return valid(code) ? err_table[code].exit_code : 1;
}

int
err_http_status(enum err_code code)
{
	return valid(code) ? err_table[code].http_status : 500;
}

const char *
err_name(enum err_code code)
{
	return valid(code) ? err_table[code].name : "failed";
}

void
err_clear(struct err *e)
{
	if (e) {
		e->code = ERR_OK;
		e->msg[0] = '\0';
	}
}

int
err_set(struct err *e, enum err_code code, const char *fmt, ...)
{
	va_list ap;

	if (!e)
		return -1;
	e->code = code;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof e->msg, fmt, ap);
	va_end(ap);
	return -1;
}

int
err_sys(struct err *e, enum err_code code, const char *fmt, ...)
{
	int saved = errno;
	va_list ap;
	size_t n;

	if (!e)
		return -1;
	if (saved == ENOSPC || saved == EDQUOT || saved == EFBIG)
		code = ERR_NO_SPACE;
	e->code = code;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof e->msg, fmt, ap);
	va_end(ap);
	n = strlen(e->msg);
	snprintf(e->msg + n, sizeof e->msg - n, ": %s", strerror(saved));
	errno = saved;
	return -1;
}

void
err_prefix(struct err *e, const char *fmt, ...)
{
	char head[512], old[sizeof e->msg];
	va_list ap;

	if (!e)
		return;
	va_start(ap, fmt);
	vsnprintf(head, sizeof head, fmt, ap);
	va_end(ap);
	memcpy(old, e->msg, sizeof old);
	size_t n = strlen(head);
	if (n > sizeof e->msg - 3)
		n = sizeof e->msg - 3;
	memcpy(e->msg, head, n);
	memcpy(e->msg + n, ": ", 2);
	n += 2;
	size_t m = strnlen(old, sizeof e->msg - n - 1);
	memcpy(e->msg + n, old, m);
	e->msg[n + m] = '\0';
}
