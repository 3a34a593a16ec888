#include "config.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "hashes.h"

struct sha256 {
	EVP_MD_CTX *ctx;
};

struct sha256 *
sha256_new(void)
{
	struct sha256 *h = calloc(1, sizeof *h);

	if (!h)
		return NULL;
	h->ctx = EVP_MD_CTX_new();
	if (!h->ctx || EVP_DigestInit_ex(h->ctx, EVP_sha256(), NULL) != 1) {
		sha256_free(h);
		return NULL;
	}
	return h;
}

void
sha256_update(struct sha256 *h, const void *data, size_t len)
{
	EVP_DigestUpdate(h->ctx, data, len);
}

void
sha256_final_hex(struct sha256 *h, char hex[SHA256_HEX_LEN + 1])
{
	unsigned char md[32];
	unsigned int len = 0;

	EVP_DigestFinal_ex(h->ctx, md, &len);
	for (unsigned i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	EVP_DigestInit_ex(h->ctx, EVP_sha256(), NULL);
}

void
sha256_free(struct sha256 *h)
{
	if (!h)
		return;
	EVP_MD_CTX_free(h->ctx);
	free(h);
}

struct filehash {
	XXH3_state_t *st;
};

struct filehash *
filehash_new(void)
{
	struct filehash *h = calloc(1, sizeof *h);

	if (!h)
		return NULL;
	if (!(h->st = XXH3_createState())) {
		free(h);
		return NULL;
	}
	XXH3_128bits_reset(h->st);
	return h;
}

void
filehash_reset(struct filehash *h)
{
	XXH3_128bits_reset(h->st);
}

void
filehash_update(struct filehash *h, const void *data, size_t len)
{
	XXH3_128bits_update(h->st, data, len);
}

void
filehash_final(struct filehash *h, char out[FILEHASH_STR_LEN + 1])
{
	XXH128_canonical_t c;
	size_t n = strlen(FILE_HASH_ALGO ":");

	XXH128_canonicalFromHash(&c, XXH3_128bits_digest(h->st));
	memcpy(out, FILE_HASH_ALGO ":", n);
	for (unsigned i = 0; i < 16; i++)
		snprintf(out + n + 2 * i, 3, "%02x", c.digest[i]);
	XXH3_128bits_reset(h->st);
}

void
filehash_free(struct filehash *h)
{
	if (!h)
		return;
	XXH3_freeState(h->st);
	free(h);
}

int
filehash_keyed(const unsigned char key[FILEHASH_KEY_SIZE], const char *plain,
    char out[KEYED_HASH_STR_LEN + 1])
{
	unsigned char md[32];
	unsigned int len = 0;
	int n;

	if (!HMAC(EVP_sha256(), key, FILEHASH_KEY_SIZE,
	    (const unsigned char *)plain, strlen(plain), md, &len) || len != 32)
		return -1;
	n = snprintf(out, KEYED_HASH_STR_LEN + 1, "hmac-sha256:");
	for (unsigned i = 0; i < 32; i++)
		snprintf(out + n + 2 * i, 3, "%02x", md[i]);
	return 0;
}
