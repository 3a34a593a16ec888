/* capbuf: a growing, NUL-terminated byte buffer with a size cap, written
 * as a libcurl CURLOPT_WRITEFUNCTION (the agent's node client and the
 * controller's agent client). libc only. */
#ifndef QB_CAPBUF_H
#define QB_CAPBUF_H

#include <stddef.h>

struct capbuf {
	char *p;            /* malloc'd, NUL-terminated once anything came */
	size_t len, cap;
	size_t max;         /* bytes allowed in all */
	int over;           /* set when a write would pass max */
};

/* Append size * nmemb bytes of ptr to the capbuf ud. Returns the bytes
 * taken, or 0 (libcurl: CURLE_WRITE_ERROR) past max, with over set, or
 * when memory runs out. */
size_t capbuf_write(char *ptr, size_t size, size_t nmemb, void *ud);

#endif
