/*
 * golden_pidf.c: feeds every PIDF document of the corpus through
 * pidf_parse() and map_doc_status() and compares with an expectation
 * file.
 *
 * usage: golden_pidf CORPUS-DIR EXPECT-FILE
 *
 * The expectation file has one row per corpus file, tab separated:
 *
 *     NAME<TAB>STATUS            parsed; map_doc_status() names STATUS
 *     NAME<TAB>reject<TAB>WHY    refused with reason WHY
 *
 * Blank lines and lines starting with '#' are comments.  A corpus file
 * without a row fails, so each new document gets a decided expectation;
 * a row whose file is gone is reported but does not fail.
 */
#include "config.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"
#include "mapping/mapping.h"
#include "presence/presence.h"

/* Larger than any PIDF a phone sends; the daemon's limit is smaller. */
#define GOLDEN_FILE_MAX (1024 * 1024)
#define GOLDEN_LINE_MAX 512

struct golden_row {
    char  *gr_name;
    char  *gr_want;      /* a status name, or "reject" */
    char  *gr_why;       /* the reason for a reject, else NULL */
    int    gr_seen;
};

struct golden_set {
    struct golden_row  *gs_rows;
    size_t              gs_len;
    size_t              gs_cap;
};

/* Splits line at tabs into at most max fields; returns the count. */
static int
golden_split(char *line, char **field, int max)
{
    int n = 0;
    char *tab;

    line[strcspn(line, "\r\n")] = '\0';
    while (n < max) {
        field[n++] = line;
        tab = strchr(line, '\t');
        if (tab == NULL)
            break;
        *tab = '\0';
        line = tab + 1;
    }
    return n;
}

static void
golden_add(struct golden_set *set, char **field, int n)
{
    struct golden_row *row;

    if (set->gs_len == set->gs_cap) {
        set->gs_cap = set->gs_cap ? set->gs_cap * 2 : 32;
        set->gs_rows = xrealloc(set->gs_rows,
            set->gs_cap * sizeof(*set->gs_rows));
    }
    row = &set->gs_rows[set->gs_len++];
    row->gr_name = xstrdup(field[0]);
    row->gr_want = xstrdup(field[1]);
    row->gr_why = n > 2 ? xstrdup(field[2]) : NULL;
    row->gr_seen = 0;
}

/* Reads the expectation file; -1 if it cannot be read or is malformed. */
static int
golden_load(const char *path, struct golden_set *set)
{
    char line[GOLDEN_LINE_MAX];
    char *field[3];
    FILE *f = fopen(path, "r");
    int n, lineno = 0, rc = 0;

    if (f == NULL) {
        perror(path);
        return -1;
    }
    while (fgets(line, sizeof(line), f) != NULL) {
        lineno++;
        if (line[0] == '#' || line[strspn(line, " \t\r\n")] == '\0')
            continue;
        n = golden_split(line, field, 3);
        if (n < 2 || (strcmp(field[1], "reject") == 0) != (n == 3) ||
            (n == 2 && pres_status_parse(field[1]) < 0)) {
            fprintf(stderr, "%s:%d: bad row\n", path, lineno);
            rc = -1;
            continue;
        }
        golden_add(set, field, n);
    }
    fclose(f);
    return rc;
}

static void
golden_free(struct golden_set *set)
{
    size_t i;

    for (i = 0; i < set->gs_len; i++) {
        free(set->gs_rows[i].gr_name);
        free(set->gs_rows[i].gr_want);
        free(set->gs_rows[i].gr_why);
    }
    free(set->gs_rows);
}

static struct golden_row *
golden_find(struct golden_set *set, const char *name)
{
    size_t i;

    for (i = 0; i < set->gs_len; i++) {
        if (strcmp(set->gs_rows[i].gr_name, name) == 0)
            return &set->gs_rows[i];
    }
    return NULL;
}

/* The whole file in a new buffer; NULL if unreadable or too large. */
static char *
golden_slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *data;

    if (f == NULL)
        return NULL;
    data = xmalloc(GOLDEN_FILE_MAX + 1);
    *len = fread(data, 1, GOLDEN_FILE_MAX + 1, f);
    if (ferror(f) || *len > GOLDEN_FILE_MAX) {
        free(data);
        data = NULL;
    }
    fclose(f);
    return data;
}

/* The file's outcome as a row would say it: "busy" or "reject\tWHY". */
static int
golden_outcome(const char *path, char *out, size_t outlen)
{
    struct pres_doc doc;
    char why[128];
    size_t len;
    char *body = golden_slurp(path, &len);

    if (body == NULL)
        return -1;
    if (pidf_parse(body, len, &doc, why, sizeof(why)) == 0)
        xstrlcpy(out, pres_status_name(map_doc_status(&doc)), outlen);
    else
        snprintf(out, outlen, "reject\t%s", why);
    free(body);
    return 0;
}

static int
golden_wanted(const char *name)
{
    size_t len = strlen(name);

    if (len < 4 || strcmp(name + len - 4, ".xml") != 0)
        return 0;
    return strncmp(name, "pidf--", 6) == 0 ||
        strncmp(name, "malformed--pidf--", 17) == 0;
}

static int
golden_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names of the corpus files to check, sorted; NULL on error. */
static char **
golden_list(const char *dir, size_t *count)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    char **names = NULL;
    size_t n = 0;

    if (d == NULL) {
        perror(dir);
        return NULL;
    }
    while ((de = readdir(d)) != NULL) {
        if (!golden_wanted(de->d_name))
            continue;
        names = xrealloc(names, (n + 1) * sizeof(*names));
        names[n++] = xstrdup(de->d_name);
    }
    closedir(d);
    qsort(names, n, sizeof(*names), golden_cmp);
    *count = n;
    return names != NULL ? names : xcalloc(1, sizeof(*names));
}

/* Checks one corpus file against its row; 0 if it matches. */
static int
golden_check(const char *dir, const char *name, struct golden_set *set)
{
    struct golden_row *row = golden_find(set, name);
    char want[GOLDEN_LINE_MAX], got[GOLDEN_LINE_MAX];
    char *path = xasprintf("%s/%s", dir, name);
    int rc;

    rc = golden_outcome(path, got, sizeof(got));
    free(path);
    if (rc != 0) {
        printf("FAIL %s: cannot read\n", name);
        return -1;
    }
    if (row == NULL) {
        printf("FAIL %s: no expectation (got %s)\n", name, got);
        return -1;
    }
    row->gr_seen = 1;
    if (row->gr_why != NULL)
        snprintf(want, sizeof(want), "%s\t%s", row->gr_want, row->gr_why);
    else
        xstrlcpy(want, row->gr_want, sizeof(want));
    if (strcmp(want, got) != 0) {
        printf("FAIL %s: want \"%s\" got \"%s\"\n", name, want, got);
        return -1;
    }
    printf("ok %s %s\n", name, got);
    return 0;
}

int
main(int argc, char **argv)
{
    struct golden_set set = { NULL, 0, 0 };
    char **names;
    size_t i, count = 0;
    int failed = 0;

    if (argc != 3) {
        fprintf(stderr, "usage: golden_pidf CORPUS-DIR EXPECT-FILE\n");
        return 2;
    }
    log_init("golden_pidf", 0, LOG_LVL_WARN);
    if (golden_load(argv[2], &set) != 0)
        failed++;
    names = golden_list(argv[1], &count);
    if (names == NULL) {
        golden_free(&set);
        return 1;
    }
    for (i = 0; i < count; i++) {
        if (golden_check(argv[1], names[i], &set) != 0)
            failed++;
        free(names[i]);
    }
    free(names);
    for (i = 0; i < set.gs_len; i++) {
        if (!set.gs_rows[i].gr_seen)
            printf("note: %s has a row but is not in the corpus\n",
                set.gs_rows[i].gr_name);
    }
    printf("%zu files, %d failed\n", count, failed);
    golden_free(&set);
    return failed ? 1 : 0;
}
