/* unixline: one request line and one reply line over a Unix stream socket,
 * within a deadline: the client side of the gate's control protocol, used
 * by the agent and by `quorum-backup-gate ctl|probe`. libc only. */
#ifndef QB_UNIXLINE_H
#define QB_UNIXLINE_H

#include <stddef.h>
#include <sys/un.h>

#include "err.h"

/* Fill sa for path; ERR_CONFIG when the path does not fit. */
int unixline_addr(const char *path, struct sockaddr_un *sa, struct err *e);

/* Wait for events (POLLIN, POLLOUT) on fd until deadline (qb_mono_now()
 * seconds): 1 ready, 0 timed out, -1 error (errno set). */
int unixline_wait(int fd, short events, double deadline);

/* Connect to path, send line + '\n', read one reply line (at most max
 * bytes), all within timeout_s seconds. A full backlog is retried until
 * the deadline. *out: the line without its '\n', NUL-terminated, malloc'd;
 * *outlen its length. Error messages start with "gate PATH: " and say
 * what failed in the words an operator needs ("no such socket: is the
 * gate running?", "nothing listens (a stale socket)", "no reply within
 * 0.5 s", "reply longer than N bytes"). */
int unixline_exchange(const char *path, const char *line, double timeout_s,
    size_t max, char **out, size_t *outlen, struct err *e);

#endif
