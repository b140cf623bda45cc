/*
 * log.c: one log API for presgw and for Sofia-SIP's own messages.
 *
 * Secrets are redacted here, in the one place every line passes, so no
 * caller can forget to.  So are control characters: one entry is one
 * physical line, whatever a message (a list of errors, SQLite's text, a
 * header from the network) holds.
 */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "core.h"

#define LOG_LINE_MAX    2048
#define LOG_SECRETS_MAX 16

static enum log_level log_min = LOG_LVL_INFO;
static int log_syslog;
static char *log_secrets[LOG_SECRETS_MAX];
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

static const char *const log_names[] = {
    [LOG_LVL_DEBUG] = "debug",
    [LOG_LVL_INFO]  = "info",
    [LOG_LVL_WARN]  = "warn",
    [LOG_LVL_ERROR] = "error",
};

static const int log_prio[] = {
    [LOG_LVL_DEBUG] = LOG_DEBUG,
    [LOG_LVL_INFO]  = LOG_INFO,
    [LOG_LVL_WARN]  = LOG_WARNING,
    [LOG_LVL_ERROR] = LOG_ERR,
};

void
log_init(const char *ident, int to_syslog, enum log_level min)
{
    log_min = min;
    if (to_syslog && !log_syslog)
        openlog(ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
    log_syslog = to_syslog;
}

void
log_set_level(enum log_level min)
{
    log_min = min;
}

int
log_level_parse(const char *name)
{
    size_t i;

    for (i = 0; i < sizeof(log_names) / sizeof(log_names[0]); i++)
        if (strcmp(name, log_names[i]) == 0)
            return (int)i;
    return -1;
}

void
log_add_secret(const char *secret)
{
    size_t i;

    if (secret == NULL || strlen(secret) < 4)
        return;
    pthread_mutex_lock(&log_lock);
    for (i = 0; i < LOG_SECRETS_MAX; i++)
        if (log_secrets[i] == NULL || strcmp(log_secrets[i], secret) == 0)
            break;
    /* Full: the oldest secret after the first (the client secret, added
     * first) gives way; it is an access token long expired. */
    if (i == LOG_SECRETS_MAX) {
        free(log_secrets[1]);
        memmove(&log_secrets[1], &log_secrets[2],
            (LOG_SECRETS_MAX - 2) * sizeof(log_secrets[0]));
        i = LOG_SECRETS_MAX - 1;
        log_secrets[i] = NULL;
    }
    if (log_secrets[i] == NULL)
        log_secrets[i] = xstrdup(secret);
    pthread_mutex_unlock(&log_lock);
}

void
log_clear_secrets(void)
{
    size_t i;

    pthread_mutex_lock(&log_lock);
    for (i = 0; i < LOG_SECRETS_MAX; i++) {
        free(log_secrets[i]);
        log_secrets[i] = NULL;
    }
    pthread_mutex_unlock(&log_lock);
}

/* Overwrites each registered secret in line with "***", in place. */
static void
log_redact(char *line)
{
    size_t i, slen;
    char *p;

    for (i = 0; i < LOG_SECRETS_MAX && log_secrets[i] != NULL; i++) {
        slen = strlen(log_secrets[i]);
        while ((p = strstr(line, log_secrets[i])) != NULL) {
            memcpy(p, "***", 3);
            memmove(p + 3, p + slen, strlen(p + slen) + 1);
        }
    }
}

/*
 * Copies src to dst (len bytes) with each control character but tab
 * written as an escape: a backslash and 'n' for a newline, 'r' for a
 * carriage return, "xHH" for the rest.  Cut short, at a whole escape,
 * when dst is full.
 */
static void
log_escape(char *dst, size_t len, const char *src)
{
    static const char hex[] = "0123456789abcdef";
    unsigned char c;
    char esc[5];
    size_t o = 0, elen;

    for (; (c = (unsigned char)*src) != '\0'; src++) {
        elen = 2;
        esc[0] = '\\';
        if (c == '\n' || c == '\r') {
            esc[1] = c == '\n' ? 'n' : 'r';
        } else if ((c < 0x20 && c != '\t') || c == 0x7f) {
            esc[1] = 'x';
            esc[2] = hex[c >> 4];
            esc[3] = hex[c & 0xf];
            elen = 4;
        } else {
            esc[0] = (char)c;
            elen = 1;
        }
        if (o + elen >= len)
            break;
        memcpy(dst + o, esc, elen);
        o += elen;
    }
    dst[o] = '\0';
}

void
log_vmsg(enum log_level lvl, const char *fmt, va_list ap)
{
    char raw[LOG_LINE_MAX], line[LOG_LINE_MAX];
    char stamp[32];
    struct tm tm;
    time_t now;
    size_t n;

    if (lvl < log_min)
        return;
    vsnprintf(raw, sizeof(raw), fmt, ap);
    n = strlen(raw);
    while (n > 0 && (raw[n - 1] == '\n' || raw[n - 1] == '\r'))
        raw[--n] = '\0';

    pthread_mutex_lock(&log_lock);
    /* Redacted first: a secret may hold a character escaped later. */
    log_redact(raw);
    log_escape(line, sizeof(line), raw);
    if (log_syslog) {
        syslog(log_prio[lvl], "%s", line);
    } else {
        now = time(NULL);
        gmtime_r(&now, &tm);
        strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm);
        fprintf(stderr, "%s %s %s\n", stamp, log_names[lvl], line);
        fflush(stderr);
    }
    pthread_mutex_unlock(&log_lock);
}

void
log_msg(enum log_level lvl, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    log_vmsg(lvl, fmt, ap);
    va_end(ap);
}
