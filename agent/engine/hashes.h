/* hashes: the two digests of a backup, from libraries, never hand-written.
 *   - SHA-256 (libcrypto) of the whole archive file and of the node key;
 *   - XXH3-128 (libxxhash) of each file's content, recorded in the metadata
 *     as "xxh3-128:<32 hex>": as strong against corruption as needed, and
 *     about twenty times cheaper than SHA-256 on the archive's hot path;
 *   - for encrypted backups, that per-file hash keyed: HMAC-SHA-256
 *     (libcrypto), under a random key of the backup that travels only
 *     inside the encrypted archive, of the XXH3-128 text, recorded as
 *     "hmac-sha256:<64 hex>". Whoever lacks the key cannot test a guess
 *     of a small file's content against the metadata. */
#ifndef QB_HASHES_H
#define QB_HASHES_H

#include <stddef.h>

#define SHA256_HEX_LEN 64
#define FILE_HASH_ALGO "xxh3-128"

struct sha256;
struct sha256 *sha256_new(void);
void sha256_update(struct sha256 *h, const void *data, size_t len);
/* Writes 64 hex digits and a NUL into hex; h may be reused after. */
void sha256_final_hex(struct sha256 *h, char hex[SHA256_HEX_LEN + 1]);
void sha256_free(struct sha256 *h);

struct filehash;
struct filehash *filehash_new(void);
void filehash_reset(struct filehash *h);
void filehash_update(struct filehash *h, const void *data, size_t len);
/* "xxh3-128:" and 32 hex digits. */
#define FILEHASH_STR_LEN (sizeof FILE_HASH_ALGO + 32)
void filehash_final(struct filehash *h, char out[FILEHASH_STR_LEN + 1]);
void filehash_free(struct filehash *h);

#define FILE_HASH_KEYED_ALGO "xxh3-128+hmac-sha256"
#define FILEHASH_KEY_SIZE 32
/* "hmac-sha256:" and 64 hex digits. */
#define KEYED_HASH_STR_LEN (sizeof "hmac-sha256:" - 1 + 64)
/* The keyed form of a filehash_final() text. 0, or -1 when libcrypto
 * fails (out of memory). */
int filehash_keyed(const unsigned char key[FILEHASH_KEY_SIZE],
    const char *plain, char out[KEYED_HASH_STR_LEN + 1]);

#endif
