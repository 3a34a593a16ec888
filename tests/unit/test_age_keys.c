/* Unit tests of agent/age, the keys: the specification's example key,
 * Bech32 errors (checksum, Bech32m, padding, mixed case, other kinds of
 * keys), fingerprints, keygen; identity files (modes, links, FIFOs,
 * format) and recipient files (file:line errors).
 *
 * Every test works in its own directory, made with mkdtemp below one base
 * directory under ${TMPDIR:-/tmp}; main() removes the base directory at the
 * end whatever happened. */
#include "config.h"

#include <check.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "testutil.h"
#include "age_fixture.h"
#include "age.h"
#include "err.h"

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

/* ---- suite ---------------------------------------------------------- */

static Suite *
age_keys_suite(void)
{
	Suite *s = suite_create("age_keys");
	TCase *tc;

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
	return s;
}

int
main(void)
{
	return run_suite(age_keys_suite(), "age_keys");
}
