/*
 * crypto_jwks.c: a JSON Web Key Set (RFC 7517), as the Microsoft identity
 * platform publishes at its jwks_uri: RSA keys named by kid, given by
 * modulus and exponent (n, e), often with the certificate too (x5c).
 *
 * Keys that are not RSA, are for encryption (use "enc") or cannot be read
 * are left out; a set without one usable key is an error.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <cJSON.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/param_build.h>

#include "crypto/crypto_int.h"

/* Entra publishes about six keys; a set is never near this. */
#define CRYPTO_JWKS_MAX_KEYS    64
#define CRYPTO_JWKS_MAX_TEXT    (256 * 1024)

struct crypto_jwks_key {
    char        *jk_kid;
    EVP_PKEY    *jk_pkey;
};

struct crypto_jwks {
    struct crypto_jwks_key  ks_keys[CRYPTO_JWKS_MAX_KEYS];
    size_t                  ks_count;
};

/* A big-endian unsigned integer from a base64url member of jwk. */
static BIGNUM *
crypto_jwks_bn(const cJSON *jwk, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(jwk, name);
    unsigned char *raw;
    BIGNUM *bn;
    size_t len;

    if (!cJSON_IsString(v))
        return NULL;
    raw = crypto_b64_decode(v->valuestring, strlen(v->valuestring), 1,
        2048, &len);
    if (raw == NULL || len == 0) {
        free(raw);
        return NULL;
    }
    bn = BN_bin2bn(raw, (int)len, NULL);
    free(raw);
    return bn;
}

/* The key from n and e. */
static EVP_PKEY *
crypto_jwks_from_ne(const cJSON *jwk)
{
    BIGNUM *n = crypto_jwks_bn(jwk, "n"), *e = crypto_jwks_bn(jwk, "e");
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    OSSL_PARAM *params = NULL;
    EVP_PKEY_CTX *ctx = NULL;
    EVP_PKEY *pkey = NULL;

    if (n == NULL || e == NULL || bld == NULL ||
        OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) != 1 ||
        OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e) != 1)
        goto out;
    params = OSSL_PARAM_BLD_to_param(bld);
    ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
    if (params == NULL || ctx == NULL || EVP_PKEY_fromdata_init(ctx) != 1 ||
        EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1)
        pkey = NULL;

out:
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    BN_free(n);
    BN_free(e);
    return pkey;
}

/* The key of the first certificate of x5c (base64 DER, RFC 7517 4.7). */
static EVP_PKEY *
crypto_jwks_from_x5c(const cJSON *jwk)
{
    const cJSON *x5c = cJSON_GetObjectItemCaseSensitive(jwk, "x5c");
    const cJSON *first = cJSON_GetArrayItem(x5c, 0);
    const unsigned char *p;
    unsigned char *der;
    EVP_PKEY *pkey = NULL;
    X509 *cert;
    size_t len;

    if (!cJSON_IsArray(x5c) || !cJSON_IsString(first))
        return NULL;
    der = crypto_b64_decode(first->valuestring, strlen(first->valuestring),
        0, 16384, &len);
    if (der == NULL)
        return NULL;
    p = der;
    cert = d2i_X509(NULL, &p, (long)len);
    if (cert != NULL && p == der + len)
        pkey = X509_get_pubkey(cert);
    X509_free(cert);
    free(der);
    return pkey;
}

/* Adds jwk to ks when it is a usable RSA signing key. */
static void
crypto_jwks_add(struct crypto_jwks *ks, const cJSON *jwk)
{
    const cJSON *kty = cJSON_GetObjectItemCaseSensitive(jwk, "kty");
    const cJSON *kid = cJSON_GetObjectItemCaseSensitive(jwk, "kid");
    const cJSON *use = cJSON_GetObjectItemCaseSensitive(jwk, "use");
    EVP_PKEY *pkey;

    if (ks->ks_count == CRYPTO_JWKS_MAX_KEYS || !cJSON_IsString(kty) ||
        strcmp(kty->valuestring, "RSA") != 0 || !cJSON_IsString(kid) ||
        (use != NULL && (!cJSON_IsString(use) ||
        strcmp(use->valuestring, "sig") != 0)))
        return;
    pkey = crypto_jwks_from_ne(jwk);
    if (pkey == NULL)
        pkey = crypto_jwks_from_x5c(jwk);
    if (pkey == NULL || !crypto_key_rsa_ok(pkey)) {
        EVP_PKEY_free(pkey);
        return;
    }
    ks->ks_keys[ks->ks_count].jk_kid = xstrdup(kid->valuestring);
    ks->ks_keys[ks->ks_count].jk_pkey = pkey;
    ks->ks_count++;
}

struct crypto_jwks *
crypto_jwks_parse(const char *json, char **err)
{
    struct crypto_jwks *ks;
    const cJSON *keys, *jwk;
    cJSON *root;

    if (strlen(json) > CRYPTO_JWKS_MAX_TEXT) {
        crypto_err_set(err, "key set is over %d bytes", CRYPTO_JWKS_MAX_TEXT);
        return NULL;
    }
    root = cJSON_Parse(json);
    keys = cJSON_GetObjectItemCaseSensitive(root, "keys");
    if (!cJSON_IsArray(keys)) {
        cJSON_Delete(root);
        crypto_err_set(err, "key set is not JSON with a keys array");
        return NULL;
    }
    ks = xcalloc(1, sizeof(*ks));
    cJSON_ArrayForEach(jwk, keys)
        crypto_jwks_add(ks, jwk);
    cJSON_Delete(root);
    ERR_clear_error();
    if (ks->ks_count == 0) {
        crypto_jwks_free(ks);
        crypto_err_set(err, "key set has no usable RSA signing key");
        return NULL;
    }
    return ks;
}

void
crypto_jwks_free(struct crypto_jwks *ks)
{
    size_t i;

    if (ks == NULL)
        return;
    for (i = 0; i < ks->ks_count; i++) {
        free(ks->ks_keys[i].jk_kid);
        EVP_PKEY_free(ks->ks_keys[i].jk_pkey);
    }
    free(ks);
}

EVP_PKEY *
crypto_jwks_find(const struct crypto_jwks *ks, const char *kid)
{
    size_t i;

    for (i = 0; i < ks->ks_count; i++)
        if (strcmp(ks->ks_keys[i].jk_kid, kid) == 0)
            return ks->ks_keys[i].jk_pkey;
    return NULL;
}

int
crypto_jwks_has(const struct crypto_jwks *ks, const char *kid)
{
    return ks != NULL && kid != NULL && crypto_jwks_find(ks, kid) != NULL;
}
