/*
 * cryptotool.c: the crypto module from the command line, for tests that
 * check it against other implementations.
 *
 *   cryptotool rich-open CERT KEY DATA DATAKEY SIGNATURE
 *   cryptotool jwt-verify JWKS-FILE JWT AUDIENCE [TENANT]
 *   cryptotool assertion CERT KEY CLIENT-ID AUDIENCE
 *   cryptotool thumbprint CERT KEY
 *
 * Prints the result on stdout and exits 0, or prints the error on stderr
 * and exits 1 (2 for bad usage).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core.h"
#include "crypto/crypto.h"

static int
fail(char *err)
{
    fprintf(stderr, "cryptotool: %s\n", err != NULL ? err : "failed");
    free(err);
    return 1;
}

static char *
read_file(const char *path)
{
    struct buf b;
    char chunk[4096];
    size_t n;
    FILE *fp = fopen(path, "r");

    if (fp == NULL)
        return NULL;
    buf_init(&b, 1024 * 1024);
    do {
        n = fread(chunk, 1, sizeof(chunk), fp);
        buf_append(&b, chunk, n);
    } while (n > 0);
    fclose(fp);
    return buf_steal(&b);
}

static int
rich_open(char **argv)
{
    struct crypto_key *k;
    char *err = NULL, *plain;
    size_t len;

    k = crypto_key_load(argv[0], argv[1], &err);
    if (k == NULL)
        return fail(err);
    plain = crypto_rich_open(k, argv[2], argv[3], argv[4], &len, &err);
    crypto_key_free(k);
    if (plain == NULL)
        return fail(err);
    fwrite(plain, 1, len, stdout);
    free(plain);
    return 0;
}

static int
jwt_verify(char **argv, int argc)
{
    struct crypto_jwks *ks;
    char *err = NULL, *json = read_file(argv[0]);
    int rc;

    if (json == NULL)
        return fail(xasprintf("%s: cannot read", argv[0]));
    ks = crypto_jwks_parse(json, &err);
    free(json);
    if (ks == NULL)
        return fail(err);
    rc = crypto_jwt_verify(ks, argv[1], argv[2], argc > 3 ? argv[3] : NULL,
        time(NULL), &err);
    crypto_jwks_free(ks);
    if (rc < 0)
        return fail(err);
    printf("valid\n");
    return 0;
}

static int
assertion(char **argv)
{
    struct crypto_key *k;
    char *err = NULL, *jwt;

    k = crypto_key_load(argv[0], argv[1], &err);
    if (k == NULL)
        return fail(err);
    jwt = crypto_client_assertion(k, argv[2], argv[3], time(NULL), &err);
    crypto_key_free(k);
    if (jwt == NULL)
        return fail(err);
    printf("%s\n", jwt);
    free(jwt);
    return 0;
}

static int
thumbprint(char **argv)
{
    struct crypto_key *k;
    char *err = NULL;

    k = crypto_key_load(argv[0], argv[1], &err);
    if (k == NULL)
        return fail(err);
    printf("%s %s\n", crypto_key_thumbprint(k), crypto_key_cert_b64(k));
    crypto_key_free(k);
    return 0;
}

int
main(int argc, char **argv)
{
    log_init("cryptotool", 0, LOG_LVL_ERROR);
    if (argc == 7 && strcmp(argv[1], "rich-open") == 0)
        return rich_open(argv + 2);
    if ((argc == 5 || argc == 6) && strcmp(argv[1], "jwt-verify") == 0)
        return jwt_verify(argv + 2, argc - 2);
    if (argc == 6 && strcmp(argv[1], "assertion") == 0)
        return assertion(argv + 2);
    if (argc == 4 && strcmp(argv[1], "thumbprint") == 0)
        return thumbprint(argv + 2);
    fprintf(stderr, "usage: cryptotool rich-open CERT KEY DATA DATAKEY SIG\n"
        "       cryptotool jwt-verify JWKS-FILE JWT AUDIENCE [TENANT]\n"
        "       cryptotool assertion CERT KEY CLIENT-ID AUDIENCE\n"
        "       cryptotool thumbprint CERT KEY\n");
    return 2;
}
