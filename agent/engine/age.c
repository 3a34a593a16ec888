/* age: the crypto glue, the payload's STREAM, encryption and decryption
 * (see age.h; keys in age_keys.c, the header parser in age_header.c). */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/kdf.h>
#include <sodium.h>

#include "age.h"
#include "age_int.h"

static const char x25519_info[] = "age-encryption.org/v1/X25519";
static const uint8_t zero_nonce[crypto_aead_chacha20poly1305_ietf_NPUBBYTES];

/* ---- library glue --------------------------------------------------- */

int
age_crypto_ready(struct err *e)
{
	if (sodium_init() < 0)
		return err_set(e, ERR_FAILED, "libsodium: initialization "
		    "failed");
	return 0;
}

static int
ossl_fail(struct err *e, const char *what)
{
	char msg[256] = "unknown error";
	unsigned long code = ERR_get_error();

	if (code)
		ERR_error_string_n(code, msg, sizeof msg);
	ERR_clear_error();
	return err_set(e, ERR_FAILED, "%s: %s", what, msg);
}

/* HKDF-SHA-256 with 32 bytes of output; an empty salt is HKDF's default
 * (HashLen zeros, the same HMAC key). */
static int
hkdf32(uint8_t out[32], const void *ikm, size_t ikm_len, const void *salt,
    size_t salt_len, const char *info, struct err *e)
{
	EVP_KDF *kdf = EVP_KDF_fetch(NULL, OSSL_KDF_NAME_HKDF, NULL);
	EVP_KDF_CTX *ctx = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
	OSSL_PARAM params[5], *p = params;
	int rc = -1;

	if (!ctx) {
		ossl_fail(e, "HKDF");
		goto out;
	}
	*p++ = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST,
	    (char *)"SHA256", 0);
	*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY,
	    (void *)ikm, ikm_len);
	if (salt_len > 0)
		*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT,
		    (void *)salt, salt_len);
	*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO,
	    (void *)info, strlen(info));
	*p = OSSL_PARAM_construct_end();
	if (EVP_KDF_derive(ctx, out, 32, params) <= 0) {
		ossl_fail(e, "HKDF-SHA-256");
		goto out;
	}
	rc = 0;
out:
	EVP_KDF_CTX_free(ctx);
	EVP_KDF_free(kdf);
	return rc;
}

/* The header MAC: HMAC-SHA-256 keyed with HKDF(file key, "", "header")
 * over the header up to and including "---". */
static int
header_mac(const uint8_t file_key[FILE_KEY_SIZE], const void *hdr, size_t len,
    uint8_t mac[32], struct err *e)
{
	uint8_t key[32];
	unsigned int mlen = 0;
	int rc = -1;

	if (hkdf32(key, file_key, FILE_KEY_SIZE, NULL, 0, "header", e) < 0)
		goto out;
	if (!HMAC(EVP_sha256(), key, sizeof key, hdr, len, mac, &mlen) ||
	    mlen != 32) {
		ossl_fail(e, "HMAC-SHA-256");
		goto out;
	}
	rc = 0;
out:
	sodium_memzero(key, sizeof key);
	return rc;
}

static void
b64_encode(char *out, size_t size, const uint8_t *bin, size_t len)
{
	sodium_bin2base64(out, size, bin, len, B64_VARIANT);
}

int
age_b64_decode(const char *s, size_t n, uint8_t *out, size_t max, size_t *len)
{
	char again[BODY_COLS + 2];
	size_t got = 0;

	if (n > BODY_COLS)
		return -1;
	if (sodium_base642bin(out, max, s, n, NULL, &got, NULL,
	    B64_VARIANT) != 0)
		return -1;
	b64_encode(again, sizeof again, out, got);
	if (strlen(again) != n || memcmp(again, s, n) != 0)
		return -1;
	*len = got;
	return 0;
}

/* ---- the payload's STREAM ------------------------------------------- */

/* The payload's ChaCha20-Poly1305 (RFC 8439, the same AEAD as the
 * stanzas') comes from libcrypto: its AVX-512 and AVX2 code runs at about
 * twice the speed of libsodium 1.0.18's, and the payload is where the
 * bytes are. One context per file, keyed once with HKDF(file key, nonce,
 * "payload"); each chunk sets its own nonce. */
static EVP_CIPHER_CTX *
payload_cipher(const uint8_t file_key[FILE_KEY_SIZE],
    const uint8_t nonce[NONCE_SIZE], int enc, struct err *e)
{
	EVP_CIPHER *cipher = EVP_CIPHER_fetch(NULL, "ChaCha20-Poly1305", NULL);
	EVP_CIPHER_CTX *c = cipher ? EVP_CIPHER_CTX_new() : NULL;
	uint8_t key[32];

	if (!c) {
		ossl_fail(e, "ChaCha20-Poly1305");
		goto out;
	}
	if (hkdf32(key, file_key, FILE_KEY_SIZE, nonce, NONCE_SIZE, "payload",
	    e) < 0) {
		EVP_CIPHER_CTX_free(c);
		c = NULL;
		goto out;
	}
	if (EVP_CipherInit_ex(c, cipher, NULL, key, NULL, enc) != 1) {
		ossl_fail(e, "ChaCha20-Poly1305");
		EVP_CIPHER_CTX_free(c);
		c = NULL;
	}
out:
	sodium_memzero(key, sizeof key);
	EVP_CIPHER_free(cipher);
	return c;
}

/* 11-byte big-endian chunk counter, then the final-chunk flag. */
static void
chunk_nonce(uint8_t nonce[12], uint64_t counter, int last)
{
	memset(nonce, 0, 3);
	for (int i = 0; i < 8; i++)
		nonce[3 + i] = (uint8_t)(counter >> (56 - 8 * i));
	nonce[11] = last ? 1 : 0;
}

/* Seal in[0..len) as chunk counter into out (len bytes and the tag);
 * out may be in. */
static int
chunk_seal(EVP_CIPHER_CTX *c, uint64_t counter, int last, uint8_t *out,
    const uint8_t *in, size_t len, struct err *e)
{
	uint8_t nonce[12];
	int n = 0;

	chunk_nonce(nonce, counter, last);
	if (EVP_EncryptInit_ex(c, NULL, NULL, NULL, nonce) != 1 ||
	    (len > 0 && (EVP_EncryptUpdate(c, out, &n, in, (int)len) != 1 ||
	    (size_t)n != len)) ||
	    EVP_EncryptFinal_ex(c, out + len, &n) != 1 ||
	    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_GET_TAG, TAG_SIZE,
	    out + len) != 1)
		return ossl_fail(e, "ChaCha20-Poly1305");
	return 0;
}

/* Open in[0..clen) (clen >= TAG_SIZE) as chunk counter into out: 0,
 * 1 when it does not authenticate as such (out then holds nothing to
 * use), -1 when libcrypto fails. */
static int
chunk_open(EVP_CIPHER_CTX *c, uint64_t counter, int last, uint8_t *out,
    const uint8_t *in, size_t clen, struct err *e)
{
	size_t len = clen - TAG_SIZE;
	uint8_t nonce[12];
	int n = 0;

	chunk_nonce(nonce, counter, last);
	if (EVP_DecryptInit_ex(c, NULL, NULL, NULL, nonce) != 1 ||
	    (len > 0 && (EVP_DecryptUpdate(c, out, &n, in, (int)len) != 1 ||
	    (size_t)n != len)) ||
	    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_SET_TAG, TAG_SIZE,
	    (void *)(in + len)) != 1)
		return ossl_fail(e, "ChaCha20-Poly1305");
	if (EVP_DecryptFinal_ex(c, out + len, &n) != 1) {
		ERR_clear_error();
		return 1;
	}
	return 0;
}

/* ---- encryption ----------------------------------------------------- */

enum { ENC_OPEN, ENC_FINISHED, ENC_FAILED };

struct age_enc {
	age_out_fn out;
	void *arg;
	int state;
	/* The header and the payload nonce, until they are sent. */
	char *header;
	size_t header_len;
	EVP_CIPHER_CTX *cipher;
	uint64_t counter;
	uint8_t *buf;       /* one chunk of plaintext, sealed in place */
	size_t plen;
	uint64_t written;
};

/* One X25519 stanza for r into out (X25519_STANZA_LEN + 1 bytes). */
static int
wrap_x25519(const uint8_t file_key[FILE_KEY_SIZE],
    const struct age_recipient *r, char *out, struct err *e)
{
	uint8_t eph[32], share[32], shared[32], salt[64], key[32];
	uint8_t body[FILE_KEY_SIZE + TAG_SIZE];
	char s64[B64_32 + 1], b64[B64_32 + 1];
	int rc = -1;

	randombytes_buf(eph, sizeof eph);
	if (crypto_scalarmult_curve25519_base(share, eph) != 0) {
		err_set(e, ERR_FAILED, "X25519: no ephemeral share");
		goto out;
	}
	if (crypto_scalarmult_curve25519(shared, eph, r->key) != 0 ||
	    sodium_is_zero(shared, sizeof shared)) {
		char text[AGE_RECIPIENT_STR_LEN + 1];

		age_recipient_format(r, text);
		err_set(e, ERR_CONFIG, "age recipient %s is a low-order point "
		    "(it has no shared secret): refused", text);
		goto out;
	}
	memcpy(salt, share, 32);
	memcpy(salt + 32, r->key, 32);
	if (hkdf32(key, shared, sizeof shared, salt, sizeof salt, x25519_info,
	    e) < 0)
		goto out;
	crypto_aead_chacha20poly1305_ietf_encrypt(body, NULL, file_key,
	    FILE_KEY_SIZE, NULL, 0, NULL, zero_nonce, key);
	b64_encode(s64, sizeof s64, share, sizeof share);
	b64_encode(b64, sizeof b64, body, sizeof body);
	snprintf(out, X25519_STANZA_LEN + 1, "-> X25519 %s\n%s\n", s64, b64);
	rc = 0;
out:
	sodium_memzero(eph, sizeof eph);
	sodium_memzero(shared, sizeof shared);
	sodium_memzero(key, sizeof key);
	return rc;
}

struct age_enc *
age_enc_new(const struct age_recipient *rs, size_t n, age_out_fn out,
    void *arg, struct err *e)
{
	uint8_t file_key[FILE_KEY_SIZE], mac[32], nonce[NONCE_SIZE];
	char mac64[B64_32 + 1];
	struct age_enc *w = NULL;
	size_t cap, len;

	if (n == 0 || n > AGE_RECIPIENTS_MAX) {
		err_set(e, ERR_CONFIG, "age encryption needs 1 to %d "
		    "recipients (%zu given)", AGE_RECIPIENTS_MAX, n);
		return NULL;
	}
	if (age_crypto_ready(e) < 0)
		return NULL;
	cap = sizeof AGE_VERSION_LINE + n * X25519_STANZA_LEN + 4 + B64_32 + 1 +
	    NONCE_SIZE + 1;
	if (!(w = calloc(1, sizeof *w)) || !(w->buf = malloc(ENC_CHUNK)) ||
	    !(w->header = malloc(cap))) {
		err_set(e, ERR_FAILED, "out of memory");
		goto fail;
	}
	w->out = out;
	w->arg = arg;
	randombytes_buf(file_key, sizeof file_key);
	len = (size_t)snprintf(w->header, cap, "%s\n", AGE_VERSION_LINE);
	for (size_t i = 0; i < n; i++) {
		if (wrap_x25519(file_key, &rs[i], w->header + len, e) < 0)
			goto fail;
		len += X25519_STANZA_LEN;
	}
	memcpy(w->header + len, "---", 3);
	len += 3;
	if (header_mac(file_key, w->header, len, mac, e) < 0)
		goto fail;
	b64_encode(mac64, sizeof mac64, mac, sizeof mac);
	len += (size_t)snprintf(w->header + len, cap - len, " %s\n", mac64);
	randombytes_buf(nonce, sizeof nonce);
	memcpy(w->header + len, nonce, sizeof nonce);
	w->header_len = len + sizeof nonce;
	if (!(w->cipher = payload_cipher(file_key, nonce, 1, e)))
		goto fail;
	sodium_memzero(file_key, sizeof file_key);
	return w;
fail:
	sodium_memzero(file_key, sizeof file_key);
	age_enc_free(w);
	return NULL;
}

static int
enc_send_header(struct age_enc *w, struct err *e)
{
	if (!w->header)
		return 0;
	if (w->out(w->arg, w->header, w->header_len, e) < 0)
		return -1;
	w->written += w->header_len;
	free(w->header);
	w->header = NULL;
	return 0;
}

/* Seal m[0..mlen) (w->buf itself, or the caller's) into w->buf and send
 * it. */
static int
enc_chunk(struct age_enc *w, const uint8_t *m, size_t mlen, int last,
    struct err *e)
{
	if (chunk_seal(w->cipher, w->counter, last, w->buf, m, mlen, e) < 0)
		return -1;
	w->counter++;
	if (w->out(w->arg, w->buf, mlen + TAG_SIZE, e) < 0)
		return -1;
	w->written += mlen + TAG_SIZE;
	return 0;
}

static int
enc_unusable(const struct age_enc *w, struct err *e)
{
	return err_set(e, ERR_FAILED, "age encryption: the stream %s",
	    w->state == ENC_FINISHED ? "is finished" : "failed earlier");
}

int
age_enc_write(struct age_enc *w, const void *buf, size_t len, struct err *e)
{
	const uint8_t *p = buf;

	if (w->state != ENC_OPEN)
		return enc_unusable(w, e);
	if (len == 0)
		return 0;
	if (enc_send_header(w, e) < 0)
		goto fail;
	while (len > 0) {
		size_t k;

		/* A full chunk with more to come is not the final one. */
		if (w->plen == AGE_CHUNK_SIZE) {
			if (enc_chunk(w, w->buf, AGE_CHUNK_SIZE, 0, e) < 0)
				goto fail;
			w->plen = 0;
		}
		if (w->plen == 0 && len > AGE_CHUNK_SIZE) {
			if (enc_chunk(w, p, AGE_CHUNK_SIZE, 0, e) < 0)
				goto fail;
			p += AGE_CHUNK_SIZE;
			len -= AGE_CHUNK_SIZE;
			continue;
		}
		k = MIN(len, AGE_CHUNK_SIZE - w->plen);
		memcpy(w->buf + w->plen, p, k);
		w->plen += k;
		p += k;
		len -= k;
	}
	return 0;
fail:
	w->state = ENC_FAILED;
	return -1;
}

int
age_enc_finish(struct age_enc *w, struct err *e)
{
	if (w->state != ENC_OPEN)
		return enc_unusable(w, e);
	if (enc_send_header(w, e) < 0 ||
	    enc_chunk(w, w->buf, w->plen, 1, e) < 0) {
		w->state = ENC_FAILED;
		return -1;
	}
	w->plen = 0;
	w->state = ENC_FINISHED;
	EVP_CIPHER_CTX_free(w->cipher);
	w->cipher = NULL;
	return 0;
}

uint64_t
age_enc_written(const struct age_enc *w)
{
	return w->written;
}

void
age_enc_free(struct age_enc *w)
{
	if (!w)
		return;
	if (w->buf) {
		sodium_memzero(w->buf, ENC_CHUNK);
		free(w->buf);
	}
	free(w->header);
	EVP_CIPHER_CTX_free(w->cipher);
	sodium_memzero(w, sizeof *w);
	free(w);
}

/* ---- decryption ----------------------------------------------------- */

enum { D_HEADER, D_NONCE, D_PAYLOAD, D_DONE, D_FAILED };

struct age_dec {
	age_out_fn out;
	void *arg;
	int state;
	struct err err;        /* the first failure, repeated after */
	struct age_identity *ids;
	size_t nids;
	/* The header, kept whole for its MAC. */
	struct hparser hp;
	char *h;
	size_t hlen, hcap, lstart;
	int have_info;
	uint8_t file_key[FILE_KEY_SIZE];
	uint8_t nonce[NONCE_SIZE];
	size_t nonce_len;
	EVP_CIPHER_CTX *cipher;
	uint64_t counter;
	uint8_t *cbuf;         /* one sealed chunk as it arrives */
	size_t clen;
	uint8_t *pbuf;         /* its plaintext */
	uint64_t plain;
};

struct age_dec *
age_dec_new(const struct age_identity *ids, size_t n, age_out_fn out,
    void *arg, struct err *e)
{
	struct age_dec *d;

	if (n == 0 || n > AGE_IDENTITIES_MAX) {
		err_set(e, ERR_CONFIG, "age decryption needs 1 to %d "
		    "identities (%zu given)", AGE_IDENTITIES_MAX, n);
		return NULL;
	}
	if (age_crypto_ready(e) < 0)
		return NULL;
	if (!(d = calloc(1, sizeof *d)) ||
	    !(d->ids = malloc(n * sizeof *ids)) ||
	    !(d->cbuf = malloc(ENC_CHUNK)) ||
	    !(d->pbuf = malloc(AGE_CHUNK_SIZE))) {
		age_dec_free(d);
		err_set(e, ERR_FAILED, "out of memory");
		return NULL;
	}
	memcpy(d->ids, ids, n * sizeof *ids);
	d->nids = n;
	d->out = out;
	d->arg = arg;
	age_hp_init(&d->hp, 1);
	return d;
}

/* 1: the stanza opened with the identity (file_key set), 0: it is not
 * addressed to it, -1: refused. */
static int
unwrap_x25519(const struct xstanza *x, const struct age_identity *id,
    uint8_t file_key[FILE_KEY_SIZE], struct err *e)
{
	uint8_t shared[32], salt[64], key[32];
	int rc = -1;

	if (crypto_scalarmult_curve25519(shared, id->secret, x->share) != 0 ||
	    sodium_is_zero(shared, sizeof shared)) {
		err_set(e, ERR_VERIFY, "corrupt age header: an X25519 stanza's "
		    "ephemeral share is a low-order point (no shared secret): "
		    "refused");
		goto out;
	}
	memcpy(salt, x->share, 32);
	memcpy(salt + 32, id->pub, 32);
	if (hkdf32(key, shared, sizeof shared, salt, sizeof salt, x25519_info,
	    e) < 0)
		goto out;
	rc = crypto_aead_chacha20poly1305_ietf_decrypt(file_key, NULL, NULL,
	    x->body, sizeof x->body, NULL, 0, zero_nonce, key) == 0;
out:
	sodium_memzero(shared, sizeof shared);
	sodium_memzero(key, sizeof key);
	return rc;
}

static const char *
plural(size_t n)
{
	return n == 1 ? "" : "s";
}

/* The whole header is in: find the file key, check the MAC. */
static int
dec_open_header(struct age_dec *d, struct err *e)
{
	const struct age_header_info *in = &d->hp.info;
	uint8_t mac[32];
	int found = -1;

	d->have_info = 1;
	for (size_t i = 0; i < d->hp.nx && found < 0; i++)
		for (size_t j = 0; j < d->nids && found < 0; j++) {
			int r = unwrap_x25519(&d->hp.xs[i], &d->ids[j],
			    d->file_key, e);

			if (r < 0)
				return -1;
			if (r == 1)
				found = (int)j;
		}
	if (found < 0) {
		size_t other = in->stanzas - in->x25519;

		if (in->x25519 == 0)
			return err_set(e, AGE_ERR_NO_IDENTITY, "no identity "
			    "matches: the file has no X25519 recipient "
			    "(%zu stanza%s of other types)", other,
			    plural(other));
		return err_set(e, AGE_ERR_NO_IDENTITY, "no identity matches "
		    "any of the file's %zu X25519 recipient%s%s", in->x25519,
		    plural(in->x25519), other ? " (it has stanzas of other "
		    "types too)" : "");
	}
	if (header_mac(d->file_key, d->h, d->hp.mac_off, mac, e) < 0)
		return -1;
	if (CRYPTO_memcmp(mac, d->hp.mac, sizeof mac) != 0)
		return err_set(e, ERR_VERIFY, "corrupt age header: its MAC "
		    "does not match (corrupt or tampered)");
	d->hp.info.identity = found;
	/* The header is done with. */
	free(d->h);
	d->h = NULL;
	d->hlen = d->hcap = 0;
	age_hp_free(&d->hp);
	d->state = D_NONCE;
	return 0;
}

/* Take header bytes from *p, a line at a time. */
static int
dec_header(struct age_dec *d, const uint8_t **p, size_t *len, struct err *e)
{
	while (*len > 0 && d->hp.state != H_DONE) {
		const uint8_t *nl = memchr(*p, '\n', *len);
		size_t take = nl ? (size_t)(nl - *p) + 1 : *len;

		if (d->hlen + take > AGE_HEADER_MAX)
			return err_set(e, ERR_VERIFY, "corrupt age header: "
			    "larger than %d KiB", AGE_HEADER_MAX / 1024);
		if (d->hlen + take > d->hcap) {
			size_t cap = d->hcap ? d->hcap : 1024;
			char *h;

			while (cap < d->hlen + take)
				cap *= 2;
			cap = MIN(cap, (size_t)AGE_HEADER_MAX);
			if (!(h = realloc(d->h, cap)))
				return err_set(e, ERR_FAILED, "out of memory");
			d->h = h;
			d->hcap = cap;
		}
		memcpy(d->h + d->hlen, *p, take);
		d->hlen += take;
		*p += take;
		*len -= take;
		if (nl) {
			if (age_hp_line(&d->hp, d->h + d->lstart,
			    d->hlen - 1 - d->lstart, e) < 0)
				return -1;
			d->lstart = d->hlen;
		} else if (age_hp_partial(&d->hp, d->h + d->lstart,
		    d->hlen - d->lstart, e) < 0)
			return -1;
	}
	if (d->hp.state == H_DONE)
		return dec_open_header(d, e);
	return 0;
}

/* Open c[0..clen) as the next chunk into pbuf: 0, 1 when it does not
 * authenticate as such, -1 on a library failure. */
static int
dec_open(struct age_dec *d, const uint8_t *c, size_t clen, int last,
    struct err *e)
{
	return chunk_open(d->cipher, d->counter, last, d->pbuf, c, clen, e);
}

static int
dec_emit(struct age_dec *d, size_t n, struct err *e)
{
	d->counter++;
	if (n == 0)
		return 0;
	if (d->out(d->arg, d->pbuf, n, e) < 0)
		return -1;
	d->plain += n;
	return 0;
}

/* A full sealed chunk with more bytes after it. */
static int
dec_middle(struct age_dec *d, const uint8_t *c, struct err *e)
{
	int r;

	if ((r = dec_open(d, c, ENC_CHUNK, 0, e)) <= 0)
		return r < 0 ? -1 : dec_emit(d, AGE_CHUNK_SIZE, e);
	if ((r = dec_open(d, c, ENC_CHUNK, 1, e)) <= 0)
		return r < 0 ? -1 : err_set(e, ERR_VERIFY, "corrupt age "
		    "payload: data after the final chunk (chunk %" PRIu64 ")",
		    d->counter);
	return err_set(e, ERR_VERIFY, "corrupt age payload: chunk %" PRIu64
	    " does not authenticate (corrupt, reordered or tampered)",
	    d->counter);
}

static int
dec_payload(struct age_dec *d, const uint8_t *p, size_t len, struct err *e)
{
	while (len > 0) {
		size_t k;

		if (d->clen == ENC_CHUNK) {
			if (dec_middle(d, d->cbuf, e) < 0)
				return -1;
			d->clen = 0;
		}
		if (d->clen == 0 && len > ENC_CHUNK) {
			if (dec_middle(d, p, e) < 0)
				return -1;
			p += ENC_CHUNK;
			len -= ENC_CHUNK;
			continue;
		}
		k = MIN(len, ENC_CHUNK - d->clen);
		memcpy(d->cbuf + d->clen, p, k);
		d->clen += k;
		p += k;
		len -= k;
	}
	return 0;
}

static int
dec_write(struct age_dec *d, const uint8_t *p, size_t len, struct err *e)
{
	if (d->state == D_HEADER && dec_header(d, &p, &len, e) < 0)
		return -1;
	if (d->state == D_NONCE && len > 0) {
		size_t k = MIN(len, NONCE_SIZE - d->nonce_len);

		memcpy(d->nonce + d->nonce_len, p, k);
		d->nonce_len += k;
		p += k;
		len -= k;
		if (d->nonce_len == NONCE_SIZE) {
			if (!(d->cipher = payload_cipher(d->file_key, d->nonce,
			    0, e)))
				return -1;
			sodium_memzero(d->file_key, sizeof d->file_key);
			d->state = D_PAYLOAD;
		}
	}
	if (d->state == D_PAYLOAD && len > 0)
		return dec_payload(d, p, len, e);
	return 0;
}

/* The end of the file: what is held must be the final chunk. */
static int
dec_finish(struct age_dec *d, struct err *e)
{
	int r;

	switch (d->state) {
	case D_HEADER:
		if (d->hlen == 0)
			return err_set(e, ERR_VERIFY, "an empty file: not an "
			    "age file");
		return err_set(e, ERR_VERIFY, "truncated: the file ends inside "
		    "its age header");
	case D_NONCE:
		return err_set(e, ERR_VERIFY, "truncated: the file ends before "
		    "its age payload");
	default:
		break;
	}
	if (d->clen < TAG_SIZE) {
		if (d->clen == 0 && d->counter > 0)
			return err_set(e, ERR_VERIFY, "truncated: the age "
			    "payload ends after chunk %" PRIu64 " without its "
			    "final chunk", d->counter - 1);
		return err_set(e, ERR_VERIFY, "truncated: the age payload ends "
		    "inside chunk %" PRIu64, d->counter);
	}
	if ((r = dec_open(d, d->cbuf, d->clen, 1, e)) != 0) {
		if (r < 0 || (d->clen == ENC_CHUNK &&
		    (r = dec_open(d, d->cbuf, d->clen, 0, e)) < 0))
			return -1;
		if (d->clen == ENC_CHUNK && r == 0)
			return err_set(e, ERR_VERIFY, "truncated: the age "
			    "payload ends after chunk %" PRIu64 " without its "
			    "final chunk", d->counter);
		return err_set(e, ERR_VERIFY, "corrupt age payload: the final "
		    "chunk (chunk %" PRIu64 ") does not authenticate (corrupt, "
		    "truncated or tampered)", d->counter);
	}
	if (d->clen == TAG_SIZE && d->counter > 0)
		return err_set(e, ERR_VERIFY, "corrupt age payload: an empty "
		    "final chunk after data (chunk %" PRIu64 ")", d->counter);
	if (dec_emit(d, d->clen - TAG_SIZE, e) < 0)
		return -1;
	d->clen = 0;
	d->state = D_DONE;
	EVP_CIPHER_CTX_free(d->cipher);
	d->cipher = NULL;
	return 0;
}

static int
dec_failed(struct age_dec *d, struct err *e)
{
	d->state = D_FAILED;
	if (e)
		*e = d->err;
	return -1;
}

int
age_dec_write(struct age_dec *d, const void *buf, size_t len, struct err *e)
{
	if (d->state == D_FAILED)
		return dec_failed(d, e);
	if (d->state == D_DONE) {
		err_set(&d->err, ERR_FAILED, "age decryption: the stream is "
		    "finished");
		return dec_failed(d, e);
	}
	if (dec_write(d, buf, len, &d->err) < 0)
		return dec_failed(d, e);
	return 0;
}

int
age_dec_finish(struct age_dec *d, struct err *e)
{
	if (d->state == D_FAILED)
		return dec_failed(d, e);
	if (d->state == D_DONE) {
		err_set(&d->err, ERR_FAILED, "age decryption: the stream is "
		    "finished");
		return dec_failed(d, e);
	}
	if (dec_finish(d, &d->err) < 0)
		return dec_failed(d, e);
	return 0;
}

const struct age_header_info *
age_dec_header(const struct age_dec *d)
{
	return d->have_info ? &d->hp.info : NULL;
}

uint64_t
age_dec_plaintext(const struct age_dec *d)
{
	return d->plain;
}

void
age_dec_free(struct age_dec *d)
{
	if (!d)
		return;
	age_identities_free(d->ids, d->nids);
	age_hp_free(&d->hp);
	free(d->h);
	EVP_CIPHER_CTX_free(d->cipher);
	free(d->cbuf);
	if (d->pbuf) {
		sodium_memzero(d->pbuf, AGE_CHUNK_SIZE);
		free(d->pbuf);
	}
	sodium_memzero(d, sizeof *d);
	free(d);
}
