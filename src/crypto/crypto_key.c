/*
 * crypto_key.c: our certificate and its private key, from PEM files.
 *
 * The key must be RSA (Graph encrypts rich notifications with RSA-OAEP;
 * graph-api.md 3.6 asks for 2048 to 4096 bits) and must belong to the
 * certificate.  An encrypted key file is refused rather than prompted for:
 * a daemon has nobody to ask.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>

#include "crypto/crypto_int.h"

int
crypto_key_rsa_ok(EVP_PKEY *pkey)
{
    return EVP_PKEY_is_a(pkey, "RSA") &&
        EVP_PKEY_get_bits(pkey) >= CRYPTO_RSA_MIN_BITS;
}

/* PEM's passphrase callback: we have none to give. */
static int
crypto_key_no_pass(char *buf, int size, int rwflag, void *u)
{
    (void)buf;
    (void)size;
    (void)rwflag;
    (void)u;
    return -1;
}

static X509 *
crypto_key_read_cert(const char *file, char **err)
{
    BIO *bio = BIO_new_file(file, "r");
    X509 *cert;

    if (bio == NULL) {
        crypto_err_set(err, "%s: cannot read certificate: %s", file,
            strerror(errno));
        return NULL;
    }
    cert = PEM_read_bio_X509(bio, NULL, crypto_key_no_pass, NULL);
    BIO_free(bio);
    if (cert == NULL)
        crypto_err_set(err, "%s: no PEM certificate: %s", file,
            crypto_err_ssl());
    return cert;
}

static EVP_PKEY *
crypto_key_read_pkey(const char *file, char **err)
{
    BIO *bio = BIO_new_file(file, "r");
    EVP_PKEY *pkey;

    if (bio == NULL) {
        crypto_err_set(err, "%s: cannot read private key: %s", file,
            strerror(errno));
        return NULL;
    }
    pkey = PEM_read_bio_PrivateKey(bio, NULL, crypto_key_no_pass, NULL);
    BIO_free(bio);
    if (pkey == NULL)
        crypto_err_set(err, "%s: no unencrypted PEM private key: %s", file,
            crypto_err_ssl());
    return pkey;
}

/* Digests of the DER certificate: what Graph and Entra name it by. */
static int
crypto_key_digests(struct crypto_key *k)
{
    unsigned char *der = NULL, md[EVP_MAX_MD_SIZE];
    unsigned int mdlen, i;
    char *b;
    int len;

    len = i2d_X509(k->ck_cert, &der);
    if (len <= 0)
        return -1;
    k->ck_cert_b64 = crypto_b64_encode(der, (size_t)len, 0);
    if (EVP_Digest(der, (size_t)len, md, &mdlen, EVP_sha1(), NULL) != 1)
        goto fail;
    for (i = 0; i < mdlen; i++)
        snprintf(k->ck_thumb + 2 * i, 3, "%02X", md[i]);
    b = crypto_b64_encode(md, mdlen, 1);
    xstrlcpy(k->ck_x5t, b, sizeof(k->ck_x5t));
    free(b);
    if (EVP_Digest(der, (size_t)len, md, &mdlen, EVP_sha256(), NULL) != 1)
        goto fail;
    b = crypto_b64_encode(md, mdlen, 1);
    xstrlcpy(k->ck_x5t_s256, b, sizeof(k->ck_x5t_s256));
    free(b);
    OPENSSL_free(der);
    return 0;

fail:
    OPENSSL_free(der);
    return -1;
}

struct crypto_key *
crypto_key_load(const char *cert_file, const char *key_file, char **err)
{
    struct crypto_key *k = xcalloc(1, sizeof(*k));

    k->ck_cert = crypto_key_read_cert(cert_file, err);
    if (k->ck_cert == NULL)
        goto fail;
    k->ck_pkey = crypto_key_read_pkey(key_file, err);
    if (k->ck_pkey == NULL)
        goto fail;
    if (!crypto_key_rsa_ok(k->ck_pkey)) {
        crypto_err_set(err, "%s: not an RSA key of %d bits or more",
            key_file, CRYPTO_RSA_MIN_BITS);
        goto fail;
    }
    if (EVP_PKEY_eq(X509_get0_pubkey(k->ck_cert), k->ck_pkey) != 1) {
        crypto_err_set(err, "%s: private key does not match certificate %s",
            key_file, cert_file);
        goto fail;
    }
    if (crypto_key_digests(k) < 0) {
        crypto_err_set(err, "%s: cannot encode certificate: %s", cert_file,
            crypto_err_ssl());
        goto fail;
    }
    return k;

fail:
    crypto_key_free(k);
    return NULL;
}

void
crypto_key_free(struct crypto_key *k)
{
    if (k == NULL)
        return;
    EVP_PKEY_free(k->ck_pkey);
    X509_free(k->ck_cert);
    free(k->ck_cert_b64);
    free(k);
}

const char *
crypto_key_cert_b64(const struct crypto_key *k)
{
    return k->ck_cert_b64;
}

const char *
crypto_key_thumbprint(const struct crypto_key *k)
{
    return k->ck_thumb;
}
