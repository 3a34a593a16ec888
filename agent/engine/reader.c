#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include "age.h"
#include "reader.h"

#define IN_SIZE (1u << 20)
#define OUT_SIZE (1u << 20)
#define NRING 4

struct reader {
	enum reader_kind kind;
	int fd;
	const char *path;
	struct archive *a;
	struct sha256 *sha;
	ZSTD_DCtx *dctx;
	z_stream zs;
	int zs_init;
	unsigned char *in;
	size_t in_len, in_pos, in_cap;
	uint64_t in_start;       /* offset of in[0] in what is decompressed */
	/* An archive encrypted with age: the file's bytes are read into raw,
	 * and their plaintext, once authenticated, into in. */
	struct age_dec *dec;
	unsigned char *raw;
	unsigned char *out;
	uint64_t offset;         /* raw bytes read (the producer's) */
	uint64_t published;      /* offset as of the last block handed over */
	int eof;                 /* the file is read to its end */
	int frame_open;          /* a compressed frame/member is unfinished */
	/* The first bytes of the current zstd frame, gathered across reads:
	 * its magic and frame header descriptor. */
	unsigned char fhdr[5];
	size_t fhdr_n;
	int started;             /* at least one frame was seen */
	struct err err;
	/* A producer thread reads, hashes and decompresses into a ring of
	 * buffers; libarchive's read callback takes them in order. */
	unsigned char *ring[NRING];
	size_t ring_len[NRING];
	unsigned head, tail, count;
	int held;                /* the consumer holds ring[tail] */
	int done;                /* the producer ended (end of file or error) */
	int failed;
	int stop;
	int producer_started;
	pthread_t producer;
	pthread_mutex_t mu;
	pthread_cond_t cv;
};

/* The next bytes of the file into buf, hashed: their count, 0 at its
 * end, -1 on error. */
static ssize_t
read_file(struct reader *r, unsigned char *buf)
{
	ssize_t n;

	do
		n = read(r->fd, buf, IN_SIZE);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return err_sys(&r->err, ERR_FAILED, "read %s", r->path);
	sha256_update(r->sha, buf, (size_t)n);
	r->offset += (uint64_t)n;
	return n;
}

/* The decryptor's plaintext, a chunk at a time, into in. */
static int
plain_out(void *arg, const void *buf, size_t len, struct err *e)
{
	struct reader *r = arg;

	if (len > r->in_cap - r->in_len)
		return err_set(e, ERR_FAILED, "%s: decrypted data does not fit "
		    "the buffer", r->path);
	memcpy(r->in + r->in_len, buf, len);
	r->in_len += len;
	return 0;
}

/* The decryptor fed until it gives plaintext or the file ends (then the
 * stream must have ended with its final chunk). */
static int
fill_decrypted(struct reader *r)
{
	while (r->in_len == 0 && !r->eof) {
		ssize_t n = read_file(r, r->raw);

		if (n < 0)
			return -1;
		if (n == 0)
			r->eof = 1;
		if (n == 0 ? age_dec_finish(r->dec, &r->err) < 0 :
		    age_dec_write(r->dec, r->raw, (size_t)n, &r->err) < 0) {
			err_prefix(&r->err, "%s", r->path);
			return -1;
		}
	}
	return 0;
}

static int
fill(struct reader *r)
{
	ssize_t n;

	if (r->in_pos < r->in_len || r->eof)
		return 0;
	r->in_start += r->in_len;
	r->in_len = r->in_pos = 0;
	if (r->dec)
		return fill_decrypted(r);
	if ((n = read_file(r, r->in)) < 0)
		return -1;
	if (n == 0)
		r->eof = 1;
	r->in_len = (size_t)n;
	return 0;
}

/* The frame's first bytes, consumed now (len of them at p), gathered
 * until there are five: a frame must carry a checksum. Byte 4 of a zstd
 * frame (after the magic 0xFD2FB528) is the frame header descriptor, bit
 * 2 the checksum flag. The header may be split across reads. 0, or -1
 * with r->err. */
static int
frame_unchecked(struct reader *r, const unsigned char *p, size_t len)
{
	static const unsigned char magic[4] = { 0x28, 0xb5, 0x2f, 0xfd };
	uint64_t at = r->in_start + r->in_pos - len - r->fhdr_n;

	if (r->fhdr_n >= sizeof r->fhdr)
		return 0;
	while (len > 0 && r->fhdr_n < sizeof r->fhdr) {
		r->fhdr[r->fhdr_n++] = *p++;
		len--;
	}
	if (r->fhdr_n < sizeof r->fhdr ||
	    memcmp(r->fhdr, magic, sizeof magic) != 0 || (r->fhdr[4] & 0x04))
		return 0;
	return err_set(&r->err, ERR_VERIFY, "%s: zstd frame at byte %llu has "
	    "no checksum", r->path, (unsigned long long)at);
}

/* Decompress into r->out; returns bytes produced, 0 at the clean end of the
 * file, -1 on error. */
static ssize_t
produce(struct reader *r)
{
	for (;;) {
		if (fill(r) < 0)
			return -1;
		if (r->in_pos == r->in_len && r->eof) {
			if (r->frame_open || !r->started)
				return err_set(&r->err, ERR_VERIFY, "%s is truncated "
				    "at byte %llu: the compressed stream does not end",
				    r->path, (unsigned long long)r->offset), -1;
			return 0;
		}
		if (r->kind == READER_ZSTD) {
			ZSTD_inBuffer in = { r->in, r->in_len, r->in_pos };
			ZSTD_outBuffer out = { r->out, OUT_SIZE, 0 };
			size_t from = r->in_pos;

			if (!r->frame_open)
				r->fhdr_n = 0;   /* a new frame starts here */
			size_t rc = ZSTD_decompressStream(r->dctx, &out, &in);
			r->in_pos = in.pos;
			if (ZSTD_isError(rc))
				return err_set(&r->err, ERR_VERIFY, "%s: zstd error "
				    "near byte %llu: %s", r->path,
				    (unsigned long long)(r->in_start +
				    r->in_pos), ZSTD_getErrorName(rc)), -1;
			if (frame_unchecked(r, r->in + from, in.pos - from) < 0)
				return -1;
			r->started = 1;
			r->frame_open = rc != 0;
			if (out.pos > 0)
				return (ssize_t)out.pos;
		} else {
			int zr;
			if (!r->frame_open) {
				if (r->zs_init)
					inflateReset(&r->zs);
				r->frame_open = 1;
			}
			r->zs.next_in = r->in + r->in_pos;
			r->zs.avail_in = (uInt)(r->in_len - r->in_pos);
			r->zs.next_out = r->out;
			r->zs.avail_out = OUT_SIZE;
			zr = inflate(&r->zs, Z_NO_FLUSH);
			r->in_pos = r->in_len - r->zs.avail_in;
			if (zr != Z_OK && zr != Z_STREAM_END &&
			    !(zr == Z_BUF_ERROR && r->zs.avail_in == 0))
				return err_set(&r->err, ERR_VERIFY, "%s: gzip error "
				    "near byte %llu: %s", r->path,
				    (unsigned long long)(r->in_start +
				    r->in_pos), r->zs.msg ? r->zs.msg : "bad data"),
				    -1;
			r->started = 1;
			if (zr == Z_STREAM_END)
				r->frame_open = 0;
			size_t got = OUT_SIZE - r->zs.avail_out;
			if (got > 0)
				return (ssize_t)got;
		}
	}
}

static void *
producer_main(void *arg)
{
	struct reader *r = arg;

	for (;;) {
		unsigned slot;
		ssize_t n;

		pthread_mutex_lock(&r->mu);
		while (r->count == NRING && !r->stop)
			pthread_cond_wait(&r->cv, &r->mu);
		if (r->stop) {
			pthread_mutex_unlock(&r->mu);
			break;
		}
		slot = r->head;
		pthread_mutex_unlock(&r->mu);

		r->out = r->ring[slot];
		n = produce(r);

		pthread_mutex_lock(&r->mu);
		if (n <= 0) {
			r->published = r->offset;
			r->done = 1;
			r->failed = n < 0;
			pthread_cond_broadcast(&r->cv);
			pthread_mutex_unlock(&r->mu);
			break;
		}
		r->ring_len[slot] = (size_t)n;
		r->published = r->offset;
		r->head = (r->head + 1) % NRING;
		r->count++;
		pthread_cond_broadcast(&r->cv);
		pthread_mutex_unlock(&r->mu);
	}
	return NULL;
}

/* The next decompressed block: its length, 0 at the end, -1 on error
 * (r->err says why). The previous block is given back first. */
static ssize_t
next_block(struct reader *r, const unsigned char **buf)
{
	ssize_t n;

	pthread_mutex_lock(&r->mu);
	if (r->held) {
		r->held = 0;
		r->tail = (r->tail + 1) % NRING;
		r->count--;
		pthread_cond_broadcast(&r->cv);
	}
	while (r->count == 0 && !r->done)
		pthread_cond_wait(&r->cv, &r->mu);
	if (r->count > 0) {
		r->held = 1;
		*buf = r->ring[r->tail];
		n = (ssize_t)r->ring_len[r->tail];
	} else {
		n = r->failed ? -1 : 0;
	}
	pthread_mutex_unlock(&r->mu);
	return n;
}

static void
stop_producer(struct reader *r)
{
	if (!r->producer_started)
		return;
	pthread_mutex_lock(&r->mu);
	r->stop = 1;
	pthread_cond_broadcast(&r->cv);
	pthread_mutex_unlock(&r->mu);
	pthread_join(r->producer, NULL);
	r->producer_started = 0;
}

static la_ssize_t
read_cb(struct archive *a, void *ctx, const void **buf)
{
	struct reader *r = ctx;
	const unsigned char *b = NULL;
	ssize_t n = next_block(r, &b);

	if (n < 0) {
		archive_set_error(a, EIO, "%s", r->err.msg);
		return -1;
	}
	*buf = b;
	return n;
}

static int
ring_allocated(const struct reader *r)
{
	for (int i = 0; i < NRING; i++)
		if (!r->ring[i])
			return 0;
	return 1;
}

struct reader *
reader_open(int fd, const char *path, enum reader_kind kind,
    const struct age_identity *ids, size_t n_ids, struct err *e)
{
	struct reader *r = calloc(1, sizeof *r);

	if (!r) {
		close(fd);
		err_set(e, ERR_FAILED, "out of memory");
		return NULL;
	}
	r->kind = kind;
	r->path = path;
	r->fd = fd;
	posix_fadvise(r->fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	/* Decrypted, one read gives at most its own bytes and the chunk the
	 * decryptor held back from the read before. */
	r->in_cap = n_ids ? IN_SIZE + 2 * AGE_CHUNK_SIZE : IN_SIZE;
	r->in = malloc(r->in_cap);
	r->raw = n_ids ? malloc(IN_SIZE) : NULL;
	for (int i = 0; i < NRING; i++)
		r->ring[i] = malloc(OUT_SIZE);
	r->sha = sha256_new();
	r->a = archive_read_new();
	pthread_mutex_init(&r->mu, NULL);
	pthread_cond_init(&r->cv, NULL);
	if (!r->in || !ring_allocated(r) || !r->sha || !r->a ||
	    (n_ids && !r->raw)) {
		err_set(e, ERR_FAILED, "out of memory");
		reader_free(r);
		return NULL;
	}
	if (n_ids && !(r->dec = age_dec_new(ids, n_ids, plain_out, r, e))) {
		reader_free(r);
		return NULL;
	}
	if (kind == READER_ZSTD) {
		if (!(r->dctx = ZSTD_createDCtx())) {
			err_set(e, ERR_FAILED, "out of memory");
			reader_free(r);
			return NULL;
		}
	} else {
		if (inflateInit2(&r->zs, 16 + MAX_WBITS) != Z_OK) {
			err_set(e, ERR_FAILED, "zlib init failed");
			reader_free(r);
			return NULL;
		}
		r->zs_init = 1;
	}
	if (pthread_create(&r->producer, NULL, producer_main, r) != 0) {
		err_set(e, ERR_FAILED, "cannot start the reading thread");
		reader_free(r);
		return NULL;
	}
	r->producer_started = 1;
	archive_read_support_format_tar(r->a);
	if (archive_read_open(r->a, r, NULL, read_cb, NULL) != ARCHIVE_OK) {
		if (r->err.code != ERR_OK)
			*e = r->err;
		else
			err_set(e, ERR_VERIFY, "%s: not a tar archive: %s", path,
			    archive_error_string(r->a));
		reader_free(r);
		return NULL;
	}
	return r;
}

struct archive *
reader_archive(struct reader *r)
{
	return r->a;
}

const struct err *
reader_error(const struct reader *r)
{
	static const struct err none = { ERR_OK, "" };
	struct reader *w = (struct reader *)r;
	int failed;

	pthread_mutex_lock(&w->mu);
	failed = w->failed;
	pthread_mutex_unlock(&w->mu);
	return failed ? &r->err : &none;
}

uint64_t
reader_offset(const struct reader *r)
{
	struct reader *w = (struct reader *)r;
	uint64_t off;

	pthread_mutex_lock(&w->mu);
	off = w->published;
	pthread_mutex_unlock(&w->mu);
	return off;
}

int
reader_finish(struct reader *r, char sha256[SHA256_HEX_LEN + 1],
    struct err *e)
{
	/* Whatever follows the tar trailer must still decompress cleanly, and
	 * the stream must end exactly where the file does. */
	for (;;) {
		const unsigned char *b = NULL;
		ssize_t n = next_block(r, &b);
		if (n < 0) {
			*e = r->err;
			return -1;
		}
		if (n == 0)
			break;
		for (ssize_t i = 0; i < n; i++)
			if (b[i] != 0)
				return err_set(e, ERR_VERIFY, "%s: data after the "
				    "end of the tar archive", r->path);
	}
	sha256_final_hex(r->sha, sha256);
	return 0;
}

void
reader_free(struct reader *r)
{
	if (!r)
		return;
	if (r->a)
		archive_read_free(r->a);
	stop_producer(r);
	if (r->fd >= 0)
		close(r->fd);
	if (r->zs_init)
		inflateEnd(&r->zs);
	ZSTD_freeDCtx(r->dctx);
	sha256_free(r->sha);
	free(r->in);
	free(r->raw);
	age_dec_free(r->dec);
	for (int i = 0; i < NRING; i++)
		free(r->ring[i]);
	pthread_mutex_destroy(&r->mu);
	pthread_cond_destroy(&r->cv);
	free(r);
}
