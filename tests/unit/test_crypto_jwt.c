/*
 * test_crypto_jwt.c: validation tokens signed here (RS256, kid) checked
 * against key sets given by n/e or by x5c, and our client assertion
 * checked with the certificate's public key.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <cJSON.h>
#include <openssl/core_names.h>
#include <openssl/rand.h>

#include "crypto/crypto_int.h"

#include "testlib.h"
#include "testkeys.h"

#define AUD     "925bff9f-f6e2-4a69-b858-f71ea2b9b6d0"
#define TID     "9f4ebab6-520d-49c0-85cc-7b25c78d4a93"
#define NOW     1700000000L
#define TOKEN_URL \
    "https://login.example.test/" TID "/oauth2/v2.0/token"

static char tmpdir[] = "/tmp/presgw-jwt-XXXXXX";
static struct testkey signer, other;
static struct crypto_jwks *jwks;

static char *
b64url(const void *p, size_t n)
{
    return crypto_b64_encode(p, n, 1);
}

static char *
bn_b64url(EVP_PKEY *pkey, const char *name)
{
    unsigned char buf[1024];
    BIGNUM *bn = NULL;
    int n;

    EVP_PKEY_get_bn_param(pkey, name, &bn);
    n = BN_bn2bin(bn, buf);
    BN_free(bn);
    return b64url(buf, (size_t)n);
}

/* A JWKS with signer as kid "k1" by n/e, and other as "k2". */
static char *
jwks_ne(void)
{
    char *n1 = bn_b64url(signer.tk_pkey, OSSL_PKEY_PARAM_RSA_N);
    char *e1 = bn_b64url(signer.tk_pkey, OSSL_PKEY_PARAM_RSA_E);
    char *n2 = bn_b64url(other.tk_pkey, OSSL_PKEY_PARAM_RSA_N);
    char *e2 = bn_b64url(other.tk_pkey, OSSL_PKEY_PARAM_RSA_E);
    char *s = xasprintf("{\"keys\":[{\"kty\":\"EC\",\"kid\":\"k0\"},"
        "{\"kty\":\"RSA\",\"use\":\"sig\",\"kid\":\"k1\",\"n\":\"%s\","
        "\"e\":\"%s\"},{\"kty\":\"RSA\",\"kid\":\"k2\",\"n\":\"%s\","
        "\"e\":\"%s\"}]}", n1, e1, n2, e2);

    free(n1);
    free(e1);
    free(n2);
    free(e2);
    return s;
}

/* A JWKS with signer as kid "k1" by its certificate only. */
static char *
jwks_x5c(void)
{
    unsigned char *der = NULL;
    int len = i2d_X509(signer.tk_cert, &der);
    char *c = crypto_b64_encode(der, (size_t)len, 0);
    char *s = xasprintf("{\"keys\":[{\"kty\":\"RSA\",\"kid\":\"k1\","
        "\"x5c\":[\"%s\"]}]}", c);

    OPENSSL_free(der);
    free(c);
    return s;
}

/* header.claims signed by pkey (none: no signature). */
static char *
make_jwt(EVP_PKEY *pkey, const char *header, const char *claims)
{
    char *h = b64url(header, strlen(header));
    char *c = b64url(claims, strlen(claims));
    char *signing = xasprintf("%s.%s", h, c), *sig, *jwt;
    unsigned char *raw = NULL;
    size_t n = 0;

    if (pkey != NULL)
        raw = crypto_jwt_rs256_sign(pkey, signing, strlen(signing), &n);
    sig = b64url(raw != NULL ? raw : (unsigned char *)"", n);
    jwt = xasprintf("%s.%s", signing, sig);
    free(h);
    free(c);
    free(signing);
    free(sig);
    free(raw);
    return jwt;
}

static char *
claims(const char *aud, long nbf, long exp)
{
    return xasprintf("{\"aud\":\"%s\",\"iss\":\"https://login.microsoft"
        "online.com/" TID "/v2.0\",\"iat\":%ld,\"nbf\":%ld,\"exp\":%ld,"
        "\"azp\":\"0bf30f3b-4a52-48df-9a82-234910c4a086\",\"tid\":\"" TID
        "\",\"ver\":\"2.0\"}", aud, nbf, nbf, exp);
}

/* Verifies a token of signer's making with these parts. */
static int
verify(EVP_PKEY *by, const char *header, const char *aud, long nbf,
    long exp, time_t now, const char *tenant, char **err)
{
    char *c = claims(aud, nbf, exp), *jwt = make_jwt(by, header, c);
    int rc;

    *err = NULL;
    rc = crypto_jwt_verify(jwks, jwt, AUD, tenant, now, err);
    free(c);
    free(jwt);
    return rc;
}

#define H_K1 "{\"typ\":\"JWT\",\"alg\":\"RS256\",\"kid\":\"k1\"}"

/* Expects a refusal whose message holds want. */
static void
refused(int rc, char *err, const char *want)
{
    CHECK(rc == -1);
    CHECK(err != NULL && strstr(err, want) != NULL);
    if (err != NULL && strstr(err, want) == NULL)
        fprintf(stderr, "  got: %s\n", err);
    free(err);
}

static void
jwt_signed_by_a_listed_key_verifies(void)
{
    char *err;

    CHECK(verify(signer.tk_pkey, H_K1, AUD, NOW - 60, NOW + 3600, NOW, TID,
        &err) == 0);
    CHECK(err == NULL);
    CHECK(verify(signer.tk_pkey, H_K1, AUD, NOW - 60, NOW + 3600, NOW, NULL,
        &err) == 0);
    CHECK(verify(other.tk_pkey,
        "{\"alg\":\"RS256\",\"kid\":\"k2\"}", AUD, NOW, NOW + 60, NOW, TID,
        &err) == 0);
}

static void
jwt_for_another_audience_fails(void)
{
    char *err;
    int rc = verify(signer.tk_pkey, H_K1, "someone-else", NOW, NOW + 60,
        NOW, TID, &err);

    refused(rc, err, "audience");
}

static void
jwt_of_another_tenant_fails(void)
{
    char *err;
    int rc = verify(signer.tk_pkey, H_K1, AUD, NOW, NOW + 60, NOW,
        "other-tenant", &err);

    refused(rc, err, "tenant");
}

static void
jwt_expired_beyond_the_skew_fails(void)
{
    char *err;
    int rc;

    CHECK(verify(signer.tk_pkey, H_K1, AUD, NOW - 3600, NOW - 299, NOW, TID,
        &err) == 0);
    rc = verify(signer.tk_pkey, H_K1, AUD, NOW - 3600, NOW - 300, NOW, TID,
        &err);
    refused(rc, err, "expired");
}

static void
jwt_not_yet_valid_beyond_the_skew_fails(void)
{
    char *err;
    int rc;

    CHECK(verify(signer.tk_pkey, H_K1, AUD, NOW + 300, NOW + 3600, NOW, TID,
        &err) == 0);
    rc = verify(signer.tk_pkey, H_K1, AUD, NOW + 301, NOW + 3600, NOW, TID,
        &err);
    refused(rc, err, "not yet valid");
}

static void
jwt_with_an_unknown_kid_fails(void)
{
    char *err;
    int rc = verify(signer.tk_pkey, "{\"alg\":\"RS256\",\"kid\":\"k9\"}",
        AUD, NOW, NOW + 60, NOW, TID, &err);

    refused(rc, err, "not in the set");
    rc = verify(signer.tk_pkey, "{\"alg\":\"RS256\"}", AUD, NOW, NOW + 60,
        NOW, TID, &err);
    refused(rc, err, "names no key");
}

static void
jwt_signed_by_another_key_fails(void)
{
    char *err;
    int rc = verify(other.tk_pkey, H_K1, AUD, NOW, NOW + 60, NOW, TID, &err);

    refused(rc, err, "signature");
}

static void
jwt_with_alg_none_or_hmac_fails(void)
{
    char *err;
    int rc;

    rc = verify(NULL, "{\"alg\":\"none\",\"kid\":\"k1\"}", AUD, NOW,
        NOW + 60, NOW, TID, &err);
    refused(rc, err, "not RS256");
    rc = verify(signer.tk_pkey, "{\"alg\":\"HS256\",\"kid\":\"k1\"}", AUD,
        NOW, NOW + 60, NOW, TID, &err);
    refused(rc, err, "not RS256");
    rc = verify(signer.tk_pkey, "{\"alg\":\"PS256\",\"kid\":\"k1\"}", AUD,
        NOW, NOW + 60, NOW, TID, &err);
    refused(rc, err, "not RS256");
    rc = verify(signer.tk_pkey, "{\"kid\":\"k1\"}", AUD, NOW, NOW + 60, NOW,
        TID, &err);
    refused(rc, err, "not RS256");
}

static void
jwt_with_a_tampered_payload_fails(void)
{
    char *good = claims("someone-else", NOW, NOW + 60);
    char *jwt = make_jwt(signer.tk_pkey, H_K1, good);
    char *ours = claims(AUD, NOW, NOW + 60), *c = b64url(ours, strlen(ours));
    char *dot1 = strchr(jwt, '.'), *dot2 = strchr(dot1 + 1, '.'), *forged;
    char *err = NULL;
    int rc;

    /* The signed claims named another audience; ours are swapped in. */
    *dot1 = '\0';
    forged = xasprintf("%s.%s%s", jwt, c, dot2);
    rc = crypto_jwt_verify(jwks, forged, AUD, TID, NOW, &err);
    refused(rc, err, "signature");
    free(good);
    free(jwt);
    free(ours);
    free(c);
    free(forged);
}

static void
jwt_that_is_not_a_jws_fails_cleanly(void)
{
    const char *bad[] = { "", "abc", "a.b", "a.b.c.d", "...", "e30.e30.!",
        "e30.e30.", "eyJhbGciOiJSUzI1NiJ9.e30=.AA" };
    size_t i;
    char *err;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err = NULL;
        CHECK(crypto_jwt_verify(jwks, bad[i], AUD, TID, NOW, &err) == -1);
        CHECK(err != NULL);
        free(err);
    }
}

/* A signed token whose caller claim is the given member ("" for none). */
static int
verify_caller(const char *member, char **err)
{
    char *c = xasprintf("{\"aud\":\"" AUD "\",\"exp\":%ld,\"tid\":\""
        TID "\"%s}", NOW + 60, member);
    char *jwt = make_jwt(signer.tk_pkey, H_K1, c);
    int rc;

    *err = NULL;
    rc = crypto_jwt_verify(jwks, jwt, AUD, TID, NOW, err);
    free(c);
    free(jwt);
    return rc;
}

#define CT_APP "\"0bf30f3b-4a52-48df-9a82-234910c4a086\""

static void
jwt_from_graph_change_tracking_by_appid_verifies(void)
{
    char *err;

    CHECK(verify_caller(",\"appid\":" CT_APP ",\"ver\":\"1.0\"",
        &err) == 0);
    free(err);
}

static void
jwt_from_another_caller_fails(void)
{
    char *err;
    int rc;

    rc = verify_caller(",\"azp\":\"" AUD "\"", &err);
    refused(rc, err, "caller");
    rc = verify_caller(",\"appid\":\"11111111-0000-0000-0000-000000000000"
        "\"", &err);
    refused(rc, err, "caller");
    rc = verify_caller("", &err);
    refused(rc, err, "caller");
    rc = verify_caller(",\"azp\":42,\"appid\":" CT_APP, &err);
    refused(rc, err, "caller");
}

static void
jwks_by_certificate_verifies(void)
{
    char *json = jwks_x5c(), *c = claims(AUD, NOW, NOW + 60);
    char *jwt = make_jwt(signer.tk_pkey, H_K1, c), *err = NULL;
    struct crypto_jwks *ks = crypto_jwks_parse(json, &err);

    CHECK(ks != NULL);
    CHECK(ks != NULL && crypto_jwt_verify(ks, jwt, AUD, TID, NOW, &err) == 0);
    crypto_jwks_free(ks);
    free(json);
    free(c);
    free(jwt);
    free(err);
}

static void
jwks_without_a_usable_key_is_refused(void)
{
    const char *bad[] = { "", "[]", "{\"keys\":{}}", "{\"keys\":[]}",
        "{\"keys\":[{\"kty\":\"EC\",\"kid\":\"a\"}]}",
        "{\"keys\":[{\"kty\":\"RSA\",\"kid\":\"a\",\"n\":\"!!\","
        "\"e\":\"AQAB\"}]}",
        "{\"keys\":[{\"kty\":\"RSA\",\"kid\":\"a\",\"n\":\"AQAB\","
        "\"e\":\"AQAB\"}]}",
        "{\"keys\":[{\"kty\":\"RSA\",\"kid\":\"a\",\"x5c\":[\"AQAB\"]}]}" };
    size_t i;
    char *err;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err = NULL;
        CHECK(crypto_jwks_parse(bad[i], &err) == NULL);
        CHECK(err != NULL);
        free(err);
    }
}

/* The decoded header and claims of an assertion, and its signature
 * checked with the certificate's public key. */
static void
jwt_times_are_read_from_its_claims(void)
{
    char *c = claims(AUD, NOW - 60, NOW + 3600);
    char *jwt = make_jwt(signer.tk_pkey, H_K1, c);
    char *nbf_only = make_jwt(signer.tk_pkey, H_K1,
        "{\"nbf\":1700000100,\"exp\":1700000200}");
    time_t iat, exp;

    CHECK(crypto_jwt_times(jwt, &iat, &exp) == 0);
    CHECK(iat == NOW - 60 && exp == NOW + 3600);
    CHECK(crypto_jwt_times(nbf_only, &iat, &exp) == 0);
    CHECK(iat == 1700000100 && exp == 1700000200);
    CHECK(crypto_jwt_times("not a token", &iat, &exp) == -1);
    CHECK(iat == 0 && exp == 0);
    free(c);
    free(jwt);
    free(nbf_only);
}

static cJSON *
assertion_part(const char *jwt, int claims_part)
{
    struct crypto_jwt_parts p;
    cJSON *j;

    if (crypto_jwt_split(jwt, &p, NULL) < 0)
        return NULL;
    CHECK(crypto_jwt_rs256_verify(X509_get0_pubkey(signer.tk_cert), jwt,
        p.jp_signed_len, p.jp_sig, p.jp_sig_len) == 0);
    j = cJSON_Parse(claims_part ? p.jp_claims : p.jp_header);
    crypto_jwt_parts_free(&p);
    return j;
}

static const char *
jstr(const cJSON *o, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static double
jnum(const cJSON *o, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

    return cJSON_IsNumber(v) ? v->valuedouble : -1;
}

static void
client_assertion_has_header_claims_and_signature(void)
{
    struct crypto_key *k = crypto_key_load(signer.tk_cert_file,
        signer.tk_key_file, NULL);
    unsigned char *der = NULL, md[32];
    char *jwt, *jwt2, *x5t;
    cJSON *h, *c;
    int len;

    CHECK(k != NULL);
    if (k == NULL)
        return;
    jwt = crypto_client_assertion(k, "app-id\"1", TOKEN_URL, NOW, NULL);
    jwt2 = crypto_client_assertion(k, "app-id\"1", TOKEN_URL, NOW, NULL);
    h = assertion_part(jwt, 0);
    c = assertion_part(jwt, 1);
    len = i2d_X509(signer.tk_cert, &der);
    EVP_Digest(der, (size_t)len, md, NULL, EVP_sha256(), NULL);
    x5t = b64url(md, sizeof(md));
    CHECK_STR(jstr(h, "alg"), "RS256");
    CHECK_STR(jstr(h, "typ"), "JWT");
    CHECK_STR(jstr(h, "x5t#S256"), x5t);
    CHECK_STR(jstr(c, "aud"), TOKEN_URL);
    CHECK_STR(jstr(c, "iss"), "app-id\"1");
    CHECK_STR(jstr(c, "sub"), "app-id\"1");
    CHECK(jstr(c, "jti") != NULL && strlen(jstr(c, "jti")) == 36);
    CHECK(jnum(c, "nbf") == NOW && jnum(c, "iat") == NOW);
    CHECK(jnum(c, "exp") == NOW + 600);
    CHECK(strchr(jwt, '=') == NULL && strchr(jwt, '+') == NULL);
    /* A new jti each time, so Entra does not take it for a replay. */
    CHECK(jwt2 != NULL && strcmp(jwt, jwt2) != 0);
    cJSON_Delete(h);
    cJSON_Delete(c);
    OPENSSL_free(der);
    free(x5t);
    free(jwt);
    free(jwt2);
    crypto_key_free(k);
}

int
main(void)
{
    char cmd[128], *json, *err = NULL;
    int rc;

    if (mkdtemp(tmpdir) == NULL)
        return 99;
    log_init("test", 0, LOG_LVL_ERROR);
    if (testkeys_make(&signer, tmpdir, "signer", 2048) < 0 ||
        testkeys_make(&other, tmpdir, "other", 3072) < 0)
        return 99;
    json = jwks_ne();
    jwks = crypto_jwks_parse(json, &err);
    free(json);
    if (jwks == NULL) {
        fprintf(stderr, "crypto_jwks_parse: %s\n", err);
        return 99;
    }
    TEST_RUN(jwt_signed_by_a_listed_key_verifies);
    TEST_RUN(jwt_for_another_audience_fails);
    TEST_RUN(jwt_of_another_tenant_fails);
    TEST_RUN(jwt_expired_beyond_the_skew_fails);
    TEST_RUN(jwt_not_yet_valid_beyond_the_skew_fails);
    TEST_RUN(jwt_with_an_unknown_kid_fails);
    TEST_RUN(jwt_signed_by_another_key_fails);
    TEST_RUN(jwt_with_alg_none_or_hmac_fails);
    TEST_RUN(jwt_with_a_tampered_payload_fails);
    TEST_RUN(jwt_that_is_not_a_jws_fails_cleanly);
    TEST_RUN(jwt_from_graph_change_tracking_by_appid_verifies);
    TEST_RUN(jwt_from_another_caller_fails);
    TEST_RUN(jwks_by_certificate_verifies);
    TEST_RUN(jwks_without_a_usable_key_is_refused);
    TEST_RUN(jwt_times_are_read_from_its_claims);
    TEST_RUN(client_assertion_has_header_claims_and_signature);
    crypto_jwks_free(jwks);
    testkeys_free(&signer);
    testkeys_free(&other);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    rc = system(cmd);
    (void)rc;
    return test_done();
}
