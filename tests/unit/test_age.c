/* Unit tests of agent/age: the age v1 format to X25519 recipients.
 *
 *   - round trips of payloads around the 64 KiB chunk size, fed in odd
 *     piece sizes both ways, and what the streams emit and when;
 *   - damage: a flipped byte anywhere in the header, in the MAC, in the
 *     nonce, in a middle and in the last chunk; truncation in the header,
 *     at a chunk boundary and inside a chunk; chunks swapped; data after
 *     the final chunk; an empty final chunk after data; no final flag;
 *   - the header's syntax: non-canonical base64 (share, body, MAC), an
 *     unknown stanza skipped, malformed stanzas, the bounds on stanzas
 *     and header bytes, files that are not age at all;
 *   - X25519: a low-order point refused as a recipient and as an
 *     ephemeral share, the wrong identity, two recipients;
 *   - keys: the specification's example key, Bech32 errors (checksum,
 *     Bech32m, padding, mixed case, other kinds of keys), fingerprints,
 *     keygen; identity files (modes, links, FIFOs, format) and recipient
 *     files (file:line errors);
 *   - interoperability with the `age` and `age-keygen` tools both ways;
 *     missing tools fail these tests, they are never skipped.
 *
 * Files the tests craft by hand (an unknown stanza, an empty final
 * chunk, a low-order share) are built here with libcrypto and libsodium
 * independently of the module, with a valid MAC and valid chunks, so
 * that only the rule under test can refuse them; each has a control that
 * decrypts when the rule is not broken.
 *
 * Every test works in its own directory, made with mkdtemp below one base
 * directory under ${TMPDIR:-/tmp}; main() removes the base directory at the
 * end whatever happened. */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/kdf.h>
#include <sodium.h>

#include "testutil.h"
#include "age.h"
#include "err.h"

#define CHUNK AGE_CHUNK_SIZE
#define ENC_CHUNK (CHUNK + 16)

/* ---- fixtures ------------------------------------------------------- */

static void
setup_tmp(void)
{
	tmp_setup();
	ck_assert_int_ge(sodium_init(), 0);
}

/* tmp/name into a static buffer (sixteen in turn). */
static const char *
tp(const char *name)
{
	static char buf[16][PATH_MAX];
	static int next;
	char *b = buf[next++ % 16];

	ck_assert_int_lt(snprintf(b, PATH_MAX, "%s/%s", tmp, name), PATH_MAX);
	return b;
}

/* Deterministic test data. */
static uint8_t *
payload(size_t len, unsigned seed)
{
	uint8_t s[randombytes_SEEDBYTES] = { 0 };
	uint8_t *p = malloc(len ? len : 1);

	ck_assert_ptr_nonnull(p);
	memcpy(s, &seed, sizeof seed);
	randombytes_buf_deterministic(p, len, s);
	return p;
}

/* ---- a growing output buffer for the streams ------------------------ */

struct sink {
	uint8_t *data;
	size_t len, cap;
	size_t calls;
	long fail_at;        /* refuse a write that would pass this; -1 never */
};

static void
sink_init(struct sink *s)
{
	memset(s, 0, sizeof *s);
	s->fail_at = -1;
}

static int
sink_write(void *arg, const void *buf, size_t len, struct err *e)
{
	struct sink *s = arg;

	ck_assert_uint_gt(len, 0);
	if (s->fail_at >= 0 && s->len + len > (size_t)s->fail_at)
		return err_set(e, ERR_NO_SPACE, "sink: no space left");
	if (s->len + len > s->cap) {
		size_t cap = s->cap ? s->cap : 4096;

		while (cap < s->len + len)
			cap *= 2;
		s->data = realloc(s->data, cap);
		ck_assert_ptr_nonnull(s->data);
		s->cap = cap;
	}
	memcpy(s->data + s->len, buf, len);
	s->len += len;
	s->calls++;
	return 0;
}

static void
sink_free(struct sink *s)
{
	free(s->data);
	sink_init(s);
}

/* Piece sizes to feed the streams with, 0-terminated; NULL: all at once. */
static const size_t odd_pieces[] = { 1, 3, 17, 4095, 65535, 65552, 65553, 7,
	131104, 100000, 0 };
static const size_t tiny_pieces[] = { 1, 2, 3, 5, 0 };
static const size_t big_pieces[] = { 65536 * 3 + 5, 65552 * 2 + 1, 0 };

static size_t
next_piece(const size_t *pieces, size_t *i, size_t left)
{
	size_t n;

	if (!pieces)
		return left;
	if (pieces[*i] == 0)
		*i = 0;
	n = pieces[(*i)++];
	return n < left ? n : left;
}

static void
enc_all(const struct age_recipient *rs, size_t n, const uint8_t *p,
    size_t len, const size_t *pieces, struct sink *out)
{
	struct err e;
	struct age_enc *w = age_enc_new(rs, n, sink_write, out, &e);
	size_t off = 0, i = 0;

	ck_assert_msg(w != NULL, "age_enc_new: %s", e.msg);
	while (off < len) {
		size_t k = next_piece(pieces, &i, len - off);

		ck_assert_msg(age_enc_write(w, p + off, k, &e) == 0, "%s",
		    e.msg);
		off += k;
	}
	ck_assert_msg(age_enc_finish(w, &e) == 0, "age_enc_finish: %s", e.msg);
	ck_assert_uint_eq(age_enc_written(w), out->len);
	age_enc_free(w);
}

/* Decrypt c[0..len): the result, e filled on failure, the plaintext so
 * far in out, the header (if read) in *info. */
static int
dec_all(const struct age_identity *ids, size_t n, const uint8_t *c,
    size_t len, const size_t *pieces, struct sink *out, struct err *e,
    struct age_header_info *info)
{
	struct age_dec *d = age_dec_new(ids, n, sink_write, out, e);
	size_t off = 0, i = 0;
	int rc = 0;

	ck_assert_msg(d != NULL, "age_dec_new: %s", e->msg);
	while (off < len && rc == 0) {
		size_t k = next_piece(pieces, &i, len - off);

		rc = age_dec_write(d, c + off, k, e);
		off += k;
	}
	if (rc == 0)
		rc = age_dec_finish(d, e);
	if (info) {
		const struct age_header_info *h = age_dec_header(d);

		if (h)
			*info = *h;
		else
			memset(info, 0, sizeof *info);
	}
	ck_assert_uint_eq(age_dec_plaintext(d), out->len);
	if (rc < 0) {
		/* A failed stream stays failed, with the same error. */
		struct err again;

		ck_assert_int_eq(age_dec_write(d, "x", 1, &again), -1);
		ck_assert_int_eq(again.code, e->code);
		ck_assert_str_eq(again.msg, e->msg);
	}
	age_dec_free(d);
	return rc;
}

/* Three identities and their recipients, made once per test. */
static struct age_identity idA, idB, idC;
static struct age_recipient rA, rB, rC;

static void
setup_keys(void)
{
	struct err e;

	setup_tmp();
	ck_assert_msg(age_keygen(&idA, NULL, &e) == 0, "%s", e.msg);
	ck_assert_msg(age_keygen(&idB, NULL, &e) == 0, "%s", e.msg);
	ck_assert_msg(age_keygen(&idC, NULL, &e) == 0, "%s", e.msg);
	age_recipient_of(&idA, &rA);
	age_recipient_of(&idB, &rB);
	age_recipient_of(&idC, &rC);
}

static void
teardown_keys(void)
{
	age_identity_wipe(&idA);
	age_identity_wipe(&idB);
	age_identity_wipe(&idC);
	tmp_teardown();
}

/* Encrypt len bytes of payload(seed) to A; the file in *out. */
static uint8_t *
file_to_a(size_t len, unsigned seed, size_t *flen)
{
	uint8_t *p = payload(len, seed);
	struct sink s;

	sink_init(&s);
	enc_all(&rA, 1, p, len, NULL, &s);
	free(p);
	*flen = s.len;
	return s.data;
}

static size_t
header_len_of(const uint8_t *f, size_t len)
{
	struct age_header_info info;
	struct err e;

	ck_assert_msg(age_header_scan(f, len, &info, &e) == 0, "%s", e.msg);
	return info.header_len;
}

/* ---- crafting files independently of the module --------------------- */

static void
t_hkdf(uint8_t out[32], const void *ikm, size_t ikm_len, const void *salt,
    size_t salt_len, const char *info)
{
	EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_id(EVP_PKEY_HKDF, NULL);
	size_t outlen = 32;

	ck_assert_ptr_nonnull(c);
	ck_assert_int_gt(EVP_PKEY_derive_init(c), 0);
	ck_assert_int_gt(EVP_PKEY_CTX_set_hkdf_md(c, EVP_sha256()), 0);
	ck_assert_int_gt(EVP_PKEY_CTX_set1_hkdf_key(c, ikm, (int)ikm_len), 0);
	if (salt_len)
		ck_assert_int_gt(EVP_PKEY_CTX_set1_hkdf_salt(c, salt,
		    (int)salt_len), 0);
	ck_assert_int_gt(EVP_PKEY_CTX_add1_hkdf_info(c,
	    (const unsigned char *)info, (int)strlen(info)), 0);
	ck_assert_int_gt(EVP_PKEY_derive(c, out, &outlen), 0);
	ck_assert_uint_eq(outlen, 32);
	EVP_PKEY_CTX_free(c);
}

/* Unpadded standard base64 through libcrypto's (padded) encoder. */
static void
t_b64(char *out, const uint8_t *in, size_t n)
{
	int k = EVP_EncodeBlock((unsigned char *)out, in, (int)n);

	while (k > 0 && out[k - 1] == '=')
		out[--k] = '\0';
}

static const char b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* The same character's neighbour in the alphabet (delta 1..63). */
static char
b64_shift(char c, int delta)
{
	const char *p = strchr(b64_alphabet, c);

	ck_assert_ptr_nonnull(p);
	return b64_alphabet[(p - b64_alphabet + delta) % 64];
}

/* An X25519 stanza for pub wrapping fk, from a given share and shared
 * secret (for a low-order share), or fresh ones (share NULL). */
static void
t_x25519_stanza(char *out, size_t size, const uint8_t fk[16],
    const uint8_t pub[32], const uint8_t *share_in, const uint8_t *shared_in)
{
	uint8_t eph[32], share[32], shared[32], salt[64], key[32], body[32];
	static const uint8_t zero12[12];
	char s64[64], b64[64];

	if (share_in) {
		memcpy(share, share_in, 32);
		memcpy(shared, shared_in, 32);
	} else {
		randombytes_buf(eph, sizeof eph);
		ck_assert_int_eq(crypto_scalarmult_base(share, eph), 0);
		ck_assert_int_eq(crypto_scalarmult(shared, eph, pub), 0);
	}
	memcpy(salt, share, 32);
	memcpy(salt + 32, pub, 32);
	t_hkdf(key, shared, 32, salt, 64, "age-encryption.org/v1/X25519");
	ck_assert_int_eq(crypto_aead_chacha20poly1305_ietf_encrypt(body, NULL,
	    fk, 16, NULL, 0, NULL, zero12, key), 0);
	t_b64(s64, share, 32);
	t_b64(b64, body, 32);
	ck_assert_int_lt(snprintf(out, size, "-> X25519 %s\n%s\n", s64, b64),
	    (int)size);
}

/* A chunk as the file holds it: its length, final flag and number. */
struct tchunk {
	size_t len;
	int last;
	uint64_t counter;
};

/* A whole file: the version line, the stanzas' text, the MAC over them
 * made with fk, a random nonce, then the chunks of plain as described. */
static uint8_t *
t_file(const uint8_t fk[16], const char *stanzas, const uint8_t *plain,
    const struct tchunk *ch, size_t nch, size_t *flen)
{
	size_t hl = strlen(stanzas) + 128, cap, off = 0, pos;
	uint8_t hkey[32], mac[32], nonce[16], pkey[32];
	unsigned int ml = 0;
	char *h = malloc(hl), mac64[64];
	uint8_t *f;

	ck_assert_ptr_nonnull(h);
	pos = (size_t)snprintf(h, hl, "age-encryption.org/v1\n%s---", stanzas);
	t_hkdf(hkey, fk, 16, NULL, 0, "header");
	ck_assert_ptr_nonnull(HMAC(EVP_sha256(), hkey, 32, (uint8_t *)h, pos,
	    mac, &ml));
	t_b64(mac64, mac, 32);
	pos += (size_t)snprintf(h + pos, hl - pos, " %s\n", mac64);
	cap = pos + 16;
	for (size_t i = 0; i < nch; i++)
		cap += ch[i].len + 16;
	f = malloc(cap);
	ck_assert_ptr_nonnull(f);
	memcpy(f, h, pos);
	free(h);
	randombytes_buf(nonce, sizeof nonce);
	memcpy(f + pos, nonce, 16);
	pos += 16;
	t_hkdf(pkey, fk, 16, nonce, 16, "payload");
	for (size_t i = 0; i < nch; i++) {
		uint8_t n12[12] = { 0 };

		for (int b = 0; b < 8; b++)
			n12[3 + b] = (uint8_t)(ch[i].counter >> (56 - 8 * b));
		n12[11] = (uint8_t)ch[i].last;
		crypto_aead_chacha20poly1305_ietf_encrypt(f + pos, NULL,
		    plain + off, ch[i].len, NULL, 0, NULL, n12, pkey);
		off += ch[i].len;
		pos += ch[i].len + 16;
	}
	*flen = pos;
	return f;
}

/* A file for A with one ordinary X25519 stanza and chunks as described. */
static uint8_t *
t_file_to_a(const uint8_t *plain, const struct tchunk *ch, size_t nch,
    size_t *flen)
{
	uint8_t fk[16];
	char st[256];

	randombytes_buf(fk, sizeof fk);
	t_x25519_stanza(st, sizeof st, fk, rA.key, NULL, NULL);
	return t_file(fk, st, plain, ch, nch, flen);
}

static void
assert_fails(const uint8_t *f, size_t len, const struct age_identity *id,
    enum err_code code, const char *needle, size_t plain_max)
{
	struct sink s;
	struct err e;

	sink_init(&s);
	ck_assert_int_eq(dec_all(id, 1, f, len, NULL, &s, &e, NULL), -1);
	ck_assert_msg(e.code == code, "code %s, not %s: %s", err_name(e.code),
	    err_name(code), e.msg);
	ck_assert_msg(!needle || strstr(e.msg, needle), "'%s' not in '%s'",
	    needle, e.msg);
	ck_assert_uint_le(s.len, plain_max);
	sink_free(&s);
}

static void
assert_opens(const uint8_t *f, size_t len, const struct age_identity *id,
    const uint8_t *plain, size_t plen)
{
	struct sink s;
	struct err e;

	sink_init(&s);
	ck_assert_msg(dec_all(id, 1, f, len, odd_pieces, &s, &e, NULL) == 0,
	    "%s", e.msg);
	ck_assert_uint_eq(s.len, plen);
	ck_assert(plen == 0 || memcmp(s.data, plain, plen) == 0);
	sink_free(&s);
}

/* ---- round trips ---------------------------------------------------- */

static const size_t sizes[] = { 0, 1, 100, 65535, 65536, 65537, 131072,
	131073, 3 * 65536 + 17, 1000000 };

START_TEST(test_roundtrip)
{
	const size_t *feeds[] = { NULL, odd_pieces, tiny_pieces, big_pieces };
	size_t len = sizes[_i];
	uint8_t *p = payload(len, (unsigned)_i);

	for (size_t a = 0; a < 4; a++)
		for (size_t b = 0; b < 4; b++) {
			struct sink c, out;
			struct err e;
			struct age_header_info info;
			size_t chunks = len ? (len + CHUNK - 1) / CHUNK : 1;

			if ((a == 2 || b == 2) && len > 200000)
				continue;
			sink_init(&c);
			sink_init(&out);
			enc_all(&rA, 1, p, len, feeds[a], &c);
			/* header, nonce, chunks each with a tag */
			ck_assert_uint_eq(c.len, header_len_of(c.data, c.len) +
			    16 + len + 16 * chunks);
			ck_assert_msg(dec_all(&idA, 1, c.data, c.len, feeds[b],
			    &out, &e, &info) == 0, "%zu bytes, feeds %zu/%zu: "
			    "%s", len, a, b, e.msg);
			ck_assert_uint_eq(out.len, len);
			ck_assert(len == 0 || memcmp(out.data, p, len) == 0);
			ck_assert_uint_eq(info.stanzas, 1);
			ck_assert_uint_eq(info.x25519, 1);
			ck_assert_int_eq(info.identity, 0);
			sink_free(&c);
			sink_free(&out);
		}
	free(p);
}
END_TEST

/* The encryptor calls out once for the header and once per chunk, and
 * never copies a long write; the decryptor hands out whole chunks. */
START_TEST(test_stream_calls)
{
	size_t len = 10 * CHUNK + 5;
	uint8_t *p = payload(len, 7);
	struct sink c, out;
	struct err e;

	sink_init(&c);
	sink_init(&out);
	enc_all(&rA, 1, p, len, NULL, &c);
	ck_assert_uint_eq(c.calls, 1 + 11);
	ck_assert_int_eq(dec_all(&idA, 1, c.data, c.len, NULL, &out, &e, NULL),
	    0);
	ck_assert_uint_eq(out.calls, 11);
	sink_free(&out);
	ck_assert_int_eq(dec_all(&idA, 1, c.data, c.len, odd_pieces, &out, &e,
	    NULL), 0);
	ck_assert_uint_eq(out.calls, 11);
	ck_assert_int_eq(memcmp(out.data, p, len), 0);
	sink_free(&c);
	sink_free(&out);
	free(p);
}
END_TEST

/* Plaintext comes out only once its chunk has authenticated, and a full
 * chunk is held until the next byte shows it is not the final one. */
START_TEST(test_plaintext_after_auth)
{
	size_t flen, hl;
	uint8_t *f = file_to_a(2 * CHUNK + 10, 3, &flen);
	struct sink out;
	struct err e;
	struct age_dec *d;

	hl = header_len_of(f, flen);
	sink_init(&out);
	d = age_dec_new(&idA, 1, sink_write, &out, &e);
	ck_assert_ptr_nonnull(d);
	ck_assert_ptr_null(age_dec_header(d));
	ck_assert_int_eq(age_dec_write(d, f, hl - 1, &e), 0);
	ck_assert_ptr_null(age_dec_header(d));
	ck_assert_int_eq(age_dec_write(d, f + hl - 1, 1, &e), 0);
	ck_assert_ptr_nonnull(age_dec_header(d));
	ck_assert_uint_eq(age_dec_header(d)->header_len, hl);
	ck_assert_int_eq(age_dec_write(d, f + hl, 16 + ENC_CHUNK - 1, &e), 0);
	ck_assert_uint_eq(out.len, 0);
	ck_assert_int_eq(age_dec_write(d, f + hl + 16 + ENC_CHUNK - 1, 1, &e),
	    0);
	ck_assert_uint_eq(out.len, 0);
	ck_assert_int_eq(age_dec_write(d, f + hl + 16 + ENC_CHUNK, 1, &e), 0);
	ck_assert_uint_eq(out.len, CHUNK);
	ck_assert_int_eq(age_dec_write(d, f + hl + 16 + ENC_CHUNK + 1,
	    flen - (hl + 16 + ENC_CHUNK + 1), &e), 0);
	ck_assert_uint_eq(out.len, 2 * CHUNK);
	ck_assert_msg(age_dec_finish(d, &e) == 0, "%s", e.msg);
	ck_assert_uint_eq(out.len, 2 * CHUNK + 10);
	/* Nothing after the end. */
	ck_assert_int_eq(age_dec_finish(d, &e), -1);
	age_dec_free(d);
	sink_free(&out);
	free(f);
}
END_TEST

/* Two encryptions of the same plaintext share nothing. */
START_TEST(test_fresh_keys)
{
	size_t l1, l2, h1;
	uint8_t *f1 = file_to_a(1000, 1, &l1), *f2 = file_to_a(1000, 1, &l2);

	ck_assert_uint_eq(l1, l2);
	h1 = header_len_of(f1, l1);
	ck_assert_int_ne(memcmp(f1 + 22, f2 + 22, h1 - 22), 0);
	ck_assert_int_ne(memcmp(f1 + h1, f2 + h1, 16), 0);
	free(f1);
	free(f2);
}
END_TEST

/* An output error stops the stream with the callback's own error. */
START_TEST(test_out_error)
{
	uint8_t *p = payload(3 * CHUNK, 2);
	struct age_enc *w;
	struct age_dec *d;
	struct sink s;
	struct err e;
	size_t flen;
	uint8_t *f;

	sink_init(&s);
	s.fail_at = CHUNK;
	w = age_enc_new(&rA, 1, sink_write, &s, &e);
	ck_assert_ptr_nonnull(w);
	ck_assert_int_eq(age_enc_write(w, p, 3 * CHUNK, &e), -1);
	ck_assert_int_eq(e.code, ERR_NO_SPACE);
	ck_assert_str_eq(e.msg, "sink: no space left");
	ck_assert_int_eq(age_enc_finish(w, &e), -1);
	ck_assert_int_eq(age_enc_write(w, p, 1, &e), -1);
	age_enc_free(w);
	sink_free(&s);

	f = file_to_a(3 * CHUNK, 2, &flen);
	sink_init(&s);
	s.fail_at = CHUNK + 1;
	d = age_dec_new(&idA, 1, sink_write, &s, &e);
	ck_assert_ptr_nonnull(d);
	ck_assert_int_eq(age_dec_write(d, f, flen, &e), -1);
	ck_assert_int_eq(e.code, ERR_NO_SPACE);
	ck_assert_uint_eq(age_dec_plaintext(d), CHUNK);
	age_dec_free(d);
	sink_free(&s);
	free(f);
	free(p);
}
END_TEST

START_TEST(test_stream_args)
{
	struct age_recipient many[AGE_RECIPIENTS_MAX + 1];
	struct sink s;
	struct err e;

	sink_init(&s);
	ck_assert_ptr_null(age_enc_new(&rA, 0, sink_write, &s, &e));
	ck_assert_int_eq(e.code, ERR_CONFIG);
	for (size_t i = 0; i < AGE_RECIPIENTS_MAX + 1; i++)
		many[i] = rA;
	ck_assert_ptr_null(age_enc_new(many, AGE_RECIPIENTS_MAX + 1,
	    sink_write, &s, &e));
	ck_assert_ptr_null(age_dec_new(&idA, 0, sink_write, &s, &e));
	ck_assert_int_eq(e.code, ERR_CONFIG);
	/* The most recipients allowed: every one of them opens the file. */
	many[AGE_RECIPIENTS_MAX - 1] = rB;
	enc_all(many, AGE_RECIPIENTS_MAX, (const uint8_t *)"x", 1, NULL, &s);
	assert_opens(s.data, s.len, &idB, (const uint8_t *)"x", 1);
	sink_free(&s);
}
END_TEST

START_TEST(test_header_scan)
{
	struct age_recipient two[2] = { rA, rB };
	struct age_header_info info;
	struct sink s;
	struct err e;
	size_t hl;

	sink_init(&s);
	enc_all(two, 2, (const uint8_t *)"hello", 5, NULL, &s);
	ck_assert_msg(age_header_scan(s.data, s.len, &info, &e) == 0, "%s",
	    e.msg);
	ck_assert_uint_eq(info.stanzas, 2);
	ck_assert_uint_eq(info.x25519, 2);
	ck_assert_int_eq(info.identity, -1);
	hl = info.header_len;
	ck_assert_uint_eq(s.len, hl + 16 + 5 + 16);
	ck_assert_int_eq(memcmp(s.data + hl - 49, "\n--- ", 5), 0);
	ck_assert_int_eq(s.data[hl - 1], '\n');
	/* The header alone is enough; one byte less is not. */
	ck_assert_int_eq(age_header_scan(s.data, hl, &info, &e), 0);
	ck_assert_int_eq(age_header_scan(s.data, hl - 1, &info, &e), -1);
	ck_assert_int_eq(e.code, ERR_VERIFY);
	ck_assert_ptr_nonnull(strstr(e.msg, "truncated"));
	ck_assert_int_eq(age_header_scan("", 0, &info, &e), -1);
	ck_assert_int_eq(e.code, ERR_VERIFY);
	ck_assert_int_eq(age_header_scan("\x28\xb5\x2f\xfd\x00\x00", 6, &info,
	    &e), -1);
	ck_assert_ptr_nonnull(strstr(e.msg, "not an age file"));
	sink_free(&s);
}
END_TEST

/* ---- damage --------------------------------------------------------- */

/* Every byte of the header, flipped, stops decryption before any
 * plaintext: as corrupt, or (the identity's own stanza changed) as
 * addressed to no identity. */
START_TEST(test_flip_header_bytes)
{
	size_t flen, hl;
	uint8_t *f = file_to_a(1000, 5, &flen);
	size_t verify = 0, nomatch = 0;

	hl = header_len_of(f, flen);
	for (size_t i = 0; i < hl; i++)
		for (int bit = 0; bit < 8; bit += 3) {
			struct sink s;
			struct err e;

			f[i] ^= (uint8_t)(1u << bit);
			sink_init(&s);
			ck_assert_msg(dec_all(&idA, 1, f, flen, NULL, &s, &e,
			    NULL) == -1, "byte %zu bit %d flipped: decrypted",
			    i, bit);
			ck_assert_uint_eq(s.len, 0);
			ck_assert_msg(e.code == ERR_VERIFY ||
			    e.code == AGE_ERR_NO_IDENTITY, "byte %zu: %s", i,
			    e.msg);
			if (e.code == ERR_VERIFY)
				verify++;
			else
				nomatch++;
			/* The version line is checked first. */
			if (i < 22)
				ck_assert_int_eq(e.code, ERR_VERIFY);
			/* The MAC line is checked last. */
			if (i >= hl - 44)
				ck_assert_int_eq(e.code, ERR_VERIFY);
			sink_free(&s);
			f[i] ^= (uint8_t)(1u << bit);
		}
	ck_assert_uint_gt(verify, 0);
	ck_assert_uint_gt(nomatch, 0);
	/* Control: the file as it was still opens. */
	{
		uint8_t *p = payload(1000, 5);

		assert_opens(f, flen, &idA, p, 1000);
		free(p);
	}
	free(f);
}
END_TEST

/* The start of header line k (0: the version line). */
static uint8_t *
line_at(uint8_t *f, int k)
{
	uint8_t *p = f;

	while (k-- > 0) {
		p = memchr(p, '\n', 4096);
		ck_assert_ptr_nonnull(p);
		p++;
	}
	return p;
}

/* Two recipients: a change to the other's stanza is caught by the MAC;
 * a change to one's own stanza makes it nobody's. */
START_TEST(test_flip_stanzas)
{
	struct age_recipient two[2] = { rA, rB };
	struct sink s;
	uint8_t *p, saved;

	sink_init(&s);
	enc_all(two, 2, (const uint8_t *)"secret", 6, NULL, &s);
	/* lines: 0 version, 1-2 A's stanza, 3-4 B's, 5 MAC */
	p = line_at(s.data, 4) + 10;
	saved = *p;
	*p = (uint8_t)b64_shift((char)*p, 1);
	assert_fails(s.data, s.len, &idA, ERR_VERIFY, "MAC", 0);
	assert_fails(s.data, s.len, &idB, AGE_ERR_NO_IDENTITY, "no identity",
	    0);
	*p = saved;
	p = line_at(s.data, 2) + 10;
	saved = *p;
	*p = (uint8_t)b64_shift((char)*p, 1);
	assert_fails(s.data, s.len, &idA, AGE_ERR_NO_IDENTITY, "no identity",
	    0);
	assert_fails(s.data, s.len, &idB, ERR_VERIFY, "MAC", 0);
	*p = saved;
	/* B's ephemeral share */
	p = line_at(s.data, 3) + 20;
	saved = *p;
	*p = (uint8_t)b64_shift((char)*p, 1);
	assert_fails(s.data, s.len, &idA, ERR_VERIFY, "MAC", 0);
	*p = saved;
	assert_opens(s.data, s.len, &idA, (const uint8_t *)"secret", 6);
	assert_opens(s.data, s.len, &idB, (const uint8_t *)"secret", 6);
	sink_free(&s);
}
END_TEST

START_TEST(test_flip_mac)
{
	size_t flen, hl;
	uint8_t *f = file_to_a(10, 1, &flen);

	hl = header_len_of(f, flen);
	for (size_t i = hl - 44; i < hl - 1; i++) {
		uint8_t saved = f[i];

		f[i] = (uint8_t)b64_shift((char)f[i], 32);
		assert_fails(f, flen, &idA, ERR_VERIFY, NULL, 0);
		f[i] = saved;
	}
	f[hl - 20] = (uint8_t)b64_shift((char)f[hl - 20], 1);
	assert_fails(f, flen, &idA, ERR_VERIFY, "MAC does not match", 0);
	free(f);
}
END_TEST

/* Decrypt, expecting failure with code and needle after exactly plain
 * bytes of plaintext. */
static void
assert_fails_at(const uint8_t *f, size_t len, enum err_code code,
    const char *needle, size_t plain)
{
	struct sink s;
	struct err e;

	sink_init(&s);
	ck_assert_int_eq(dec_all(&idA, 1, f, len, odd_pieces, &s, &e, NULL),
	    -1);
	ck_assert_msg(e.code == code, "%s: %s", err_name(e.code), e.msg);
	ck_assert_msg(!needle || strstr(e.msg, needle), "'%s' not in '%s'",
	    needle, e.msg);
	ck_assert_msg(s.len == plain, "%zu bytes of plaintext, not %zu (%s)",
	    s.len, plain, e.msg);
	sink_free(&s);
}

START_TEST(test_flip_payload)
{
	size_t len = 3 * CHUNK + 100, flen, c0;
	uint8_t *f = file_to_a(len, 9, &flen);
	uint8_t *p = payload(len, 9);

	c0 = header_len_of(f, flen) + 16;
	ck_assert_uint_eq(flen, c0 + 3 * ENC_CHUNK + 116);
	/* the nonce: no chunk opens */
	f[c0 - 9] ^= 0x40;
	assert_fails_at(f, flen, ERR_VERIFY, "chunk 0", 0);
	f[c0 - 9] ^= 0x40;
	/* the first chunk */
	f[c0] ^= 1;
	assert_fails_at(f, flen, ERR_VERIFY, "chunk 0 does not authenticate",
	    0);
	f[c0] ^= 1;
	/* a middle chunk, in its data and in its tag */
	f[c0 + ENC_CHUNK + 500] ^= 0x80;
	assert_fails_at(f, flen, ERR_VERIFY, "chunk 1 does not authenticate",
	    CHUNK);
	f[c0 + ENC_CHUNK + 500] ^= 0x80;
	f[c0 + 2 * ENC_CHUNK - 1] ^= 2;
	assert_fails_at(f, flen, ERR_VERIFY, "chunk 1", CHUNK);
	f[c0 + 2 * ENC_CHUNK - 1] ^= 2;
	/* the last chunk */
	f[flen - 60] ^= 4;
	assert_fails_at(f, flen, ERR_VERIFY, "final chunk (chunk 3)",
	    3 * CHUNK);
	f[flen - 60] ^= 4;
	f[flen - 1] ^= 4;
	assert_fails_at(f, flen, ERR_VERIFY, "final chunk", 3 * CHUNK);
	f[flen - 1] ^= 4;
	assert_opens(f, flen, &idA, p, len);
	free(f);
	free(p);
}
END_TEST

START_TEST(test_truncate)
{
	size_t len = 3 * CHUNK + 100, flen, hl, c0;
	uint8_t *f = file_to_a(len, 4, &flen);
	struct {
		size_t cut;
		const char *needle;
		size_t plain;
	} cases[8];
	size_t n = 0;

	hl = header_len_of(f, flen);
	c0 = hl + 16;
	/* at chunk boundaries: authentic chunks but no final one */
	cases[n].cut = c0 + ENC_CHUNK;
	cases[n].needle = "truncated: the age payload ends after chunk 0";
	cases[n++].plain = 0;
	cases[n].cut = c0 + 3 * ENC_CHUNK;
	cases[n].needle = "ends after chunk 2 without its final chunk";
	cases[n++].plain = 2 * CHUNK;
	/* inside chunks */
	cases[n].cut = c0 + ENC_CHUNK + 1000;
	cases[n].needle = "final chunk (chunk 1) does not authenticate";
	cases[n++].plain = CHUNK;
	cases[n].cut = flen - 1;
	cases[n].needle = "final chunk (chunk 3)";
	cases[n++].plain = 3 * CHUNK;
	cases[n].cut = c0 + 5;
	cases[n].needle = "inside chunk 0";
	cases[n++].plain = 0;
	/* before the payload */
	cases[n].cut = c0 - 3;
	cases[n].needle = "ends before its age payload";
	cases[n++].plain = 0;
	cases[n].cut = hl - 10;
	cases[n].needle = "ends inside its age header";
	cases[n++].plain = 0;
	cases[n].cut = 0;
	cases[n].needle = "an empty file";
	cases[n++].plain = 0;
	for (size_t i = 0; i < n; i++)
		assert_fails_at(f, cases[i].cut, ERR_VERIFY, cases[i].needle,
		    cases[i].plain);
	free(f);
}
END_TEST

START_TEST(test_swap_chunks)
{
	size_t len = 3 * CHUNK + 100, flen, c0;
	uint8_t *f = file_to_a(len, 6, &flen);
	uint8_t *t = malloc(ENC_CHUNK);

	ck_assert_ptr_nonnull(t);
	c0 = header_len_of(f, flen) + 16;
	memcpy(t, f + c0, ENC_CHUNK);
	memcpy(f + c0, f + c0 + ENC_CHUNK, ENC_CHUNK);
	memcpy(f + c0 + ENC_CHUNK, t, ENC_CHUNK);
	assert_fails_at(f, flen, ERR_VERIFY, "chunk 0 does not authenticate",
	    0);
	memcpy(f + c0 + ENC_CHUNK, f + c0, ENC_CHUNK);
	memcpy(f + c0, t, ENC_CHUNK);
	/* chunks 1 and 2 */
	memcpy(t, f + c0 + ENC_CHUNK, ENC_CHUNK);
	memcpy(f + c0 + ENC_CHUNK, f + c0 + 2 * ENC_CHUNK, ENC_CHUNK);
	memcpy(f + c0 + 2 * ENC_CHUNK, t, ENC_CHUNK);
	assert_fails_at(f, flen, ERR_VERIFY, "chunk 1", CHUNK);
	/* chunk 0 again in the place of chunk 1 */
	memcpy(f + c0 + ENC_CHUNK, f + c0, ENC_CHUNK);
	assert_fails_at(f, flen, ERR_VERIFY, "chunk 1", CHUNK);
	free(t);
	free(f);
}
END_TEST

START_TEST(test_trailing_data)
{
	size_t len = CHUNK + 100, flen;
	uint8_t *p = payload(2 * CHUNK, 8), *f, *g;
	struct tchunk bad[2] = { { CHUNK, 1, 0 }, { 100, 1, 1 } };
	struct tchunk good[2] = { { CHUNK, 0, 0 }, { 100, 1, 1 } };

	/* a byte after the final chunk */
	f = file_to_a(len, 8, &flen);
	g = realloc(f, flen + 1);
	ck_assert_ptr_nonnull(g);
	g[flen] = 0;
	assert_fails_at(g, flen + 1, ERR_VERIFY, "final chunk", CHUNK);
	free(g);
	/* a whole chunk after a full final one */
	f = t_file_to_a(p, bad, 2, &flen);
	assert_fails_at(f, flen, ERR_VERIFY, "data after the final chunk", 0);
	free(f);
	f = t_file_to_a(p, good, 2, &flen);
	assert_opens(f, flen, &idA, p, CHUNK + 100);
	free(f);
	free(p);
}
END_TEST

START_TEST(test_empty_final_chunk)
{
	uint8_t *p = payload(2 * CHUNK, 11), *f;
	struct tchunk bad[2] = { { CHUNK, 0, 0 }, { 0, 1, 1 } };
	struct tchunk full[1] = { { CHUNK, 1, 0 } };
	struct tchunk empty[1] = { { 0, 1, 0 } };
	struct tchunk bad2[3] = { { CHUNK, 0, 0 }, { 10, 0, 1 }, { 0, 1, 2 } };
	size_t flen;

	f = t_file_to_a(p, bad, 2, &flen);
	assert_fails_at(f, flen, ERR_VERIFY, "empty final chunk after data",
	    CHUNK);
	free(f);
	/* the test's chunks are right: a full final chunk, or an empty one
	 * alone, open */
	f = t_file_to_a(p, full, 1, &flen);
	assert_opens(f, flen, &idA, p, CHUNK);
	free(f);
	f = t_file_to_a(p, empty, 1, &flen);
	assert_opens(f, flen, &idA, p, 0);
	free(f);
	/* also after a short chunk (itself not allowed but final) */
	f = t_file_to_a(p, bad2, 3, &flen);
	assert_fails_at(f, flen, ERR_VERIFY, "chunk 1", CHUNK);
	free(f);
	free(p);
}
END_TEST

START_TEST(test_final_flag)
{
	uint8_t *p = payload(2 * CHUNK, 12), *f;
	struct tchunk none[2] = { { CHUNK, 0, 0 }, { 100, 0, 1 } };
	struct tchunk cut[1] = { { CHUNK, 0, 0 } };
	struct tchunk skip[2] = { { CHUNK, 0, 0 }, { 100, 1, 2 } };
	struct tchunk first_final[2] = { { 100, 1, 0 }, { 100, 1, 1 } };
	struct tchunk good[2] = { { CHUNK, 0, 0 }, { 100, 1, 1 } };
	size_t flen;

	f = t_file_to_a(p, none, 2, &flen);
	assert_fails_at(f, flen, ERR_VERIFY, "final chunk (chunk 1) does not "
	    "authenticate", CHUNK);
	free(f);
	f = t_file_to_a(p, cut, 1, &flen);
	assert_fails_at(f, flen, ERR_VERIFY, "truncated", 0);
	free(f);
	f = t_file_to_a(p, skip, 2, &flen);
	assert_fails_at(f, flen, ERR_VERIFY, "chunk 1", CHUNK);
	free(f);
	/* a short final chunk and another after it: the first is read as a
	 * middle chunk of the wrong size */
	f = t_file_to_a(p, first_final, 2, &flen);
	assert_fails_at(f, flen, ERR_VERIFY, NULL, 0);
	free(f);
	f = t_file_to_a(p, good, 2, &flen);
	assert_opens(f, flen, &idA, p, CHUNK + 100);
	free(f);
	free(p);
}
END_TEST

/* ---- the header's syntax -------------------------------------------- */

/* A valid file for A from stanza text s (the MAC over it right). */
static uint8_t *
t_file_stanzas(const uint8_t fk[16], const char *s, const char *plain,
    size_t *flen)
{
	struct tchunk one[1] = { { strlen(plain), 1, 0 } };

	return t_file(fk, s, (const uint8_t *)plain, one, 1, flen);
}

START_TEST(test_noncanonical_base64)
{
	uint8_t fk[16], *f;
	char st[256], bad[300];
	size_t flen, hl;

	randombytes_buf(fk, sizeof fk);
	t_x25519_stanza(st, sizeof st, fk, rA.key, NULL, NULL);
	ck_assert_uint_eq(strlen(st), 98);
	/* control */
	f = t_file_stanzas(fk, st, "canonical", &flen);
	assert_opens(f, flen, &idA, (const uint8_t *)"canonical", 9);
	/* the MAC's padding bits set: the same 32 bytes */
	hl = header_len_of(f, flen);
	f[hl - 2] = (uint8_t)b64_shift((char)f[hl - 2], 1);
	assert_fails(f, flen, &idA, ERR_VERIFY, "malformed MAC line", 0);
	free(f);
	/* the share's padding bits set */
	strcpy(bad, st);
	bad[52] = b64_shift(bad[52], 1);
	f = t_file_stanzas(fk, bad, "x", &flen);
	assert_fails(f, flen, &idA, ERR_VERIFY, "not canonical base64", 0);
	free(f);
	/* the body's padding bits set */
	strcpy(bad, st);
	bad[96] = b64_shift(bad[96], 2);
	f = t_file_stanzas(fk, bad, "x", &flen);
	assert_fails(f, flen, &idA, ERR_VERIFY, "not canonical base64", 0);
	free(f);
	/* padding characters */
	snprintf(bad, sizeof bad, "%.53s=%s", st, st + 53);
	f = t_file_stanzas(fk, bad, "x", &flen);
	assert_fails(f, flen, &idA, ERR_VERIFY, NULL, 0);
	free(f);
	snprintf(bad, sizeof bad, "%.97s=\n", st);
	f = t_file_stanzas(fk, bad, "x", &flen);
	assert_fails(f, flen, &idA, ERR_VERIFY, "not canonical base64", 0);
	free(f);
}
END_TEST

START_TEST(test_unknown_stanza)
{
	uint8_t fk[16], *f;
	char st[256], text[1024];
	struct age_header_info info;
	struct sink s;
	struct err e;
	size_t flen;

	randombytes_buf(fk, sizeof fk);
	t_x25519_stanza(st, sizeof st, fk, rA.key, NULL, NULL);
	/* before and after the X25519 one; a 48-byte body needs an empty
	 * final line */
	snprintf(text, sizeof text, "-> example.com/enigma arg1 ?!+=\n"
	    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n"
	    "\n%s-> scrypt c2FsdHNhbHRzYWx0c2FsdA 18\n"
	    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n", st);
	f = t_file_stanzas(fk, text, "known", &flen);
	sink_init(&s);
	ck_assert_msg(dec_all(&idA, 1, f, flen, odd_pieces, &s, &e, &info) == 0,
	    "%s", e.msg);
	ck_assert_uint_eq(s.len, 5);
	ck_assert_uint_eq(info.stanzas, 3);
	ck_assert_uint_eq(info.x25519, 1);
	sink_free(&s);
	put_file(tp("unknown.age"), f, flen, 0600);
	free(f);
	/* only unknown stanzas: addressed to nobody here */
	f = t_file_stanzas(fk, "-> example.com/enigma\nAAAA\n", "x", &flen);
	assert_fails(f, flen, &idA, AGE_ERR_NO_IDENTITY, "no X25519 recipient",
	    0);
	free(f);
	/* an unknown stanza's body must still parse */
	snprintf(text, sizeof text, "-> example.com/enigma\nAA*A\n%s", st);
	f = t_file_stanzas(fk, text, "x", &flen);
	assert_fails(f, flen, &idA, ERR_VERIFY, "line 3", 0);
	free(f);
	/* a full body line with no short line after it swallows the next */
	snprintf(text, sizeof text, "-> example.com/enigma\n"
	    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n"
	    "%s", st);
	f = t_file_stanzas(fk, text, "x", &flen);
	assert_fails(f, flen, &idA, ERR_VERIFY, "line 4", 0);
	free(f);
	/* a stanza with no body line at all */
	snprintf(text, sizeof text, "%s-> empty\n", st);
	f = t_file_stanzas(fk, text, "x", &flen);
	assert_fails(f, flen, &idA, ERR_VERIFY, "not canonical base64", 0);
	free(f);
}
END_TEST

/* fmt with $S the share, $B the body, $b the body less 3 characters. */
static void
expand(char *out, size_t size, const char *fmt, const char *st)
{
	size_t n = 0;

	for (const char *p = fmt; *p; p++) {
		const char *put = p;
		size_t len = 1;

		if (p[0] == '$' && p[1] == 'S') {
			put = st + 10;
			len = 43;
			p++;
		} else if (p[0] == '$' && (p[1] == 'B' || p[1] == 'b')) {
			put = st + 54;
			len = p[1] == 'B' ? 43 : 40;
			p++;
		}
		ck_assert_uint_lt(n + len, size);
		memcpy(out + n, put, len);
		n += len;
	}
	out[n] = '\0';
}

START_TEST(test_header_syntax)
{
	uint8_t fk[16], *f;
	char st[256], text[1024];
	static const struct {
		const char *fmt;
		const char *needle;
	} cases[] = {
		{ "->  X25519 $S\n$B\n", "an empty stanza argument" },
		{ "-> X25519 $S \n$B\n", "an empty stanza argument" },
		{ "-> X25519 $S extra\n$B\n", "exactly one argument" },
		{ "-> X25519\n$S$B\n", "exactly one argument" },
		{ "->X25519 $S\n$B\n", "neither a stanza nor" },
		{ "-> X25519 $S\n$BAAAA\n", "not 32 bytes" },
		{ "-> X25519 $S\n$b\n", "not 32 bytes" },
		{ "-> X25519 $S\tx\n$B\n", "not printable ASCII" },
		{ "-> X25519 $S\n$B\r\n", "not canonical base64" },
		{ "-> X25519 $S\n$B\n-> \n\n", "an empty stanza argument" },
		{ "-> X25519 $S\n$B\nAAAA\n", "neither a stanza nor" },
		{ "-> X25519 $S\n$B\n-> x\n"
		  "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n",
		  "longer than 64 columns" },
		{ "-> X25519 $S\n$B\n", NULL },
	};
	size_t flen;

	randombytes_buf(fk, sizeof fk);
	t_x25519_stanza(st, sizeof st, fk, rA.key, NULL, NULL);
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		expand(text, sizeof text, cases[i].fmt, st);
		f = t_file_stanzas(fk, text, "x", &flen);
		if (cases[i].needle)
			assert_fails(f, flen, &idA, ERR_VERIFY, cases[i].needle,
			    0);
		else    /* control: the template itself is right */
			assert_opens(f, flen, &idA, (const uint8_t *)"x", 1);
		free(f);
	}
	/* no stanza at all */
	f = t_file_stanzas(fk, "", "x", &flen);
	assert_fails(f, flen, &idA, ERR_VERIFY, "no recipient stanza", 0);
	free(f);
}
END_TEST

/* Whole files that are not v1 age, or whose ends are wrong. */
START_TEST(test_not_age)
{
	static const struct {
		const char *text;
		const char *needle;
	} cases[] = {
		{ "age-encryption.org/v2\n-> X25519 x\n\n--- x\n",
		  "unsupported" },
		{ "-----BEGIN AGE ENCRYPTED FILE-----\nYWdl\n",
		  "ASCII-armored" },
		{ "\x28\xb5\x2f\xfd\x04\x00", "not an age file" },
		{ "age-encryption.org/v1\r\n", "unsupported" },
		{ "hello\n", "not an age file" },
		{ "age-encryption.org/v1\n-> X25519 AAAA\n", "not canonical" },
		{ "age-encryption.org/v1\n--- \n", "no recipient stanza" },
	};
	struct age_dec *d;
	struct sink s;
	struct err e;

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		assert_fails((const uint8_t *)cases[i].text,
		    strlen(cases[i].text), &idA, ERR_VERIFY, cases[i].needle,
		    0);
	/* refused at the first bytes, not after 64 KiB */
	sink_init(&s);
	d = age_dec_new(&idA, 1, sink_write, &s, &e);
	ck_assert_ptr_nonnull(d);
	ck_assert_int_eq(age_dec_write(d, "\x28\xb5\x2f\xfd", 4, &e), -1);
	ck_assert_ptr_nonnull(strstr(e.msg, "not an age file"));
	age_dec_free(d);
}
END_TEST

START_TEST(test_header_bounds)
{
	size_t cap = 400 * 8 + 256, n, flen;
	uint8_t fk[16], *f;
	char st[256], *text = malloc(cap), *big;
	struct age_dec *d;
	struct sink s;
	struct err e;
	size_t i;

	ck_assert_ptr_nonnull(text);
	randombytes_buf(fk, sizeof fk);
	t_x25519_stanza(st, sizeof st, fk, rA.key, NULL, NULL);
	/* 255 unknown stanzas and the X25519 one: 256 in all */
	n = 0;
	for (i = 0; i < AGE_STANZAS_MAX - 1; i++)
		n += (size_t)snprintf(text + n, cap - n, "-> x\n\n");
	snprintf(text + n, cap - n, "%s", st);
	f = t_file_stanzas(fk, text, "many", &flen);
	assert_opens(f, flen, &idA, (const uint8_t *)"many", 4);
	free(f);
	/* one more */
	snprintf(text + n, cap - n, "-> x\n\n%s", st);
	f = t_file_stanzas(fk, text, "many", &flen);
	assert_fails(f, flen, &idA, ERR_VERIFY, "more than 256", 0);
	free(f);
	free(text);
	/* a header line that never ends: refused at 64 KiB, fed in pieces */
	big = malloc(200000);
	ck_assert_ptr_nonnull(big);
	memcpy(big, "age-encryption.org/v1\n-> ", 25);
	memset(big + 25, 'a', 200000 - 25);
	sink_init(&s);
	d = age_dec_new(&idA, 1, sink_write, &s, &e);
	ck_assert_ptr_nonnull(d);
	for (i = 0; i < 200000; i += 1000)
		if (age_dec_write(d, big + i, 1000, &e) < 0)
			break;
	ck_assert_uint_lt(i, 200000);
	ck_assert_uint_le(i, AGE_HEADER_MAX);
	ck_assert_int_eq(e.code, ERR_VERIFY);
	ck_assert_ptr_nonnull(strstr(e.msg, "larger than 64 KiB"));
	age_dec_free(d);
	ck_assert_int_eq(age_header_scan(big, 200000, &(struct age_header_info){
	    0 }, &e), -1);
	ck_assert_ptr_nonnull(strstr(e.msg, "larger than 64 KiB"));
	free(big);
}
END_TEST

/* ---- X25519 --------------------------------------------------------- */

/* Points of small order on Curve25519 (u coordinates, little endian). */
static const uint8_t low_order[][32] = {
	{ 0 },
	{ 1 },
	{ 0xe0, 0xeb, 0x7a, 0x7c, 0x3b, 0x41, 0xb8, 0xae, 0x16, 0x56, 0xe3,
	  0xfa, 0xf1, 0x9f, 0xc4, 0x6a, 0xda, 0x09, 0x8d, 0xeb, 0x9c, 0x32,
	  0xb1, 0xfd, 0x86, 0x62, 0x05, 0x16, 0x5f, 0x49, 0xb8, 0x00 },
	{ 0x5f, 0x9c, 0x95, 0xbc, 0xa3, 0x50, 0x8c, 0x24, 0xb1, 0xd0, 0xb1,
	  0x55, 0x9c, 0x83, 0xef, 0x5b, 0x04, 0x44, 0x5c, 0xc4, 0x58, 0x1c,
	  0x8e, 0x86, 0xd8, 0x22, 0x4e, 0xdd, 0xd0, 0x9f, 0x11, 0x57 },
};

START_TEST(test_low_order_recipient)
{
	struct age_recipient r[2];
	struct sink s;
	struct err e;

	sink_init(&s);
	for (size_t i = 0; i < sizeof low_order / sizeof low_order[0]; i++) {
		memcpy(r[0].key, low_order[i], 32);
		ck_assert_ptr_null(age_enc_new(r, 1, sink_write, &s, &e));
		ck_assert_int_eq(e.code, ERR_CONFIG);
		ck_assert_ptr_nonnull(strstr(e.msg, "low-order point"));
		/* not skipped among good ones either */
		r[1] = r[0];
		r[0] = rA;
		ck_assert_ptr_null(age_enc_new(r, 2, sink_write, &s, &e));
		ck_assert_ptr_nonnull(strstr(e.msg, "low-order point"));
	}
	ck_assert_uint_eq(s.len, 0);
}
END_TEST

/* A stanza whose ephemeral share is a low-order point: the shared secret
 * is all zeros whatever the identity, so anyone could have wrapped the
 * key; the file (otherwise valid: body, MAC and payload made with that
 * zero secret) is refused. */
START_TEST(test_low_order_share)
{
	static const uint8_t zero[32];
	uint8_t fk[16], *f;
	char st[256];
	size_t flen;

	for (size_t i = 0; i < sizeof low_order / sizeof low_order[0]; i++) {
		randombytes_buf(fk, sizeof fk);
		t_x25519_stanza(st, sizeof st, fk, rA.key, low_order[i], zero);
		f = t_file_stanzas(fk, st, "forged", &flen);
		assert_fails(f, flen, &idA, ERR_VERIFY, "low-order point", 0);
		free(f);
	}
}
END_TEST

START_TEST(test_wrong_identity)
{
	struct age_recipient two[2] = { rA, rB };
	struct age_header_info info;
	struct sink s, out;
	struct err e;

	sink_init(&s);
	sink_init(&out);
	enc_all(two, 2, (const uint8_t *)"for A and B", 11, NULL, &s);
	ck_assert_int_eq(dec_all(&idC, 1, s.data, s.len, NULL, &out, &e, &info),
	    -1);
	ck_assert_int_eq(e.code, AGE_ERR_NO_IDENTITY);
	ck_assert_str_eq(e.msg, "no identity matches any of the file's 2 "
	    "X25519 recipients");
	ck_assert_uint_eq(out.len, 0);
	ck_assert_uint_eq(info.stanzas, 2);
	ck_assert_uint_eq(info.x25519, 2);
	ck_assert_int_eq(info.identity, -1);
	sink_free(&s);
}
END_TEST

START_TEST(test_two_recipients)
{
	struct age_recipient two[2] = { rA, rB };
	struct age_identity cb[2] = { idC, idB }, ca[2] = { idC, idA };
	struct age_header_info info;
	struct sink s, out;
	struct err e;

	sink_init(&s);
	enc_all(two, 2, (const uint8_t *)"for A and B", 11, NULL, &s);
	assert_opens(s.data, s.len, &idA, (const uint8_t *)"for A and B", 11);
	assert_opens(s.data, s.len, &idB, (const uint8_t *)"for A and B", 11);
	sink_init(&out);
	ck_assert_int_eq(dec_all(cb, 2, s.data, s.len, NULL, &out, &e, &info),
	    0);
	ck_assert_int_eq(info.identity, 1);
	sink_free(&out);
	ck_assert_int_eq(dec_all(ca, 2, s.data, s.len, NULL, &out, &e, &info),
	    0);
	ck_assert_int_eq(info.identity, 1);
	ck_assert_uint_eq(out.len, 11);
	sink_free(&out);
	sink_free(&s);
}
END_TEST

/* ---- keys ----------------------------------------------------------- */

/* The example key of the age specification. */
static const char spec_identity[] = "AGE-SECRET-KEY-1"
    "GFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPQ4EGAEX";
static const char spec_recipient[] =
    "age1zvkyg2lqzraa2lnjvqej32nkuu0ues2s82hzrye869xeexvn73equnujwj";

static void
lower(char *s)
{
	for (; *s; s++)
		if (*s >= 'A' && *s <= 'Z')
			*s = (char)(*s - 'A' + 'a');
}

static void
upper(char *s)
{
	for (; *s; s++)
		if (*s >= 'a' && *s <= 'z')
			*s = (char)(*s - 'a' + 'A');
}

START_TEST(test_spec_key)
{
	char ids[AGE_IDENTITY_STR_LEN + 1], rs[AGE_RECIPIENT_STR_LEN + 1];
	char text[128];
	struct age_identity id;
	struct age_recipient r, r2;
	struct err e;

	ck_assert_uint_eq(strlen(spec_identity), AGE_IDENTITY_STR_LEN);
	ck_assert_uint_eq(strlen(spec_recipient), AGE_RECIPIENT_STR_LEN);
	ck_assert_msg(age_identity_parse(spec_identity, &id, &e) == 0, "%s",
	    e.msg);
	for (int i = 0; i < 32; i++)
		ck_assert_int_eq(id.secret[i], 0x42);
	age_recipient_of(&id, &r);
	age_recipient_format(&r, rs);
	ck_assert_str_eq(rs, spec_recipient);
	age_identity_format(&id, ids);
	ck_assert_str_eq(ids, spec_identity);
	ck_assert_int_eq(age_recipient_parse(spec_recipient, &r2, &e), 0);
	ck_assert_int_eq(memcmp(r.key, r2.key, 32), 0);
	/* BIP 173: all upper or all lower case */
	strcpy(text, spec_identity);
	lower(text);
	ck_assert_msg(age_identity_parse(text, &id, &e) == 0, "%s", e.msg);
	age_identity_format(&id, ids);
	ck_assert_str_eq(ids, spec_identity);
	strcpy(text, spec_recipient);
	upper(text);
	ck_assert_msg(age_recipient_parse(text, &r2, &e) == 0, "%s", e.msg);
	age_recipient_format(&r2, rs);
	ck_assert_str_eq(rs, spec_recipient);
	age_identity_wipe(&id);
	for (int i = 0; i < 32; i++)
		ck_assert_int_eq(id.secret[i], 0);
}
END_TEST

/* The test's own Bech32 encoder, to make strings the module must refuse:
 * a Bech32m checksum, non-zero padding bits. */
static uint32_t
t_polymod(const uint8_t *v, size_t n)
{
	static const uint32_t g[5] = { 0x3b6a57b2, 0x26508e6d, 0x1ea119fa,
		0x3d4233dd, 0x2a1462b3 };
	uint32_t c = 1;

	for (size_t i = 0; i < n; i++) {
		uint32_t b = c >> 25;

		c = ((c & 0x1ffffff) << 5) ^ v[i];
		for (int k = 0; k < 5; k++)
			if ((b >> k) & 1)
				c ^= g[k];
	}
	return c;
}

static void
t_bech32(char *out, const char *hrp, const uint8_t five[52], uint32_t constant)
{
	static const char cs[] = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";
	size_t h = strlen(hrp), n = 0;
	uint8_t v[128];
	uint32_t m;

	for (size_t i = 0; i < h; i++)
		v[n++] = (uint8_t)(hrp[i] >> 5);
	v[n++] = 0;
	for (size_t i = 0; i < h; i++)
		v[n++] = (uint8_t)(hrp[i] & 31);
	memcpy(v + n, five, 52);
	n += 52;
	memset(v + n, 0, 6);
	m = t_polymod(v, n + 6) ^ constant;
	n = (size_t)sprintf(out, "%s1", hrp);
	for (int i = 0; i < 52; i++)
		out[n++] = cs[five[i]];
	for (int i = 0; i < 6; i++)
		out[n++] = cs[(m >> (5 * (5 - i))) & 31];
	out[n] = '\0';
}

static void
to_five(const uint8_t key[32], uint8_t five[52])
{
	uint32_t acc = 0;
	int bits = 0, n = 0;

	for (int i = 0; i < 32; i++) {
		acc = (acc << 8) | key[i];
		bits += 8;
		while (bits >= 5) {
			bits -= 5;
			five[n++] = (acc >> bits) & 31;
		}
	}
	five[n] = (uint8_t)((acc << (5 - bits)) & 31);
}

static void
assert_bad_recipient(const char *s, const char *needle)
{
	struct age_recipient r;
	struct err e;

	ck_assert_msg(age_recipient_parse(s, &r, &e) == -1, "'%s' accepted", s);
	ck_assert_int_eq(e.code, ERR_CONFIG);
	ck_assert_msg(strstr(e.msg, needle), "'%s': '%s' not in '%s'", s,
	    needle, e.msg);
}

static void
assert_bad_identity(const char *s, const char *needle)
{
	struct age_identity id;
	struct err e;

	ck_assert_msg(age_identity_parse(s, &id, &e) == -1, "'%s' accepted", s);
	ck_assert_int_eq(e.code, ERR_CONFIG);
	ck_assert_msg(strstr(e.msg, needle), "'%s': '%s' not in '%s'", s,
	    needle, e.msg);
	/* never the key's text in the message */
	if (strlen(s) > 30)
		ck_assert_ptr_null(strstr(e.msg, s + 20));
}

START_TEST(test_bech32_errors)
{
	char s[128], rs[AGE_RECIPIENT_STR_LEN + 1];
	uint8_t five[52];

	strcpy(s, spec_recipient);
	s[20] = s[20] == 'q' ? 'p' : 'q';
	assert_bad_recipient(s, "bad Bech32 checksum");
	strcpy(s, spec_recipient);
	s[5] = (char)(s[5] - 'a' + 'A');	/* v */
	assert_bad_recipient(s, "mixed upper and lower case");
	snprintf(s, sizeof s, "%.61s", spec_recipient);
	assert_bad_recipient(s, "wrong length");
	snprintf(s, sizeof s, "%sq", spec_recipient);
	assert_bad_recipient(s, "wrong length");
	strcpy(s, spec_recipient);
	s[40] = 'b';
	assert_bad_recipient(s, "outside the Bech32 alphabet");
	strcpy(s, spec_recipient);
	s[40] = ' ';
	assert_bad_recipient(s, "not printable ASCII");
	assert_bad_recipient("", "empty");
	assert_bad_recipient("age", "not an age X25519 recipient");
	assert_bad_recipient("age1", "wrong length");
	assert_bad_recipient("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIG user",
	    "an SSH key");
	assert_bad_recipient(spec_identity, "an age identity (a secret key)");
	/* another Bech32 kind of key: post-quantum, plugin */
	to_five(rA.key, five);
	t_bech32(s, "age1pq", five, 1);
	assert_bad_recipient(s, "not an age X25519 recipient");
	/* Bech32m (BIP 350) is not Bech32 */
	t_bech32(s, "age", five, 0x2bc830a3);
	assert_bad_recipient(s, "bad Bech32 checksum");
	/* control: the test's encoder makes what the module makes */
	t_bech32(s, "age", five, 1);
	age_recipient_format(&rA, rs);
	ck_assert_str_eq(s, rs);
	/* padding bits */
	five[51] |= 1;
	t_bech32(s, "age", five, 1);
	assert_bad_recipient(s, "non-zero padding bits");

	/* identities */
	strcpy(s, spec_identity);
	s[40] = s[40] == 'Q' ? 'P' : 'Q';
	assert_bad_identity(s, "bad Bech32 checksum");
	strcpy(s, spec_identity);
	s[17] = (char)(s[17] - 'A' + 'a');	/* F */
	assert_bad_identity(s, "mixed upper and lower case");
	snprintf(s, sizeof s, "%.70s", spec_identity);
	assert_bad_identity(s, "wrong length");
	assert_bad_identity(spec_recipient, "an age recipient (a public key)");
	assert_bad_identity("AGE-PLUGIN-YUBIKEY-1QQQQQQ", "not an age X25519 "
	    "identity");
	to_five(rA.key, five);
	t_bech32(s, "age-secret-key-", five, 0x2bc830a3);
	upper(s);
	assert_bad_identity(s, "bad Bech32 checksum");
}
END_TEST

START_TEST(test_fingerprint)
{
	char text[AGE_RECIPIENT_STR_LEN + 1], fa[AGE_FINGERPRINT_LEN + 1];
	char fb[AGE_FINGERPRINT_LEN + 1], hex[17];
	uint8_t md[32];
	unsigned int mdlen = 0;

	age_recipient_format(&rA, text);
	ck_assert_int_eq(EVP_Digest(text, strlen(text), md, &mdlen,
	    EVP_sha256(), NULL), 1);
	for (int i = 0; i < 8; i++)
		sprintf(hex + 2 * i, "%02x", md[i]);
	age_recipient_fingerprint(&rA, fa);
	ck_assert_str_eq(fa, hex);
	ck_assert_uint_eq(strlen(fa), AGE_FINGERPRINT_LEN);
	age_recipient_fingerprint(&rB, fb);
	ck_assert_str_ne(fa, fb);
}
END_TEST

START_TEST(test_keygen)
{
	char rs[AGE_RECIPIENT_STR_LEN + 1], rs2[AGE_RECIPIENT_STR_LEN + 1];
	char ids[AGE_IDENTITY_STR_LEN + 1], text[200], want[200];
	struct age_identity id, id2;
	struct age_recipient r;
	struct err e;

	ck_assert_int_eq(age_keygen(&id, rs, &e), 0);
	ck_assert_int_eq(age_keygen(&id2, NULL, &e), 0);
	ck_assert_int_ne(memcmp(id.secret, id2.secret, 32), 0);
	ck_assert_uint_eq(strlen(rs), AGE_RECIPIENT_STR_LEN);
	age_recipient_of(&id, &r);
	age_recipient_format(&r, rs2);
	ck_assert_str_eq(rs, rs2);
	age_identity_format(&id, ids);
	ck_assert_int_eq(strncmp(ids, "AGE-SECRET-KEY-1", 16), 0);
	ck_assert_int_eq(age_identity_parse(ids, &id2, &e), 0);
	ck_assert_int_eq(memcmp(&id, &id2, sizeof id), 0);
	ck_assert_int_eq(age_identity_file_text(&id, 86400 * 365, text,
	    sizeof text, &e), 0);
	snprintf(want, sizeof want, "# created: 1971-01-01T00:00:00Z\n"
	    "# public key: %s\n%s\n", rs, ids);
	ck_assert_str_eq(text, want);
	ck_assert_int_eq(age_identity_file_text(&id, 0, text, 150, &e), -1);
	ck_assert_int_eq(text[0], '\0');
	age_identity_wipe(&id);
	age_identity_wipe(&id2);
}
END_TEST

/* ---- key files ------------------------------------------------------ */

static void
put_text(const char *path, const char *text, mode_t mode)
{
	put_file(path, text, strlen(text), mode);
}

static void
identity_text(const struct age_identity *id, char *buf, size_t size)
{
	struct err e;

	ck_assert_int_eq(age_identity_file_text(id, 0, buf, size, &e), 0);
}

/* The key files tmp/name. */
static int
idload(const char *name, struct age_identity **ids, size_t *n,
    struct err *e)
{
	return age_identity_file_load(tp(name), ids, n, e);
}

static int
rcload(const char *name, struct age_recipient **rs, size_t *n, struct err *e)
{
	return age_recipients_file_load(tp(name), rs, n, e);
}

START_TEST(test_identity_file_modes)
{
	static const struct {
		mode_t mode;
		const char *words;
	} refused[] = {
		{ 0644, "is readable by others (mode 0644): chmod 600 it" },
		{ 0604, "is readable by others (mode 0604): chmod 600 it" },
		{ 0640, "is readable by its group (mode 0640): chmod 600 it" },
		{ 0440, "is readable by its group (mode 0440): chmod 600 it" },
		{ 0620, "is writable by group or others (mode 0620): "
		  "chmod 600 it" },
		{ 0602, "is writable by group or others (mode 0602): "
		  "chmod 600 it" },
	};
	char text[256], want[PATH_MAX + 100];
	struct age_identity *ids;
	size_t n;
	struct err e;

	identity_text(&idA, text, sizeof text);
	for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
		put_text(tp("key.txt"), text, refused[i].mode);
		ck_assert_int_eq(idload("key.txt", &ids, &n, &e), -1);
		ck_assert_int_eq(e.code, ERR_CONFIG);
		snprintf(want, sizeof want, "%s %s", tp("key.txt"),
		    refused[i].words);
		ck_assert_str_eq(e.msg, want);
		ck_assert_ptr_null(ids);
	}
	put_text(tp("key.txt"), text, 0600);
	ck_assert_msg(idload("key.txt", &ids, &n, &e) == 0,
	    "%s", e.msg);
	ck_assert_uint_eq(n, 1);
	ck_assert_int_eq(memcmp(&ids[0], &idA, sizeof idA), 0);
	age_identities_free(ids, n);
	put_text(tp("key.txt"), text, 0400);
	ck_assert_int_eq(idload("key.txt", &ids, &n, &e), 0);
	age_identities_free(ids, n);
	/* a Secret volume's links are followed; the mode is the target's */
	ck_assert_int_eq(symlink(tp("key.txt"), tp("link.txt")), 0);
	ck_assert_int_eq(idload("link.txt", &ids, &n, &e), 0);
	age_identities_free(ids, n);
	ck_assert_int_eq(chmod(tp("key.txt"), 0644), 0);
	ck_assert_int_eq(idload("link.txt", &ids, &n, &e),
	    -1);
	ck_assert_ptr_nonnull(strstr(e.msg, "(mode 0644): chmod 600 it"));
	/* a FIFO is refused, without waiting for a writer */
	ck_assert_int_eq(mkfifo(tp("fifo"), 0600), 0);
	ck_assert_int_eq(idload("fifo", &ids, &n, &e), -1);
	ck_assert_ptr_nonnull(strstr(e.msg, "FIFO"));
	ck_assert_int_eq(idload("missing", &ids, &n, &e),
	    -1);
	ck_assert_int_eq(e.code, ERR_NOT_FOUND);
}
END_TEST

START_TEST(test_identity_file_format)
{
	char ta[AGE_IDENTITY_STR_LEN + 1], tb[AGE_IDENTITY_STR_LEN + 1];
	char text[8192], want[PATH_MAX + 100], bad[AGE_IDENTITY_STR_LEN + 1];
	char ra[AGE_RECIPIENT_STR_LEN + 1];
	struct age_identity *ids;
	struct sink s;
	struct err e;
	size_t n, off;

	age_identity_format(&idA, ta);
	age_identity_format(&idB, tb);
	age_recipient_format(&rA, ra);
	/* comments, blank lines, CRLF and blanks around the key */
	snprintf(text, sizeof text, "# created: 2024-01-01T00:00:00Z\r\n"
	    "# public key: %s\r\n%s\r\n\n   \n\t%s  \n# end", ra, ta, tb);
	put_text(tp("key.txt"), text, 0600);
	ck_assert_msg(idload("key.txt", &ids, &n, &e) == 0,
	    "%s", e.msg);
	ck_assert_uint_eq(n, 2);
	ck_assert_int_eq(memcmp(&ids[0], &idA, sizeof idA), 0);
	ck_assert_int_eq(memcmp(&ids[1], &idB, sizeof idB), 0);
	age_identities_free(ids, n);
	/* a typo on line 4: the place and the reason, never the line */
	strcpy(bad, tb);
	bad[50] = bad[50] == 'Q' ? 'P' : 'Q';
	snprintf(text, sizeof text, "# comment\n%s\n\n%s\n", ta, bad);
	put_text(tp("key.txt"), text, 0600);
	ck_assert_int_eq(idload("key.txt", &ids, &n, &e), -1);
	snprintf(want, sizeof want, "%s:4: invalid age identity: bad Bech32 "
	    "checksum (a typo or a truncated key?)", tp("key.txt"));
	ck_assert_str_eq(e.msg, want);
	ck_assert_int_eq(e.code, ERR_CONFIG);
	ck_assert_ptr_null(ids);
	/* a public key where the secret one belongs */
	snprintf(text, sizeof text, "\n%s\n", ra);
	put_text(tp("key.txt"), text, 0600);
	ck_assert_int_eq(idload("key.txt", &ids, &n, &e), -1);
	snprintf(want, sizeof want, "%s:2: an age recipient", tp("key.txt"));
	ck_assert_int_eq(strncmp(e.msg, want, strlen(want)), 0);
	/* nothing but comments */
	put_text(tp("key.txt"), "# nothing\n\n", 0600);
	ck_assert_int_eq(idload("key.txt", &ids, &n, &e), -1);
	ck_assert_ptr_nonnull(strstr(e.msg, "no identity"));
	/* too many */
	off = 0;
	for (int i = 0; i <= AGE_IDENTITIES_MAX; i++)
		off += (size_t)snprintf(text + off, sizeof text - off, "%s\n",
		    ta);
	put_text(tp("key.txt"), text, 0600);
	ck_assert_int_eq(idload("key.txt", &ids, &n, &e), -1);
	ck_assert_ptr_nonnull(strstr(e.msg, ":65: more than 64 identities"));
	/* a passphrase-encrypted identity file */
	sink_init(&s);
	enc_all(&rB, 1, (const uint8_t *)text, 80, NULL, &s);
	put_file(tp("key.age"), s.data, s.len, 0600);
	ck_assert_int_eq(idload("key.age", &ids, &n, &e), -1);
	ck_assert_ptr_nonnull(strstr(e.msg, "encrypted identity file"));
	sink_free(&s);
}
END_TEST

START_TEST(test_recipients_file)
{
	char ra[AGE_RECIPIENT_STR_LEN + 1], rb[AGE_RECIPIENT_STR_LEN + 1];
	char ta[AGE_IDENTITY_STR_LEN + 1], text[8192], want[PATH_MAX + 100];
	struct age_recipient *rs;
	struct err e;
	size_t n, off;

	age_recipient_format(&rA, ra);
	age_recipient_format(&rB, rb);
	age_identity_format(&idA, ta);
	snprintf(text, sizeof text, "# the operators' keys\n\n  %s  \n"
	    "# another\n%s\r\n", ra, rb);
	/* public: others may read it */
	put_text(tp("rcpt.txt"), text, 0644);
	ck_assert_msg(rcload("rcpt.txt", &rs, &n, &e) == 0,
	    "%s", e.msg);
	ck_assert_uint_eq(n, 2);
	ck_assert_int_eq(memcmp(rs[0].key, rA.key, 32), 0);
	ck_assert_int_eq(memcmp(rs[1].key, rB.key, 32), 0);
	free(rs);
	/* file:line: reason */
	snprintf(text, sizeof text, "%s\n\n# x\n%.40s\n", ra, rb);
	put_text(tp("rcpt.txt"), text, 0644);
	ck_assert_int_eq(rcload("rcpt.txt", &rs, &n, &e),
	    -1);
	snprintf(want, sizeof want, "%s:4: invalid age recipient: wrong length",
	    tp("rcpt.txt"));
	ck_assert_str_eq(e.msg, want);
	ck_assert_int_eq(e.code, ERR_CONFIG);
	ck_assert_ptr_null(rs);
	snprintf(text, sizeof text, "%s\nssh-ed25519 AAAAC3Nza user@host\n",
	    ra);
	put_text(tp("rcpt.txt"), text, 0644);
	ck_assert_int_eq(rcload("rcpt.txt", &rs, &n, &e),
	    -1);
	snprintf(want, sizeof want, "%s:2: an SSH key", tp("rcpt.txt"));
	ck_assert_int_eq(strncmp(e.msg, want, strlen(want)), 0);
	/* a secret key pasted here by mistake is not echoed */
	snprintf(text, sizeof text, "%s\n", ta);
	put_text(tp("rcpt.txt"), text, 0644);
	ck_assert_int_eq(rcload("rcpt.txt", &rs, &n, &e),
	    -1);
	snprintf(want, sizeof want, "%s:1: an age identity", tp("rcpt.txt"));
	ck_assert_int_eq(strncmp(e.msg, want, strlen(want)), 0);
	ck_assert_ptr_null(strstr(e.msg, ta + 16));
	put_text(tp("rcpt.txt"), "# none yet\n", 0644);
	ck_assert_int_eq(rcload("rcpt.txt", &rs, &n, &e),
	    -1);
	ck_assert_ptr_nonnull(strstr(e.msg, "no recipient"));
	off = 0;
	for (int i = 0; i <= AGE_RECIPIENTS_MAX; i++)
		off += (size_t)snprintf(text + off, sizeof text - off, "%s\n",
		    ra);
	put_text(tp("rcpt.txt"), text, 0644);
	ck_assert_int_eq(rcload("rcpt.txt", &rs, &n, &e),
	    -1);
	ck_assert_ptr_nonnull(strstr(e.msg, ":65: more than 64 recipients"));
	ck_assert_int_eq(rcload("none", &rs, &n, &e), -1);
	ck_assert_int_eq(e.code, ERR_NOT_FOUND);
}
END_TEST

/* ---- interoperability with the age tools ---------------------------- */

/* name on PATH; its absence fails the test. */
static const char *
tool(const char *name)
{
	static char found[4][PATH_MAX];
	static int next;
	const char *path = getenv("PATH");
	char *b = found[next++ % 4];

	while (path && *path) {
		const char *colon = strchr(path, ':');
		size_t n = colon ? (size_t)(colon - path) : strlen(path);

		if (n > 0 && snprintf(b, PATH_MAX, "%.*s/%s", (int)n, path,
		    name) < PATH_MAX && access(b, X_OK) == 0)
			return b;
		path += n + (colon ? 1 : 0);
	}
	ck_abort_msg("%s is not on PATH: the interoperability tests need "
	    "Debian's age package (scripts/install-deps.sh installs it)", name);
	return NULL;
}

/* Run argv (stdin from /dev/null, stdout to out if not NULL); its exit
 * status, its stderr in errtext. */
static int
run(const char *const argv[], const char *out, char *errtext, size_t size)
{
	char errpath[PATH_MAX];
	pid_t pid;
	int st;
	FILE *f;
	size_t k;

	snprintf(errpath, sizeof errpath, "%s/stderr.txt", tmp);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		int in = open("/dev/null", O_RDONLY);
		int er = open(errpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);

		if (in < 0 || er < 0 || dup2(in, 0) < 0 || dup2(er, 2) < 0)
			_exit(126);
		if (out) {
			int o = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);

			if (o < 0 || dup2(o, 1) < 0)
				_exit(126);
		}
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	errtext[0] = '\0';
	if ((f = fopen(errpath, "r"))) {
		k = fread(errtext, 1, size - 1, f);
		errtext[k] = '\0';
		fclose(f);
	}
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static const size_t interop_sizes[] = { 0, 1, 65536, 65537, 300000 };

START_TEST(test_interop_ours_to_age)
{
	struct age_recipient two[2] = { rA, rB };
	char text[256], errtext[4096];
	const char *age = tool("age");

	identity_text(&idA, text, sizeof text);
	put_text(tp("a.txt"), text, 0600);
	identity_text(&idB, text, sizeof text);
	put_text(tp("b.txt"), text, 0600);
	for (size_t i = 0; i < sizeof interop_sizes / sizeof interop_sizes[0];
	    i++) {
		size_t len = interop_sizes[i], got;
		uint8_t *p = payload(len, (unsigned)i + 100), *back;
		struct sink s;

		sink_init(&s);
		enc_all(two, 2, p, len, odd_pieces, &s);
		put_file(tp("f.age"), s.data, s.len, 0600);
		for (int k = 0; k < 2; k++) {
			/* stdout: age -o makes no file for no output */
			const char *argv[] = { age, "-d", "-i",
				tp(k ? "b.txt" : "a.txt"), tp("f.age"), NULL };

			ck_assert_msg(run(argv, tp("out"), errtext,
			    sizeof errtext) == 0, "age -d of %zu bytes: %s", len,
			    errtext);
			back = (uint8_t *)slurp(tp("out"), &got);
			ck_assert_uint_eq(got, len);
			ck_assert(len == 0 || memcmp(back, p, len) == 0);
			free(back);
		}
		sink_free(&s);
		free(p);
	}
}
END_TEST

/* Read the recipient age-keygen -y prints for an identity file. */
static void
keygen_y(const char *keyfile, char out[AGE_RECIPIENT_STR_LEN + 1])
{
	const char *argv[] = { tool("age-keygen"), "-y", keyfile, NULL };
	char errtext[4096];
	uint8_t *b;
	size_t n;

	ck_assert_msg(run(argv, tp("pub.txt"), errtext, sizeof errtext) == 0,
	    "age-keygen -y: %s", errtext);
	b = (uint8_t *)slurp(tp("pub.txt"), &n);
	ck_assert_uint_eq(n, AGE_RECIPIENT_STR_LEN + 1);
	ck_assert_int_eq(b[AGE_RECIPIENT_STR_LEN], '\n');
	memcpy(out, b, AGE_RECIPIENT_STR_LEN);
	out[AGE_RECIPIENT_STR_LEN] = '\0';
	free(b);
}

START_TEST(test_interop_age_to_ours)
{
	const char *age = tool("age"), *keygen = tool("age-keygen");
	char errtext[4096], r1[AGE_RECIPIENT_STR_LEN + 1];
	char r2[AGE_RECIPIENT_STR_LEN + 1], mine[AGE_RECIPIENT_STR_LEN + 1];
	char text[512];
	struct age_identity *k1, *k2;
	struct age_recipient r, *rs;
	size_t n1, n2, nr;
	struct err e;

	{
		const char *a1[] = { keygen, "-o", tp("k1.txt"), NULL };
		const char *a2[] = { keygen, "-o", tp("k2.txt"), NULL };

		ck_assert_msg(run(a1, NULL, errtext, sizeof errtext) == 0, "%s",
		    errtext);
		ck_assert_msg(run(a2, NULL, errtext, sizeof errtext) == 0, "%s",
		    errtext);
	}
	/* age-keygen's files load as they are (it makes them 0600) */
	ck_assert_msg(age_identity_file_load(tp("k1.txt"), &k1, &n1, &e) == 0,
	    "%s", e.msg);
	ck_assert_msg(age_identity_file_load(tp("k2.txt"), &k2, &n2, &e) == 0,
	    "%s", e.msg);
	keygen_y(tp("k1.txt"), r1);
	keygen_y(tp("k2.txt"), r2);
	age_recipient_of(&k1[0], &r);
	age_recipient_format(&r, mine);
	ck_assert_str_eq(mine, r1);
	/* a recipients file both read */
	snprintf(text, sizeof text, "# two keys\n%s\n\n%s\n", r1, r2);
	put_text(tp("rcpt.txt"), text, 0644);
	ck_assert_msg(age_recipients_file_load(tp("rcpt.txt"), &rs, &nr, &e) ==
	    0, "%s", e.msg);
	ck_assert_uint_eq(nr, 2);
	free(rs);
	for (size_t i = 0; i < sizeof interop_sizes / sizeof interop_sizes[0];
	    i++) {
		size_t len = interop_sizes[i], flen;
		uint8_t *p = payload(len, (unsigned)i + 200), *f;
		const char *one[] = { age, "-e", "-r", r1, "-o", tp("f.age"),
			tp("plain"), NULL };
		const char *both[] = { age, "-e", "-R", tp("rcpt.txt"), "-o",
			tp("g.age"), tp("plain"), NULL };

		put_file(tp("plain"), p, len, 0600);
		ck_assert_msg(run(one, NULL, errtext, sizeof errtext) == 0,
		    "age -e: %s", errtext);
		ck_assert_msg(run(both, NULL, errtext, sizeof errtext) == 0,
		    "age -e -R: %s", errtext);
		f = (uint8_t *)slurp(tp("f.age"), &flen);
		assert_opens(f, flen, &k1[0], p, len);
		assert_fails(f, flen, &k2[0], AGE_ERR_NO_IDENTITY, NULL, 0);
		free(f);
		f = (uint8_t *)slurp(tp("g.age"), &flen);
		assert_opens(f, flen, &k1[0], p, len);
		assert_opens(f, flen, &k2[0], p, len);
		free(f);
		free(p);
	}
	/* armored output is named as such */
	{
		const char *arm[] = { age, "-e", "-a", "-r", r1, "-o",
			tp("a.age"), tp("plain"), NULL };
		size_t flen;
		uint8_t *f;

		ck_assert_int_eq(run(arm, NULL, errtext, sizeof errtext), 0);
		f = (uint8_t *)slurp(tp("a.age"), &flen);
		assert_fails(f, flen, &k1[0], ERR_VERIFY, "ASCII-armored", 0);
		free(f);
	}
	age_identities_free(k1, n1);
	age_identities_free(k2, n2);
}
END_TEST

/* Our keygen's identity file works with the age tools. */
START_TEST(test_interop_keygen)
{
	const char *age = tool("age");
	char rs[AGE_RECIPIENT_STR_LEN + 1], y[AGE_RECIPIENT_STR_LEN + 1];
	char text[256], errtext[4096];
	struct age_identity id;
	struct err e;
	uint8_t *p = payload(65537, 300), *back;
	size_t got;

	ck_assert_int_eq(age_keygen(&id, rs, &e), 0);
	ck_assert_int_eq(age_identity_file_text(&id, time(NULL), text,
	    sizeof text, &e), 0);
	put_text(tp("mine.txt"), text, 0600);
	keygen_y(tp("mine.txt"), y);
	ck_assert_str_eq(y, rs);
	put_file(tp("plain"), p, 65537, 0600);
	{
		const char *enc[] = { age, "-e", "-r", rs, "-o", tp("f.age"),
			tp("plain"), NULL };
		const char *dec[] = { age, "-d", "-i", tp("mine.txt"), "-o",
			tp("out"), tp("f.age"), NULL };

		ck_assert_msg(run(enc, NULL, errtext, sizeof errtext) == 0, "%s",
		    errtext);
		ck_assert_msg(run(dec, NULL, errtext, sizeof errtext) == 0,
		    "age -d -i (our identity file): %s", errtext);
	}
	back = (uint8_t *)slurp(tp("out"), &got);
	ck_assert_uint_eq(got, 65537);
	ck_assert_int_eq(memcmp(back, p, got), 0);
	free(back);
	free(p);
	age_identity_wipe(&id);
}
END_TEST

/* The files this suite crafts mean to age what they mean here: the
 * reference implementation also skips the unknown stanzas and refuses an
 * empty final chunk after data, a low-order share and a non-canonical
 * share. */
START_TEST(test_interop_crafted)
{
	const char *age = tool("age");
	static const uint8_t zero[32];
	struct tchunk bad[2] = { { CHUNK, 0, 0 }, { 0, 1, 1 } };
	uint8_t *p = payload(CHUNK, 400), *f, fk[16];
	char text[256], errtext[4096], st[256];
	const char *argv[] = { age, "-d", "-i", tp("a.txt"), "-o", tp("out"),
		tp("f.age"), NULL };
	size_t flen;

	identity_text(&idA, text, sizeof text);
	put_text(tp("a.txt"), text, 0600);
	/* control: the unknown stanzas of test_unknown_stanza */
	{
		char un[1024];

		randombytes_buf(fk, sizeof fk);
		t_x25519_stanza(st, sizeof st, fk, rA.key, NULL, NULL);
		snprintf(un, sizeof un, "-> example.com/enigma arg1 ?!+=\n"
		    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n"
		    "\n%s", st);
		f = t_file_stanzas(fk, un, "known", &flen);
		put_file(tp("f.age"), f, flen, 0600);
		free(f);
		ck_assert_msg(run(argv, NULL, errtext, sizeof errtext) == 0,
		    "age -d refused the unknown stanza: %s", errtext);
	}
	f = t_file_to_a(p, bad, 2, &flen);
	put_file(tp("f.age"), f, flen, 0600);
	free(f);
	ck_assert_int_ne(run(argv, NULL, errtext, sizeof errtext), 0);
	randombytes_buf(fk, sizeof fk);
	t_x25519_stanza(st, sizeof st, fk, rA.key, low_order[0], zero);
	f = t_file_stanzas(fk, st, "forged", &flen);
	put_file(tp("f.age"), f, flen, 0600);
	free(f);
	ck_assert_int_ne(run(argv, NULL, errtext, sizeof errtext), 0);
	t_x25519_stanza(st, sizeof st, fk, rA.key, NULL, NULL);
	st[52] = b64_shift(st[52], 1);
	f = t_file_stanzas(fk, st, "x", &flen);
	put_file(tp("f.age"), f, flen, 0600);
	free(f);
	ck_assert_int_ne(run(argv, NULL, errtext, sizeof errtext), 0);
	free(p);
}
END_TEST

static Suite *
age_suite(void)
{
	Suite *s = suite_create("age");
	TCase *tc;

	tc = tcase_create("stream");
	tcase_add_checked_fixture(tc, setup_keys, teardown_keys);
	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, test_roundtrip, 0,
	    (int)(sizeof sizes / sizeof sizes[0]));
	tcase_add_test(tc, test_stream_calls);
	tcase_add_test(tc, test_plaintext_after_auth);
	tcase_add_test(tc, test_fresh_keys);
	tcase_add_test(tc, test_out_error);
	tcase_add_test(tc, test_stream_args);
	tcase_add_test(tc, test_header_scan);
	suite_add_tcase(s, tc);

	tc = tcase_create("damage");
	tcase_add_checked_fixture(tc, setup_keys, teardown_keys);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_flip_header_bytes);
	tcase_add_test(tc, test_flip_stanzas);
	tcase_add_test(tc, test_flip_mac);
	tcase_add_test(tc, test_flip_payload);
	tcase_add_test(tc, test_truncate);
	tcase_add_test(tc, test_swap_chunks);
	tcase_add_test(tc, test_trailing_data);
	tcase_add_test(tc, test_empty_final_chunk);
	tcase_add_test(tc, test_final_flag);
	suite_add_tcase(s, tc);

	tc = tcase_create("header");
	tcase_add_checked_fixture(tc, setup_keys, teardown_keys);
	tcase_add_test(tc, test_noncanonical_base64);
	tcase_add_test(tc, test_unknown_stanza);
	tcase_add_test(tc, test_header_syntax);
	tcase_add_test(tc, test_not_age);
	tcase_add_test(tc, test_header_bounds);
	suite_add_tcase(s, tc);

	tc = tcase_create("x25519");
	tcase_add_checked_fixture(tc, setup_keys, teardown_keys);
	tcase_add_test(tc, test_low_order_recipient);
	tcase_add_test(tc, test_low_order_share);
	tcase_add_test(tc, test_wrong_identity);
	tcase_add_test(tc, test_two_recipients);
	suite_add_tcase(s, tc);

	tc = tcase_create("keys");
	tcase_add_checked_fixture(tc, setup_keys, teardown_keys);
	tcase_add_test(tc, test_spec_key);
	tcase_add_test(tc, test_bech32_errors);
	tcase_add_test(tc, test_fingerprint);
	tcase_add_test(tc, test_keygen);
	tcase_add_test(tc, test_identity_file_modes);
	tcase_add_test(tc, test_identity_file_format);
	tcase_add_test(tc, test_recipients_file);
	suite_add_tcase(s, tc);

	tc = tcase_create("interop");
	tcase_add_checked_fixture(tc, setup_keys, teardown_keys);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_interop_ours_to_age);
	tcase_add_test(tc, test_interop_age_to_ours);
	tcase_add_test(tc, test_interop_keygen);
	tcase_add_test(tc, test_interop_crafted);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return run_suite(age_suite(), "age");
}
