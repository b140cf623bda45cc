/*
 * store_int.h: what every store backend shares with store.c: the head of
 * its struct store, and how it reports the fate of its writes.
 */
#ifndef PRESGW_STORE_INT_H
#define PRESGW_STORE_INT_H

#include <stddef.h>
#include <time.h>

#include "store/store.h"

struct store_resync {
    store_resync_cb    *sr_cb;
    void               *sr_arg;
};

/* Whether writes reach the disk, and what is owed when they do again. */
struct store_health {
    int                  sh_failing;     /* the last write failed */
    int                  sh_owed;        /* writes lost since the last
                                            resync */
    unsigned long        sh_failed;      /* failed writes, in all */
    unsigned long        sh_window;      /* failed since the last line */
    unsigned long        sh_resyncs;
    int                  sh_file;        /* enum store_file last seen */
    unsigned long        sh_recreated;
    time_t               sh_since;       /* failing since */
    time_t               sh_logged;      /* last line about it */
    time_t               sh_probed;      /* last write test */
    char                 sh_error[160];  /* the last failure */
    struct store_resync *sh_resync;
    size_t               sh_nresync;
};

/* Every backend's struct store begins with this. */
struct store {
    const struct store_ops *s_ops;
    char                   *s_path;
    struct store_health     s_health;
};

/*
 * A write (or a commit) failed: op names it, error says why.  The first
 * failure of a run of them is logged, the rest are counted and summed up
 * by store_tick(); either way the store owes a resync.
 */
void store_health_failed(struct store *s, const char *op, const char *error);

/* A write outside a transaction, or a commit, reached the store. */
void store_health_ok(struct store *s);

void store_health_free(struct store *s);

#endif
