/*
 * listmap.c: reads the file of resource lists (the URIs a BLF list key
 * subscribes to, and the users each one holds).  Like the user map, the
 * whole file is checked before any of it is used.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"
#include "store/store.h"

#define LISTMAP_LINE_MAX    8192
#define LISTMAP_AOR_MAX     256
#define LISTMAP_MEMBERS_MAX 1000

static void
listmap_one_free(struct store_list *l)
{
    size_t i;

    for (i = 0; i < l->sl_n; i++)
        free(l->sl_members[i]);
    free(l->sl_members);
    free(l->sl_uri);
}

/* The next comma-separated field of *p, trimmed; NULL at the end. */
static char *
listmap_field(char **p)
{
    char *start = *p, *end;

    if (*start == '\0')
        return NULL;
    end = start + strcspn(start, ",");
    *p = *end ? end + 1 : end;
    *end = '\0';
    start += strspn(start, " \t");
    end = start + strlen(start);
    while (end > start && (end[-1] == ' ' || end[-1] == '\t' ||
        end[-1] == '\r' || end[-1] == '\n'))
        *--end = '\0';
    return start;
}

/* Parses one line into l; problems go to errs.  0 if l was filled. */
static int
listmap_line(char *line, const char *domain, const char *where,
    struct store_list *l, struct buf *errs)
{
    char canon[LISTMAP_AOR_MAX], *p = line, *f;

    memset(l, 0, sizeof(*l));
    f = listmap_field(&p);
    if (f == NULL || *f == '\0' || *f == '#')
        return -1;
    if (usermap_canon(f, domain, canon, sizeof(canon)) != 0) {
        buf_printf(errs, "%s: '%s' is not a SIP address\n", where, f);
        return -1;
    }
    l->sl_uri = xstrdup(canon);
    while ((f = listmap_field(&p)) != NULL) {
        if (*f == '\0')
            continue;
        if (usermap_canon(f, domain, canon, sizeof(canon)) != 0 ||
            l->sl_n >= LISTMAP_MEMBERS_MAX) {
            buf_printf(errs, "%s: bad member '%s'\n", where, f);
            continue;
        }
        l->sl_members = xrealloc(l->sl_members,
            (l->sl_n + 1) * sizeof(char *));
        l->sl_members[l->sl_n++] = xstrdup(canon);
    }
    if (l->sl_n == 0)
        buf_printf(errs, "%s: list %s has no members\n", where, l->sl_uri);
    return 0;
}

struct listmap_acc {
    const char          *la_domain;
    struct store_list   *la_lists;
    size_t               la_n;
};

static void
listmap_line_cb(void *arg, char *line, const char *where, struct buf *errs)
{
    struct listmap_acc *acc = arg;
    struct store_list l;

    if (listmap_line(line, acc->la_domain, where, &l, errs) != 0)
        return;
    acc->la_lists = xrealloc(acc->la_lists,
        (acc->la_n + 1) * sizeof(*acc->la_lists));
    acc->la_lists[acc->la_n++] = l;
}

int
listmap_read(const char *path, const char *domain, struct store_list **out,
    size_t *n, char **err)
{
    struct listmap_acc acc = { domain, NULL, 0 };

    if (store_lines_read(path, LISTMAP_LINE_MAX, listmap_line_cb, &acc,
        err) != 0) {
        listmap_free(acc.la_lists, acc.la_n);
        *out = NULL;
        *n = 0;
        return -1;
    }
    *out = acc.la_lists;
    *n = acc.la_n;
    return 0;
}

void
listmap_free(struct store_list *l, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        listmap_one_free(&l[i]);
    free(l);
}
