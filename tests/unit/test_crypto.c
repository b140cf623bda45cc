/*
 * test_crypto.c: our key and certificate, strict base64, and rich
 * notification content sealed here the way Graph seals it
 * (graph-api.md 3.6): random AES key, AES-256-CBC with the key's first
 * 16 bytes as IV, HMAC-SHA256 over the ciphertext, RSA-OAEP-SHA1 key.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/rand.h>
#include <openssl/rsa.h>

#include "crypto/crypto_int.h"

#include "testlib.h"
#include "testkeys.h"

static char tmpdir[] = "/tmp/presgw-crypto-XXXXXX";
static struct testkey ours, other;
static struct crypto_key *key;

static const char plain_text[] =
    "{\"id\":\"4a5d2c1e\",\"availability\":\"Busy\","
    "\"activity\":\"InACall\"}";

struct sealed {
    char *s_data;
    char *s_key;
    char *s_sig;
};

static char *
b64(const unsigned char *p, size_t n)
{
    return crypto_b64_encode(p, n, 0);
}

/* AES-256-CBC of n bytes; pad = 0 leaves PKCS7 padding out. */
static unsigned char *
aes(const unsigned char *k, const char *in, size_t n, int pad, int *outlen)
{
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    unsigned char *out = malloc(n + 32);
    int n1 = 0, n2 = 0;

    EVP_EncryptInit_ex(c, EVP_aes_256_cbc(), NULL, k, k);
    EVP_CIPHER_CTX_set_padding(c, pad);
    EVP_EncryptUpdate(c, out, &n1, (const unsigned char *)in, (int)n);
    EVP_EncryptFinal_ex(c, out + n1, &n2);
    EVP_CIPHER_CTX_free(c);
    *outlen = n1 + n2;
    return out;
}

static char *
oaep(EVP_PKEY *pub, const unsigned char *k)
{
    EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_from_pkey(NULL, pub, NULL);
    unsigned char out[1024];
    size_t n = sizeof(out);

    EVP_PKEY_encrypt_init(c);
    EVP_PKEY_CTX_set_rsa_padding(c, RSA_PKCS1_OAEP_PADDING);
    EVP_PKEY_CTX_set_rsa_oaep_md(c, EVP_sha1());
    EVP_PKEY_CTX_set_rsa_mgf1_md(c, EVP_sha1());
    if (EVP_PKEY_encrypt(c, out, &n, k, 32) != 1)
        n = 0;
    EVP_PKEY_CTX_free(c);
    return b64(out, n);
}

/* Seals text to pub; flip >= 0 flips that byte of the ciphertext after
 * it was signed. */
static struct sealed
seal(EVP_PKEY *pub, const char *text, size_t n, int pad, int flip)
{
    unsigned char k[32], mac[32], *ct;
    struct sealed s;
    size_t maclen;
    int ctlen;

    RAND_bytes(k, sizeof(k));
    ct = aes(k, text, n, pad, &ctlen);
    EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, k, sizeof(k), ct,
        (size_t)ctlen, mac, sizeof(mac), &maclen);
    if (flip >= 0 && flip < ctlen)
        ct[flip] ^= 0x01;
    s.s_data = b64(ct, (size_t)ctlen);
    s.s_key = oaep(pub, k);
    s.s_sig = b64(mac, maclen);
    free(ct);
    return s;
}

static void
sealed_free(struct sealed *s)
{
    free(s->s_data);
    free(s->s_key);
    free(s->s_sig);
}

/* Opens s with our key; returns the plaintext or NULL, err set. */
static char *
open_sealed(const struct sealed *s, char **err)
{
    size_t len = 0;

    *err = NULL;
    return crypto_rich_open(key, s->s_data, s->s_key, s->s_sig, &len, err);
}

static void
rich_content_opens_to_its_plaintext(void)
{
    struct sealed s = seal(ours.tk_pkey, plain_text, strlen(plain_text), 1,
        -1);
    char *err = NULL, *p;
    size_t len = 0;

    p = crypto_rich_open(key, s.s_data, s.s_key, s.s_sig, &len, &err);
    CHECK_STR(p, plain_text);
    CHECK(len == strlen(plain_text));
    CHECK(err == NULL);
    free(p);
    free(err);
    sealed_free(&s);
}

static void
rich_flipped_data_byte_is_signature_mismatch(void)
{
    int at[] = { 0, 17, 47 };
    size_t i;

    for (i = 0; i < sizeof(at) / sizeof(at[0]); i++) {
        struct sealed s = seal(ours.tk_pkey, plain_text,
            strlen(plain_text), 1, at[i]);
        char *err, *p = open_sealed(&s, &err);

        CHECK(p == NULL);
        CHECK_STR(err, "signature mismatch");
        free(p);
        free(err);
        sealed_free(&s);
    }
}

static void
rich_wrong_signature_is_signature_mismatch(void)
{
    struct sealed s = seal(ours.tk_pkey, plain_text, strlen(plain_text), 1,
        -1);
    struct sealed t = seal(ours.tk_pkey, plain_text, strlen(plain_text), 1,
        -1);
    char *err, *p, *short_sig;

    /* Another item's signature, then a signature cut short. */
    free(s.s_sig);
    s.s_sig = xstrdup(t.s_sig);
    p = open_sealed(&s, &err);
    CHECK(p == NULL);
    CHECK_STR(err, "signature mismatch");
    free(err);
    short_sig = b64((const unsigned char *)"0123456789abcdef", 16);
    free(s.s_sig);
    s.s_sig = short_sig;
    p = open_sealed(&s, &err);
    CHECK(p == NULL);
    CHECK_STR(err, "signature mismatch");
    free(err);
    sealed_free(&s);
    sealed_free(&t);
}

static void
rich_content_for_another_key_is_refused(void)
{
    struct sealed s = seal(other.tk_pkey, plain_text, strlen(plain_text), 1,
        -1);
    char *err, *p = open_sealed(&s, &err);

    CHECK(p == NULL);
    CHECK_STR(err, "data key does not decrypt with our key");
    free(err);
    sealed_free(&s);
}

static void
rich_signed_but_badly_padded_data_is_refused(void)
{
    /* 32 bytes without PKCS7 padding: the HMAC holds, the padding not. */
    struct sealed s = seal(ours.tk_pkey, "0123456789abcdef0123456789abcdeX",
        32, 0, -1);
    char *err, *p = open_sealed(&s, &err);

    CHECK(p == NULL);
    CHECK(err != NULL && strstr(err, "padding") != NULL);
    free(err);
    sealed_free(&s);
}

static void
rich_malformed_base64_fails_cleanly(void)
{
    struct sealed good = seal(ours.tk_pkey, plain_text, strlen(plain_text),
        1, -1);
    const char *bad[] = { "", "A", "abc$", "QUJD RA==", "QUJDRA=", "QQ===",
        "QR==", "-_-_", NULL };
    size_t i, len;
    char *err, *p;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err = NULL;
        p = crypto_rich_open(key, bad[i], good.s_key, good.s_sig, &len,
            &err);
        CHECK(p == NULL && err != NULL && strstr(err, "data") != NULL);
        free(err);
        err = NULL;
        p = crypto_rich_open(key, good.s_data, bad[i], good.s_sig, &len,
            &err);
        CHECK(p == NULL && err != NULL && strstr(err, "dataKey") != NULL);
        free(err);
        err = NULL;
        p = crypto_rich_open(key, good.s_data, good.s_key, bad[i], &len,
            &err);
        CHECK(p == NULL && err != NULL);
        free(err);
    }
    sealed_free(&good);
}

static void
b64_decodes_only_what_an_encoder_makes(void)
{
    const char *ok_std[] = { "Zm9vYg==", "Zm9vYg", "Zm9vYmE=", "Zm9vYmFy",
        "+/8=" };
    const char *ok_url[] = { "Zm9vYg", "-_8" };
    const char *bad_url[] = { "Zm9vYg==", "+/8", "Zm9vYh", "Zm9vY" };
    unsigned char *p;
    size_t i, len;

    for (i = 0; i < sizeof(ok_std) / sizeof(ok_std[0]); i++) {
        p = crypto_b64_decode(ok_std[i], strlen(ok_std[i]), 0, 64, &len);
        CHECK(p != NULL);
        free(p);
    }
    for (i = 0; i < sizeof(ok_url) / sizeof(ok_url[0]); i++) {
        p = crypto_b64_decode(ok_url[i], strlen(ok_url[i]), 1, 64, &len);
        CHECK(p != NULL);
        free(p);
    }
    for (i = 0; i < sizeof(bad_url) / sizeof(bad_url[0]); i++)
        CHECK(crypto_b64_decode(bad_url[i], strlen(bad_url[i]), 1, 64,
            &len) == NULL);
    p = crypto_b64_decode("Zm9vYmFy", 8, 0, 64, &len);
    CHECK(p != NULL && len == 6 && memcmp(p, "foobar", 6) == 0);
    free(p);
    CHECK(crypto_b64_decode("Zm9vYmFy", 8, 0, 5, &len) == NULL);
}

/* A copy is known however its base64 is written; another is not. */
static void
rich_digest_is_one_for_every_spelling(void)
{
    char a[CRYPTO_DIGEST_HEX], b[CRYPTO_DIGEST_HEX], c[CRYPTO_DIGEST_HEX];

    CHECK(crypto_rich_digest("Zm9vYg==", a) == 0);
    CHECK(crypto_rich_digest("Zm9vYg", b) == 0);
    CHECK(crypto_rich_digest("Zm9vYmE=", c) == 0);
    CHECK_STR(a, b);
    CHECK(strcmp(a, c) != 0);
    CHECK(strlen(a) == 64);
    CHECK(crypto_rich_digest("Zm9v Yg==", c) == -1);
    CHECK(crypto_rich_digest(NULL, c) == -1);
}

static void
b64_round_trips_every_length(void)
{
    unsigned char in[64], *out;
    size_t n, len;
    int url;
    char *s;

    RAND_bytes(in, sizeof(in));
    for (url = 0; url < 2; url++) {
        for (n = 0; n < sizeof(in); n++) {
            s = crypto_b64_encode(in, n, url);
            out = crypto_b64_decode(s, strlen(s), url, sizeof(in), &len);
            CHECK(out != NULL && len == n && memcmp(in, out, n) == 0);
            CHECK(!url || strchr(s, '=') == NULL);
            free(s);
            free(out);
        }
    }
}

static void
key_gives_certificate_and_thumbprint(void)
{
    unsigned char md[20], *der = NULL, *dec;
    const char *b = crypto_key_cert_b64(key);
    char hex[41];
    int len, i;
    size_t dlen;

    len = i2d_X509(ours.tk_cert, &der);
    dec = crypto_b64_decode(b, strlen(b), 0, 65536, &dlen);
    CHECK(dec != NULL && dlen == (size_t)len && memcmp(dec, der, dlen) == 0);
    EVP_Digest(der, (size_t)len, md, NULL, EVP_sha1(), NULL);
    for (i = 0; i < 20; i++)
        snprintf(hex + 2 * i, 3, "%02X", md[i]);
    CHECK_STR(crypto_key_thumbprint(key), hex);
    free(dec);
    OPENSSL_free(der);
}

/* Loads cert and key files expecting failure; err must say want. */
static void
load_fails(const char *cert, const char *keyf, const char *want)
{
    char *err = NULL;
    struct crypto_key *k = crypto_key_load(cert, keyf, &err);

    CHECK(k == NULL);
    CHECK(err != NULL && strstr(err, want) != NULL);
    if (err != NULL && strstr(err, want) == NULL)
        fprintf(stderr, "  got: %s\n", err);
    CHECK(err == NULL || strstr(err, "PRIVATE") == NULL);
    crypto_key_free(k);
    free(err);
}

static void
key_load_reports_bad_files(void)
{
    char enc[300], missing[300];
    struct testkey small;

    snprintf(missing, sizeof(missing), "%s/missing.pem", tmpdir);
    load_fails(missing, ours.tk_key_file, "cannot read certificate");
    load_fails(ours.tk_cert_file, missing, "cannot read private key");
    load_fails(ours.tk_key_file, ours.tk_key_file, "no PEM certificate");
    load_fails(ours.tk_cert_file, ours.tk_cert_file, "no unencrypted PEM");
    load_fails(ours.tk_cert_file, other.tk_key_file, "does not match");

    /* An encrypted key is refused, not prompted for. */
    snprintf(enc, sizeof(enc), "%s/enc-key.pem", tmpdir);
    CHECK(testkeys_write(enc, NULL, ours.tk_pkey, "secret-pass") == 0);
    load_fails(ours.tk_cert_file, enc, "no unencrypted PEM");

    CHECK(testkeys_make(&small, tmpdir, "small", 1024) == 0);
    load_fails(small.tk_cert_file, small.tk_key_file, "not an RSA key");
    testkeys_free(&small);
}

int
main(void)
{
    char *err = NULL;
    char cmd[128];
    int rc;

    if (mkdtemp(tmpdir) == NULL)
        return 99;
    log_init("test", 0, LOG_LVL_ERROR);
    if (testkeys_make(&ours, tmpdir, "ours", 2048) < 0 ||
        testkeys_make(&other, tmpdir, "other", 2048) < 0)
        return 99;
    key = crypto_key_load(ours.tk_cert_file, ours.tk_key_file, &err);
    if (key == NULL) {
        fprintf(stderr, "crypto_key_load: %s\n", err);
        return 99;
    }
    TEST_RUN(rich_content_opens_to_its_plaintext);
    TEST_RUN(rich_flipped_data_byte_is_signature_mismatch);
    TEST_RUN(rich_wrong_signature_is_signature_mismatch);
    TEST_RUN(rich_content_for_another_key_is_refused);
    TEST_RUN(rich_signed_but_badly_padded_data_is_refused);
    TEST_RUN(rich_malformed_base64_fails_cleanly);
    TEST_RUN(b64_decodes_only_what_an_encoder_makes);
    TEST_RUN(b64_round_trips_every_length);
    TEST_RUN(rich_digest_is_one_for_every_spelling);
    TEST_RUN(key_gives_certificate_and_thumbprint);
    TEST_RUN(key_load_reports_bad_files);
    crypto_key_free(key);
    testkeys_free(&ours);
    testkeys_free(&other);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    rc = system(cmd);
    (void)rc;
    return test_done();
}
