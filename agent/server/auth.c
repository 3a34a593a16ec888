/* auth: the bearer token. See auth.h. */
#include "config.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#include "auth.h"
#include "clock.h"
#include "fsutil.h"
#include "hashes.h"
#include "log.h"

#define TOKEN_MAX 4096
/* The same token problem is logged once a minute at most. */
#define TOKEN_LOG_EVERY 60.0
/* A token file changed less than this many seconds before it was read
 * may change again within the same timestamp tick, unseen by stat():
 * until it is older, it is read at every check. */
#define TOKEN_RACY 2.0

/* SHA-256 of data into out; -1 when out of memory. */
static int
sha256_bin(const char *data, size_t len, unsigned char out[32])
{
	struct sha256 *h = sha256_new();
	char hex[SHA256_HEX_LEN + 1];

	if (!h)
		return -1;
	sha256_update(h, data, len);
	sha256_final_hex(h, hex);
	sha256_free(h);
	for (int i = 0; i < 32; i++) {
		unsigned v = 0;
		sscanf(hex + 2 * i, "%2x", &v);
		out[i] = (unsigned char)v;
	}
	OPENSSL_cleanse(hex, sizeof hex);
	return 0;
}

/* The same version of a file: a rewrite in place that keeps its size and
 * sets its mtime back (touch -d) still changes its ctime. */
static int
same_version(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino &&
	    a->st_size == b->st_size &&
	    a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
	    a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
	    a->st_ctim.tv_sec == b->st_ctim.tv_sec &&
	    a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

/* Note a failed read of the token file (caller holds t->mu): 1 when it
 * should be logged now, the same problem being logged once a minute at
 * most; *repeated gets how often it came back unlogged. */
static int
token_failed(struct auth *t, const struct stat *st, const char *why,
    unsigned *repeated)
{
	double now = qb_mono_now();

	t->loaded = 0;
	t->racy = 0;
	t->failed_at = now;
	t->have_st = st != NULL;
	if (st)
		t->st = *st;
	if (strcmp(why, t->problem) == 0 && now - t->logged_at < TOKEN_LOG_EVERY) {
		t->repeated++;
		return 0;
	}
	snprintf(t->problem, sizeof t->problem, "%s", why);
	t->logged_at = now;
	*repeated = t->repeated;
	t->repeated = 0;
	return 1;
}

/* Re-read the token file when it changed; keep only its SHA-256. Caller
 * holds t->mu. The file is read with fs_read_config_file: through links
 * (Kubernetes mounts a Secret's keys as links into its ..data directory),
 * but only a regular file, opened without waiting: a FIFO at the path is
 * refused at once instead of blocking this thread, and with it every
 * request that carries a token. Returns 1 when a new token was loaded,
 * 0 when the one loaded still holds, -1 when there is none (e says why;
 * *log is set when that should be logged now, *repeated how often it was
 * not). */
static int
token_refresh(struct auth *t, struct err *e, int *log, unsigned *repeated)
{
	const char *path = t->cf->token_file;
	struct stat st, rst;
	struct timespec real;
	unsigned char sha[32];
	char *buf;
	size_t len;
	int was_loaded = t->loaded, changed, rc;

	*log = 0;
	err_clear(e);
	if (stat(path, &st) < 0) {
		err_sys(e, ERR_FAILED, "stat %s", path);
		*log = token_failed(t, NULL, e->msg, repeated);
		return -1;
	}
	if (t->have_st && !t->racy && same_version(&st, &t->st)) {
		if (t->loaded)
			return 0;
		/* The version that failed: tried again once a second (a
		 * transient error), not at every request. */
		if (qb_mono_now() - t->failed_at < 1.0) {
			err_set(e, ERR_FAILED, "%s", t->problem);
			return -1;
		}
	}
	if (fs_read_config_file(path, TOKEN_MAX, &buf, &len, &rst, e) < 0) {
		*log = token_failed(t, &st, e->msg, repeated);
		return -1;
	}
	while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r' ||
	    buf[len - 1] == ' '))
		len--;
	if (len == 0) {
		free(buf);
		err_set(e, ERR_FAILED, "%s is empty", path);
		*log = token_failed(t, &rst, e->msg, repeated);
		return -1;
	}
	rc = sha256_bin(buf, len, sha);
	OPENSSL_cleanse(buf, len);
	free(buf);
	if (rc < 0) {
		err_set(e, ERR_FAILED, "out of memory hashing %s", path);
		*log = token_failed(t, &rst, e->msg, repeated);
		return -1;
	}
	changed = !was_loaded || CRYPTO_memcmp(sha, t->sha, 32) != 0;
	memcpy(t->sha, sha, 32);
	OPENSSL_cleanse(sha, sizeof sha);
	t->st = rst;
	t->have_st = 1;
	t->loaded = 1;
	clock_gettime(CLOCK_REALTIME, &real);
	{
		double age = (double)(real.tv_sec - rst.st_ctim.tv_sec) +
		    (double)(real.tv_nsec - rst.st_ctim.tv_nsec) / 1e9;
		t->racy = age < TOKEN_RACY && age > -TOKEN_RACY;
	}
	t->problem[0] = '\0';
	t->repeated = 0;
	return changed ? 1 : 0;
}

/* The token of an Authorization header value, or NULL when it does not
 * use the Bearer scheme: the scheme is case-insensitive (RFC 9110 11.1),
 * then one or more spaces (RFC 6750 2.1). */
static const char *
bearer_token(const char *h)
{
	if (!h || strncasecmp(h, "Bearer", 6) != 0 || h[6] != ' ')
		return NULL;
	h += 6;
	while (*h == ' ')
		h++;
	return h;
}

/* Bearer token, compared in constant time (SHA-256 of both sides, so the
 * comparison does not depend on the lengths either). Without a readable
 * token file nothing is authorized (401, as for a wrong token: a caller
 * without the token learns nothing of the agent's files); the log says
 * why, once a minute at most. */
int
auth_check(struct auth *t, const char *authorization)
{
	const char *tok = bearer_token(authorization);
	unsigned char got[32];
	unsigned repeated = 0;
	struct err e;
	int ok, rc, log;

	if (strcmp(t->cf->auth, "none") == 0)
		return 1;
	if (!tok || strlen(tok) > TOKEN_MAX ||
	    sha256_bin(tok, strlen(tok), got) < 0)
		return 0;
	pthread_mutex_lock(&t->mu);
	rc = token_refresh(t, &e, &log, &repeated);
	ok = rc >= 0 && CRYPTO_memcmp(got, t->sha, 32) == 0;
	pthread_mutex_unlock(&t->mu);
	/* Logged outside the mutex: a log write may block. */
	if (rc == 1)
		log_info("token_loaded", "path=%s", logq(t->cf->token_file));
	else if (rc < 0 && log)
		log_error("token_unreadable", "path=%s error=%s repeated=%u "
		    "note=%s", logq(t->cf->token_file), logq(e.msg), repeated,
		    logq("every /v1/ request gets 401 until it is fixed"));
	return ok;
}

void
auth_init(struct auth *t, const struct agent_conf *cf)
{
	memset(t, 0, sizeof *t);
	t->cf = cf;
	pthread_mutex_init(&t->mu, NULL);
}

int
auth_load(struct auth *t, struct err *e)
{
	struct err te;
	unsigned repeated;
	int log;

	if (strcmp(t->cf->auth, "none") == 0)
		return 0;
	if (token_refresh(t, &te, &log, &repeated) < 0)
		return err_set(e, ERR_CONFIG, "token_file: %s", te.msg);
	log_info("token_loaded", "path=%s", logq(t->cf->token_file));
	return 0;
}

void
auth_fini(struct auth *t)
{
	OPENSSL_cleanse(t->sha, sizeof t->sha);
	pthread_mutex_destroy(&t->mu);
}
