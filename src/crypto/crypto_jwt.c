/*
 * crypto_jwt.c: compact JWS (RFC 7515) with RS256 (RFC 7518 3.3), and the
 * validation tokens of rich notifications (graph-api.md 3.6).
 *
 * Only RS256 is taken: the algorithm named in a token's header is the
 * sender's word, and "none" or an HMAC under a public key would let
 * anybody forge one (RFC 8725 2.1 and 3.1).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "crypto/crypto_int.h"

/* graph-api.md 3.6: clocks differ; five minutes either way. */
#define CRYPTO_JWT_SKEW         300

int
crypto_jwt_rs256_verify(EVP_PKEY *pub, const char *data, size_t n,
    const unsigned char *sig, size_t siglen)
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    int ok;

    ok = md != NULL &&
        EVP_DigestVerifyInit_ex(md, NULL, "SHA256", NULL, NULL, pub,
        NULL) == 1 &&
        EVP_DigestVerify(md, sig, siglen, (const unsigned char *)data,
        n) == 1;
    EVP_MD_CTX_free(md);
    return ok ? 0 : -1;
}

unsigned char *
crypto_jwt_rs256_sign(EVP_PKEY *key, const char *data, size_t n,
    size_t *siglen)
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    unsigned char *sig = NULL;
    size_t len = 0;

    if (md != NULL &&
        EVP_DigestSignInit_ex(md, NULL, "SHA256", NULL, NULL, key,
        NULL) == 1 &&
        EVP_DigestSign(md, NULL, &len, (const unsigned char *)data,
        n) == 1) {
        sig = xmalloc(len);
        if (EVP_DigestSign(md, sig, &len, (const unsigned char *)data,
            n) != 1) {
            free(sig);
            sig = NULL;
        }
    }
    EVP_MD_CTX_free(md);
    *siglen = len;
    return sig;
}

void
crypto_jwt_parts_free(struct crypto_jwt_parts *p)
{
    free(p->jp_header);
    free(p->jp_claims);
    free(p->jp_sig);
    memset(p, 0, sizeof(*p));
}

int
crypto_jwt_split(const char *jwt, struct crypto_jwt_parts *p, char **err)
{
    const char *dot1, *dot2;
    size_t len, n;

    memset(p, 0, sizeof(*p));
    len = strlen(jwt);
    dot1 = strchr(jwt, '.');
    dot2 = dot1 != NULL ? strchr(dot1 + 1, '.') : NULL;
    if (len > CRYPTO_JWT_MAX || dot2 == NULL || strchr(dot2 + 1, '.')) {
        crypto_err_set(err, "token is not a compact JWS");
        return -1;
    }
    p->jp_header = (char *)crypto_b64_decode(jwt, (size_t)(dot1 - jwt), 1,
        len, &n);
    p->jp_claims = (char *)crypto_b64_decode(dot1 + 1,
        (size_t)(dot2 - dot1 - 1), 1, len, &n);
    p->jp_sig = crypto_b64_decode(dot2 + 1, strlen(dot2 + 1), 1, len,
        &p->jp_sig_len);
    p->jp_signed_len = (size_t)(dot2 - jwt);
    if (p->jp_header == NULL || p->jp_claims == NULL || p->jp_sig == NULL) {
        crypto_jwt_parts_free(p);
        crypto_err_set(err, "token part is not base64url");
        return -1;
    }
    return 0;
}

/* The key that signed the token, by the header's alg and kid. */
static EVP_PKEY *
crypto_jwt_key(const struct crypto_jwks *ks, const char *header,
    char **err)
{
    cJSON *h = cJSON_Parse(header);
    const cJSON *alg = cJSON_GetObjectItemCaseSensitive(h, "alg");
    const cJSON *kid = cJSON_GetObjectItemCaseSensitive(h, "kid");
    EVP_PKEY *pkey = NULL;
    const char *why = NULL;

    if (!cJSON_IsObject(h))
        why = "token header is not JSON";
    else if (!cJSON_IsString(alg) || strcmp(alg->valuestring, "RS256") != 0)
        why = "token algorithm is not RS256";
    else if (!cJSON_IsString(kid))
        why = "token names no key";
    else
        pkey = crypto_jwks_find(ks, kid->valuestring);
    if (pkey == NULL)
        crypto_err_set(err, "%s", why ? why : "token key is not in the set");
    cJSON_Delete(h);
    return pkey;
}

/* True when aud (a string or an array, RFC 7519 4.1.3) names want. */
static int
crypto_jwt_aud_ok(const cJSON *aud, const char *want)
{
    const cJSON *a;

    if (cJSON_IsString(aud))
        return strcmp(aud->valuestring, want) == 0;
    if (!cJSON_IsArray(aud))
        return 0;
    cJSON_ArrayForEach(a, aud)
        if (cJSON_IsString(a) && strcmp(a->valuestring, want) == 0)
            return 1;
    return 0;
}

/*
 * graph-api.md 3.6: the caller is Microsoft Graph Change Tracking, named
 * by azp in v2.0 tokens and by appid in v1.0 ones.  Any application of
 * any tenant can get a token for our audience from the platform; only
 * this caller makes it Graph's.
 */
static int
crypto_jwt_caller_ok(const cJSON *c)
{
    const cJSON *azp = cJSON_GetObjectItemCaseSensitive(c, "azp");
    const cJSON *appid = cJSON_GetObjectItemCaseSensitive(c, "appid");
    const cJSON *who = azp != NULL ? azp : appid;

    return cJSON_IsString(who) &&
        strcmp(who->valuestring, CRYPTO_GRAPH_CHANGE_TRACKING) == 0;
}

/* The claims: audience, caller, tenant, and the time window. */
static int
crypto_jwt_claims(const char *claims, const char *audience,
    const char *tenant, time_t now, char **err)
{
    cJSON *c = cJSON_Parse(claims);
    const cJSON *aud = cJSON_GetObjectItemCaseSensitive(c, "aud");
    const cJSON *tid = cJSON_GetObjectItemCaseSensitive(c, "tid");
    const cJSON *nbf = cJSON_GetObjectItemCaseSensitive(c, "nbf");
    const cJSON *exp = cJSON_GetObjectItemCaseSensitive(c, "exp");
    double t = (double)now;
    int rc = -1;

    if (!cJSON_IsObject(c))
        crypto_err_set(err, "token claims are not JSON");
    else if (!crypto_jwt_aud_ok(aud, audience))
        crypto_err_set(err, "token audience is not ours");
    else if (!crypto_jwt_caller_ok(c))
        crypto_err_set(err, "token caller is not Graph change tracking");
    else if (tenant != NULL && (!cJSON_IsString(tid) ||
        strcmp(tid->valuestring, tenant) != 0))
        crypto_err_set(err, "token tenant is not ours");
    else if (!cJSON_IsNumber(exp) || t - CRYPTO_JWT_SKEW >= exp->valuedouble)
        crypto_err_set(err, "token has expired");
    else if (nbf != NULL && (!cJSON_IsNumber(nbf) ||
        t + CRYPTO_JWT_SKEW < nbf->valuedouble))
        crypto_err_set(err, "token is not yet valid");
    else
        rc = 0;
    cJSON_Delete(c);
    return rc;
}

int
crypto_jwt_verify(const struct crypto_jwks *ks, const char *jwt,
    const char *audience, const char *tenant, time_t now, char **err)
{
    struct crypto_jwt_parts p;
    EVP_PKEY *pkey;
    int rc = -1;

    if (crypto_jwt_split(jwt, &p, err) < 0)
        return -1;
    pkey = crypto_jwt_key(ks, p.jp_header, err);
    if (pkey == NULL)
        goto out;
    if (crypto_jwt_rs256_verify(pkey, jwt, p.jp_signed_len, p.jp_sig,
        p.jp_sig_len) < 0) {
        crypto_err_set(err, "token signature does not verify");
        goto out;
    }
    rc = crypto_jwt_claims(p.jp_claims, audience, tenant, now, err);

out:
    crypto_jwt_parts_free(&p);
    return rc;
}

char *
crypto_jwt_kid(const char *jwt)
{
    struct crypto_jwt_parts p;
    const cJSON *kid;
    char *out = NULL;
    cJSON *h;

    if (crypto_jwt_split(jwt, &p, NULL) < 0)
        return NULL;
    h = cJSON_Parse(p.jp_header);
    kid = cJSON_GetObjectItemCaseSensitive(h, "kid");
    if (cJSON_IsString(kid))
        out = xstrdup(kid->valuestring);
    cJSON_Delete(h);
    crypto_jwt_parts_free(&p);
    return out;
}

static time_t
crypto_jwt_time(const cJSON *c, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(c, name);

    return cJSON_IsNumber(v) && v->valuedouble > 0 &&
        v->valuedouble < 4e12 ? (time_t)v->valuedouble : 0;
}

int
crypto_jwt_times(const char *jwt, time_t *iat, time_t *exp)
{
    struct crypto_jwt_parts p;
    cJSON *c;

    *iat = 0;
    *exp = 0;
    if (crypto_jwt_split(jwt, &p, NULL) < 0)
        return -1;
    c = cJSON_Parse(p.jp_claims);
    *iat = crypto_jwt_time(c, "iat");
    if (*iat == 0)
        *iat = crypto_jwt_time(c, "nbf");
    *exp = crypto_jwt_time(c, "exp");
    cJSON_Delete(c);
    crypto_jwt_parts_free(&p);
    return 0;
}
