/*
 * golden.h: what the golden programs share: the expectation file, the
 * walk over the corpus directory and the comparison of what the codecs
 * make of each file with what its rows say.
 *
 * An expectation file has one row per outcome, NAME<TAB>WANT, where WANT
 * may hold tabs itself.  Blank lines and lines starting with '#' are
 * comments.  An outcome without a row fails, so each new document gets a
 * decided expectation; a row no outcome matched is reported but does not
 * fail.
 */
#ifndef PRESGW_GOLDEN_H
#define PRESGW_GOLDEN_H

#include <stddef.h>

/* A row of the expectation file, or an outcome of one corpus file. */
struct golden_row {
    char  *gr_key;       /* file name, with #part for parts */
    char  *gr_want;      /* what the codec made of it */
    int    gr_seen;      /* an outcome matched this row */
};

struct golden_set {
    struct golden_row  *gs_rows;
    size_t              gs_len;
    size_t              gs_cap;
};

/* What one golden program checks; arg is golden_run()'s. */
struct golden_walk {
    /* Is the corpus file name one to check? */
    int   (*gw_wanted)(const char *name, const void *arg);
    /* Is WANT of a row well made?  NULL takes every row. */
    int   (*gw_row_ok)(const char *want);
    /* Adds every outcome of file name, len bytes of data, to got. */
    void  (*gw_outcomes)(struct golden_set *got, const char *name,
        const char *data, size_t len, const void *arg);
};

/* Appends a row of copies of key and want. */
void golden_add(struct golden_set *set, const char *key, const char *want);

/*
 * Checks every file of the corpus directory dir that gw wants, in name
 * order, against the expectation file expect, printing a line per
 * outcome and a count.  Returns the exit status: 0 when all matched.
 */
int golden_run(const struct golden_walk *gw, const void *arg,
    const char *dir, const char *expect);

#endif
