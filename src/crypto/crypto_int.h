/*
 * crypto_int.h: the parts of the crypto module, as they see each other.
 * Only src/crypto/, its unit tests and tests/tools include this file.
 *
 *   crypto_b64.c     base64 and base64url, strict both ways
 *   crypto_err.c     error messages for *err
 *   crypto_key.c     our certificate and private key
 *   crypto_rich.c    rich notification content
 *   crypto_jwks.c    public key sets
 *   crypto_jwt.c     JWT parts, RS256, validation tokens
 *   crypto_client.c  the client assertion
 */
#ifndef PRESGW_CRYPTO_INT_H
#define PRESGW_CRYPTO_INT_H

#include <stddef.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "core.h"
#include "crypto/crypto.h"

/* The longest JWT we look at; Entra's tokens are 1 to 3 kB. */
#define CRYPTO_JWT_MAX          16384

/* RSA keys shorter than this are refused, ours and others'. */
#define CRYPTO_RSA_MIN_BITS     2048

struct crypto_key {
    X509        *ck_cert;
    EVP_PKEY    *ck_pkey;
    char        *ck_cert_b64;       /* DER, base64 */
    char         ck_thumb[41];      /* SHA-1, hex, upper case */
    char         ck_x5t[32];        /* SHA-1, base64url */
    char         ck_x5t_s256[48];   /* SHA-256, base64url */
};

/*
 * Decodes base64 (url = 0: '+' '/', '=' padding optional) or base64url
 * (url = 1: '-' '_', no padding).  Anything else, including white space,
 * a length no encoder makes, non-zero trailing bits or more than max
 * decoded bytes, is refused.  Returns a malloc'd buffer (one spare NUL
 * byte after *len bytes) or NULL.
 */
unsigned char *crypto_b64_decode(const char *s, size_t slen, int url,
    size_t max, size_t *len);

/* Encodes n bytes; base64url without padding when url is set.  Malloc'd. */
char *crypto_b64_encode(const unsigned char *p, size_t n, int url);

/* Sets *err (when err is not NULL) to a formatted message; also drops
 * whatever OpenSSL queued, so the next failure reads its own reason. */
void crypto_err_set(char **err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The reason OpenSSL gave for its last failure, or "unknown". */
const char *crypto_err_ssl(void);

/* RS256 (RSASSA-PKCS1-v1_5 with SHA-256) over n bytes of data. */
int crypto_jwt_rs256_verify(EVP_PKEY *pub, const char *data, size_t n,
    const unsigned char *sig, size_t siglen);
unsigned char *crypto_jwt_rs256_sign(EVP_PKEY *key, const char *data,
    size_t n, size_t *siglen);

/*
 * Splits a compact JWS into its decoded header and claims (JSON text,
 * malloc'd) and signature; *signed_len is the length of the signed part
 * "header.claims".  0, or -1 with *err.
 */
struct crypto_jwt_parts {
    char            *jp_header;
    char            *jp_claims;
    unsigned char   *jp_sig;
    size_t           jp_sig_len;
    size_t           jp_signed_len;
};

int crypto_jwt_split(const char *jwt, struct crypto_jwt_parts *p,
    char **err);
void crypto_jwt_parts_free(struct crypto_jwt_parts *p);

/* The public key of kid in ks, or NULL. */
EVP_PKEY *crypto_jwks_find(const struct crypto_jwks *ks, const char *kid);

/* Nonzero when pkey is an RSA key of an acceptable size. */
int crypto_key_rsa_ok(EVP_PKEY *pkey);

#endif
