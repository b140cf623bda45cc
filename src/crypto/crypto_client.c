/*
 * crypto_client.c: the client assertion that signs the application in
 * with a certificate instead of a secret (RFC 7523 section 2.2;
 * graph-api.md 4.1).
 *
 * The header names the certificate by its SHA-256 thumbprint (x5t#S256),
 * as Entra's current documentation asks, and by its SHA-1 thumbprint
 * (x5t) too, which is what Entra long required and what older tenants'
 * documentation still shows.  The signature is RS256.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "crypto/crypto_int.h"

/* How long the assertion is good for (Entra: at most ten minutes). */
#define CRYPTO_CLIENT_LIFE      600

/* Appends s as a JSON string (RFC 8259 section 7). */
static void
crypto_client_json_str(struct buf *b, const char *s)
{
    buf_puts(b, "\"");
    for (; *s != '\0'; s++) {
        unsigned char c = (unsigned char)*s;

        if (c == '"' || c == '\\')
            buf_printf(b, "\\%c", c);
        else if (c < 0x20)
            buf_printf(b, "\\u%04x", c);
        else
            buf_append(b, s, 1);
    }
    buf_puts(b, "\"");
}

/* A random (version 4) UUID, so Entra can refuse a replayed assertion. */
static int
crypto_client_jti(char *out, size_t size)
{
    unsigned char r[16];

    if (RAND_bytes(r, sizeof(r)) != 1)
        return -1;
    r[6] = (r[6] & 0x0f) | 0x40;
    r[8] = (r[8] & 0x3f) | 0x80;
    snprintf(out, size, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
        "%02x%02x%02x%02x%02x%02x", r[0], r[1], r[2], r[3], r[4], r[5],
        r[6], r[7], r[8], r[9], r[10], r[11], r[12], r[13], r[14], r[15]);
    return 0;
}

/* Appends the base64url of the JSON text in json. */
static void
crypto_client_part(struct buf *out, struct buf *json)
{
    char *b = crypto_b64_encode((const unsigned char *)json->b_data,
        json->b_len, 1);

    buf_puts(out, b);
    free(b);
}

static void
crypto_client_claims(struct buf *c, const char *client_id,
    const char *audience, const char *jti, time_t now)
{
    buf_puts(c, "{\"aud\":");
    crypto_client_json_str(c, audience);
    buf_puts(c, ",\"iss\":");
    crypto_client_json_str(c, client_id);
    buf_puts(c, ",\"sub\":");
    crypto_client_json_str(c, client_id);
    buf_printf(c, ",\"jti\":\"%s\",\"nbf\":%lld,\"iat\":%lld,\"exp\":%lld}",
        jti, (long long)now, (long long)now,
        (long long)now + CRYPTO_CLIENT_LIFE);
}

char *
crypto_client_assertion(const struct crypto_key *k, const char *client_id,
    const char *audience, time_t now, char **err)
{
    struct buf h, c, jwt;
    unsigned char *sig = NULL;
    char jti[40], *b;
    size_t siglen;

    if (crypto_client_jti(jti, sizeof(jti)) < 0) {
        crypto_err_set(err, "no random bytes: %s", crypto_err_ssl());
        return NULL;
    }
    buf_init(&h, 1024);
    buf_printf(&h, "{\"alg\":\"RS256\",\"typ\":\"JWT\",\"x5t\":\"%s\","
        "\"x5t#S256\":\"%s\"}", k->ck_x5t, k->ck_x5t_s256);
    buf_init(&c, 8192);
    crypto_client_claims(&c, client_id, audience, jti, now);
    buf_init(&jwt, CRYPTO_JWT_MAX);
    crypto_client_part(&jwt, &h);
    buf_puts(&jwt, ".");
    crypto_client_part(&jwt, &c);
    if (!h.b_overflow && !c.b_overflow && !jwt.b_overflow)
        sig = crypto_jwt_rs256_sign(k->ck_pkey, jwt.b_data, jwt.b_len,
            &siglen);
    if (sig == NULL) {
        crypto_err_set(err, "cannot sign the assertion: %s",
            jwt.b_overflow ? "too long" : crypto_err_ssl());
    } else {
        b = crypto_b64_encode(sig, siglen, 1);
        buf_puts(&jwt, ".");
        buf_puts(&jwt, b);
        free(b);
        free(sig);
    }
    buf_free(&h);
    buf_free(&c);
    if (sig == NULL || jwt.b_overflow) {
        buf_free(&jwt);
        return NULL;
    }
    return buf_steal(&jwt);
}
