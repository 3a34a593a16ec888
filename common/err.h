/* err: an error code plus a message, filled by the function that failed.
 *
 * Functions return 0 on success and -1 on failure after filling the
 * caller's struct err. One table maps each code to the process exit code,
 * the HTTP status and the JSON error code, so the CLI, the HTTP API and the
 * controller all agree. libc only (the gate links it). */
#ifndef QB_ERR_H
#define QB_ERR_H

#include <stddef.h>

enum err_code {
	ERR_OK = 0,
	ERR_FAILED,          /* operation failed (I/O, internal) */
	ERR_USAGE,           /* bad command line */
	ERR_CONFIG,          /* bad configuration */
	ERR_BAD_REQUEST,     /* malformed input (ids, queries, bodies) */
	ERR_NODE_RUNNING,    /* refused: the node holds its locks */
	ERR_BUSY,            /* another mutating operation is in progress */
	ERR_NOT_FOUND,       /* no such backup, job or file */
	ERR_VERIFY,          /* verification failed: corrupt or tampered */
	ERR_NO_SPACE,        /* insufficient space on the target volume */
	ERR_UNAUTHORIZED,    /* missing or wrong token */
	ERR_NODE_KEY,        /* the backup belongs to another node */
	ERR_INCOMPLETE,      /* the data dir holds an unfinished in-place restore */
	ERR_LEASED,          /* another controller holds the lease */
	ERR_NEWEST_BACKUP,   /* the newest complete backup (delete needs force) */
	ERR_METHOD,          /* the path does not take that method */
	ERR_LENGTH_REQUIRED, /* a request body of unknown length */
	ERR_BODY_TOO_LARGE,  /* a request body over the limit */
	ERR_TOO_MANY_ARGS,   /* a query with too many arguments */
	ERR_NO_IDENTITY,     /* an encrypted backup, and no identity to read it */
	ERR_WRONG_IDENTITY,  /* an encrypted backup no identity given opens */
	ERR_OFFSITE,         /* the object store refused or could not be reached */
	ERR_CODE_COUNT
};

struct err {
	enum err_code code;
	char msg[1024];
};

/* Fill e (if not NULL) and return -1. */
int err_set(struct err *e, enum err_code code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Same, appending ": strerror(errno)"; ENOSPC, EDQUOT and EFBIG become
 * ERR_NO_SPACE whatever code was asked for. Reads errno first. */
int err_sys(struct err *e, enum err_code code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Prefix the message already in e with "prefix: ". */
void err_prefix(struct err *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void err_clear(struct err *e);

int err_exit_code(enum err_code code);
int err_http_status(enum err_code code);
const char *err_name(enum err_code code);

#endif
