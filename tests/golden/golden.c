/*
 * golden.c: the corpus walk and the comparisons of the golden programs;
 * see golden.h.
 */
#include "config.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"
#include "golden.h"

/* Larger than any document a phone sends; the daemon's limit is smaller. */
#define GOLDEN_FILE_MAX (1024 * 1024)
#define GOLDEN_LINE_MAX 1024

void
golden_add(struct golden_set *set, const char *key, const char *want)
{
    struct golden_row *row;

    if (set->gs_len == set->gs_cap) {
        set->gs_cap = set->gs_cap ? set->gs_cap * 2 : 32;
        set->gs_rows = xrealloc(set->gs_rows,
            set->gs_cap * sizeof(*set->gs_rows));
    }
    row = &set->gs_rows[set->gs_len++];
    row->gr_key = xstrdup(key);
    row->gr_want = xstrdup(want);
    row->gr_seen = 0;
}

static void
golden_free(struct golden_set *set)
{
    size_t i;

    for (i = 0; i < set->gs_len; i++) {
        free(set->gs_rows[i].gr_key);
        free(set->gs_rows[i].gr_want);
    }
    free(set->gs_rows);
    memset(set, 0, sizeof(*set));
}

/* Reads the expectation file; -1 if it cannot be read or is malformed. */
static int
golden_load(const char *path, int (*row_ok)(const char *want),
    struct golden_set *set)
{
    char line[GOLDEN_LINE_MAX];
    char *tab;
    FILE *f = fopen(path, "r");
    int lineno = 0, rc = 0;

    if (f == NULL) {
        perror(path);
        return -1;
    }
    while (fgets(line, sizeof(line), f) != NULL) {
        lineno++;
        line[strcspn(line, "\r\n")] = '\0';
        if (line[0] == '#' || line[strspn(line, " \t")] == '\0')
            continue;
        tab = strchr(line, '\t');
        if (tab == NULL || tab == line || tab[1] == '\0' ||
            (row_ok != NULL && !row_ok(tab + 1))) {
            fprintf(stderr, "%s:%d: bad row\n", path, lineno);
            rc = -1;
            continue;
        }
        *tab = '\0';
        golden_add(set, line, tab + 1);
    }
    fclose(f);
    return rc;
}

/* The whole file, NUL-terminated; NULL if unreadable or too large. */
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
    } else {
        data[*len] = '\0';
    }
    fclose(f);
    return data;
}

static struct golden_row *
golden_find(struct golden_set *set, const char *key)
{
    size_t i;

    for (i = 0; i < set->gs_len; i++) {
        if (strcmp(set->gs_rows[i].gr_key, key) == 0)
            return &set->gs_rows[i];
    }
    return NULL;
}

/* Every outcome of one corpus file, into got; -1 if unreadable. */
static int
golden_outcomes(const struct golden_walk *gw, const void *arg,
    const char *dir, const char *name, struct golden_set *got)
{
    char *path = xasprintf("%s/%s", dir, name);
    size_t len;
    char *data = golden_slurp(path, &len);

    free(path);
    if (data == NULL)
        return -1;
    gw->gw_outcomes(got, name, data, len, arg);
    free(data);
    return 0;
}

/* Checks one corpus file against the rows; the number of failures. */
static int
golden_check(const struct golden_walk *gw, const void *arg,
    const char *dir, const char *name, struct golden_set *rows)
{
    struct golden_set got = { NULL, 0, 0 };
    struct golden_row *row;
    size_t i;
    int failed = 0;

    if (golden_outcomes(gw, arg, dir, name, &got) != 0) {
        printf("FAIL %s: cannot read\n", name);
        return 1;
    }
    for (i = 0; i < got.gs_len; i++) {
        row = golden_find(rows, got.gs_rows[i].gr_key);
        if (row == NULL) {
            printf("FAIL %s: no expectation (got %s)\n",
                got.gs_rows[i].gr_key, got.gs_rows[i].gr_want);
            failed++;
            continue;
        }
        row->gr_seen = 1;
        if (strcmp(row->gr_want, got.gs_rows[i].gr_want) != 0) {
            printf("FAIL %s: want \"%s\" got \"%s\"\n", row->gr_key,
                row->gr_want, got.gs_rows[i].gr_want);
            failed++;
        } else {
            printf("ok %s %s\n", row->gr_key, row->gr_want);
        }
    }
    golden_free(&got);
    return failed;
}

static int
golden_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names of the corpus files to check, sorted; NULL on error. */
static char **
golden_list(const struct golden_walk *gw, const void *arg, const char *dir,
    size_t *count)
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
        if (!gw->gw_wanted(de->d_name, arg))
            continue;
        names = xrealloc(names, (n + 1) * sizeof(*names));
        names[n++] = xstrdup(de->d_name);
    }
    closedir(d);
    if (n > 0)
        qsort(names, n, sizeof(*names), golden_cmp);
    *count = n;
    return names != NULL ? names : xcalloc(1, sizeof(*names));
}

int
golden_run(const struct golden_walk *gw, const void *arg, const char *dir,
    const char *expect)
{
    struct golden_set rows = { NULL, 0, 0 };
    char **names;
    size_t i, count = 0;
    int failed = 0;

    if (golden_load(expect, gw->gw_row_ok, &rows) != 0)
        failed++;
    names = golden_list(gw, arg, dir, &count);
    if (names == NULL) {
        golden_free(&rows);
        return 1;
    }
    for (i = 0; i < count; i++) {
        failed += golden_check(gw, arg, dir, names[i], &rows);
        free(names[i]);
    }
    free(names);
    for (i = 0; i < rows.gs_len; i++) {
        if (!rows.gs_rows[i].gr_seen)
            printf("note: %s has a row but is not in the corpus\n",
                rows.gs_rows[i].gr_key);
    }
    printf("%zu files, %d failed\n", count, failed);
    golden_free(&rows);
    return failed ? 1 : 0;
}
