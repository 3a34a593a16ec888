/* Unit tests of agent/engine/zsink: what it writes is one zstd stream with
 * frame checksums that libzstd and the zstd command read back byte for
 * byte, at the level asked for, on one thread or several; the SHA-256 and
 * the size it gives are those of the file; a write that fails (a read-only
 * descriptor, a full disk, a closed pipe) fails the sink with the cause;
 * the descriptor stays the caller's. With recipients, the file is that
 * stream encrypted with age: it decrypts with the identity, and the
 * SHA-256 and size are those of the encrypted file.
 *
 * (That a failing sink leaves no partial archive in the store is the
 * archiver's part: test_archiver.) */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zstd.h>
#include <zstd_errors.h>

#include "testutil.h"
#include "age.h"
#include "err.h"
#include "hashes.h"
#include "zsink.h"

/* ---- fixtures ------------------------------------------------------- */

/* len bytes that do not compress (xorshift from seed). Caller frees. */
static unsigned char *
noise(size_t len, uint32_t seed)
{
	unsigned char *b = malloc(len ? len : 1);
	uint32_t x = seed ? seed : 1;

	ck_assert_ptr_nonnull(b);
	for (size_t i = 0; i < len; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		b[i] = (unsigned char)x;
	}
	return b;
}

/* len bytes of text that compresses well. Caller frees. */
static char *
text(size_t len)
{
	char *b = malloc(len + 1);
	size_t n = 0;

	ck_assert_ptr_nonnull(b);
	for (unsigned i = 0; n < len; i++)
		n += (size_t)snprintf(b + n, len + 1 - n, "line %u: block %u of "
		    "the chain, parent %u\n", i, i * 7 % 1013, i % 97);
	return b;
}

struct sunk {
	char sha256[SHA256_HEX_LEN + 1];
	uint64_t size;
};

/* Write len bytes of data through a new sink into path, chunk bytes per
 * zsink_write; the sink's SHA-256 and size in *out. */
static void
sink_file(const char *path, const void *data, size_t len, size_t chunk,
    int level, int threads, struct sunk *out)
{
	const unsigned char *p = data;
	struct err e;
	struct zsink *z;
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	ck_assert_int_ge(fd, 0);
	z = zsink_new(fd, level, threads, NULL, 0, &e);
	ck_assert_msg(z != NULL, "%s", e.msg);
	for (size_t off = 0; off < len; off += chunk) {
		size_t n = len - off < chunk ? len - off : chunk;
		ck_assert_msg(zsink_write(z, p + off, n, &e) == 0, "%s", e.msg);
	}
	ck_assert_msg(zsink_finish(z, out->sha256, &out->size, &e) == 0, "%s",
	    e.msg);
	zsink_free(z);
	ck_assert_int_eq(close(fd), 0);
}

/* The decompressed content of a whole zstd stream; the test fails on a
 * zstd error or a stream that does not end. Caller frees. */
static unsigned char *
unzstd(const void *src, size_t len, size_t *out_len)
{
	ZSTD_DCtx *d = ZSTD_createDCtx();
	ZSTD_inBuffer in = { src, len, 0 };
	size_t cap = 1 << 16, n = 0, rc = 1;
	unsigned char *out = malloc(cap);

	ck_assert_ptr_nonnull(d);
	ck_assert_ptr_nonnull(out);
	while (rc != 0 || in.pos < in.size) {
		ZSTD_outBuffer ob;

		if (n == cap) {
			cap *= 2;
			out = realloc(out, cap);
			ck_assert_ptr_nonnull(out);
		}
		ob.dst = out + n;
		ob.size = cap - n;
		ob.pos = 0;
		rc = ZSTD_decompressStream(d, &ob, &in);
		ck_assert_msg(!ZSTD_isError(rc), "zstd: %s", ZSTD_getErrorName(rc));
		n += ob.pos;
		ck_assert_msg(ob.pos > 0 || in.pos < in.size || rc == 0,
		    "the zstd stream does not end");
	}
	ZSTD_freeDCtx(d);
	*out_len = n;
	return out;
}

static void
file_sha256(const char *path, char hex[SHA256_HEX_LEN + 1])
{
	size_t len;
	char *b = slurp(path, &len);
	struct sha256 *h = sha256_new();

	ck_assert_ptr_nonnull(h);
	sha256_update(h, b, len);
	sha256_final_hex(h, hex);
	sha256_free(h);
	free(b);
}

/* The file decompresses to exactly len bytes of data, and sunk holds its
 * SHA-256 and size. */
static void
assert_stream(const char *path, const void *data, size_t len,
    const struct sunk *sunk)
{
	char hex[SHA256_HEX_LEN + 1];
	size_t zlen, got;
	char *z = slurp(path, &zlen);
	unsigned char *back = unzstd(z, zlen, &got);

	ck_assert_uint_eq(got, len);
	ck_assert(len == 0 || memcmp(back, data, len) == 0);
	ck_assert_uint_eq(sunk->size, zlen);
	file_sha256(path, hex);
	ck_assert_str_eq(sunk->sha256, hex);
	free(back);
	free(z);
}

/* ---- round trips ---------------------------------------------------- */

START_TEST(test_small)
{
	static const char msg[] = "the chain's first block\n";
	struct sunk s;

	sink_file(tmp_path("a.zst"), msg, sizeof msg - 1, 64, 3, 1, &s);
	assert_stream(tmp_path("a.zst"), msg, sizeof msg - 1, &s);
}
END_TEST

/* More than the sink's 1 MiB output buffer, in odd-sized writes, on two
 * workers. */
START_TEST(test_large_threads)
{
	const size_t len = (3u << 20) + 17;
	unsigned char *data = noise(len, 42);
	struct sunk s;

	sink_file(tmp_path("big.zst"), data, len, 100003, 1, 2, &s);
	assert_stream(tmp_path("big.zst"), data, len, &s);
	ck_assert_uint_gt(s.size, len);   /* noise: stored, framed */
	free(data);
}
END_TEST

/* No write at all: still one complete frame, of nothing. */
START_TEST(test_empty)
{
	struct sunk s;

	sink_file(tmp_path("empty.zst"), "", 0, 1, 3, 1, &s);
	ck_assert_uint_gt(s.size, 0);
	assert_stream(tmp_path("empty.zst"), "", 0, &s);
}
END_TEST

/* The zstd command reads what the sink wrote. */
START_TEST(test_zstd_command)
{
	char *data = text(200000);
	size_t len = strlen(data), got;
	struct sunk s;
	char *back;
	int status;
	pid_t pid;

	sink_file(tmp_path("t.zst"), data, len, 4096, 3, 2, &s);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		execlp("zstd", "zstd", "-q", "-d", "-f", tmp_path("t.zst"), "-o",
		    tmp_path("t.out"), (char *)NULL);
		_exit(127);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "zstd -d: status %d", status);
	back = slurp(tmp_path("t.out"), &got);
	ck_assert_uint_eq(got, len);
	ck_assert_int_eq(memcmp(back, data, len), 0);
	free(back);
	free(data);
}
END_TEST

/* ---- the stream's form ---------------------------------------------- */

/* Every frame carries a content checksum, so that a flipped byte is
 * caught by the decompressor. */
START_TEST(test_checksum)
{
	char *data = text(50000);
	size_t len = strlen(data), zlen;
	struct sunk s;
	unsigned char *z;
	ZSTD_DCtx *d;
	size_t rc;
	char *out;

	sink_file(tmp_path("c.zst"), data, len, len, 3, 1, &s);
	z = (unsigned char *)slurp(tmp_path("c.zst"), &zlen);
	/* The magic, then the frame header descriptor: bit 2 is the
	 * checksum flag. */
	ck_assert_uint_gt(zlen, 8);
	ck_assert_int_eq(memcmp(z, "\x28\xb5\x2f\xfd", 4), 0);
	ck_assert_uint_eq(z[4] & 0x04, 0x04);
	ck_assert_uint_eq(ZSTD_findFrameCompressedSize(z, zlen), zlen);
	/* The last four bytes are the checksum: a wrong one is an error. */
	z[zlen - 1] ^= 0x01;
	d = ZSTD_createDCtx();
	out = malloc(len + 1);
	ck_assert_ptr_nonnull(out);
	{
		ZSTD_inBuffer in = { z, zlen, 0 };
		ZSTD_outBuffer ob = { out, len + 1, 0 };
		rc = ZSTD_decompressStream(d, &ob, &in);
	}
	ck_assert(ZSTD_isError(rc));
	ck_assert_int_eq(ZSTD_getErrorCode(rc), ZSTD_error_checksum_wrong);
	ZSTD_freeDCtx(d);
	free(out);
	free(z);
	free(data);
}
END_TEST

/* The level is the one asked for: 19 makes text smaller than 1 does. */
START_TEST(test_level)
{
	char *data = text(300000);
	size_t len = strlen(data);
	struct sunk fast, slow;

	sink_file(tmp_path("1.zst"), data, len, 65536, 1, 1, &fast);
	sink_file(tmp_path("19.zst"), data, len, 65536, 19, 1, &slow);
	assert_stream(tmp_path("19.zst"), data, len, &slow);
	ck_assert_uint_lt(slow.size, fast.size);
	ck_assert_uint_lt(fast.size, len / 4);
	free(data);
}
END_TEST

/* The descriptor is the caller's: zsink_free leaves it open, and what the
 * caller writes after the stream lands after it. */
START_TEST(test_fd_stays_open)
{
	static const char msg[] = "payload";
	struct sunk s;
	struct err e;
	struct zsink *z;
	char *all;
	size_t len;
	int fd = open(tmp_path("f.zst"), O_WRONLY | O_CREAT | O_TRUNC, 0600);

	ck_assert_int_ge(fd, 0);
	z = zsink_new(fd, 3, 1, NULL, 0, &e);
	ck_assert_ptr_nonnull(z);
	ck_assert_int_eq(zsink_write(z, msg, sizeof msg - 1, &e), 0);
	ck_assert_int_eq(zsink_finish(z, s.sha256, &s.size, &e), 0);
	zsink_free(z);
	ck_assert_int_ne(fcntl(fd, F_GETFD), -1);
	ck_assert_int_eq(write(fd, "TAIL", 4), 4);
	ck_assert_int_eq(close(fd), 0);
	all = slurp(tmp_path("f.zst"), &len);
	ck_assert_uint_eq(len, s.size + 4);
	ck_assert_int_eq(memcmp(all + s.size, "TAIL", 4), 0);
	free(all);
	zsink_free(NULL);
}
END_TEST

/* ---- failures ------------------------------------------------------- */

/* Feed 2 MiB of noise into a sink on fd: the first call that fails, its
 * error in *e; 0 when none did. */
static int
sink_fails(int fd, struct err *e)
{
	const size_t len = 2u << 20;
	unsigned char *data = noise(len, 7);
	char sha[SHA256_HEX_LEN + 1];
	uint64_t size;
	struct zsink *z = zsink_new(fd, 1, 1, NULL, 0, e);
	int rc;

	ck_assert_ptr_nonnull(z);
	err_clear(e);
	rc = zsink_write(z, data, len, e);
	if (rc == 0)
		rc = zsink_finish(z, sha, &size, e);
	zsink_free(z);
	free(data);
	return rc;
}

START_TEST(test_fail_readonly)
{
	struct err e;
	int fd;

	put_file(tmp_path("ro"), "", 0, 0600);
	fd = open(tmp_path("ro"), O_RDONLY);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(sink_fails(fd, &e), -1);
	ck_assert_int_eq(e.code, ERR_FAILED);
	ck_assert_msg(strncmp(e.msg, "write archive: ", 15) == 0, "%s", e.msg);
	ck_assert_ptr_nonnull(strstr(e.msg, strerror(EBADF)));
	close(fd);
}
END_TEST

/* ENOSPC is ERR_NO_SPACE: the job says the backup volume is full. */
START_TEST(test_fail_full)
{
	struct err e;
	int fd = open("/dev/full", O_WRONLY);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(sink_fails(fd, &e), -1);
	ck_assert_int_eq(e.code, ERR_NO_SPACE);
	ck_assert_msg(strstr(e.msg, strerror(ENOSPC)) != NULL, "%s", e.msg);
	close(fd);
}
END_TEST

/* A reader that went away (SIGPIPE is ignored by the runner). */
START_TEST(test_fail_pipe)
{
	struct err e;
	int p[2];

	ck_assert_int_eq(pipe(p), 0);
	close(p[0]);
	ck_assert_int_eq(sink_fails(p[1], &e), -1);
	ck_assert_int_eq(e.code, ERR_FAILED);
	ck_assert_msg(strstr(e.msg, strerror(EPIPE)) != NULL, "%s", e.msg);
	close(p[1]);
}
END_TEST

/* age_dec's output, gathered. */
struct gathered {
	unsigned char *buf;
	size_t len, cap;
};

static int
gather(void *arg, const void *buf, size_t len, struct err *e)
{
	struct gathered *g = arg;

	(void)e;
	if (g->len + len > g->cap) {
		g->cap = (g->len + len) * 2;
		g->buf = realloc(g->buf, g->cap);
		ck_assert_ptr_nonnull(g->buf);
	}
	memcpy(g->buf + g->len, buf, len);
	g->len += len;
	return 0;
}

START_TEST(test_encrypted)
{
	const char *path = tmp_path("enc.tar.zst.age");
	struct age_identity id[2];
	struct age_recipient rs[2];
	struct gathered g = { NULL, 0, 0 };
	struct sha256 *h = sha256_new();
	char hex[SHA256_HEX_LEN + 1];
	struct age_dec *d;
	struct zsink *z;
	struct sunk out;
	struct err e;
	size_t flen, plen;
	char *data = text(300000), *file;
	unsigned char *plain;
	int fd;

	for (int i = 0; i < 2; i++) {
		ck_assert_msg(age_keygen(&id[i], NULL, &e) == 0, "%s", e.msg);
		age_recipient_of(&id[i], &rs[i]);
	}
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	ck_assert_int_ge(fd, 0);
	z = zsink_new(fd, 3, 2, rs, 2, &e);
	ck_assert_msg(z != NULL, "%s", e.msg);
	for (size_t off = 0; off < 300000; off += 7000)
		ck_assert_msg(zsink_write(z, data + off, off + 7000 > 300000 ?
		    300000 - off : 7000, &e) == 0, "%s", e.msg);
	ck_assert_msg(zsink_finish(z, out.sha256, &out.size, &e) == 0, "%s",
	    e.msg);
	zsink_free(z);
	close(fd);

	file = slurp(path, &flen);
	ck_assert_uint_eq(out.size, flen);
	ck_assert_msg(memcmp(file, "age-encryption.org/v1\n", 22) == 0,
	    "not an age file");
	sha256_update(h, file, flen);
	sha256_final_hex(h, hex);
	ck_assert_str_eq(out.sha256, hex);
	/* Each identity alone decrypts it into the zstd stream of data. */
	for (int i = 0; i < 2; i++) {
		g.len = 0;
		d = age_dec_new(&id[i], 1, gather, &g, &e);
		ck_assert_ptr_nonnull(d);
		ck_assert_msg(age_dec_write(d, file, flen, &e) == 0 &&
		    age_dec_finish(d, &e) == 0, "%s", e.msg);
		age_dec_free(d);
		plain = unzstd(g.buf, g.len, &plen);
		ck_assert_uint_eq(plen, 300000);
		ck_assert(memcmp(plain, data, plen) == 0);
		free(plain);
	}
	age_identity_wipe(&id[0]);
	age_identity_wipe(&id[1]);
	sha256_free(h);
	free(g.buf);
	free(file);
	free(data);
}
END_TEST

START_TEST(test_encrypted_bad_recipient)
{
	struct age_recipient zero;
	struct err e;
	int fd = open(tmp_path("x"), O_WRONLY | O_CREAT | O_TRUNC, 0600);

	/* The all-zero point has no shared secret: refused, nothing made. */
	memset(&zero, 0, sizeof zero);
	err_clear(&e);
	ck_assert_ptr_null(zsink_new(fd, 3, 1, &zero, 1, &e));
	ck_assert_int_eq(e.code, ERR_CONFIG);
	close(fd);
}
END_TEST

static Suite *
zsink_suite(void)
{
	Suite *s = suite_create("zsink");
	TCase *tc;

	tc = tcase_create("stream");
	tcase_add_checked_fixture(tc, tmp_setup, tmp_teardown);
	tcase_add_test(tc, test_small);
	tcase_add_test(tc, test_large_threads);
	tcase_add_test(tc, test_empty);
	tcase_add_test(tc, test_zstd_command);
	tcase_add_test(tc, test_checksum);
	tcase_add_test(tc, test_level);
	tcase_add_test(tc, test_fd_stays_open);
	tcase_add_test(tc, test_encrypted);
	tcase_add_test(tc, test_encrypted_bad_recipient);
	suite_add_tcase(s, tc);

	tc = tcase_create("failures");
	tcase_add_checked_fixture(tc, tmp_setup, tmp_teardown);
	tcase_add_test(tc, test_fail_readonly);
	tcase_add_test(tc, test_fail_full);
	tcase_add_test(tc, test_fail_pipe);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return run_suite(zsink_suite(), "zsink");
}
