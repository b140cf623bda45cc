/*
 * crypto_b64.c: base64 (RFC 4648 section 4) and base64url (section 5).
 *
 * Decoding is strict: what comes from the network is either what an
 * encoder makes or refused, so that no two texts decode to one value.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/crypto_int.h"

static const char crypto_b64_std[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char crypto_b64_url[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* The value of c in the alphabet, or -1. */
static int
crypto_b64_value(char c, int url)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == (url ? '-' : '+'))
        return 62;
    if (c == (url ? '_' : '/'))
        return 63;
    return -1;
}

/* The length without padding, or (size_t)-1 when the padding is wrong. */
static size_t
crypto_b64_unpadded(const char *s, size_t slen, int url)
{
    size_t n = slen;

    while (n > 0 && s[n - 1] == '=')
        n--;
    if (n == slen)
        return n;
    if (url || slen % 4 != 0 || slen - n > 2)
        return (size_t)-1;
    return n;
}

unsigned char *
crypto_b64_decode(const char *s, size_t slen, int url, size_t max,
    size_t *len)
{
    unsigned char *out;
    uint32_t acc = 0;
    size_t n, i, o = 0;
    int bits = 0, v;

    n = crypto_b64_unpadded(s, slen, url);
    if (n == (size_t)-1 || n % 4 == 1)
        return NULL;
    if (n / 4 * 3 + (n % 4 != 0 ? n % 4 - 1 : 0) > max)
        return NULL;
    out = xmalloc(n / 4 * 3 + 3);
    for (i = 0; i < n; i++) {
        v = crypto_b64_value(s[i], url);
        if (v < 0)
            goto bad;
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (unsigned char)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    /* The bits left over must be zero, or two texts mean one value. */
    if (acc != 0)
        goto bad;
    out[o] = '\0';
    *len = o;
    return out;

bad:
    free(out);
    return NULL;
}

char *
crypto_b64_encode(const unsigned char *p, size_t n, int url)
{
    const char *abc = url ? crypto_b64_url : crypto_b64_std;
    char *out = xmalloc((n + 2) / 3 * 4 + 1), *q = out;
    uint32_t v;
    size_t i;

    for (i = 0; i + 2 < n; i += 3) {
        v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
        *q++ = abc[v >> 18];
        *q++ = abc[(v >> 12) & 63];
        *q++ = abc[(v >> 6) & 63];
        *q++ = abc[v & 63];
    }
    if (i < n) {
        v = (uint32_t)p[i] << 16 | (i + 1 < n ? (uint32_t)p[i + 1] << 8 : 0);
        *q++ = abc[v >> 18];
        *q++ = abc[(v >> 12) & 63];
        if (i + 1 < n)
            *q++ = abc[(v >> 6) & 63];
        else if (!url)
            *q++ = '=';
        if (!url)
            *q++ = '=';
    }
    *q = '\0';
    return out;
}
