/* s3: a client of the S3 API for the off-site copies: objects, listings
 * and multipart uploads in one bucket, below one prefix.
 *
 * Requests are signed with SigV4 by libcurl (CURLOPT_AWS_SIGV4, given the
 * provider string in full, "aws:amz:REGION:s3", so that curl guesses
 * neither region nor service from the host name). Two things curl 7.88
 * leaves to the caller, done here:
 *   - x-amz-content-sha256, the payload's SHA-256 in hex, is sent (and so
 *     signed) with every request: S3 refuses requests without it;
 *   - the query string is canonical as sent: parameters sorted, names and
 *     values percent-encoded, "uploads=" rather than "uploads", since curl
 *     signs the raw query.
 * Object keys are percent-encoded per segment (RFC 3986 unreserved
 * characters and '/' kept). Addressing is path style
 * (http://HOST/BUCKET/KEY) or virtual-host style (https://BUCKET.HOST/KEY);
 * HTTPS with the system's CAs or ca_file. XML replies are parsed with
 * libxml2, never by hand; an error reply's Code and Message are in the
 * error message.
 *
 * Errors: ERR_NOT_FOUND for 404 (NoSuchKey, NoSuchUpload: named), but
 * ERR_OFFSITE for NoSuchBucket and everything else the store or the network
 * refused (the S3 code, the HTTP status, or curl's reason), ERR_FAILED for
 * local failures. Nothing here retries: the caller does (s3_retryable). */
#ifndef QB_S3_H
#define QB_S3_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "err.h"

#define S3_KEY_MAX 1024
#define S3_ETAG_MAX 130
#define S3_UPLOAD_ID_MAX 512
/* S3's bounds on multipart uploads. */
#define S3_PART_MIN (5u << 20)
#define S3_PARTS_MAX 10000

struct s3_conf {
	char scheme[8];            /* "http" or "https" */
	char host[256];            /* host[:port] of the endpoint */
	char bucket[64];
	char prefix[512];          /* "" or "a/b": no '/' at either end */
	char region[64];
	int virtual_host;          /* addressing = virtual */
	char ca_file[4096];        /* "": the system's CAs */
	char access_key[256];
	char secret_key[256];
	long connect_timeout;      /* seconds */
	long stall_timeout;        /* seconds without a byte moving */
	long long max_send_speed;  /* bytes per second per request; 0: no cap */
	/* Set: a request in flight stops (ERR_FAILED "cancelled"). */
	volatile sig_atomic_t *cancel;
};

/* url: SCHEME://HOST[:PORT]/BUCKET[/PREFIX] (path style, as in
 * http://127.0.0.1:7480/backups/quorum); with virtual_host the bucket is
 * still given in the path and is moved into the host name on the wire.
 * Keys are not set here. ERR_CONFIG with the reason. */
int s3_conf_parse(struct s3_conf *c, const char *url, const char *region,
    int virtual_host, struct err *e);

/* PREFIX/name (or name when the prefix is empty) into out. -1 when it
 * does not fit S3_KEY_MAX. */
int s3_key(const struct s3_conf *c, const char *name, char *out,
    size_t size);

/* What a request sends: nothing, a buffer, or size bytes of a file from
 * off (read with pread, so several requests may share the descriptor). */
struct s3_body {
	const void *buf;
	size_t len;
	int fd;                    /* -1: buf */
	uint64_t off, size;
	const char *sha256;        /* the payload's SHA-256 in hex; NULL: it
	                            * is computed here (buffers only) */
	const char *md5_b64;       /* Content-MD5, or NULL */
};

/* Where a GET's body goes, as it arrives: 0, or -1 (with e set by the
 * sink) to stop the transfer. */
typedef int (*s3_sink_fn)(void *arg, const void *buf, size_t len,
    struct err *e);

/* One object of a listing. */
struct s3_object {
	char key[S3_KEY_MAX];
	uint64_t size;
	char etag[S3_ETAG_MAX];
	time_t last_modified;
};

/* One multipart upload in progress, or one part of it. */
struct s3_upload {
	char key[S3_KEY_MAX];
	char upload_id[S3_UPLOAD_ID_MAX];
	time_t initiated;
};
struct s3_part {
	int number;
	char etag[S3_ETAG_MAX];
	uint64_t size;
};

/* Whether an error of the calls below is worth another try: a timeout, a
 * reset or refused connection, a 5xx, a SlowDown. */
int s3_retryable(const struct err *e);

/* HEAD: the object's size and ETag (either may be NULL). */
int s3_head(const struct s3_conf *c, const char *key, uint64_t *size,
    char etag[S3_ETAG_MAX], struct err *e);
/* GET from byte `from` to the end, into sink. if_match: the ETag the
 * object must still have (412 is ERR_VERIFY: "the object changed"), or
 * NULL. *got (if not NULL): bytes received, also on failure. */
int s3_get(const struct s3_conf *c, const char *key, uint64_t from,
    const char *if_match, s3_sink_fn sink, void *arg, uint64_t *got,
    struct err *e);
/* PUT a whole object; etag (if not NULL) gets the reply's. */
int s3_put(const struct s3_conf *c, const char *key,
    const struct s3_body *body, char etag[S3_ETAG_MAX], struct err *e);
int s3_delete(const struct s3_conf *c, const char *key, struct err *e);
/* Every object below prefix (a key prefix, "" for the bucket), in key
 * order, one call of fn each; fn returns 0 to go on, -1 (with e) to stop. */
int s3_list(const struct s3_conf *c, const char *prefix,
    int (*fn)(void *arg, const struct s3_object *o, struct err *e),
    void *arg, struct err *e);

/* Multipart uploads. */
int s3_mpu_create(const struct s3_conf *c, const char *key,
    char upload_id[S3_UPLOAD_ID_MAX], struct err *e);
int s3_mpu_part(const struct s3_conf *c, const char *key,
    const char *upload_id, int number, const struct s3_body *body,
    char etag[S3_ETAG_MAX], struct err *e);
/* parts in ascending order of number. */
int s3_mpu_complete(const struct s3_conf *c, const char *key,
    const char *upload_id, const struct s3_part *parts, size_t n,
    struct err *e);
int s3_mpu_abort(const struct s3_conf *c, const char *key,
    const char *upload_id, struct err *e);
/* The parts uploaded so far, one call of fn each, in order. */
int s3_mpu_parts(const struct s3_conf *c, const char *key,
    const char *upload_id,
    int (*fn)(void *arg, const struct s3_part *p, struct err *e),
    void *arg, struct err *e);
/* The uploads in progress below prefix. */
int s3_mpu_list(const struct s3_conf *c, const char *prefix,
    int (*fn)(void *arg, const struct s3_upload *u, struct err *e),
    void *arg, struct err *e);

/* Percent-encode s for a query or, with keep_slash, a path, into out
 * (RFC 3986 unreserved characters kept). -1 when it does not fit. */
int s3_encode(const char *s, int keep_slash, char *out, size_t size);

#endif
