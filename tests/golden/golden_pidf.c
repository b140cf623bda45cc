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

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"
#include "golden.h"
#include "mapping/mapping.h"
#include "presence/presence.h"

/* A row names a status, or says reject and why. */
static int
golden_pidf_row_ok(const char *want)
{
    return strncmp(want, "reject\t", 7) == 0 || pres_status_parse(want) >= 0;
}

/* The file's outcome as a row would say it: "busy" or "reject\tWHY". */
static void
golden_pidf_outcome(struct golden_set *got, const char *name,
    const char *data, size_t len, const void *arg)
{
    struct pres_doc doc;
    char why[128];
    char *reject;

    (void)arg;
    if (pidf_parse(data, len, &doc, why, sizeof(why)) == 0) {
        golden_add(got, name, pres_status_name(map_doc_status(&doc)));
        return;
    }
    reject = xasprintf("reject\t%s", why);
    golden_add(got, name, reject);
    free(reject);
}

static int
golden_pidf_wanted(const char *name, const void *arg)
{
    size_t len = strlen(name);

    (void)arg;
    if (len < 4 || strcmp(name + len - 4, ".xml") != 0)
        return 0;
    return strncmp(name, "pidf--", 6) == 0 ||
        strncmp(name, "malformed--pidf--", 17) == 0;
}

static const struct golden_walk golden_pidf_walk = {
    golden_pidf_wanted,      /* pidf--*.xml, malformed--pidf--*.xml */
    golden_pidf_row_ok,      /* a status or a reject */
    golden_pidf_outcome,     /* one outcome per file */
};

int
main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: golden_pidf CORPUS-DIR EXPECT-FILE\n");
        return 2;
    }
    log_init("golden_pidf", 0, LOG_LVL_WARN);
    return golden_run(&golden_pidf_walk, NULL, argv[1], argv[2]);
}
