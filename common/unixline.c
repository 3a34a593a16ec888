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

int
unixline_exchange(const char *path, const char *line, double timeout_s,
    size_t max, char **out, size_t *outlen, struct err *e)
{
	double deadline = qb_mono_now() + timeout_s;
	struct sockaddr_un sa;
	char *msg = NULL, *in = NULL, *nl = NULL;
	size_t msglen, sent = 0, len = 0, cap = 0;
	int fd = -1, rc = -1;

	*out = NULL;
	*outlen = 0;
	if (unixline_addr(path, &sa, e) < 0)
		return -1;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return err_sys(e, ERR_FAILED, "gate %s: socket", path);
	while (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
		if (errno == EINTR)
			continue;
		if (errno == EINPROGRESS) {
			int w = unixline_wait(fd, POLLOUT, deadline), soerr = 0;
			socklen_t sl = sizeof soerr;

			if (w == 0) {
				err_set(e, ERR_FAILED, "gate %s: connect: no "
				    "answer within %.1f s", path, timeout_s);
				goto out;
			}
			if (w < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr,
			    &sl) < 0) {
				err_sys(e, ERR_FAILED, "gate %s: connect", path);
				goto out;
			}
			if (soerr) {
				errno = soerr;
				err_sys(e, ERR_FAILED, "gate %s: connect", path);
				goto out;
			}
			break;
		}
		/* A full backlog clears as the gate accepts: retry. */
		if (errno == EAGAIN && qb_mono_now() + 0.02 < deadline) {
			qb_sleep(0.02);
			continue;
		}
		if (errno == ENOENT)
			err_set(e, ERR_FAILED, "gate %s: no such socket: is the "
			    "gate running?", path);
		else if (errno == ECONNREFUSED)
			err_set(e, ERR_FAILED, "gate %s: nothing listens (a "
			    "stale socket): the gate is not running", path);
		else if (errno == EAGAIN)
			err_set(e, ERR_FAILED, "gate %s: its backlog stayed full "
			    "for %.1f s", path, timeout_s);
		else
			err_sys(e, ERR_FAILED, "gate %s: connect", path);
		goto out;
	}
	msglen = strlen(line) + 1;
	msg = malloc(msglen + 1);
	if (!msg) {
		err_set(e, ERR_FAILED, "gate %s: out of memory", path);
		goto out;
	}
	memcpy(msg, line, msglen - 1);
	memcpy(msg + msglen - 1, "\n", 2);
	while (sent < msglen) {
		ssize_t k = send(fd, msg + sent, msglen - sent, MSG_NOSIGNAL);
		int w;

		if (k >= 0) {
			sent += (size_t)k;
			continue;
		}
		if (errno == EINTR)
			continue;
		/* The gate may answer and close before it read everything. */
		if (errno == EPIPE || errno == ECONNRESET)
			break;
		if (errno != EAGAIN) {
			err_sys(e, ERR_FAILED, "gate %s: send", path);
			goto out;
		}
		w = unixline_wait(fd, POLLOUT, deadline);
		if (w <= 0) {
			if (w == 0)
				err_set(e, ERR_FAILED, "gate %s: the request "
				    "was not read within %.1f s", path,
				    timeout_s);
			else
				err_sys(e, ERR_FAILED, "gate %s: poll", path);
			goto out;
		}
	}
	while (!nl) {
		ssize_t k;
		int w;

		if (len >= max) {
			err_set(e, ERR_FAILED, "gate %s: reply longer than %zu "
			    "bytes", path, max);
			goto out;
		}
		if (cap - len < 2) {
			size_t ncap = cap ? cap * 2 : 4096;
			char *p;

			if (ncap > max + 1)
				ncap = max + 1;
			p = realloc(in, ncap);
			if (!p) {
				err_set(e, ERR_FAILED, "gate %s: out of memory",
				    path);
				goto out;
			}
			in = p;
			cap = ncap;
		}
		k = recv(fd, in + len, cap - len - 1, 0);
		if (k > 0) {
			in[len + (size_t)k] = '\0';
			nl = memchr(in + len, '\n', (size_t)k);
			len += (size_t)k;
			continue;
		}
		if (k == 0)
			break;
		if (errno == EINTR)
			continue;
		if (errno == ECONNRESET && len > 0)
			break;
		if (errno != EAGAIN) {
			err_sys(e, ERR_FAILED, "gate %s: read", path);
			goto out;
		}
		w = unixline_wait(fd, POLLIN, deadline);
		if (w < 0) {
			err_sys(e, ERR_FAILED, "gate %s: poll", path);
			goto out;
		}
		if (w == 0) {
			err_set(e, ERR_FAILED, "gate %s: no reply within %.1f s",
			    path, timeout_s);
			goto out;
		}
	}
	if (len == 0) {
		err_set(e, ERR_FAILED, "gate %s: the connection closed without "
		    "a reply", path);
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
	free(msg);
	if (fd >= 0)
		close(fd);
	return rc;
}
