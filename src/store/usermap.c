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

/* An Entra object id: letters, digits and dashes, as in a GUID. */
static int
usermap_id_ok(const char *id)
{
    if (*id == '\0' || strlen(id) >= USERMAP_FIELD_MAX)
        return 0;
    for (; *id != '\0'; id++)
        if (!isalnum((unsigned char)*id) && *id != '-')
            return 0;
    return 1;
}

/* The row before that has this AOR or this id, or NULL. */
static const struct store_user *
usermap_dup(const struct store_user *u, size_t n, const char *aor,
    const char *id)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (strcmp(u[i].su_aor, aor) == 0 || strcmp(u[i].su_id, id) == 0)
            return &u[i];
    return NULL;
}

/* Checks one line and appends it to the rows; problems go to errs. */
static void
usermap_line(char *line, const char *domain, const char *where,
    struct store_user **rows, size_t *n, struct buf *errs)
{
    char canon[USERMAP_FIELD_MAX], *p = line, *aor, *id, *upn;
    const struct store_user *dup;

    /* A file saved with a byte order mark starts with one. */
    if (memcmp(p, "\xef\xbb\xbf", 3) == 0)
        p += 3;

    aor = usermap_field(&p);
    if (*aor == '\0' || *aor == '#')
        return;
    id = usermap_field(&p);
    upn = usermap_field(&p);
    if (*p != '\0') {
        buf_printf(errs, "%s: too many fields\n", where);
        return;
    }
    if (usermap_canon(aor, domain, canon, sizeof(canon)) != 0) {
        buf_printf(errs, "%s: '%s' is not a SIP address\n", where, aor);
        return;
    }
    if (!usermap_id_ok(id)) {
        buf_printf(errs, "%s: '%s' is not an Entra object id\n", where,
            id);
        return;
    }
    dup = usermap_dup(*rows, *n, canon, id);
    if (dup != NULL && strcmp(dup->su_aor, canon) == 0) {
        buf_printf(errs, "%s: %s is mapped twice\n", where, canon);
        return;
    }
    /* One Teams user behind two addresses would take Teams changes to
     * one of them only. */
    if (dup != NULL) {
        buf_printf(errs, "%s: id %s is already mapped to %s\n", where, id,
            dup->su_aor);
        return;
    }
    *rows = xrealloc(*rows, (*n + 1) * sizeof(**rows));
    (*rows)[*n].su_aor = xstrdup(canon);
    (*rows)[*n].su_id = xstrdup(id);
    (*rows)[*n].su_upn = xstrdup(upn);
    (*n)++;
}

struct usermap_acc {
    const char          *ua_domain;
    struct store_user   *ua_rows;
    size_t               ua_n;
};

static void
usermap_line_cb(void *arg, char *line, const char *where, struct buf *errs)
{
    struct usermap_acc *acc = arg;

    usermap_line(line, acc->ua_domain, where, &acc->ua_rows, &acc->ua_n,
        errs);
}

int
usermap_read(const char *path, const char *domain, struct store_user **out,
    size_t *n, char **err)
{
    struct usermap_acc acc = { domain, NULL, 0 };

    if (store_lines_read(path, USERMAP_LINE_MAX, usermap_line_cb, &acc,
        err) != 0) {
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
