/*
 * usermap.c: reads the file that ties SIP addresses of record to Entra
 * users.  The whole file is checked before anything is used, so a map
 * with one bad line never replaces a good one half way.
 */
#include "config.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core.h"
#include "store/store.h"

#define USERMAP_LINE_MAX 1024
#define USERMAP_FIELD_MAX 256

int
usermap_canon(const char *aor, const char *domain, char *dst, size_t dstlen)
{
    const char *at, *end;
    size_t ulen, i, o;

    if (strncasecmp(aor, "sip:", 4) == 0)
        aor += 4;
    else if (strncasecmp(aor, "sips:", 5) == 0)
        aor += 5;
    end = aor + strcspn(aor, ";?>");
    at = memchr(aor, '@', (size_t)(end - aor));
    ulen = at ? (size_t)(at - aor) : (size_t)(end - aor);
    if (ulen == 0 || ulen + 2 >= dstlen)
        return -1;
    memcpy(dst, aor, ulen);
    o = ulen;
    dst[o++] = '@';
    if (at == NULL) {
        if (domain == NULL)
            return -1;
        at = domain - 1;
        end = domain + strlen(domain);
    }
    /* The host ends at a port; the AOR is the same on any port. */
    for (i = 1; at + i < end && at[i] != ':' && o + 1 < dstlen; i++)
        dst[o++] = (char)tolower((unsigned char)at[i]);
    dst[o] = '\0';
    return o > ulen + 1 ? 0 : -1;
}

static char *
usermap_field(char **p)
{
    char *start = *p, *end, *comma = strchr(start, ',');

    if (comma != NULL) {
        *comma = '\0';
        *p = comma + 1;
    } else {
        *p = start + strlen(start);
    }
    while (*start == ' ' || *start == '\t')
        start++;
    end = start + strlen(start);
    while (end > start && isspace((unsigned char)end[-1]))
        *--end = '\0';
    return start;
}

/*
 * An Entra object id is a GUID, 8-4-4-4-12 hex digits.  Why id is not
 * one, in why (NUL-terminated), or 0 when it is.
 */
static int
usermap_id_problem(const char *id, char *why, size_t len)
{
    static const unsigned char groups[] = { 8, 4, 4, 4, 12 };
    const char *c = id;
    size_t g, i;

    for (g = 0; g < sizeof(groups); g++) {
        for (i = 0; i < groups[g] && isxdigit((unsigned char)*c); i++)
            c++;
        if (i < groups[g] && *c == '\0')
            return snprintf(why, len, "is too short");
        if (i < groups[g])
            return snprintf(why, len, "has '%c' at %zu where a hex digit"
                " belongs", *c, (size_t)(c - id) + 1);
        if (g + 1 == sizeof(groups))
            break;
        if (*c == '-')
            c++;
        else if (*c == '\0')
            return snprintf(why, len, "is too short");
        else
            return snprintf(why, len, "has '%c' at %zu where a dash"
                " belongs", *c, (size_t)(c - id) + 1);
    }
    return *c == '\0' ? 0 : snprintf(why, len, "is too long");
}

/* Graph writes object ids in lower case; so does the map once read. */
static void
usermap_lower(char *s)
{
    for (; *s != '\0'; s++)
        *s = (char)tolower((unsigned char)*s);
}

struct usermap_acc {
    const char          *ua_domain;
    struct store_user   *ua_rows;
    char               **ua_where;  /* "FILE:LINE" of each row */
    size_t               ua_n;
};

/* The index of the row before with this AOR or this id, or -1. */
static long
usermap_dup(const struct usermap_acc *acc, const char *aor, const char *id)
{
    size_t i;

    for (i = 0; i < acc->ua_n; i++)
        if (strcmp(acc->ua_rows[i].su_aor, aor) == 0 ||
            strcmp(acc->ua_rows[i].su_id, id) == 0)
            return (long)i;
    return -1;
}

static void
usermap_add(struct usermap_acc *acc, const char *aor, const char *id,
    const char *upn, const char *where)
{
    size_t n = acc->ua_n;

    acc->ua_rows = xrealloc(acc->ua_rows, (n + 1) * sizeof(*acc->ua_rows));
    acc->ua_where = xrealloc(acc->ua_where, (n + 1) * sizeof(char *));
    acc->ua_rows[n].su_aor = xstrdup(aor);
    acc->ua_rows[n].su_id = xstrdup(id);
    acc->ua_rows[n].su_upn = xstrdup(upn);
    acc->ua_where[n] = xstrdup(where);
    acc->ua_n++;
}

/* Checks one line and appends it to the rows; problems go to errs. */
static void
usermap_line(void *arg, char *line, const char *where, struct buf *errs)
{
    struct usermap_acc *acc = arg;
    char canon[USERMAP_FIELD_MAX], why[64], *p = line, *aor, *id, *upn;
    long dup;

    /* A file saved with a byte order mark starts with one. */
    if (memcmp(p, "\xef\xbb\xbf", 3) == 0)
        p += 3;

    aor = usermap_field(&p);
    if (*aor == '\0' || *aor == '#')
        return;
    id = usermap_field(&p);
    upn = usermap_field(&p);
    if (*p != '\0') {
        buf_printf(errs, "%s: too many fields (want AOR, ENTRA-ID[, UPN])\n",
            where);
        return;
    }
    if (usermap_canon(aor, acc->ua_domain, canon, sizeof(canon)) != 0) {
        buf_printf(errs, "%s: '%s' is not a SIP address\n", where, aor);
        return;
    }
    if (usermap_id_problem(id, why, sizeof(why)) != 0) {
        buf_printf(errs, "%s: '%s' is not an Entra object id: it %s (want"
            " a GUID, 8-4-4-4-12 hex digits)\n", where, id, why);
        return;
    }
    usermap_lower(id);
    dup = usermap_dup(acc, canon, id);
    if (dup >= 0 && strcmp(acc->ua_rows[dup].su_aor, canon) == 0) {
        buf_printf(errs, "%s: %s is mapped twice (first at %s)\n", where,
            canon, acc->ua_where[dup]);
        return;
    }
    /* One Teams user behind two addresses would take Teams changes to
     * one of them only. */
    if (dup >= 0) {
        buf_printf(errs, "%s: id %s is already mapped to %s (at %s)\n",
            where, id, acc->ua_rows[dup].su_aor, acc->ua_where[dup]);
        return;
    }
    usermap_add(acc, canon, id, upn, where);
}

int
usermap_read(const char *path, const char *domain, struct store_user **out,
    size_t *n, char **err)
{
    struct usermap_acc acc = { domain, NULL, NULL, 0 };
    int rc = store_lines_read(path, USERMAP_LINE_MAX, usermap_line, &acc,
        err);
    size_t i;

    for (i = 0; i < acc.ua_n; i++)
        free(acc.ua_where[i]);
    free(acc.ua_where);
    if (rc != 0) {
        usermap_free(acc.ua_rows, acc.ua_n);
        *out = NULL;
        *n = 0;
        return -1;
    }
    *out = acc.ua_rows;
    *n = acc.ua_n;
    return 0;
}

void
usermap_free(struct store_user *u, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        free((char *)(uintptr_t)u[i].su_aor);
        free((char *)(uintptr_t)u[i].su_id);
        free((char *)(uintptr_t)u[i].su_upn);
    }
    free(u);
}
