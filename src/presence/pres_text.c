/*
 * pres_text.c: what may go into a document presgw writes, checked in one
 * place for pidf_build(), dialoginfo_build(), afe_build_*() and
 * rlmi_build().
 */
#include "config.h"

#include <string.h>

#include "presence/pres_text.h"

int
pres_text_printable(const char *s, size_t max)
{
    const unsigned char *p = (const unsigned char *)s;

    if (s == NULL || strlen(s) >= max)
        return 0;
    for (; *p != '\0'; p++) {
        if (*p < 0x20 || *p >= 0x7F)
            return 0;
    }
    return 1;
}

int
pres_text_token(const char *s, size_t max)
{
    return s != NULL && s[0] != '\0' && pres_text_printable(s, max);
}

size_t
pres_text_utf8_len(const unsigned char *s)
{
    static const unsigned long least[] = { 0, 0, 0x80, 0x800, 0x10000 };
    unsigned long cp;
    size_t n, i;

    if (s[0] < 0x80)
        return (s[0] >= 0x20 && s[0] != 0x7F) ? 1 : 0;
    if ((s[0] & 0xE0) == 0xC0)
        n = 2;
    else if ((s[0] & 0xF0) == 0xE0)
        n = 3;
    else if ((s[0] & 0xF8) == 0xF0)
        n = 4;
    else
        return 0;
    cp = s[0] & (0x7Fu >> n);
    for (i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3Fu);
    }
    /* The shortest form only, and only what XML 1.0 calls a Char. */
    if (cp < least[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF) ||
        cp == 0xFFFE || cp == 0xFFFF)
        return 0;
    return n;
}
