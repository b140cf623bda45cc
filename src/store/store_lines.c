/*
 * store_lines.c: reads a text file of the user map's kind line by line,
 * gathering every problem rather than stopping at the first, so an
 * administrator sees them all in one go.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core.h"
#include "store/store.h"

int
store_lines_read(const char *path, size_t maxline, store_line_cb *fn,
    void *arg, char **err)
{
    char *line = xmalloc(maxline), where[512];
    struct buf errs;
    unsigned lineno = 0;
    struct stat sb;
    FILE *fp;

    fp = fopen(path, "r");
    if (fp == NULL || fstat(fileno(fp), &sb) != 0 || !S_ISREG(sb.st_mode)) {
        *err = xasprintf("%s: cannot open: %s", path,
            fp == NULL ? strerror(errno) : "not a regular file");
        if (fp != NULL)
            fclose(fp);
        free(line);
        return -1;
    }
    buf_init(&errs, 16384);
    while (fgets(line, (int)maxline, fp) != NULL) {
        snprintf(where, sizeof(where), "%s:%u", path, ++lineno);
        if (strchr(line, '\n') == NULL && !feof(fp)) {
            buf_printf(&errs, "%s: line too long\n", where);
            break;
        }
        fn(arg, line, where, &errs);
    }
    fclose(fp);
    free(line);
    if (errs.b_len == 0) {
        buf_free(&errs);
        return 0;
    }
    *err = buf_steal(&errs);
    return -1;
}
