/* Unit tests of agent/age, the streams of the age v1 format to X25519
 * recipients:
 *
 *   - round trips of payloads around the 64 KiB chunk size, fed in odd
 *     piece sizes both ways, and what the streams emit and when;
 *   - damage: a flipped byte anywhere in the header, in the MAC, in the
 *     nonce, in a middle and in the last chunk; truncation in the header,
 *     at a chunk boundary and inside a chunk; chunks swapped; data after
 *     the final chunk; an empty final chunk after data; no final flag.
 *
 * Files with chunks crafted by hand (age_fixture.h) each have a control
 * that decrypts when the rule under test is not broken.
 *
 * Every test works in its own directory, made with mkdtemp below one base
 * directory under ${TMPDIR:-/tmp}; main() removes the base directory at the
 * end whatever happened. */
#include "config.h"

#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "age_fixture.h"
#include "age.h"
#include "err.h"

#define ENC_CHUNK (CHUNK + 16)

/* ---- a growing output buffer for the streams ------------------------ */

static const size_t tiny_pieces[] = { 1, 2, 3, 5, 0 };
static const size_t big_pieces[] = { 65536 * 3 + 5, 65552 * 2 + 1, 0 };

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

/* ---- suite ---------------------------------------------------------- */

static Suite *
age_stream_suite(void)
{
	Suite *s = suite_create("age_stream");
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
	return s;
}

int
main(void)
{
	return run_suite(age_stream_suite(), "age_stream");
}
