/* age_keys: the keys of age in their Bech32 text forms (BIP 173), and
 * the identity and recipients files of the `age` tools (see age.h). */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <sodium.h>

#include "age.h"
#include "age_int.h"
#include "fsutil.h"

/* Key files are small; these bound what is read. */
#define IDENTITY_FILE_MAX (64 * 1024)
#define RECIPIENTS_FILE_MAX (256 * 1024)

static const char recipient_hrp[] = "age";
static const char identity_hrp[] = "age-secret-key-";

/* ---- Bech32 (BIP 173) ----------------------------------------------- */

static const char bech32_charset[] = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";

static uint32_t
bech32_step(uint32_t chk, unsigned v)
{
	static const uint32_t gen[5] = {
		0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3
	};
	uint32_t top = chk >> 25;

	chk = ((chk & 0x1ffffff) << 5) ^ v;
	for (int i = 0; i < 5; i++)
		if ((top >> i) & 1)
			chk ^= gen[i];
	return chk;
}

/* The checksum state after the expanded human-readable part (lower
 * case): the high bits of each character, a zero, the low bits. */
static uint32_t
bech32_hrp(const char *hrp, size_t n)
{
	uint32_t chk = 1;

	for (size_t i = 0; i < n; i++)
		chk = bech32_step(chk, (unsigned char)hrp[i] >> 5);
	chk = bech32_step(chk, 0);
	for (size_t i = 0; i < n; i++)
		chk = bech32_step(chk, (unsigned char)hrp[i] & 31);
	return chk;
}

static int
bech32_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		c = (char)(c - 'A' + 'a');
	for (int i = 0; i < 32; i++)
		if (bech32_charset[i] == c)
			return i;
	return -1;
}

/* Lower-case Bech32 of hrp and 32 bytes: hrp, '1', 52 data and 6
 * checksum characters, NUL. */
static void
bech32_encode32(char *out, const char *hrp, const uint8_t data[AGE_KEY_SIZE])
{
	size_t hn = strlen(hrp), n = 0;
	uint8_t five[52];
	uint32_t acc = 0, chk;
	int bits = 0;

	for (size_t i = 0; i < AGE_KEY_SIZE; i++) {
		acc = (acc << 8) | data[i];
		bits += 8;
		while (bits >= 5) {
			bits -= 5;
			five[n++] = (uint8_t)((acc >> bits) & 31);
		}
	}
	if (bits > 0)
		five[n++] = (uint8_t)((acc << (5 - bits)) & 31);
	chk = bech32_hrp(hrp, hn);
	memcpy(out, hrp, hn);
	out[hn] = '1';
	for (size_t i = 0; i < n; i++) {
		chk = bech32_step(chk, five[i]);
		out[hn + 1 + i] = bech32_charset[five[i]];
	}
	for (int i = 0; i < 6; i++)
		chk = bech32_step(chk, 0);
	chk ^= 1;
	for (int i = 0; i < 6; i++)
		out[hn + 1 + n + (size_t)i] =
		    bech32_charset[(chk >> (5 * (5 - i))) & 31];
	out[hn + 1 + n + 6] = '\0';
	sodium_memzero(five, sizeof five);
	sodium_memzero(&acc, sizeof acc);
}

/* Decode s[0..n), whose human-readable part must be hrp (given in lower
 * case; s in either case, not mixed), into 32 bytes. NULL on success,
 * else the reason; *wrong_hrp when s is Bech32-shaped text of another
 * kind. The reasons never quote s. */
static const char *
bech32_decode32(const char *s, size_t n, const char *hrp,
    uint8_t out[AGE_KEY_SIZE], int *wrong_hrp)
{
	size_t hn = strlen(hrp), sep = SIZE_MAX, k = 0;
	int lower = 0, upper = 0, bits = 0;
	const char *why = NULL;
	uint32_t acc = 0, chk;

	*wrong_hrp = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 33 || c > 126)
			return "a character that is not printable ASCII";
		if (c >= 'a' && c <= 'z')
			lower = 1;
		if (c >= 'A' && c <= 'Z')
			upper = 1;
		if (c == '1')
			sep = i;
	}
	if (lower && upper)
		return "mixed upper and lower case";
	if (sep != hn || strncasecmp(s, hrp, hn) != 0) {
		*wrong_hrp = 1;
		return "another kind of key";
	}
	if (n - sep - 1 != 52 + 6)
		return "wrong length";
	chk = bech32_hrp(hrp, hn);
	for (size_t i = sep + 1; i < n; i++) {
		int v = bech32_value(s[i]);

		if (v < 0) {
			why = "a character outside the Bech32 alphabet";
			goto out;
		}
		chk = bech32_step(chk, (unsigned)v);
		if (i >= n - 6)
			continue;
		acc = (acc << 5) | (unsigned)v;
		bits += 5;
		if (bits >= 8) {
			bits -= 8;
			out[k++] = (uint8_t)((acc >> bits) & 0xff);
		}
	}
	if (chk != 1)
		why = "bad Bech32 checksum (a typo or a truncated key?)";
	else if (k != AGE_KEY_SIZE || bits >= 5 ||
	    (acc & ((1u << bits) - 1)) != 0)
		why = "non-zero padding bits";
out:
	sodium_memzero(&acc, sizeof acc);
	return why;
}

/* ---- keys ----------------------------------------------------------- */

static int
recipient_decode(const char *s, size_t n, struct age_recipient *r,
    struct err *e)
{
	const char *why;
	int wrong;

	if (n == 0)
		return err_set(e, ERR_CONFIG, "empty age recipient");
	if (n >= sizeof identity_hrp - 1 &&
	    strncasecmp(s, identity_hrp, sizeof identity_hrp - 1) == 0)
		return err_set(e, ERR_CONFIG, "an age identity (a secret key) "
		    "where a recipient (its public key, age-keygen -y) "
		    "belongs");
	if ((n >= 4 && strncmp(s, "ssh-", 4) == 0) ||
	    (n >= 6 && strncmp(s, "ecdsa-", 6) == 0) ||
	    (n >= 7 && strncmp(s, "sk-ssh-", 7) == 0))
		return err_set(e, ERR_CONFIG, "an SSH key: only age1... X25519 "
		    "recipients are supported");
	why = bech32_decode32(s, n, recipient_hrp, r->key, &wrong);
	if (wrong)
		return err_set(e, ERR_CONFIG, "not an age X25519 recipient "
		    "(age1 and 58 characters)");
	if (why)
		return err_set(e, ERR_CONFIG, "invalid age recipient: %s", why);
	return 0;
}

static int
identity_decode(const char *s, size_t n, struct age_identity *id,
    struct err *e)
{
	const char *why;
	int wrong;

	if (n >= 4 && strncasecmp(s, "age1", 4) == 0)
		return err_set(e, ERR_CONFIG, "an age recipient (a public key) "
		    "where an identity (AGE-SECRET-KEY-1...) belongs");
	why = bech32_decode32(s, n, identity_hrp, id->secret, &wrong);
	if (why) {
		age_identity_wipe(id);
		if (wrong)
			return err_set(e, ERR_CONFIG, "not an age X25519 "
			    "identity (AGE-SECRET-KEY-1 and 58 characters)");
		return err_set(e, ERR_CONFIG, "invalid age identity: %s", why);
	}
	if (crypto_scalarmult_curve25519_base(id->pub, id->secret) != 0) {
		age_identity_wipe(id);
		return err_set(e, ERR_CONFIG, "invalid age identity: no public "
		    "key");
	}
	return 0;
}

int
age_recipient_parse(const char *s, struct age_recipient *r, struct err *e)
{
	return recipient_decode(s, strlen(s), r, e);
}

void
age_recipient_format(const struct age_recipient *r,
    char out[AGE_RECIPIENT_STR_LEN + 1])
{
	bech32_encode32(out, recipient_hrp, r->key);
}

void
age_recipient_fingerprint(const struct age_recipient *r,
    char out[AGE_FINGERPRINT_LEN + 1])
{
	char text[AGE_RECIPIENT_STR_LEN + 1];
	uint8_t md[crypto_hash_sha256_BYTES];

	age_recipient_format(r, text);
	crypto_hash_sha256(md, (const uint8_t *)text, strlen(text));
	sodium_bin2hex(out, AGE_FINGERPRINT_LEN + 1, md,
	    AGE_FINGERPRINT_LEN / 2);
}

int
age_identity_parse(const char *s, struct age_identity *id, struct err *e)
{
	if (age_crypto_ready(e) < 0)
		return -1;
	return identity_decode(s, strlen(s), id, e);
}

void
age_identity_format(const struct age_identity *id,
    char out[AGE_IDENTITY_STR_LEN + 1])
{
	bech32_encode32(out, identity_hrp, id->secret);
	for (char *p = out; *p; p++)
		if (*p >= 'a' && *p <= 'z')
			*p = (char)(*p - 'a' + 'A');
}

void
age_recipient_of(const struct age_identity *id, struct age_recipient *r)
{
	memcpy(r->key, id->pub, AGE_KEY_SIZE);
}

int
age_keygen(struct age_identity *id, char recipient[AGE_RECIPIENT_STR_LEN + 1],
    struct err *e)
{
	struct age_recipient r;

	if (age_crypto_ready(e) < 0)
		return -1;
	randombytes_buf(id->secret, sizeof id->secret);
	if (crypto_scalarmult_curve25519_base(id->pub, id->secret) != 0) {
		age_identity_wipe(id);
		return err_set(e, ERR_FAILED, "X25519: no public key");
	}
	if (recipient) {
		age_recipient_of(id, &r);
		age_recipient_format(&r, recipient);
	}
	return 0;
}

int
age_identity_file_text(const struct age_identity *id, time_t created,
    char *buf, size_t size, struct err *e)
{
	char when[32], pub[AGE_RECIPIENT_STR_LEN + 1];
	char sec[AGE_IDENTITY_STR_LEN + 1];
	struct age_recipient r;
	struct tm tm;
	int n;

	if (!gmtime_r(&created, &tm) ||
	    !strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm))
		return err_set(e, ERR_FAILED, "identity file: bad creation "
		    "time");
	age_recipient_of(id, &r);
	age_recipient_format(&r, pub);
	age_identity_format(id, sec);
	n = snprintf(buf, size, "# created: %s\n# public key: %s\n%s\n",
	    when, pub, sec);
	sodium_memzero(sec, sizeof sec);
	if (n < 0 || (size_t)n >= size) {
		sodium_memzero(buf, size);
		return err_set(e, ERR_FAILED, "identity file: %zu bytes are "
		    "not enough", size);
	}
	return 0;
}

void
age_identity_wipe(struct age_identity *id)
{
	if (id)
		sodium_memzero(id, sizeof *id);
}

void
age_identities_free(struct age_identity *ids, size_t n)
{
	if (!ids)
		return;
	sodium_memzero(ids, n * sizeof *ids);
	free(ids);
}

static int
is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

/* The next line of buf[*pos..len), without its LF and the blanks around
 * it. 0 at the end. */
static int
next_line(const char *buf, size_t len, size_t *pos, const char **line,
    size_t *n)
{
	const char *s, *nl;
	size_t l;

	if (*pos >= len)
		return 0;
	s = buf + *pos;
	nl = memchr(s, '\n', len - *pos);
	l = nl ? (size_t)(nl - s) : len - *pos;
	*pos += l + (nl ? 1 : 0);
	while (l > 0 && is_blank(s[0])) {
		s++;
		l--;
	}
	while (l > 0 && is_blank(s[l - 1]))
		l--;
	*line = s;
	*n = l;
	return 1;
}

static const char *
access_word(mode_t mode)
{
	if (mode & S_IROTH)
		return "readable by others";
	if (mode & S_IRGRP)
		return "readable by its group";
	return "writable by group or others";
}

int
age_identity_file_load(const char *path, struct age_identity **ids,
    size_t *n, struct err *e)
{
	struct age_identity *v = NULL;
	size_t len = 0, pos = 0, lineno = 0, count = 0, ln;
	const char *line;
	char *buf = NULL;
	struct stat st;
	int rc = -1;

	*ids = NULL;
	*n = 0;
	if (age_crypto_ready(e) < 0)
		return -1;
	if (fs_read_config_file(path, IDENTITY_FILE_MAX, &buf, &len, &st,
	    e) < 0)
		return -1;
	if (st.st_mode & 077) {
		err_set(e, ERR_CONFIG, "%s is %s (mode %04o): chmod 600 it",
		    path, access_word(st.st_mode), (unsigned)(st.st_mode &
		    07777));
		goto out;
	}
	if (len >= sizeof AGE_VERSION_PREFIX - 1 &&
	    memcmp(buf, AGE_VERSION_PREFIX, sizeof AGE_VERSION_PREFIX - 1) == 0) {
		err_set(e, ERR_CONFIG, "%s is an encrypted identity file "
		    "(age -p): not supported, decrypt it first", path);
		goto out;
	}
	if (!(v = calloc(AGE_IDENTITIES_MAX, sizeof *v))) {
		err_set(e, ERR_FAILED, "out of memory");
		goto out;
	}
	while (next_line(buf, len, &pos, &line, &ln)) {
		lineno++;
		if (ln == 0 || line[0] == '#')
			continue;
		if (count == AGE_IDENTITIES_MAX) {
			err_set(e, ERR_CONFIG, "%s:%zu: more than %d "
			    "identities", path, lineno, AGE_IDENTITIES_MAX);
			goto out;
		}
		if (identity_decode(line, ln, &v[count], e) < 0) {
			err_prefix(e, "%s:%zu", path, lineno);
			goto out;
		}
		count++;
	}
	if (count == 0) {
		err_set(e, ERR_CONFIG, "%s: no identity (an "
		    "AGE-SECRET-KEY-1... line)", path);
		goto out;
	}
	*ids = v;
	*n = count;
	v = NULL;
	rc = 0;
out:
	age_identities_free(v, AGE_IDENTITIES_MAX);
	if (buf) {
		sodium_memzero(buf, len);
		free(buf);
	}
	return rc;
}

int
age_recipients_file_load(const char *path, struct age_recipient **rs,
    size_t *n, struct err *e)
{
	struct age_recipient *v = NULL;
	size_t len = 0, pos = 0, lineno = 0, count = 0, ln;
	const char *line;
	char *buf = NULL;
	int rc = -1;

	*rs = NULL;
	*n = 0;
	if (fs_read_config_file(path, RECIPIENTS_FILE_MAX, &buf, &len, NULL,
	    e) < 0)
		return -1;
	if (!(v = calloc(AGE_RECIPIENTS_MAX, sizeof *v))) {
		err_set(e, ERR_FAILED, "out of memory");
		goto out;
	}
	while (next_line(buf, len, &pos, &line, &ln)) {
		lineno++;
		if (ln == 0 || line[0] == '#')
			continue;
		if (count == AGE_RECIPIENTS_MAX) {
			err_set(e, ERR_CONFIG, "%s:%zu: more than %d "
			    "recipients", path, lineno, AGE_RECIPIENTS_MAX);
			goto out;
		}
		if (recipient_decode(line, ln, &v[count], e) < 0) {
			err_prefix(e, "%s:%zu", path, lineno);
			goto out;
		}
		count++;
	}
	if (count == 0) {
		err_set(e, ERR_CONFIG, "%s: no recipient (an age1... line)",
		    path);
		goto out;
	}
	*rs = v;
	*n = count;
	v = NULL;
	rc = 0;
out:
	free(v);
	if (buf) {
		/* An identity pasted here by mistake is a secret too. */
		sodium_memzero(buf, len);
		free(buf);
	}
	return rc;
}
