/* age_fixture: the helpers the age suites share (see age_fixture.h). */
#include "config.h"

#include <check.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/kdf.h>
#include <sodium.h>

#include "testutil.h"
#include "age_fixture.h"
#include "age.h"
#include "err.h"

/* ---- fixtures ------------------------------------------------------- */

static void
setup_tmp(void)
{
	tmp_setup();
	ck_assert_int_ge(sodium_init(), 0);
}

/* tmp/name into a static buffer (sixteen in turn). */
const char *
tp(const char *name)
{
	static char buf[16][PATH_MAX];
	static int next;
	char *b = buf[next++ % 16];

	ck_assert_int_lt(snprintf(b, PATH_MAX, "%s/%s", tmp, name), PATH_MAX);
	return b;
}

/* Deterministic test data. */
uint8_t *
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

void
sink_init(struct sink *s)
{
	memset(s, 0, sizeof *s);
	s->fail_at = -1;
}

int
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

void
sink_free(struct sink *s)
{
	free(s->data);
	sink_init(s);
}

/* Piece sizes to feed the streams with, 0-terminated; NULL: all at once. */
const size_t odd_pieces[] = { 1, 3, 17, 4095, 65535, 65552, 65553, 7,
	131104, 100000, 0 };

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

void
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
int
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
struct age_identity idA, idB, idC;
struct age_recipient rA, rB, rC;

void
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

void
teardown_keys(void)
{
	age_identity_wipe(&idA);
	age_identity_wipe(&idB);
	age_identity_wipe(&idC);
	tmp_teardown();
}

size_t
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
char
b64_shift(char c, int delta)
{
	const char *p = strchr(b64_alphabet, c);

	ck_assert_ptr_nonnull(p);
	return b64_alphabet[(p - b64_alphabet + delta) % 64];
}

/* An X25519 stanza for pub wrapping fk, from a given share and shared
 * secret (for a low-order share), or fresh ones (share NULL). */
void
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
uint8_t *
t_file_to_a(const uint8_t *plain, const struct tchunk *ch, size_t nch,
    size_t *flen)
{
	uint8_t fk[16];
	char st[256];

	randombytes_buf(fk, sizeof fk);
	t_x25519_stanza(st, sizeof st, fk, rA.key, NULL, NULL);
	return t_file(fk, st, plain, ch, nch, flen);
}

void
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

void
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

/* ---- the header's syntax -------------------------------------------- */

/* A valid file for A from stanza text s (the MAC over it right). */
uint8_t *
t_file_stanzas(const uint8_t fk[16], const char *s, const char *plain,
    size_t *flen)
{
	struct tchunk one[1] = { { strlen(plain), 1, 0 } };

	return t_file(fk, s, (const uint8_t *)plain, one, 1, flen);
}

/* ---- X25519 --------------------------------------------------------- */

/* Points of small order on Curve25519 (u coordinates, little endian). */
const uint8_t low_order[][32] = {
	{ 0 },
	{ 1 },
	{ 0xe0, 0xeb, 0x7a, 0x7c, 0x3b, 0x41, 0xb8, 0xae, 0x16, 0x56, 0xe3,
	  0xfa, 0xf1, 0x9f, 0xc4, 0x6a, 0xda, 0x09, 0x8d, 0xeb, 0x9c, 0x32,
	  0xb1, 0xfd, 0x86, 0x62, 0x05, 0x16, 0x5f, 0x49, 0xb8, 0x00 },
	{ 0x5f, 0x9c, 0x95, 0xbc, 0xa3, 0x50, 0x8c, 0x24, 0xb1, 0xd0, 0xb1,
	  0x55, 0x9c, 0x83, 0xef, 0x5b, 0x04, 0x44, 0x5c, 0xc4, 0x58, 0x1c,
	  0x8e, 0x86, 0xd8, 0x22, 0x4e, 0xdd, 0xd0, 0x9f, 0x11, 0x57 },
};

/* ---- key files ------------------------------------------------------ */

void
put_text(const char *path, const char *text, mode_t mode)
{
	put_file(path, text, strlen(text), mode);
}

void
identity_text(const struct age_identity *id, char *buf, size_t size)
{
	struct err e;

	ck_assert_int_eq(age_identity_file_text(id, 0, buf, size, &e), 0);
}
