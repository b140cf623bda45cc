/*
 * crypto_rich.c: the encryptedContent of a rich change notification
 * (graph-api.md 3.6).
 *
 * dataKey is a 32-byte AES key encrypted to our certificate with RSA-OAEP
 * (SHA-1 and MGF1-SHA-1, the .NET OaepSHA1 of Microsoft's samples).
 * dataSignature is HMAC-SHA256 under that key over the decoded data; it
 * is checked first, so nothing unauthenticated reaches the decryption.
 * data is AES-256-CBC with PKCS7 padding and the key's first 16 bytes as
 * IV.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rsa.h>

#include "crypto/crypto_int.h"

#define CRYPTO_RICH_KEY_LEN     32
#define CRYPTO_RICH_MAC_LEN     32

/* A notification holds one resource; Graph caps them far below this. */
#define CRYPTO_RICH_DATA_MAX    (4 * 1024 * 1024)

/* An RSA-OAEP block of a 16384-bit key. */
#define CRYPTO_RICH_DATA_KEY_MAX 2048

/* Unwraps the symmetric key into key[CRYPTO_RICH_KEY_LEN]. */
static int
crypto_rich_unwrap(EVP_PKEY *pkey, const unsigned char *wrapped,
    size_t wlen, unsigned char *key, char **err)
{
    unsigned char out[CRYPTO_RICH_DATA_KEY_MAX];
    size_t outlen = sizeof(out);
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
    int ok;

    ok = ctx != NULL && EVP_PKEY_decrypt_init(ctx) == 1 &&
        EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_OAEP_PADDING) == 1 &&
        EVP_PKEY_CTX_set_rsa_oaep_md(ctx, EVP_sha1()) == 1 &&
        EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, EVP_sha1()) == 1 &&
        EVP_PKEY_decrypt(ctx, out, &outlen, wrapped, wlen) == 1;
    EVP_PKEY_CTX_free(ctx);
    if (!ok || outlen != CRYPTO_RICH_KEY_LEN) {
        OPENSSL_cleanse(out, sizeof(out));
        crypto_err_set(err, ok ? "data key is not %d bytes" :
            "data key does not decrypt with our key", CRYPTO_RICH_KEY_LEN);
        return -1;
    }
    memcpy(key, out, CRYPTO_RICH_KEY_LEN);
    OPENSSL_cleanse(out, sizeof(out));
    return 0;
}

/* 0 when sig is the HMAC-SHA256 of data under key. */
static int
crypto_rich_check(const unsigned char *key, const unsigned char *data,
    size_t dlen, const unsigned char *sig, size_t siglen, char **err)
{
    unsigned char mac[CRYPTO_RICH_MAC_LEN];
    size_t maclen = 0;

    if (EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, key,
        CRYPTO_RICH_KEY_LEN, data, dlen, mac, sizeof(mac), &maclen) ==
        NULL || maclen != CRYPTO_RICH_MAC_LEN) {
        crypto_err_set(err, "hmac failed: %s", crypto_err_ssl());
        return -1;
    }
    if (siglen != CRYPTO_RICH_MAC_LEN ||
        CRYPTO_memcmp(mac, sig, CRYPTO_RICH_MAC_LEN) != 0) {
        crypto_err_set(err, "signature mismatch");
        return -1;
    }
    return 0;
}

/* AES-256-CBC, IV = the key's first 16 bytes; NUL-terminated. */
static char *
crypto_rich_decrypt(const unsigned char *key, const unsigned char *data,
    size_t dlen, size_t *len, char **err)
{
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    unsigned char *out = xmalloc(dlen + 16 + 1);
    int n1 = 0, n2 = 0, ok;

    ok = ctx != NULL && dlen <= CRYPTO_RICH_DATA_MAX &&
        EVP_DecryptInit_ex(ctx, EVP_aes_256_cbc(), NULL, key, key) == 1 &&
        EVP_DecryptUpdate(ctx, out, &n1, data, (int)dlen) == 1 &&
        EVP_DecryptFinal_ex(ctx, out + n1, &n2) == 1;
    EVP_CIPHER_CTX_free(ctx);
    if (!ok) {
        OPENSSL_cleanse(out, dlen + 16 + 1);
        free(out);
        crypto_err_set(err, "data does not decrypt (bad length or "
            "padding)");
        return NULL;
    }
    *len = (size_t)n1 + (size_t)n2;
    out[*len] = '\0';
    return (char *)out;
}

static unsigned char *
crypto_rich_field(const char *b64, const char *name, size_t max,
    size_t *len, char **err)
{
    unsigned char *p = NULL;

    if (b64 != NULL)
        p = crypto_b64_decode(b64, strlen(b64), 0, max, len);
    if (p == NULL || *len == 0) {
        free(p);
        crypto_err_set(err, "%s is not base64 of 1 to %zu bytes", name, max);
        return NULL;
    }
    return p;
}

char *
crypto_rich_open(const struct crypto_key *k, const char *data_b64,
    const char *data_key_b64, const char *signature_b64, size_t *len,
    char **err)
{
    unsigned char key[CRYPTO_RICH_KEY_LEN], *data, *wrapped = NULL;
    unsigned char *sig = NULL;
    size_t dlen, wlen, slen;
    char *plain = NULL;

    data = crypto_rich_field(data_b64, "data", CRYPTO_RICH_DATA_MAX, &dlen,
        err);
    if (data == NULL)
        return NULL;
    wrapped = crypto_rich_field(data_key_b64, "dataKey",
        CRYPTO_RICH_DATA_KEY_MAX, &wlen, err);
    if (wrapped == NULL)
        goto out;
    sig = crypto_rich_field(signature_b64, "dataSignature", 64, &slen, err);
    if (sig == NULL)
        goto out;
    if (crypto_rich_unwrap(k->ck_pkey, wrapped, wlen, key, err) < 0)
        goto out;
    if (crypto_rich_check(key, data, dlen, sig, slen, err) == 0)
        plain = crypto_rich_decrypt(key, data, dlen, len, err);
    OPENSSL_cleanse(key, sizeof(key));

out:
    free(sig);
    free(wrapped);
    free(data);
    return plain;
}

int
crypto_rich_digest(const char *data_b64, char out[CRYPTO_DIGEST_HEX])
{
    static const char hex[] = "0123456789abcdef";
    unsigned char md[32], *data;
    size_t dlen, i;

    out[0] = '\0';
    data = crypto_rich_field(data_b64, "data", CRYPTO_RICH_DATA_MAX, &dlen,
        NULL);
    if (data == NULL)
        return -1;
    if (EVP_Q_digest(NULL, "SHA256", NULL, data, dlen, md, NULL) != 1) {
        free(data);
        return -1;
    }
    free(data);
    for (i = 0; i < sizeof(md); i++) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 0x0f];
    }
    out[2 * sizeof(md)] = '\0';
    return 0;
}
