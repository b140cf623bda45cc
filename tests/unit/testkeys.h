/*
 * testkeys.h: RSA keys and self-signed certificates made at test time
 * with libcrypto, written as PEM files into a temporary directory, for
 * the crypto unit tests.
 */
#ifndef PRESGW_TESTKEYS_H
#define PRESGW_TESTKEYS_H

#include <stdio.h>
#include <stdlib.h>

#include <openssl/pem.h>
#include <openssl/x509.h>

struct testkey {
    EVP_PKEY    *tk_pkey;
    X509        *tk_cert;
    char         tk_cert_file[256];
    char         tk_key_file[256];
};

static X509 *
testkeys_cert(EVP_PKEY *pkey, const char *cn)
{
    X509 *x = X509_new();
    X509_NAME *name;

    if (x == NULL)
        return NULL;
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
    X509_gmtime_adj(X509_getm_notBefore(x), -3600);
    X509_gmtime_adj(X509_getm_notAfter(x), 86400L * 365);
    X509_set_pubkey(x, pkey);
    name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
        (const unsigned char *)cn, -1, -1, 0);
    X509_set_issuer_name(x, name);
    if (X509_sign(x, pkey, EVP_sha256()) <= 0) {
        X509_free(x);
        return NULL;
    }
    return x;
}

static int
testkeys_write(const char *file, X509 *cert, EVP_PKEY *pkey,
    const char *pass)
{
    FILE *fp = fopen(file, "w");
    int ok;

    if (fp == NULL)
        return -1;
    if (cert != NULL)
        ok = PEM_write_X509(fp, cert);
    else if (pass != NULL)
        ok = PEM_write_PrivateKey(fp, pkey, EVP_aes_128_cbc(),
            (const unsigned char *)pass, (int)strlen(pass), NULL, NULL);
    else
        ok = PEM_write_PrivateKey(fp, pkey, NULL, NULL, 0, NULL, NULL);
    fclose(fp);
    return ok == 1 ? 0 : -1;
}

/* Makes an RSA key of bits and its certificate, files named by tag. */
static int
testkeys_make(struct testkey *k, const char *dir, const char *tag,
    unsigned bits)
{
    k->tk_pkey = EVP_RSA_gen(bits);
    if (k->tk_pkey == NULL)
        return -1;
    k->tk_cert = testkeys_cert(k->tk_pkey, tag);
    if (k->tk_cert == NULL)
        return -1;
    snprintf(k->tk_cert_file, sizeof(k->tk_cert_file), "%s/%s-cert.pem",
        dir, tag);
    snprintf(k->tk_key_file, sizeof(k->tk_key_file), "%s/%s-key.pem", dir,
        tag);
    if (testkeys_write(k->tk_cert_file, k->tk_cert, NULL, NULL) < 0 ||
        testkeys_write(k->tk_key_file, NULL, k->tk_pkey, NULL) < 0)
        return -1;
    return 0;
}

static void
testkeys_free(struct testkey *k)
{
    EVP_PKEY_free(k->tk_pkey);
    X509_free(k->tk_cert);
}

#endif
