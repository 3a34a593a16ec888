/* gate_client: the client side of the gate, for `ctl`, `probe` and the
 * stale-socket check: one request line over the Unix socket, and a plain
 * HTTP/1.0 GET to a numeric address (no DNS: the gate is static). */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "clock.h"
#include "gate.h"
#include "unixline.h"

int
gate_socket_answers(const char *path, struct err *e)
{
	struct sockaddr_un sa;
	struct stat st;
	int fd, r;

	if (unixline_addr(path, &sa, e) < 0)
		return -1;
	if (lstat(path, &st) < 0) {
		if (errno == ENOENT)
			return 0;
		return err_sys(e, ERR_FAILED, "stat %s", path);
	}
	if (!S_ISSOCK(st.st_mode))
		return err_set(e, ERR_CONFIG, "%s exists and is not a socket",
		    path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return err_sys(e, ERR_FAILED, "socket");
	r = connect(fd, (struct sockaddr *)&sa, sizeof sa);
	if (r == 0 || errno == EAGAIN) {
		close(fd);   /* accepted, or a full backlog: alive either way */
		return 1;
	}
	if (errno == ECONNREFUSED) {
		close(fd);
		return 0;
	}
	err_sys(e, ERR_FAILED, "connect %s", path);
	close(fd);
	return -1;
}

int
gate_request(const char *path, const char *line, long long timeout_ms,
    char **reply, struct err *e)
{
	size_t len;

	return unixline_exchange(path, line, (double)timeout_ms / 1000.0,
	    GATE_REPLY_MAX, reply, &len, e);
}

/* ---- HTTP ---- */

struct url {
	struct sockaddr_storage sa;
	socklen_t salen;
	char host[80];          /* as written, for the Host header */
	unsigned port;
	char path[2048];
};

/* unixline_wait with a deadline in qb_mono_ms() milliseconds (the same
 * monotonic clock as its qb_mono_now() seconds). */
static int
wait_fd(int fd, short events, long long deadline)
{
	return unixline_wait(fd, events, (double)deadline / 1000.0);
}

static int
url_parse(const char *url, struct url *u, struct err *e)
{
	const char *p, *hend;
	size_t hlen;

	memset(u, 0, sizeof *u);
	if (strncmp(url, "http://", 7) != 0)
		return err_set(e, ERR_USAGE, "%s: the URL must start with "
		    "http://", url);
	p = url + 7;
	if (*p == '[') {
		hend = strchr(p, ']');
		if (!hend)
			return err_set(e, ERR_USAGE, "%s: unclosed [ in the "
			    "host", url);
		hend++;
	} else {
		hend = p + strcspn(p, ":/");
	}
	hlen = (size_t)(hend - p);
	if (hlen == 0 || hlen >= sizeof u->host)
		return err_set(e, ERR_USAGE, "%s: bad host", url);
	memcpy(u->host, p, hlen);
	u->host[hlen] = '\0';
	u->port = 80;
	p = hend;
	if (*p == ':') {
		char *end;
		unsigned long port;

		p++;
		if (*p < '0' || *p > '9')
			return err_set(e, ERR_USAGE, "%s: bad port", url);
		errno = 0;
		port = strtoul(p, &end, 10);
		if (errno || port == 0 || port > 65535 || (*end && *end != '/'))
			return err_set(e, ERR_USAGE, "%s: bad port", url);
		u->port = (unsigned)port;
		p = end;
	}
	if (*p && *p != '/')
		return err_set(e, ERR_USAGE, "%s: bad URL", url);
	if (snprintf(u->path, sizeof u->path, "%s", *p ? p : "/") >=
	    (int)sizeof u->path)
		return err_set(e, ERR_USAGE, "%s: path too long", url);
	for (const unsigned char *c = (const unsigned char *)u->path; *c; c++)
		if (*c <= ' ' || *c >= 0x7f)
			return err_set(e, ERR_USAGE, "%s: the path must be "
			    "percent-encoded (no spaces or control "
			    "characters)", url);

	if (u->host[0] == '[') {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&u->sa;
		char ip[64];

		if (hlen - 2 >= sizeof ip)
			return err_set(e, ERR_USAGE, "%s: bad host", url);
		memcpy(ip, u->host + 1, hlen - 2);
		ip[hlen - 2] = '\0';
		if (inet_pton(AF_INET6, ip, &s6->sin6_addr) != 1)
			return err_set(e, ERR_USAGE, "%s: %s is not an IPv6 "
			    "address", url, ip);
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((unsigned short)u->port);
		u->salen = sizeof *s6;
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&u->sa;
		const char *ip = strcmp(u->host, "localhost") == 0 ?
		    "127.0.0.1" : u->host;

		if (inet_pton(AF_INET, ip, &s4->sin_addr) != 1)
			return err_set(e, ERR_USAGE, "%s: the host must be a "
			    "numeric IPv4 address, [IPv6] or localhost (no "
			    "DNS)", url);
		s4->sin_family = AF_INET;
		s4->sin_port = htons((unsigned short)u->port);
		u->salen = sizeof *s4;
	}
	return 0;
}

int
http_url_check(const char *url, struct err *e)
{
	struct url u;

	return url_parse(url, &u, e);
}

int
http_get_status(const char *url, long long timeout_ms, int *status,
    struct err *e)
{
	long long deadline = qb_mono_ms() + timeout_ms;
	char req[2400], resp[512];
	size_t len = 0, sent = 0, reqlen;
	struct url u;
	int fd = -1, rc = -1, w, soerr;
	socklen_t sl = sizeof soerr;
	unsigned major, minor, code;

	*status = 0;
	if (url_parse(url, &u, e) < 0)
		return -1;
	fd = socket(u.sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (fd < 0)
		return err_sys(e, ERR_FAILED, "socket");
	if (connect(fd, (struct sockaddr *)&u.sa, u.salen) < 0) {
		if (errno != EINPROGRESS) {
			err_sys(e, ERR_FAILED, "connect %s:%u", u.host, u.port);
			goto out;
		}
		w = wait_fd(fd, POLLOUT, deadline);
		if (w <= 0) {
			err_set(e, ERR_FAILED, "connect %s:%u: no answer within "
			    "%lld ms", u.host, u.port, timeout_ms);
			goto out;
		}
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0)
			soerr = errno;
		if (soerr) {
			errno = soerr;
			err_sys(e, ERR_FAILED, "connect %s:%u", u.host, u.port);
			goto out;
		}
	}
	reqlen = (size_t)snprintf(req, sizeof req, "GET %s HTTP/1.0\r\n"
	    "Host: %s:%u\r\nUser-Agent: quorum-backup-gate/%s\r\n"
	    "Accept: */*\r\nConnection: close\r\n\r\n",
	    u.path, u.host, u.port, PACKAGE_VERSION);
	while (sent < reqlen) {
		ssize_t n = send(fd, req + sent, reqlen - sent, MSG_NOSIGNAL);
		if (n >= 0) {
			sent += (size_t)n;
		} else if (errno == EAGAIN &&
		    wait_fd(fd, POLLOUT, deadline) > 0) {
			continue;
		} else if (errno != EINTR) {
			err_sys(e, ERR_FAILED, "send to %s", url);
			goto out;
		}
	}
	/* Only the status line matters. */
	while (!memchr(resp, '\n', len) && len < sizeof resp - 1) {
		ssize_t n = recv(fd, resp + len, sizeof resp - 1 - len, 0);
		if (n > 0) {
			len += (size_t)n;
			continue;
		}
		if (n == 0)
			break;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN) {
			err_sys(e, ERR_FAILED, "read from %s", url);
			goto out;
		}
		w = wait_fd(fd, POLLIN, deadline);
		if (w <= 0) {
			err_set(e, ERR_FAILED, "%s: no reply within %lld ms",
			    url, timeout_ms);
			goto out;
		}
	}
	resp[len] = '\0';
	if (sscanf(resp, "HTTP/%u.%u %3u", &major, &minor, &code) != 3 ||
	    code < 100 || code > 999) {
		err_set(e, ERR_FAILED, "%s: not an HTTP reply", url);
		goto out;
	}
	*status = (int)code;
	rc = 0;
out:
	close(fd);
	return rc;
}
