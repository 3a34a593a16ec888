/* age: encryption in the age v1 format (age-encryption.org/v1) to X25519
 * recipients, and its decryption with X25519 identities; the keys in
 * their Bech32 text forms and in the files of the `age` tools.
 *
 * A file is a text header, then the payload: a 16-byte nonce and the
 * plaintext in chunks of 64 KiB, each sealed with ChaCha20-Poly1305 and
 * numbered, the final one flagged (STREAM). The header wraps a random
 * 16-byte file key for each recipient:
 *
 *     age-encryption.org/v1
 *     -> X25519 <ephemeral share, base64>
 *     <the wrapped file key, base64>
 *     --- <HMAC-SHA-256 of the header up to "---", base64>
 *
 * Whatever this module writes, `age -d -i KEYFILE` decrypts; whatever
 * `age -r age1...` writes, this module decrypts. The agent holds only
 * recipients (public keys) and encrypts; the identity (the secret key) is
 * needed only to verify a backup fully and to unpack it.
 *
 * Crypto comes from libsodium (X25519, the stanzas' ChaCha20-Poly1305,
 * randomness, base64, SHA-256, wiping) and libcrypto (HKDF-SHA-256,
 * HMAC-SHA-256, and the payload's ChaCha20-Poly1305, whose AVX-512/AVX2
 * code is about twice as fast as libsodium 1.0.18's); only the format and
 * Bech32 are written here. Secrets (identities, file keys, derived keys,
 * the text of identity files) are wiped after use.
 *
 * Memory is bounded whatever the input: one chunk buffer each way, a
 * header of at most AGE_HEADER_MAX bytes and AGE_STANZAS_MAX stanzas.
 *
 * Errors: functions return 0 (or an object) on success and -1 (or NULL)
 * after filling the caller's struct err:
 *   - ERR_CONFIG: a malformed key, a key file refused, a recipient that
 *     is a low-order point;
 *   - AGE_ERR_NO_IDENTITY (ERR_WRONG_IDENTITY): no identity opens the file;
 *   - ERR_VERIFY: a corrupt, truncated or tampered file, or not an age
 *     file at all (the message says which);
 *   - ERR_FAILED: out of memory, a library failure;
 *   - whatever an output callback sets, passed through unchanged.
 * Messages never quote a secret key. */
#ifndef QB_AGE_H
#define QB_AGE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "err.h"

#define AGE_KEY_SIZE 32
/* "age1" + 52 data + 6 checksum characters. */
#define AGE_RECIPIENT_STR_LEN 62
/* "AGE-SECRET-KEY-1" + 52 data + 6 checksum characters. */
#define AGE_IDENTITY_STR_LEN 74
#define AGE_FINGERPRINT_LEN 16
/* Plaintext bytes per payload chunk; each chunk adds a 16-byte tag. */
#define AGE_CHUNK_SIZE 65536
/* Bounds on what a decryptor accepts and an encryptor writes. */
#define AGE_HEADER_MAX 65536
#define AGE_STANZAS_MAX 256
#define AGE_RECIPIENTS_MAX 64
#define AGE_IDENTITIES_MAX 64

/* The code of "no identity opens this file" (the header is well formed
 * but none of its X25519 stanzas is addressed to a given identity, or it
 * has none): exit 2, HTTP 400 wrong_identity. */
#define AGE_ERR_NO_IDENTITY ERR_WRONG_IDENTITY

/* An X25519 recipient: the public key. */
struct age_recipient {
	uint8_t key[AGE_KEY_SIZE];
};

/* An X25519 identity: the secret key and its public key. Wipe with
 * age_identity_wipe() (or age_identities_free()) when done. */
struct age_identity {
	uint8_t secret[AGE_KEY_SIZE];
	uint8_t pub[AGE_KEY_SIZE];
};

/* ---- keys ---------------------------------------------------------- */

/* "age1..." (Bech32, BIP 173 checksum; all lower or all upper case) into
 * *r. ERR_CONFIG with the reason; an identity or an SSH key given as a
 * recipient is named as such. */
int age_recipient_parse(const char *s, struct age_recipient *r,
    struct err *e);
/* The canonical lower-case text. */
void age_recipient_format(const struct age_recipient *r,
    char out[AGE_RECIPIENT_STR_LEN + 1]);
/* A short stable name for metadata and messages: the first 16 hex digits
 * of SHA-256 of the recipient's canonical text (no newline), that is
 * `printf %s age1... | sha256sum | cut -c1-16`. Not secret. */
void age_recipient_fingerprint(const struct age_recipient *r,
    char out[AGE_FINGERPRINT_LEN + 1]);

/* "AGE-SECRET-KEY-1..." (all upper or all lower case) into *id, its
 * public key computed. ERR_CONFIG; the message never quotes s. */
int age_identity_parse(const char *s, struct age_identity *id,
    struct err *e);
/* The canonical upper-case text; out holds a secret: wipe it. */
void age_identity_format(const struct age_identity *id,
    char out[AGE_IDENTITY_STR_LEN + 1]);
void age_recipient_of(const struct age_identity *id, struct age_recipient *r);
/* A new identity from the system's CSPRNG; recipient (if not NULL) gets
 * its "age1..." text. */
int age_keygen(struct age_identity *id,
    char recipient[AGE_RECIPIENT_STR_LEN + 1], struct err *e);
/* The text of an identity file as age-keygen writes it:
 *     # created: 2024-05-01T12:00:00Z
 *     # public key: age1...
 *     AGE-SECRET-KEY-1...
 * into buf (NUL-terminated). -1 when size is too small (200 bytes are
 * enough). buf holds a secret: wipe it. */
int age_identity_file_text(const struct age_identity *id, time_t created,
    char *buf, size_t size, struct err *e);
void age_identity_wipe(struct age_identity *id);

/* An identity file (age-keygen's format: one or more AGE-SECRET-KEY-1
 * lines; '#' comments and blank lines allowed), read with
 * fs_read_config_file (links followed, FIFOs and special files refused).
 * Refused when group or others may read or write it, as ssh does:
 * "PATH is readable by others (mode 0644): chmod 600 it". Errors in the
 * file are "PATH:LINE: reason" (never quoting the line). *ids is an
 * array of *n identities; free it with age_identities_free(). */
int age_identity_file_load(const char *path, struct age_identity **ids,
    size_t *n, struct err *e);
/* Wipe and free; ids may be NULL. */
void age_identities_free(struct age_identity *ids, size_t n);

/* A recipients file: one "age1..." per line, '#' comments and blank
 * lines allowed, leading and trailing blanks ignored; at least one, at
 * most AGE_RECIPIENTS_MAX. Errors "PATH:LINE: reason". *rs is an array
 * of *n recipients; free() it. */
int age_recipients_file_load(const char *path, struct age_recipient **rs,
    size_t *n, struct err *e);

/* ---- streams ------------------------------------------------------- */

/* Where an encryptor sends the file and a decryptor the plaintext: all
 * of buf, in order. Returns 0, or -1 after filling e, which the stream
 * function then returns as is. buf is valid only during the call. */
typedef int (*age_out_fn)(void *arg, const void *buf, size_t len,
    struct err *e);

/* What a header says, without any key. */
struct age_header_info {
	size_t stanzas;      /* recipient stanzas of any type */
	size_t x25519;       /* of which X25519 */
	size_t header_len;   /* bytes through the MAC line: the payload's
	                      * 16-byte nonce starts here */
	int identity;        /* decryptor: index of the identity that opened
	                      * the file, -1 if none (yet) */
};

/* Encryption. age_enc_new() takes 1..AGE_RECIPIENTS_MAX recipients (all
 * copied) and writes nothing yet; age_enc_write() takes plaintext in any
 * sizes; out gets the header, then whole sealed chunks (it is called
 * about once per 64 KiB; input is copied at most once, into the one
 * chunk buffer, and not at all from writes longer than a chunk);
 * age_enc_finish() seals the final chunk (possibly full; empty only if
 * nothing was written). A recipient that is a low-order point has no
 * shared secret and is refused (ERR_CONFIG). After an error the stream
 * is dead: free it. */
struct age_enc;
struct age_enc *age_enc_new(const struct age_recipient *rs, size_t n,
    age_out_fn out, void *arg, struct err *e);
int age_enc_write(struct age_enc *w, const void *buf, size_t len,
    struct err *e);
int age_enc_finish(struct age_enc *w, struct err *e);
/* Bytes sent to out so far. */
uint64_t age_enc_written(const struct age_enc *w);
void age_enc_free(struct age_enc *w);

/* Decryption with 1..AGE_IDENTITIES_MAX identities (copied; wiped at
 * free). age_dec_write() takes the file in any sizes; out gets plaintext
 * only once its chunk has authenticated, a chunk at a time (a chunk is
 * held until the next byte or the end shows whether it is the final
 * one). The whole plaintext is complete and authentic only when
 * age_dec_finish() returns 0: it fails on a file that ends before its
 * final chunk. Errors: AGE_ERR_NO_IDENTITY when no identity opens any
 * stanza (age_dec_header() then tells how many there are); ERR_VERIFY
 * for anything corrupt, truncated or tampered (header syntax,
 * non-canonical base64, a low-order ephemeral share, the header MAC, a
 * chunk that does not authenticate, chunks out of order, an empty final
 * chunk after data, data after the final chunk). After an error every
 * call fails with the same error. */
struct age_dec;
struct age_dec *age_dec_new(const struct age_identity *ids, size_t n,
    age_out_fn out, void *arg, struct err *e);
int age_dec_write(struct age_dec *d, const void *buf, size_t len,
    struct err *e);
int age_dec_finish(struct age_dec *d, struct err *e);
/* The header once it has been read whole (even if no identity opened
 * it), else NULL. */
const struct age_header_info *age_dec_header(const struct age_dec *d);
/* Plaintext bytes sent to out so far. */
uint64_t age_dec_plaintext(const struct age_dec *d);
void age_dec_free(struct age_dec *d);

/* Read the header at the start of buf (the file's first
 * min(size, AGE_HEADER_MAX) bytes or more) without a key: its syntax is
 * checked in full (the MAC cannot be without the file key). ERR_VERIFY
 * when it is malformed or does not end within len bytes. */
int age_header_scan(const void *buf, size_t len, struct age_header_info *info,
    struct err *e);

#endif
