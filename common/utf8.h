/* utf8: well-formed UTF-8 (RFC 3629: no overlong forms, no surrogates,
 * nothing above U+10FFFF), checked and cut at character boundaries.
 * libc only. */
#ifndef QB_UTF8_H
#define QB_UTF8_H

#include <stddef.h>

/* Length (1 to 4) of the well-formed sequence at the start of s, of which
 * at most n bytes may be read; 0 when the bytes there are not one (or n is
 * 0). A NUL byte is a sequence of length 1. */
size_t utf8_seq(const unsigned char *s, size_t n);

/* 1 when the n bytes at s are well-formed UTF-8 (0 bytes are), else 0. */
int utf8_valid(const char *s, size_t n);

/* Copy the NUL-terminated s into out (size > 0 bytes), at most max bytes
 * of it (and at most size - 1). Shorter: copied whole. Longer: cut at a
 * character boundary and, when max is 8 or more, ended with "..." within
 * those max bytes. A byte that does not start a well-formed sequence
 * counts as one character. out is always NUL-terminated. */
void utf8_cut(char *out, size_t size, const char *s, size_t max);

#endif
