/* utf8: well-formed UTF-8, checked and cut (see utf8.h). libc only: the
 * statically linked gate uses it too. */
#include "config.h"

#include <string.h>

#include "utf8.h"

size_t
utf8_seq(const unsigned char *s, size_t n)
{
	unsigned c, cp;
	size_t len;

	if (n == 0)
		return 0;
	c = s[0];
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
		cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		cp = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		cp = c & 0x07;
	} else {
		return 0;       /* a continuation byte, C0, C1, F5..FF */
	}
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return len;
}

int
utf8_valid(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;

	while (n > 0) {
		size_t k = utf8_seq(p, n);

		if (k == 0)
			return 0;
		p += k;
		n -= k;
	}
	return 1;
}

void
utf8_cut(char *out, size_t size, const char *s, size_t max)
{
	size_t n = strlen(s), i = 0;
	int dots;

	if (max >= size)
		max = size - 1;
	if (n <= max) {
		memcpy(out, s, n + 1);
		return;
	}
	dots = max >= 8;
	if (dots)
		max -= 3;
	while (i < max) {
		size_t k = utf8_seq((const unsigned char *)s + i, n - i);

		if (k == 0)
			k = 1;
		if (i + k > max)
			break;
		i += k;
	}
	memcpy(out, s, i);
	if (dots)
		memcpy(out + i, "...", 4);
	else
		out[i] = '\0';
}
