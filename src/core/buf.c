/*
 * buf.c: a text buffer that grows up to a maximum and no further, so no
 * body we build can grow without bound.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"

void
buf_init(struct buf *b, size_t max)
{
    b->b_data = NULL;
    b->b_len = 0;
    b->b_cap = 0;
    b->b_max = max;
    b->b_overflow = 0;
}

void
buf_free(struct buf *b)
{
    free(b->b_data);
    buf_init(b, b->b_max);
}

void
buf_reset(struct buf *b)
{
    b->b_len = 0;
    b->b_overflow = 0;
    if (b->b_data != NULL)
        b->b_data[0] = '\0';
}

/* Makes room for n more bytes plus the terminator; 0 if it fits. */
static int
buf_reserve(struct buf *b, size_t n)
{
    size_t want = b->b_len + n + 1;
    size_t cap;

    if (want > b->b_max) {
        b->b_overflow = 1;
        return -1;
    }
    if (want <= b->b_cap)
        return 0;
    cap = b->b_cap ? b->b_cap : 256;
    while (cap < want)
        cap *= 2;
    if (cap > b->b_max)
        cap = b->b_max;
    b->b_data = xrealloc(b->b_data, cap);
    b->b_cap = cap;
    return 0;
}

void
buf_append(struct buf *b, const char *s, size_t n)
{
    if (b->b_overflow || buf_reserve(b, n) != 0)
        return;
    memcpy(b->b_data + b->b_len, s, n);
    b->b_len += n;
    b->b_data[b->b_len] = '\0';
}

void
buf_puts(struct buf *b, const char *s)
{
    buf_append(b, s, strlen(s));
}

void
buf_printf(struct buf *b, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || b->b_overflow || buf_reserve(b, (size_t)n) != 0)
        return;
    va_start(ap, fmt);
    vsnprintf(b->b_data + b->b_len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->b_len += (size_t)n;
}

void
buf_put_xml(struct buf *b, const char *s)
{
    const char *run = s;

    for (; *s != '\0'; s++) {
        const char *rep = NULL;

        switch (*s) {
        case '<':  rep = "&lt;"; break;
        case '>':  rep = "&gt;"; break;
        case '&':  rep = "&amp;"; break;
        case '"':  rep = "&quot;"; break;
        case '\'': rep = "&apos;"; break;
        default:   continue;
        }
        buf_append(b, run, (size_t)(s - run));
        buf_puts(b, rep);
        run = s + 1;
    }
    buf_append(b, run, (size_t)(s - run));
}

char *
buf_steal(struct buf *b)
{
    char *p = b->b_data;

    if (p == NULL)
        p = xstrdup("");
    buf_init(b, b->b_max);
    return p;
}
