/* Unit tests of agent/engine/reader: a pass over a pax tar in zstd (one
 * frame or several) or in the seed's gzip (one member or several) gives
 * back every entry and its content, more than the reading thread's ring
 * holds included, and the SHA-256 of the file; what is refused, each with
 * ERR_VERIFY: a zstd frame without a checksum, a wrong checksum, a flipped
 * byte, a bad gzip CRC, a truncated or empty file, data after the tar
 * archive, garbage after the stream, a stream that is not tar. The file
 * descriptor is the reader's also when opening fails; a reader freed in
 * the middle of an archive stops its thread. Encrypted with age: every
 * entry and the ciphertext's SHA-256; the wrong identity, a flipped byte
 * and a cut at a chunk boundary refused.
 *
 * The archives are built here, with libarchive, libzstd and zlib, so that
 * each test shapes the stream exactly as it needs. */
#include "config.h"

#include <archive.h>
#include <archive_entry.h>
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include "testutil.h"
#include "age.h"
#include "err.h"
#include "hashes.h"
#include "reader.h"

/* ---- building archives ---------------------------------------------- */

struct buf {
	unsigned char *p;
	size_t len, cap;
};

static void
buf_reserve(struct buf *b, size_t more)
{
	if (b->len + more <= b->cap)
		return;
	while (b->len + more > b->cap)
		b->cap = b->cap ? b->cap * 2 : 65536;
	b->p = realloc(b->p, b->cap);
	ck_assert_ptr_nonnull(b->p);
}

static void
buf_add(struct buf *b, const void *data, size_t len)
{
	buf_reserve(b, len + 1);
	memcpy(b->p + b->len, data, len);
	b->len += len;
	b->p[b->len] = '\0';
}

/* One entry: 'd' directory, 'f' file (data, len bytes; 0: strlen),
 * 'l' symbolic link to data. */
struct ent {
	char type;
	const char *path;
	const void *data;
	size_t len;
};

static size_t
ent_len(const struct ent *e)
{
	return e->len || !e->data ? e->len : strlen(e->data);
}

static la_ssize_t
to_buf(struct archive *a, void *ctx, const void *data, size_t len)
{
	(void)a;
	buf_add(ctx, data, len);
	return (la_ssize_t)len;
}

/* A pax tar of the entries, as the archiver writes it (no block padding). */
static void
tar_of(struct buf *out, const struct ent *ents, size_t n)
{
	struct archive *a = archive_write_new();
	struct archive_entry *ae = archive_entry_new();

	ck_assert_int_eq(archive_write_set_format_pax(a), ARCHIVE_OK);
	ck_assert_int_eq(archive_write_set_bytes_per_block(a, 0), ARCHIVE_OK);
	ck_assert_int_eq(archive_write_open2(a, out, NULL, to_buf, NULL, NULL),
	    ARCHIVE_OK);
	for (size_t i = 0; i < n; i++) {
		archive_entry_clear(ae);
		archive_entry_copy_pathname(ae, ents[i].path);
		archive_entry_set_mtime(ae, 1700000000, 0);
		if (ents[i].type == 'd') {
			archive_entry_set_filetype(ae, AE_IFDIR);
			archive_entry_set_perm(ae, 0700);
		} else if (ents[i].type == 'l') {
			archive_entry_set_filetype(ae, AE_IFLNK);
			archive_entry_set_perm(ae, 0777);
			archive_entry_copy_symlink(ae, ents[i].data);
		} else {
			archive_entry_set_filetype(ae, AE_IFREG);
			archive_entry_set_perm(ae, 0600);
			archive_entry_set_size(ae, (la_int64_t)ent_len(&ents[i]));
		}
		ck_assert_int_eq(archive_write_header(a, ae), ARCHIVE_OK);
		if (ents[i].type == 'f' && ent_len(&ents[i]) > 0)
			ck_assert_int_eq(archive_write_data(a, ents[i].data,
			    ent_len(&ents[i])), (la_ssize_t)ent_len(&ents[i]));
	}
	ck_assert_int_eq(archive_write_close(a), ARCHIVE_OK);
	archive_write_free(a);
	archive_entry_free(ae);
}

/* src in nframes zstd frames appended to out, with or without checksums. */
static void
zstd_frames(struct buf *out, const struct buf *src, int nframes, int checksum)
{
	ZSTD_CCtx *c = ZSTD_createCCtx();

	ck_assert_ptr_nonnull(c);
	ZSTD_CCtx_setParameter(c, ZSTD_c_checksumFlag, checksum);
	for (int i = 0; i < nframes; i++) {
		size_t a = src->len * (size_t)i / (size_t)nframes;
		size_t b = src->len * (size_t)(i + 1) / (size_t)nframes;
		size_t bound = ZSTD_compressBound(b - a), n;

		buf_reserve(out, bound + 1);
		n = ZSTD_compress2(c, out->p + out->len, bound, src->p + a, b - a);
		ck_assert_msg(!ZSTD_isError(n), "%s", ZSTD_getErrorName(n));
		out->len += n;
	}
	ZSTD_freeCCtx(c);
}

/* src as one gzip member appended to out. */
static void
gzip_member(struct buf *out, const void *src, size_t len)
{
	z_stream zs;

	memset(&zs, 0, sizeof zs);
	ck_assert_int_eq(deflateInit2(&zs, 6, Z_DEFLATED, 16 + MAX_WBITS, 8,
	    Z_DEFAULT_STRATEGY), Z_OK);
	buf_reserve(out, deflateBound(&zs, (uLong)len) + 1);
	zs.next_in = (Bytef *)(uintptr_t)src;
	zs.avail_in = (uInt)len;
	zs.next_out = out->p + out->len;
	zs.avail_out = (uInt)(out->cap - out->len);
	ck_assert_int_eq(deflate(&zs, Z_FINISH), Z_STREAM_END);
	out->len = out->cap - zs.avail_out;
	deflateEnd(&zs);
}

/* len bytes that do not compress. Caller frees. */
static unsigned char *
noise(size_t len, uint32_t x)
{
	unsigned char *b = malloc(len);

	ck_assert_ptr_nonnull(b);
	for (size_t i = 0; i < len; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		b[i] = (unsigned char)x;
	}
	return b;
}

static const struct ent small_tree[] = {
	{ 'd', "dir", NULL, 0 },
	{ 'f', "dir/a.txt", "alpha\n", 0 },
	{ 'f', "b.bin", "beta", 0 },
	{ 'l', "link", "dir/a.txt", 0 },
	{ 'f', "empty", "", 0 },
};
#define SMALL_N (sizeof small_tree / sizeof small_tree[0])

/* "type path=content|" for each entry: what a pass should give back. */
static void
listing_add(struct buf *l, char type, const char *path, const void *data,
    size_t len)
{
	size_t plen = strlen(path);

	while (plen > 1 && path[plen - 1] == '/')
		plen--;
	buf_add(l, &type, 1);
	buf_add(l, " ", 1);
	buf_add(l, path, plen);
	buf_add(l, type == 'l' ? ">" : "=", 1);
	buf_add(l, data, len);
	buf_add(l, "|", 1);
}

static void
expected(struct buf *l, const struct ent *ents, size_t n)
{
	for (size_t i = 0; i < n; i++)
		listing_add(l, ents[i].type, ents[i].path, ents[i].data ?
		    ents[i].data : "", ents[i].type == 'l' ?
		    strlen(ents[i].data) : ent_len(&ents[i]));
}

/* ---- reading -------------------------------------------------------- */

struct pass {
	struct buf listing;
	char sha256[SHA256_HEX_LEN + 1];
	uint64_t offset;      /* reader_offset after the pass */
	int opened;           /* reader_open succeeded */
	struct err e;         /* the first error, ERR_OK when none */
};

static void
pass_free(struct pass *p)
{
	free(p->listing.p);
}

/* Set by a test: the consumer pauses on each block it holds, so that the
 * reading thread fills its ring meanwhile. Correct code passes at any
 * speed; a thread that overran its ring would overwrite the block held. */
static int slow_consumer;

/* One entry's data into the listing; -1 on a read error. */
static int
read_entry(struct archive *a, struct archive_entry *ae, struct buf *l)
{
	struct buf data = { NULL, 0, 0 };
	const char *path = archive_entry_pathname(ae);
	char type = archive_entry_filetype(ae) == AE_IFDIR ? 'd' :
	    archive_entry_filetype(ae) == AE_IFLNK ? 'l' : 'f';
	const void *b;
	size_t len;
	la_int64_t off;
	int ar;

	buf_add(&data, "", 0);
	while ((ar = archive_read_data_block(a, &b, &len, &off)) == ARCHIVE_OK) {
		ck_assert_int_eq(off, (la_int64_t)data.len);
		if (slow_consumer) {
			struct timespec ts = { 0, 20 * 1000 * 1000 };
			nanosleep(&ts, NULL);
		}
		buf_add(&data, b, len);
	}
	if (ar == ARCHIVE_EOF) {
		if (type == 'l')
			listing_add(l, type, path, archive_entry_symlink(ae),
			    strlen(archive_entry_symlink(ae)));
		else
			listing_add(l, type, path, data.p, data.len);
	}
	free(data.p);
	return ar == ARCHIVE_EOF ? 0 : -1;
}

/* The identities read_pass gives the reader: none, or those of an
 * encrypted test. */
static const struct age_identity *pass_ids;
static size_t pass_n_ids;

/* A whole pass over the archive file at path, as verify makes one. */
static void
read_pass(const char *path, enum reader_kind kind, struct pass *p)
{
	static char name[4096];   /* the reader keeps the pointer */
	struct archive_entry *ae;
	struct reader *r;
	int fd, ar;

	memset(p, 0, sizeof *p);
	buf_add(&p->listing, "", 0);
	snprintf(name, sizeof name, "%s", path);
	fd = open(name, O_RDONLY | O_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	if (!(r = reader_open(fd, name, kind, pass_ids, pass_n_ids, &p->e)))
		return;
	p->opened = 1;
	while ((ar = archive_read_next_header(reader_archive(r), &ae)) ==
	    ARCHIVE_OK && read_entry(reader_archive(r), ae, &p->listing) == 0)
		;
	if (ar == ARCHIVE_EOF) {
		/* (the reading thread may have met an error after the trailer
		 * already: reader_finish gives it) */
		if (reader_finish(r, p->sha256, &p->e) == 0)
			err_clear(&p->e);
	} else {
		/* a read error: the reader says why, or the tar is bad */
		p->e = *reader_error(r);
		if (p->e.code == ERR_OK)
			err_set(&p->e, ERR_VERIFY, "tar: %s",
			    archive_error_string(reader_archive(r)));
	}
	p->offset = reader_offset(r);
	reader_free(r);
}

static void
file_sha256(const char *path, char hex[SHA256_HEX_LEN + 1])
{
	size_t len;
	char *b = slurp(path, &len);
	struct sha256 *h = sha256_new();

	sha256_update(h, b, len);
	sha256_final_hex(h, hex);
	sha256_free(h);
	free(b);
}

/* The pass over path read every entry of ents, and gave the file's
 * SHA-256 and size. */
static void
assert_read(const char *path, enum reader_kind kind, const struct ent *ents,
    size_t n, uint64_t file_size)
{
	struct buf want = { NULL, 0, 0 };
	char hex[SHA256_HEX_LEN + 1];
	struct pass p;

	read_pass(path, kind, &p);
	ck_assert_msg(p.opened && p.e.code == ERR_OK, "%s", p.e.msg);
	buf_add(&want, "", 0);
	expected(&want, ents, n);
	ck_assert_uint_eq(p.listing.len, want.len);
	ck_assert_int_eq(memcmp(p.listing.p, want.p, want.len), 0);
	file_sha256(path, hex);
	ck_assert_str_eq(p.sha256, hex);
	ck_assert_uint_eq(p.offset, file_size);
	free(want.p);
	pass_free(&p);
}

/* The pass over path fails with ERR_VERIFY and a message holding what. */
static void
assert_refused(const char *path, enum reader_kind kind, const char *what)
{
	struct pass p;

	read_pass(path, kind, &p);
	ck_assert_msg(p.e.code == ERR_VERIFY, "code %d: %s", p.e.code, p.e.msg);
	ck_assert_msg(strstr(p.e.msg, what) != NULL, "'%s' not in '%s'", what,
	    p.e.msg);
	pass_free(&p);
}

/* The small tree in zstd (nframes frames, with checksums) into path. */
static void
put_small_zstd(const char *path, int nframes, int checksum, struct buf *z)
{
	struct buf tar = { NULL, 0, 0 };

	tar_of(&tar, small_tree, SMALL_N);
	zstd_frames(z, &tar, nframes, checksum);
	put_file(path, z->p, z->len, 0600);
	free(tar.p);
}

/* ---- success -------------------------------------------------------- */

START_TEST(test_zstd)
{
	struct buf z = { NULL, 0, 0 };

	put_small_zstd(tmp_path("a.tar.zst"), 1, 1, &z);
	assert_read(tmp_path("a.tar.zst"), READER_ZSTD, small_tree, SMALL_N,
	    z.len);
	free(z.p);
}
END_TEST

START_TEST(test_zstd_frames)
{
	struct buf z = { NULL, 0, 0 };

	put_small_zstd(tmp_path("a.tar.zst"), 3, 1, &z);
	assert_read(tmp_path("a.tar.zst"), READER_ZSTD, small_tree, SMALL_N,
	    z.len);
	free(z.p);
}
END_TEST

/* Six MiB of content: more than the thread's ring of four 1 MiB blocks,
 * so the producer waits for a slow consumer and goes on. */
START_TEST(test_zstd_large)
{
	const size_t len = 6u << 20;
	unsigned char *data = noise(len, 99);
	struct ent ents[] = {
		{ 'f', "big", data, len },
		{ 'f', "after", "tail\n", 0 },
	};
	struct buf tar = { NULL, 0, 0 }, z = { NULL, 0, 0 };

	tar_of(&tar, ents, 2);
	zstd_frames(&z, &tar, 2, 1);
	put_file(tmp_path("big.tar.zst"), z.p, z.len, 0600);
	slow_consumer = 1;
	assert_read(tmp_path("big.tar.zst"), READER_ZSTD, ents, 2, z.len);
	slow_consumer = 0;
	free(tar.p);
	free(z.p);
	free(data);
}
END_TEST

/* ---- archives encrypted with age --------------------------------- */

static int
enc_to_buf(void *arg, const void *data, size_t len, struct err *e)
{
	(void)e;
	buf_add(arg, data, len);
	return 0;
}

/* src encrypted to the recipient of id, into out. */
static void
age_encrypt(struct buf *out, const struct buf *src,
    const struct age_identity *id)
{
	struct age_recipient rc;
	struct age_enc *w;
	struct err e;

	age_recipient_of(id, &rc);
	w = age_enc_new(&rc, 1, enc_to_buf, out, &e);
	ck_assert_msg(w != NULL, "%s", e.msg);
	ck_assert_msg(age_enc_write(w, src->p, src->len, &e) == 0, "%s", e.msg);
	ck_assert_msg(age_enc_finish(w, &e) == 0, "%s", e.msg);
	age_enc_free(w);
}

/* Three frames of a 1 MiB file and a small one, in age: every entry comes
 * back, and the SHA-256 is of the file as stored (the ciphertext). */
START_TEST(test_age_zstd)
{
	const size_t len = 1u << 20;
	unsigned char *data = noise(len, 7);
	struct ent ents[] = {
		{ 'f', "geth/nodekey", "0123456789abcdef\n", 0 },
		{ 'f', "geth/chaindata/000001.ldb", data, len },
	};
	struct buf tar = { NULL, 0, 0 }, z = { NULL, 0, 0 }, a = { NULL, 0, 0 };
	struct age_identity id;
	struct err e;

	ck_assert_msg(age_keygen(&id, NULL, &e) == 0, "%s", e.msg);
	tar_of(&tar, ents, 2);
	zstd_frames(&z, &tar, 3, 1);
	age_encrypt(&a, &z, &id);
	put_file(tmp_path("a.tar.zst.age"), a.p, a.len, 0600);
	pass_ids = &id;
	pass_n_ids = 1;
	slow_consumer = 1;
	assert_read(tmp_path("a.tar.zst.age"), READER_ZSTD, ents, 2, a.len);
	slow_consumer = 0;
	pass_ids = NULL;
	pass_n_ids = 0;
	free(tar.p);
	free(z.p);
	free(a.p);
	free(data);
}
END_TEST

/* The wrong identity: ERR_WRONG_IDENTITY at open; a flipped byte in a
 * middle chunk and a file cut at a chunk boundary: ERR_VERIFY. */
START_TEST(test_age_refused)
{
	const size_t len = 400000;
	unsigned char *data = noise(len, 8);
	struct ent ents[] = { { 'f', "big", data, len } };
	struct buf tar = { NULL, 0, 0 }, z = { NULL, 0, 0 }, a = { NULL, 0, 0 };
	struct age_identity id, other;
	struct age_header_info hi;
	struct pass p;
	struct err e;
	size_t payload;

	ck_assert(age_keygen(&id, NULL, &e) == 0);
	ck_assert(age_keygen(&other, NULL, &e) == 0);
	tar_of(&tar, ents, 1);
	zstd_frames(&z, &tar, 1, 1);
	age_encrypt(&a, &z, &id);
	ck_assert_msg(age_header_scan(a.p, a.len, &hi, &e) == 0, "%s", e.msg);
	payload = hi.header_len + 16;
	ck_assert_uint_gt(a.len, payload + 4 * (AGE_CHUNK_SIZE + 16));

	put_file(tmp_path("a.tar.zst.age"), a.p, a.len, 0600);
	pass_ids = &other;
	pass_n_ids = 1;
	read_pass(tmp_path("a.tar.zst.age"), READER_ZSTD, &p);
	ck_assert_msg(!p.opened && p.e.code == ERR_WRONG_IDENTITY, "code %d: "
	    "%s", p.e.code, p.e.msg);
	pass_free(&p);

	pass_ids = &id;
	a.p[payload + 2 * (AGE_CHUNK_SIZE + 16) + 500] ^= 1;
	put_file(tmp_path("b.tar.zst.age"), a.p, a.len, 0600);
	assert_refused(tmp_path("b.tar.zst.age"), READER_ZSTD,
	    "chunk 2 does not authenticate");
	a.p[payload + 2 * (AGE_CHUNK_SIZE + 16) + 500] ^= 1;
	put_file(tmp_path("c.tar.zst.age"), a.p, payload + 3 *
	    (AGE_CHUNK_SIZE + 16), 0600);
	assert_refused(tmp_path("c.tar.zst.age"), READER_ZSTD,
	    "without its final chunk");
	pass_ids = NULL;
	pass_n_ids = 0;
	free(tar.p);
	free(z.p);
	free(a.p);
	free(data);
}
END_TEST

/* The seed's backups: gzip, in one member or several. */
START_TEST(test_gzip)
{
	struct buf tar = { NULL, 0, 0 }, g = { NULL, 0, 0 };

	tar_of(&tar, small_tree, SMALL_N);
	gzip_member(&g, tar.p, tar.len);
	put_file(tmp_path("a.tar.gz"), g.p, g.len, 0600);
	assert_read(tmp_path("a.tar.gz"), READER_GZIP, small_tree, SMALL_N,
	    g.len);
	g.len = 0;
	gzip_member(&g, tar.p, 700);
	gzip_member(&g, tar.p + 700, tar.len - 700);
	put_file(tmp_path("b.tar.gz"), g.p, g.len, 0600);
	assert_read(tmp_path("b.tar.gz"), READER_GZIP, small_tree, SMALL_N,
	    g.len);
	free(tar.p);
	free(g.p);
}
END_TEST

/* Zeros after the tar trailer (block padding) are allowed. */
START_TEST(test_zero_padding)
{
	struct buf tar = { NULL, 0, 0 }, z = { NULL, 0, 0 };
	static const unsigned char zeros[10240];

	tar_of(&tar, small_tree, SMALL_N);
	buf_add(&tar, zeros, sizeof zeros);
	zstd_frames(&z, &tar, 1, 1);
	put_file(tmp_path("p.tar.zst"), z.p, z.len, 0600);
	assert_read(tmp_path("p.tar.zst"), READER_ZSTD, small_tree, SMALL_N,
	    z.len);
	free(tar.p);
	free(z.p);
}
END_TEST

/* ---- refusals ------------------------------------------------------- */

START_TEST(test_no_checksum)
{
	struct buf z = { NULL, 0, 0 };

	put_small_zstd(tmp_path("n.tar.zst"), 1, 0, &z);
	assert_refused(tmp_path("n.tar.zst"), READER_ZSTD, "has no checksum");
	free(z.p);
}
END_TEST

/* A second frame without a checksum is refused as the first would be. */
START_TEST(test_no_checksum_later_frame)
{
	struct buf tar = { NULL, 0, 0 }, z = { NULL, 0, 0 }, half;

	tar_of(&tar, small_tree, SMALL_N);
	half = tar;
	half.len = tar.len / 2;
	zstd_frames(&z, &half, 1, 1);
	half.p = tar.p + tar.len / 2;
	half.len = tar.len - tar.len / 2;
	zstd_frames(&z, &half, 1, 0);
	put_file(tmp_path("n.tar.zst"), z.p, z.len, 0600);
	assert_refused(tmp_path("n.tar.zst"), READER_ZSTD, "has no checksum");
	free(tar.p);
	free(z.p);
}
END_TEST

/* A frame without a checksum whose header straddles a read of the file
 * (1 MiB): a skippable frame before it puts its first byte k bytes before
 * the boundary, for k = 1..4 (the descriptor, byte 4, in the next read). */
START_TEST(test_no_checksum_at_read_boundary)
{
	static const size_t boundary = 1u << 20;

	for (size_t k = 1; k <= 4; k++) {
		struct buf tar = { NULL, 0, 0 }, z = { NULL, 0, 0 }, half;
		size_t skip;

		tar_of(&tar, small_tree, SMALL_N);
		half = tar;
		half.len = tar.len / 2;
		zstd_frames(&z, &half, 1, 1);
		/* A skippable frame: magic 0x184D2A50, a 4-byte size, data. */
		skip = boundary - k - z.len - 8;
		buf_reserve(&z, 8 + skip + 1);
		memcpy(z.p + z.len, "\x50\x2a\x4d\x18", 4);
		for (int i = 0; i < 4; i++)
			z.p[z.len + 4 + i] = (unsigned char)(skip >> (8 * i));
		memset(z.p + z.len + 8, 0, skip);
		z.len += 8 + skip;
		ck_assert_uint_eq(z.len, boundary - k);
		half.p = tar.p + tar.len / 2;
		half.len = tar.len - tar.len / 2;
		zstd_frames(&z, &half, 1, 0);
		put_file(tmp_path("n%zu.tar.zst", k), z.p, z.len, 0600);
		assert_refused(tmp_path("n%zu.tar.zst", k), READER_ZSTD,
		    "has no checksum");
		free(tar.p);
		free(z.p);
	}
}
END_TEST

/* The frame's last four bytes are its checksum. */
START_TEST(test_bad_checksum)
{
	struct buf z = { NULL, 0, 0 };

	put_small_zstd(tmp_path("c.tar.zst"), 1, 1, &z);
	z.p[z.len - 2] ^= 0x20;
	put_file(tmp_path("c.tar.zst"), z.p, z.len, 0600);
	assert_refused(tmp_path("c.tar.zst"), READER_ZSTD, "zstd error");
	free(z.p);
}
END_TEST

START_TEST(test_flipped_byte)
{
	struct buf z = { NULL, 0, 0 };

	put_small_zstd(tmp_path("f.tar.zst"), 1, 1, &z);
	z.p[z.len / 2] ^= 0x01;
	put_file(tmp_path("f.tar.zst"), z.p, z.len, 0600);
	assert_refused(tmp_path("f.tar.zst"), READER_ZSTD, "zstd error");
	free(z.p);
}
END_TEST

/* gzip's trailer: CRC-32, then the length. */
START_TEST(test_gzip_bad_crc)
{
	struct buf tar = { NULL, 0, 0 }, g = { NULL, 0, 0 };

	tar_of(&tar, small_tree, SMALL_N);
	gzip_member(&g, tar.p, tar.len);
	g.p[g.len - 8] ^= 0x01;
	put_file(tmp_path("c.tar.gz"), g.p, g.len, 0600);
	assert_refused(tmp_path("c.tar.gz"), READER_GZIP, "gzip error");
	free(tar.p);
	free(g.p);
}
END_TEST

/* Cut anywhere, the stream does not end: cut in the last frame's
 * checksum, the tar may be whole and still the file is refused. */
START_TEST(test_truncated)
{
	struct buf z = { NULL, 0, 0 };
	const size_t cut[] = { 2, 8, 0 };

	put_small_zstd(tmp_path("t.tar.zst"), 1, 1, &z);
	for (size_t i = 0; i < sizeof cut / sizeof cut[0]; i++) {
		size_t keep = cut[i] ? z.len - cut[i] : z.len / 2;

		put_file(tmp_path("t%zu.tar.zst", i), z.p, keep, 0600);
		assert_refused(tmp_path("t%zu.tar.zst", i), READER_ZSTD,
		    "truncated");
	}
	free(z.p);
}
END_TEST

START_TEST(test_empty_file)
{
	put_file(tmp_path("e.tar.zst"), "", 0, 0600);
	assert_refused(tmp_path("e.tar.zst"), READER_ZSTD, "truncated at byte 0");
	put_file(tmp_path("e.tar.gz"), "", 0, 0600);
	assert_refused(tmp_path("e.tar.gz"), READER_GZIP, "truncated at byte 0");
}
END_TEST

/* A frame of something else after the tar: refused at the end. */
START_TEST(test_data_after_tar)
{
	struct buf tar = { NULL, 0, 0 }, z = { NULL, 0, 0 }, extra;
	static const char more[] = "appended by someone else";

	tar_of(&tar, small_tree, SMALL_N);
	zstd_frames(&z, &tar, 1, 1);
	extra.p = (unsigned char *)(uintptr_t)more;
	extra.len = sizeof more - 1;
	zstd_frames(&z, &extra, 1, 1);
	put_file(tmp_path("d.tar.zst"), z.p, z.len, 0600);
	assert_refused(tmp_path("d.tar.zst"), READER_ZSTD,
	    "data after the end of the tar archive");
	free(tar.p);
	free(z.p);
}
END_TEST

/* Bytes that are not zstd after the last frame. */
START_TEST(test_garbage_after_stream)
{
	struct buf z = { NULL, 0, 0 };

	put_small_zstd(tmp_path("g.tar.zst"), 1, 1, &z);
	buf_add(&z, "GARBAGE!", 8);
	put_file(tmp_path("g.tar.zst"), z.p, z.len, 0600);
	assert_refused(tmp_path("g.tar.zst"), READER_ZSTD, "zstd error");
	free(z.p);
}
END_TEST

START_TEST(test_not_tar)
{
	struct buf text = { NULL, 0, 0 }, z = { NULL, 0, 0 };

	for (int i = 0; i < 200; i++)
		buf_add(&text, "this is not a tar archive\n", 26);
	zstd_frames(&z, &text, 1, 1);
	put_file(tmp_path("x.tar.zst"), z.p, z.len, 0600);
	assert_refused(tmp_path("x.tar.zst"), READER_ZSTD, "not a tar archive");
	free(text.p);
	free(z.p);
}
END_TEST

/* ---- ownership ------------------------------------------------------ */

/* reader_open takes the descriptor over, also when it fails. */
START_TEST(test_fd_closed_on_failure)
{
	struct err e;
	int fd;

	put_file(tmp_path("e.tar.zst"), "", 0, 0600);
	fd = open(tmp_path("e.tar.zst"), O_RDONLY | O_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	ck_assert_ptr_null(reader_open(fd, "e.tar.zst", READER_ZSTD, NULL, 0,
	    &e));
	ck_assert_int_eq(e.code, ERR_VERIFY);
	errno = 0;
	ck_assert_int_eq(fcntl(fd, F_GETFD), -1);
	ck_assert_int_eq(errno, EBADF);
}
END_TEST

/* Freed after the first header of an archive that fills the ring: the
 * producer, waiting for room, is stopped and joined, the fd closed. */
START_TEST(test_free_early)
{
	const size_t len = 8u << 20;
	unsigned char *data = noise(len, 5);
	struct ent ents[] = { { 'f', "big", data, len } };
	struct buf tar = { NULL, 0, 0 }, z = { NULL, 0, 0 };
	struct archive_entry *ae;
	struct reader *r;
	struct err e;
	int fd;

	tar_of(&tar, ents, 1);
	zstd_frames(&z, &tar, 1, 1);
	put_file(tmp_path("big.tar.zst"), z.p, z.len, 0600);
	fd = open(tmp_path("big.tar.zst"), O_RDONLY | O_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	r = reader_open(fd, "big.tar.zst", READER_ZSTD, NULL, 0, &e);
	ck_assert_msg(r != NULL, "%s", e.msg);
	ck_assert_int_eq(archive_read_next_header(reader_archive(r), &ae),
	    ARCHIVE_OK);
	ck_assert_str_eq(archive_entry_pathname(ae), "big");
	ck_assert_uint_lt(reader_offset(r), z.len);
	reader_free(r);
	ck_assert_int_eq(fcntl(fd, F_GETFD), -1);
	reader_free(NULL);
	free(tar.p);
	free(z.p);
	free(data);
}
END_TEST

static Suite *
reader_suite(void)
{
	Suite *s = suite_create("reader");
	TCase *tc;

	tc = tcase_create("read");
	tcase_add_checked_fixture(tc, tmp_setup, tmp_teardown);
	tcase_add_test(tc, test_zstd);
	tcase_add_test(tc, test_zstd_frames);
	tcase_add_test(tc, test_zstd_large);
	tcase_add_test(tc, test_gzip);
	tcase_add_test(tc, test_zero_padding);
	suite_add_tcase(s, tc);

	tc = tcase_create("age");
	tcase_add_checked_fixture(tc, tmp_setup, tmp_teardown);
	tcase_add_test(tc, test_age_zstd);
	tcase_add_test(tc, test_age_refused);
	suite_add_tcase(s, tc);

	tc = tcase_create("refused");
	tcase_add_checked_fixture(tc, tmp_setup, tmp_teardown);
	tcase_add_test(tc, test_no_checksum);
	tcase_add_test(tc, test_no_checksum_later_frame);
	tcase_add_test(tc, test_no_checksum_at_read_boundary);
	tcase_add_test(tc, test_bad_checksum);
	tcase_add_test(tc, test_flipped_byte);
	tcase_add_test(tc, test_gzip_bad_crc);
	tcase_add_test(tc, test_truncated);
	tcase_add_test(tc, test_empty_file);
	tcase_add_test(tc, test_data_after_tar);
	tcase_add_test(tc, test_garbage_after_stream);
	tcase_add_test(tc, test_not_tar);
	suite_add_tcase(s, tc);

	tc = tcase_create("ownership");
	tcase_add_checked_fixture(tc, tmp_setup, tmp_teardown);
	tcase_add_test(tc, test_fd_closed_on_failure);
	tcase_add_test(tc, test_free_early);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return run_suite(reader_suite(), "reader");
}
