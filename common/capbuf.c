#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "capbuf.h"

size_t
capbuf_write(char *ptr, size_t size, size_t nmemb, void *ud)
{
	struct capbuf *b = ud;
	size_t n = size * nmemb;

	if (n > b->max - b->len) {
		b->over = 1;
		return 0;
	}
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		char *p;

		while (cap < b->len + n + 1)
			cap *= 2;
		if (!(p = realloc(b->p, cap)))
			return 0;
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, ptr, n);
	b->len += n;
	b->p[b->len] = '\0';
	return n;
}
