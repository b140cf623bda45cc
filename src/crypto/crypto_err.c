/*
 * crypto_err.c: error messages for the *err of the crypto API.  They
 * name files, fields and OpenSSL's reason, never a byte of key material.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>

#include <openssl/err.h>

#include "crypto/crypto_int.h"

const char *
crypto_err_ssl(void)
{
    unsigned long e = ERR_peek_last_error();
    const char *r = e != 0 ? ERR_reason_error_string(e) : NULL;

    return r != NULL ? r : "unknown";
}

void
crypto_err_set(char **err, const char *fmt, ...)
{
    char msg[512];
    va_list ap;

    if (err != NULL) {
        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        *err = xstrdup(msg);
    }
    ERR_clear_error();
}
