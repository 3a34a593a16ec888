/* unixline: the client side of the gate's control socket (see
 * unixline.h). libc only: the statically linked gate uses it too. */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "unixline.h"

int
unixline_addr(const char *path, struct sockaddr_un *sa, struct err *e)
{
	memset(sa, 0, sizeof *sa);
	sa->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof sa->sun_path)
		return err_set(e, ERR_CONFIG, "gate %s: socket path longer "
		    "than %zu bytes", path, sizeof sa->sun_path - 1);
	memcpy(sa->sun_path, path, strlen(path) + 1);
	return 0;
}

int
unixline_wait(int fd, short events, double deadline)
{
	for (;;) {
		struct pollfd p = { .fd = fd, .events = events };
		double left = deadline - qb_mono_now();
		int r;

		if (left <= 0)
			return 0;
		r = poll(&p, 1, left > 60 ? 60000 : (int)(left * 1000) + 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r > 0)
			return 1;
	}
}

/* One exchange: the socket's path for messages, the deadline on the
 * qb_mono_now() clock and the timeout it came from. */
struct call {
	const char *path;
	double deadline, timeout_s;
	int fd;
};

/* Connect, retrying a full backlog until the deadline. */
static int
call_connect(struct call *k, struct err *e)
{
	struct sockaddr_un sa;

	if (unixline_addr(k->path, &sa, e) < 0)
		return -1;
	k->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (k->fd < 0)
		return err_sys(e, ERR_FAILED, "gate %s: socket", k->path);
	while (connect(k->fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
		if (errno == EINTR)
			continue;
		if (errno == EINPROGRESS) {
			int w = unixline_wait(k->fd, POLLOUT, k->deadline);
			int soerr = 0;
			socklen_t sl = sizeof soerr;

			if (w == 0)
				return err_set(e, ERR_FAILED, "gate %s: connect: "
				    "no answer within %.1f s", k->path,
				    k->timeout_s);
			if (w < 0 || getsockopt(k->fd, SOL_SOCKET, SO_ERROR,
			    &soerr, &sl) < 0)
				return err_sys(e, ERR_FAILED, "gate %s: connect",
				    k->path);
			if (soerr) {
				errno = soerr;
				return err_sys(e, ERR_FAILED, "gate %s: connect",
				    k->path);
			}
			return 0;
		}
		/* A full backlog clears as the gate accepts: retry. */
		if (errno == EAGAIN && qb_mono_now() + 0.02 < k->deadline) {
			qb_sleep(0.02);
			continue;
		}
		if (errno == ENOENT)
			return err_set(e, ERR_FAILED, "gate %s: no such socket: "
			    "is the gate running?", k->path);
		if (errno == ECONNREFUSED)
			return err_set(e, ERR_FAILED, "gate %s: nothing listens "
			    "(a stale socket): the gate is not running", k->path);
		if (errno == EAGAIN)
			return err_set(e, ERR_FAILED, "gate %s: its backlog "
			    "stayed full for %.1f s", k->path, k->timeout_s);
		return err_sys(e, ERR_FAILED, "gate %s: connect", k->path);
	}
	return 0;
}

/* Send line and its '\n'. A gate that answers and closes before it read
 * everything has still answered: the reply is read next. */
static int
call_send(struct call *k, const char *line, struct err *e)
{
	size_t msglen = strlen(line) + 1, sent = 0;
	char *msg = malloc(msglen + 1);
	int rc = -1;

	if (!msg)
		return err_set(e, ERR_FAILED, "gate %s: out of memory",
		    k->path);
	memcpy(msg, line, msglen - 1);
	memcpy(msg + msglen - 1, "\n", 2);
	while (sent < msglen) {
		ssize_t n = send(k->fd, msg + sent, msglen - sent, MSG_NOSIGNAL);
		int w;

		if (n >= 0) {
			sent += (size_t)n;
			continue;
		}
		if (errno == EINTR)
			continue;
		if (errno == EPIPE || errno == ECONNRESET)
			break;
		if (errno != EAGAIN) {
			err_sys(e, ERR_FAILED, "gate %s: send", k->path);
			goto out;
		}
		w = unixline_wait(k->fd, POLLOUT, k->deadline);
		if (w == 0) {
			err_set(e, ERR_FAILED, "gate %s: the request was not "
			    "read within %.1f s", k->path, k->timeout_s);
			goto out;
		}
		if (w < 0) {
			err_sys(e, ERR_FAILED, "gate %s: poll", k->path);
			goto out;
		}
	}
	rc = 0;
out:
	free(msg);
	return rc;
}

/* Room for at least one more byte and a NUL in *in, growing it up to
 * max + 1 bytes. */
static int
buf_room(struct call *k, char **in, size_t len, size_t *cap, size_t max,
    struct err *e)
{
	size_t ncap;
	char *p;

	if (*cap - len >= 2)
		return 0;
	ncap = *cap ? *cap * 2 : 4096;
	if (ncap > max + 1)
		ncap = max + 1;
	p = realloc(*in, ncap);
	if (!p)
		return err_set(e, ERR_FAILED, "gate %s: out of memory", k->path);
	*in = p;
	*cap = ncap;
	return 0;
}

/* Read until the first '\n' or the end, at most max bytes, by the
 * deadline. *out: what came, without the '\n' and what followed it. */
static int
call_read(struct call *k, size_t max, char **out, size_t *outlen,
    struct err *e)
{
	char *in = NULL, *nl = NULL;
	size_t len = 0, cap = 0;
	int rc = -1;

	while (!nl) {
		ssize_t n;
		int w;

		if (len >= max) {
			err_set(e, ERR_FAILED, "gate %s: reply longer than %zu "
			    "bytes", k->path, max);
			goto out;
		}
		if (buf_room(k, &in, len, &cap, max, e) < 0)
			goto out;
		n = recv(k->fd, in + len, cap - len - 1, 0);
		if (n > 0) {
			in[len + (size_t)n] = '\0';
			nl = memchr(in + len, '\n', (size_t)n);
			len += (size_t)n;
			continue;
		}
		if (n == 0)
			break;
		if (errno == EINTR)
			continue;
		if (errno == ECONNRESET && len > 0)
			break;
		if (errno != EAGAIN) {
			err_sys(e, ERR_FAILED, "gate %s: read", k->path);
			goto out;
		}
		w = unixline_wait(k->fd, POLLIN, k->deadline);
		if (w < 0) {
			err_sys(e, ERR_FAILED, "gate %s: poll", k->path);
			goto out;
		}
		if (w == 0) {
			err_set(e, ERR_FAILED, "gate %s: no reply within %.1f s",
			    k->path, k->timeout_s);
			goto out;
		}
	}
	if (len == 0) {
		err_set(e, ERR_FAILED, "gate %s: the connection closed without "
		    "a reply", k->path);
		goto out;
	}
	if (nl) {
		*nl = '\0';
		len = (size_t)(nl - in);
	}
	*out = in;
	*outlen = len;
	in = NULL;
	rc = 0;
out:
	free(in);
	return rc;
}

int
unixline_exchange(const char *path, const char *line, double timeout_s,
    size_t max, char **out, size_t *outlen, struct err *e)
{
	struct call k = {
		.path = path,
		.deadline = qb_mono_now() + timeout_s,
		.timeout_s = timeout_s,
		.fd = -1,
	};
	int rc = -1;

	*out = NULL;
	*outlen = 0;
	if (call_connect(&k, e) == 0 && call_send(&k, line, e) == 0 &&
	    call_read(&k, max, out, outlen, e) == 0)
		rc = 0;
	if (k.fd >= 0)
		close(k.fd);
	return rc;
}
