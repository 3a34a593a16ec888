/* age_header: the parser of an age header, fed a line at a time, shared
 * by age_header_scan and the decryptor (see age.h). */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "age.h"
#include "age_int.h"

void
age_hp_init(struct hparser *hp, int keep)
{
	memset(hp, 0, sizeof *hp);
	hp->keep = keep;
	hp->info.identity = -1;
}

static int
hp_bad(const struct hparser *hp, struct err *e, const char *what)
{
	return err_set(e, ERR_VERIFY, "corrupt age header (line %zu): %s",
	    hp->lineno, what);
}

/* The first line is not age-encryption.org/v1. */
static int
bad_first_line(const char *s, size_t n, struct err *e)
{
	if (n >= sizeof AGE_VERSION_PREFIX - 1 &&
	    memcmp(s, AGE_VERSION_PREFIX, sizeof AGE_VERSION_PREFIX - 1) == 0)
		return err_set(e, ERR_VERIFY, "unsupported age format version "
		    "(only age-encryption.org/v1 is read)");
	if (n >= sizeof AGE_ARMOR_LINE - 1 &&
	    memcmp(s, AGE_ARMOR_LINE, sizeof AGE_ARMOR_LINE - 1) == 0)
		return err_set(e, ERR_VERIFY, "an ASCII-armored age file: not "
		    "supported (age -d reads it)");
	return err_set(e, ERR_VERIFY, "not an age file (no "
	    "age-encryption.org/v1 line)");
}

int
age_hp_partial(const struct hparser *hp, const char *s, size_t n, struct err *e)
{
	if (hp->state != H_VERSION)
		return 0;
	if (n < 128 && (memcmp(s, AGE_VERSION_PREFIX,
	    MIN(n, sizeof AGE_VERSION_PREFIX - 1)) == 0 || memcmp(s, AGE_ARMOR_LINE,
	    MIN(n, sizeof AGE_ARMOR_LINE - 1)) == 0))
		return 0;
	return bad_first_line(s, n, e);
}

/* "-> " was seen; s[0..n) holds the arguments. */
static int
hp_stanza(struct hparser *hp, const char *s, size_t n, struct err *e)
{
	const char *arg[2] = { NULL, NULL };
	size_t alen[2] = { 0, 0 }, nargs = 0, i = 0;

	if (hp->info.stanzas == AGE_STANZAS_MAX)
		return err_set(e, ERR_VERIFY, "corrupt age header (line %zu): "
		    "more than %d recipient stanzas", hp->lineno,
		    AGE_STANZAS_MAX);
	for (;;) {
		size_t j = i;

		while (j < n && s[j] != ' ') {
			if ((unsigned char)s[j] < 0x21 ||
			    (unsigned char)s[j] > 0x7e)
				return hp_bad(hp, e, "a stanza argument holds "
				    "a character that is not printable ASCII");
			j++;
		}
		if (j == i)
			return hp_bad(hp, e, "an empty stanza argument");
		if (nargs < 2) {
			arg[nargs] = s + i;
			alen[nargs] = j - i;
		}
		nargs++;
		if (j == n)
			break;
		i = j + 1;
	}
	hp->info.stanzas++;
	hp->in_x25519 = alen[0] == 6 && memcmp(arg[0], "X25519", 6) == 0;
	hp->body_len = 0;
	hp->state = H_BODY;
	if (!hp->in_x25519)
		return 0;
	hp->info.x25519++;
	if (nargs != 2)
		return hp_bad(hp, e, "an X25519 stanza without exactly one "
		    "argument");
	if (hp->keep && hp->nx == hp->xcap) {
		size_t cap = hp->xcap ? hp->xcap * 2 : 4;
		struct xstanza *v = realloc(hp->xs, cap * sizeof *v);

		if (!v)
			return err_set(e, ERR_FAILED, "out of memory");
		hp->xs = v;
		hp->xcap = cap;
	}
	{
		uint8_t share[32];
		size_t got;

		if (age_b64_decode(arg[1], alen[1], share, sizeof share,
		    &got) < 0 || got != sizeof share)
			return hp_bad(hp, e, "an X25519 ephemeral share that "
			    "is not canonical base64 of 32 bytes");
		if (hp->keep)
			memcpy(hp->xs[hp->nx].share, share, sizeof share);
	}
	return 0;
}

static int
hp_body(struct hparser *hp, const char *s, size_t n, struct err *e)
{
	uint8_t bytes[BODY_LINE_BYTES];
	size_t got;

	if (n > BODY_COLS)
		return hp_bad(hp, e, "a stanza body line longer than 64 "
		    "columns");
	if (age_b64_decode(s, n, bytes, sizeof bytes, &got) < 0)
		return hp_bad(hp, e, "a stanza body that is not canonical "
		    "base64");
	if (hp->in_x25519 && hp->keep &&
	    hp->body_len + got <= sizeof hp->xs[0].body)
		memcpy(hp->xs[hp->nx].body + hp->body_len, bytes, got);
	hp->body_len += got;
	if (n == BODY_COLS)
		return 0;
	/* A line shorter than 64 columns (maybe empty) ends the body. */
	if (hp->in_x25519) {
		if (hp->body_len != FILE_KEY_SIZE + TAG_SIZE)
			return hp_bad(hp, e, "an X25519 stanza body that is "
			    "not 32 bytes");
		if (hp->keep)
			hp->nx++;
	}
	hp->state = H_STANZA;
	return 0;
}

/* "---" was seen at offset start. */
static int
hp_end(struct hparser *hp, size_t start, const char *s, size_t n,
    struct err *e)
{
	size_t got;

	if (hp->info.stanzas == 0)
		return hp_bad(hp, e, "no recipient stanza");
	if (n != 4 + B64_32 || s[3] != ' ' ||
	    age_b64_decode(s + 4, B64_32, hp->mac, sizeof hp->mac, &got) < 0 ||
	    got != sizeof hp->mac)
		return hp_bad(hp, e, "a malformed MAC line");
	hp->mac_off = start + 3;
	hp->info.header_len = hp->off;
	hp->state = H_DONE;
	return 0;
}

int
age_hp_line(struct hparser *hp, const char *s, size_t n, struct err *e)
{
	size_t start = hp->off;

	hp->off += n + 1;
	hp->lineno++;
	switch (hp->state) {
	case H_VERSION:
		if (n != sizeof AGE_VERSION_LINE - 1 ||
		    memcmp(s, AGE_VERSION_LINE, n) != 0)
			return bad_first_line(s, n, e);
		hp->state = H_STANZA;
		return 0;
	case H_BODY:
		return hp_body(hp, s, n, e);
	case H_STANZA:
		if (n >= 3 && memcmp(s, "-> ", 3) == 0)
			return hp_stanza(hp, s + 3, n - 3, e);
		if (n >= 3 && memcmp(s, "---", 3) == 0)
			return hp_end(hp, start, s, n, e);
		return hp_bad(hp, e, "neither a stanza nor the MAC line");
	default:
		return hp_bad(hp, e, "a line after the MAC line");
	}
}

void
age_hp_free(struct hparser *hp)
{
	free(hp->xs);
	hp->xs = NULL;
	hp->nx = hp->xcap = 0;
}

int
age_header_scan(const void *buf, size_t len, struct age_header_info *info,
    struct err *e)
{
	const char *p = buf;
	size_t pos = 0, lim = MIN(len, (size_t)AGE_HEADER_MAX);
	struct hparser hp;

	age_hp_init(&hp, 0);
	while (hp.state != H_DONE) {
		const char *nl = memchr(p + pos, '\n', lim - pos);

		if (!nl) {
			if (age_hp_partial(&hp, p + pos, lim - pos, e) < 0)
				return -1;
			if (len >= AGE_HEADER_MAX)
				return err_set(e, ERR_VERIFY, "corrupt age "
				    "header: larger than %d KiB",
				    AGE_HEADER_MAX / 1024);
			if (len == 0)
				return err_set(e, ERR_VERIFY, "an empty file: "
				    "not an age file");
			return err_set(e, ERR_VERIFY, "truncated: the file "
			    "ends inside its age header");
		}
		if (age_hp_line(&hp, p + pos, (size_t)(nl - (p + pos)), e) < 0)
			return -1;
		pos = (size_t)(nl - p) + 1;
	}
	*info = hp.info;
	return 0;
}
