/* age_int: what the age module's files share (age.c: the crypto glue,
 * the payload's STREAM, encryption and decryption; age_keys.c: keys and
 * key files; age_header.c: the header parser). Not for other modules. */
#ifndef QB_AGE_INT_H
#define QB_AGE_INT_H

#include <stddef.h>
#include <stdint.h>

#include <sodium.h>

#include "age.h"
#include "err.h"

#define FILE_KEY_SIZE 16
#define NONCE_SIZE 16
#define TAG_SIZE crypto_aead_chacha20poly1305_ietf_ABYTES
#define ENC_CHUNK (AGE_CHUNK_SIZE + TAG_SIZE)
/* Columns of a full stanza body line, and the bytes it holds. */
#define BODY_COLS 64
#define BODY_LINE_BYTES 48
/* Unpadded base64 characters of 32 bytes. */
#define B64_32 43
#define B64_VARIANT sodium_base64_VARIANT_ORIGINAL_NO_PADDING
/* "-> X25519 " share LF body LF */
#define X25519_STANZA_LEN (3 + 6 + 1 + B64_32 + 1 + B64_32 + 1)

#define MIN(a, b) ((a) < (b) ? (a) : (b))

#define AGE_VERSION_LINE "age-encryption.org/v1"
#define AGE_VERSION_PREFIX "age-encryption.org/"
#define AGE_ARMOR_LINE "-----BEGIN AGE ENCRYPTED FILE-----"

/* libsodium initialized: 0, or -1 with e. */
int age_crypto_ready(struct err *e);

/* Canonical unpadded base64 s[0..n) (at most one body line) into at most
 * max bytes: what does not encode back to the same text is refused (-1). */
int age_b64_decode(const char *s, size_t n, uint8_t *out, size_t max,
    size_t *len);

/* ---- the header parser (age_header.c) ---- */

/* An X25519 stanza as read: the ephemeral share and the wrapped key. */
struct xstanza {
	uint8_t share[32];
	uint8_t body[FILE_KEY_SIZE + TAG_SIZE];
};

enum { H_VERSION, H_STANZA, H_BODY, H_DONE };

/* Fed the header a whole line at a time (without its LF). */
struct hparser {
	int state;
	size_t lineno;
	size_t off;            /* header bytes fed so far */
	int in_x25519;         /* the stanza being read is X25519 */
	size_t body_len;       /* its body bytes so far */
	struct age_header_info info;
	int keep;              /* keep the X25519 stanzas (decryption) */
	struct xstanza *xs;
	size_t nx, xcap;
	uint8_t mac[32];
	size_t mac_off;        /* the length of the MACed part */
};

/* A parser at the first line; with keep, it keeps the X25519 stanzas
 * (decryption), else it only counts them. */
void age_hp_init(struct hparser *hp, int keep);
/* One whole line s[0..n), without its LF: 0, or -1 with e (ERR_VERIFY). */
int age_hp_line(struct hparser *hp, const char *s, size_t n, struct err *e);
/* The start of a line not yet ended: refuses what cannot become a version
 * line as early as possible. */
int age_hp_partial(const struct hparser *hp, const char *s, size_t n,
    struct err *e);
/* Free the stanzas kept. */
void age_hp_free(struct hparser *hp);

#endif
