/* gate_json: the little JSON the gate needs, by hand (the gate is libc
 * only). Writing: a growing buffer with correct string escaping. Reading:
 * find one top-level key of an object, enough for probe and ctl. */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gate.h"
#include "utf8.h"

void
jb_init(struct jbuf *b)
{
	b->p = NULL;
	b->len = b->cap = 0;
	b->failed = 0;
}

void
jb_free(struct jbuf *b)
{
	free(b->p);
	jb_init(b);
}

/* Room for n more bytes plus a NUL. */
static int
jb_reserve(struct jbuf *b, size_t n)
{
	size_t want, cap;
	char *p;

	if (b->failed)
		return -1;
	want = b->len + n + 1;
	if (want <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 256;
	while (cap < want)
		cap *= 2;
	p = realloc(b->p, cap);
	if (!p) {
		b->failed = 1;
		return -1;
	}
	b->p = p;
	b->cap = cap;
	return 0;
}

static void
jb_mem(struct jbuf *b, const char *s, size_t n)
{
	if (jb_reserve(b, n) < 0)
		return;
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

void
jb_raw(struct jbuf *b, const char *s)
{
	jb_mem(b, s, strlen(s));
}

void
jb_fmt(struct jbuf *b, const char *fmt, ...)
{
	char small[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(small, sizeof small, fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->failed = 1;
		return;
	}
	if ((size_t)n < sizeof small) {
		jb_mem(b, small, (size_t)n);
		return;
	}
	if (jb_reserve(b, (size_t)n) < 0)
		return;
	va_start(ap, fmt);
	vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

void
jb_str(struct jbuf *b, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;

	jb_mem(b, "\"", 1);
	while (i < n) {
		unsigned c = p[i];
		size_t k;
		char esc[8];

		if (c == '"' || c == '\\') {
			esc[0] = '\\';
			esc[1] = (char)c;
			jb_mem(b, esc, 2);
			i++;
		} else if (c == '\n') {
			jb_mem(b, "\\n", 2);
			i++;
		} else if (c == '\r') {
			jb_mem(b, "\\r", 2);
			i++;
		} else if (c == '\t') {
			jb_mem(b, "\\t", 2);
			i++;
		} else if (c < 0x20 || c == 0x7f) {
			snprintf(esc, sizeof esc, "\\u%04x", c);
			jb_mem(b, esc, 6);
			i++;
		} else if (c < 0x80) {
			/* a run of plain ASCII in one copy */
			size_t j = i + 1;
			while (j < n && p[j] >= 0x20 && p[j] < 0x7f &&
			    p[j] != '"' && p[j] != '\\')
				j++;
			jb_mem(b, (const char *)p + i, j - i);
			i = j;
		} else if ((k = utf8_seq(p + i, n - i)) > 0) {
			jb_mem(b, (const char *)p + i, k);
			i += k;
		} else {
			jb_mem(b, "\\ufffd", 6);   /* not UTF-8: U+FFFD */
			i++;
		}
	}
	jb_mem(b, "\"", 1);
}

static void
jb_comma(struct jbuf *b)
{
	if (b->len > 0 && b->p[b->len - 1] != '{' && b->p[b->len - 1] != '[')
		jb_mem(b, ",", 1);
}

void
jb_key(struct jbuf *b, const char *key)
{
	jb_comma(b);
	jb_str(b, key, strlen(key));
	jb_mem(b, ":", 1);
}

void
jb_elem(struct jbuf *b)
{
	jb_comma(b);
}

/* ---- reading ---- */

static const char *
skip_ws(const char *p)
{
	while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
		p++;
	return p;
}

/* End of the string starting at p (at its '"'), just past the closing
 * quote; NULL when unterminated. */
static const char *
skip_string(const char *p)
{
	for (p++; *p; p++) {
		if (*p == '\\') {
			if (!p[1])
				return NULL;
			p++;
		} else if (*p == '"') {
			return p + 1;
		}
	}
	return NULL;
}

/* End of the value starting at p; NULL when malformed. Containers are
 * matched by depth, with strings skipped whole. */
static const char *
skip_value(const char *p)
{
	int depth = 0;

	if (*p == '"')
		return skip_string(p);
	if (*p != '{' && *p != '[') {
		const char *q = p;
		while (*q && !strchr(",}] \t\r\n", *q))
			q++;
		return q == p ? NULL : q;
	}
	for (; *p; p++) {
		if (*p == '"') {
			p = skip_string(p);
			if (!p)
				return NULL;
			p--;
		} else if (*p == '{' || *p == '[') {
			if (++depth > 64)
				return NULL;
		} else if (*p == '}' || *p == ']') {
			if (--depth == 0)
				return p + 1;
		}
	}
	return NULL;
}

int
json_get(const char *json, const char *key, const char **v, size_t *vlen)
{
	const char *p = skip_ws(json);
	size_t klen = strlen(key);

	if (*p++ != '{')
		return -1;
	for (;;) {
		const char *k, *kend, *val, *end;

		p = skip_ws(p);
		if (*p != '"')
			return -1;
		k = p + 1;
		kend = skip_string(p);
		if (!kend)
			return -1;
		p = skip_ws(kend);
		if (*p++ != ':')
			return -1;
		val = skip_ws(p);
		end = skip_value(val);
		if (!end)
			return -1;
		if ((size_t)(kend - 1 - k) == klen && memcmp(k, key, klen) == 0) {
			*v = val;
			*vlen = (size_t)(end - val);
			return 0;
		}
		p = skip_ws(end);
		if (*p != ',')
			return -1;
		p++;
	}
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
json_str(const char *v, size_t vlen, char *out, size_t size)
{
	size_t o = 0;

	if (size == 0)
		return -1;
	out[0] = '\0';
	if (vlen < 2 || v[0] != '"' || v[vlen - 1] != '"')
		return -1;
	for (size_t i = 1; i + 1 < vlen; i++) {
		char tmp[4];
		size_t n = 1;
		unsigned cp;

		tmp[0] = v[i];
		if (v[i] == '\\' && i + 2 < vlen) {
			i++;
			switch (v[i]) {
			case 'n': tmp[0] = '\n'; break;
			case 't': tmp[0] = '\t'; break;
			case 'r': tmp[0] = '\r'; break;
			case 'b': tmp[0] = '\b'; break;
			case 'f': tmp[0] = '\f'; break;
			case 'u':
				cp = 0;
				for (int d = 1; d <= 4; d++) {
					int h = i + (size_t)d + 1 < vlen ?
					    hexval(v[i + (size_t)d]) : -1;
					if (h < 0)
						return -1;
					cp = cp << 4 | (unsigned)h;
				}
				i += 4;
				if (cp >= 0xd800 && cp <= 0xdfff)
					cp = 0xfffd;   /* pairs are not needed here */
				if (cp < 0x80) {
					tmp[0] = (char)cp;
				} else if (cp < 0x800) {
					tmp[0] = (char)(0xc0 | cp >> 6);
					tmp[1] = (char)(0x80 | (cp & 0x3f));
					n = 2;
				} else {
					tmp[0] = (char)(0xe0 | cp >> 12);
					tmp[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
					tmp[2] = (char)(0x80 | (cp & 0x3f));
					n = 3;
				}
				break;
			default: tmp[0] = v[i]; break;   /* \" \\ \/ */
			}
		}
		if (o + n >= size)
			break;
		memcpy(out + o, tmp, n);
		o += n;
	}
	out[o] = '\0';
	return 0;
}

int
json_is(const char *v, size_t vlen, const char *lit)
{
	return strlen(lit) == vlen && memcmp(v, lit, vlen) == 0;
}
