/* Unit tests of agent/age, the header and its X25519 stanzas:
 *
 *   - the header's syntax: non-canonical base64 (share, body, MAC), an
 *     unknown stanza skipped, malformed stanzas, the bounds on stanzas
 *     and header bytes, files that are not age at all;
 *   - X25519: a low-order point refused as a recipient and as an
 *     ephemeral share, the wrong identity, two recipients.
 *
 * The files are crafted by hand (age_fixture.h) with a valid MAC and
 * valid chunks, so that only the rule under test can refuse them; each
 * has a control that decrypts when the rule is not broken.
 *
 * Every test works in its own directory, made with mkdtemp below one base
 * directory under ${TMPDIR:-/tmp}; main() removes the base directory at the
 * end whatever happened. */
#include "config.h"

#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "testutil.h"
#include "age_fixture.h"
#include "age.h"
#include "err.h"

/* ---- the header's syntax -------------------------------------------- */

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

/* ---- suite ---------------------------------------------------------- */

static Suite *
age_header_suite(void)
{
	Suite *s = suite_create("age_header");
	TCase *tc;

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
	return s;
}

int
main(void)
{
	return run_suite(age_header_suite(), "age_header");
}
