/* hashes: the two digests of a backup, from libraries, never hand-written.
 *   - SHA-256 (libcrypto) of the whole archive file and of the node key;
 *   - XXH3-128 (libxxhash) of each file's content, recorded in the metadata
 *     as "xxh3-128:<32 hex>": as strong against corruption as needed, and
 *     about twenty times cheaper than SHA-256 on the archive's hot path. */
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

#endif
