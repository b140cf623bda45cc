/*
 * crypto.h: what Graph asks of our keys (OpenSSL libcrypto).
 *
 * - Rich change notifications carry encryptedContent: a symmetric key
 *   encrypted to our certificate (RSA-OAEP), the data (AES-256-CBC,
 *   PKCS7 padding, IV = the key's first 16 bytes) and an HMAC-SHA256 of
 *   the data under the same key, which is checked before anything is
 *   decrypted.
 * - Validation tokens in notifications are JWTs (RS256) checked against
 *   a JWKS key set: signature, audience, caller, tenant, expiry.
 * - The application may sign in with a certificate instead of a secret:
 *   a client assertion JWT signed with the certificate's key.
 *
 * Functions return 0 or a pointer; on failure -1 or NULL with a message
 * in *err (the caller frees it) that never holds key material.
 */
#ifndef PRESGW_CRYPTO_H
#define PRESGW_CRYPTO_H

#include <stddef.h>
#include <time.h>

/* A private key with its certificate, from PEM files. */
struct crypto_key;

struct crypto_key *crypto_key_load(const char *cert_file,
    const char *key_file, char **err);
void crypto_key_free(struct crypto_key *k);

/* The certificate, DER in base64: Graph's encryptionCertificate. */
const char *crypto_key_cert_b64(const struct crypto_key *k);

/* The certificate's SHA-1 thumbprint, hex, upper case. */
const char *crypto_key_thumbprint(const struct crypto_key *k);

/*
 * Opens a rich notification's encryptedContent (its three base64
 * strings).  Returns the plaintext (malloc'd, NUL-terminated, *len set)
 * or NULL: "signature mismatch" when the HMAC is wrong.
 */
char *crypto_rich_open(const struct crypto_key *k, const char *data_b64,
    const char *data_key_b64, const char *signature_b64, size_t *len,
    char **err);

/* Room for a digest from crypto_rich_digest, in hex, and a NUL. */
#define CRYPTO_DIGEST_HEX   65

/*
 * The SHA-256 of the decoded data of an encryptedContent, in hex, into
 * out: one value however the base64 is written, so that a copy of an
 * item is known again.  0, or -1 when data is not base64.
 */
int crypto_rich_digest(const char *data_b64, char out[CRYPTO_DIGEST_HEX]);

/*
 * A client assertion (RFC 7523) for the token endpoint: header alg RS256
 * with x5t#S256 of the certificate; claims aud, iss = sub = client_id,
 * jti, nbf = now, exp = now + 600.  Malloc'd.
 */
char *crypto_client_assertion(const struct crypto_key *k,
    const char *client_id, const char *audience, time_t now, char **err);

/* A set of public keys, from a JWKS document (JSON text). */
struct crypto_jwks;

struct crypto_jwks *crypto_jwks_parse(const char *json, char **err);
void crypto_jwks_free(struct crypto_jwks *ks);

/* Nonzero when ks (may be NULL) holds a key named kid. */
int crypto_jwks_has(const struct crypto_jwks *ks, const char *kid);

/* The kid a compact JWS names in its header (malloc'd), or NULL; the
 * token is not checked otherwise. */
char *crypto_jwt_kid(const char *jwt);

/* graph-api.md 3.6: the application id of Microsoft Graph Change
 * Tracking, the caller of every validation token. */
#define CRYPTO_GRAPH_CHANGE_TRACKING "0bf30f3b-4a52-48df-9a82-234910c4a086"

/*
 * Checks a validation token: RS256 by a key of ks (by kid), aud equal to
 * audience, the caller (azp, or appid in a v1.0 token) equal to
 * CRYPTO_GRAPH_CHANGE_TRACKING, tid equal to tenant (when tenant is not
 * NULL), nbf <= now < exp with 300 s of skew.
 */
int crypto_jwt_verify(const struct crypto_jwks *ks, const char *jwt,
    const char *audience, const char *tenant, time_t now, char **err);

/*
 * The issue time (iat, or nbf when it has none) and the expiry (exp) of
 * a token crypto_jwt_verify() took; 0 for a claim it lacks.  0, or -1
 * when the token does not split.
 */
int crypto_jwt_times(const char *jwt, time_t *iat, time_t *exp);

#endif
