/* text: UTF-8 for the node client's messages (what nodes and gates say
 * is quoted, cut at a character boundary). */
#include "config.h"

#include <string.h>

#include "node_int.h"

/* Length of the valid UTF-8 sequence at s (n bytes left), 0 if invalid. */
size_t
node_utf8_seq(const unsigned char *s, size_t n)
{
	unsigned c = s[0];
	size_t len;
	unsigned cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		len = 2, cp = c & 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
		len = 3, cp = c & 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
		len = 4, cp = c & 0x07;
	else
		return 0;
	if (len > n)
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

/* Copy at most max bytes of the valid UTF-8 string s into out (size
 * > max), never cutting a character; "..." marks a cut when it fits. */
void
node_utf8_cut(char *out, size_t size, const char *s, size_t max)
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
		size_t k = node_utf8_seq((const unsigned char *)s + i, n - i);
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
