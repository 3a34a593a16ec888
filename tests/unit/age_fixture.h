/* age_fixture: what the age suites (test_age_stream, test_age_header,
 * test_age_keys, test_age_interop) share: each test's directory and three
 * identities made for it, deterministic payloads, a growing output buffer
 * for the streams and whole encryptions and decryptions through it, and
 * files crafted by hand.
 *
 * The crafted files (an unknown stanza, an empty final chunk, a low-order
 * share) are built with libcrypto and libsodium independently of the
 * module, with a valid MAC and valid chunks, so that only the rule under
 * test can refuse them. */
#ifndef QB_AGE_FIXTURE_H
#define QB_AGE_FIXTURE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "age.h"
#include "err.h"

#define CHUNK AGE_CHUNK_SIZE

/* ---- fixtures ------------------------------------------------------- */

/* tmp/name into a static buffer (sixteen in turn). */
const char *tp(const char *name);

/* Deterministic test data. */
uint8_t *payload(size_t len, unsigned seed);

/* ---- a growing output buffer for the streams ------------------------ */

struct sink {
	uint8_t *data;
	size_t len, cap;
	size_t calls;
	long fail_at;        /* refuse a write that would pass this; -1 never */
};

void sink_init(struct sink *s);
int sink_write(void *arg, const void *buf, size_t len, struct err *e);
void sink_free(struct sink *s);

/* Piece sizes to feed the streams with, 0-terminated; NULL: all at once. */
extern const size_t odd_pieces[];

void enc_all(const struct age_recipient *rs, size_t n, const uint8_t *p,
    size_t len, const size_t *pieces, struct sink *out);

/* Decrypt c[0..len): the result, e filled on failure, the plaintext so
 * far in out, the header (if read) in *info. */
int dec_all(const struct age_identity *ids, size_t n, const uint8_t *c,
    size_t len, const size_t *pieces, struct sink *out, struct err *e,
    struct age_header_info *info);

/* Three identities and their recipients, made once per test. */
extern struct age_identity idA, idB, idC;

extern struct age_recipient rA, rB, rC;
void setup_keys(void);
void teardown_keys(void);
size_t header_len_of(const uint8_t *f, size_t len);

/* ---- crafting files independently of the module --------------------- */

/* The same character's neighbour in the alphabet (delta 1..63). */
char b64_shift(char c, int delta);

/* An X25519 stanza for pub wrapping fk, from a given share and shared
 * secret (for a low-order share), or fresh ones (share NULL). */
void t_x25519_stanza(char *out, size_t size, const uint8_t fk[16],
    const uint8_t pub[32], const uint8_t *share_in, const uint8_t *shared_in);

/* A chunk as the file holds it: its length, final flag and number. */
struct tchunk {
	size_t len;
	int last;
	uint64_t counter;
};

/* A file for A with one ordinary X25519 stanza and chunks as described. */
uint8_t *t_file_to_a(const uint8_t *plain, const struct tchunk *ch, size_t nch,
    size_t *flen);

void assert_fails(const uint8_t *f, size_t len, const struct age_identity *id,
    enum err_code code, const char *needle, size_t plain_max);
void assert_opens(const uint8_t *f, size_t len, const struct age_identity *id,
    const uint8_t *plain, size_t plen);

/* ---- the header's syntax -------------------------------------------- */

/* A valid file for A from stanza text s (the MAC over it right). */
uint8_t *t_file_stanzas(const uint8_t fk[16], const char *s, const char *plain,
    size_t *flen);

/* ---- X25519 --------------------------------------------------------- */

/* Points of small order on Curve25519 (u coordinates, little endian). */
extern const uint8_t low_order[4][32];

/* ---- key files ------------------------------------------------------ */

void put_text(const char *path, const char *text, mode_t mode);
void identity_text(const struct age_identity *id, char *buf, size_t size);

#endif
