/*
 * store_health.c: what presgwd does when its store stops taking writes.
 *
 * SIP keeps being served from memory.  The first failed write is logged,
 * later ones are counted and summed up once a minute, so a full disk
 * under load does not also flood the log.  Every subsystem keeps its own
 * state in memory, so once the disk is back the lost writes are made
 * good by having each of them write all its rows again (a resync).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "core.h"
#include "store/store_int.h"

void
store_health_failed(struct store *s, const char *op, const char *error)
{
    struct store_health *h = &s->s_health;
    time_t now = clock_now();

    h->sh_failed++;
    h->sh_window++;
    h->sh_owed = 1;
    xstrlcpy(h->sh_error, error, sizeof(h->sh_error));
    if (h->sh_failing)
        return;
    h->sh_failing = 1;
    h->sh_since = now;
    h->sh_logged = now;
    h->sh_probed = now;
    h->sh_window = 0;
    log_error("store write-failed path=%s op=%s error=\"%s\""
        " serving=from-memory", s->s_path ? s->s_path : "-", op, error);
}

void
store_health_ok(struct store *s)
{
    /* What was lost is still owed: store_tick() writes it. */
    s->s_health.sh_failing = 0;
}

int
store_healthy(struct store *s)
{
    return !s->s_health.sh_failing && !s->s_health.sh_owed &&
        s->s_health.sh_file == STORE_FILE_OK;
}

void
store_stats(struct store *s, struct store_stats *out)
{
    const struct store_health *h = &s->s_health;

    out->ss_healthy = store_healthy(s);
    out->ss_failing = h->sh_failing;
    out->ss_owed = h->sh_owed;
    out->ss_failed = h->sh_failed;
    out->ss_resyncs = h->sh_resyncs;
    out->ss_file = h->sh_file;
    out->ss_recreated = h->sh_recreated;
    out->ss_since = h->sh_failing || h->sh_owed ? h->sh_since : 0;
    out->ss_error = h->sh_error;
}

void
store_resync_add(struct store *s, store_resync_cb *cb, void *arg)
{
    struct store_health *h = &s->s_health;

    h->sh_resync = xrealloc(h->sh_resync,
        (h->sh_nresync + 1) * sizeof(*h->sh_resync));
    h->sh_resync[h->sh_nresync].sr_cb = cb;
    h->sh_resync[h->sh_nresync].sr_arg = arg;
    h->sh_nresync++;
}

void
store_resync_del(struct store *s, store_resync_cb *cb, void *arg)
{
    struct store_health *h = &s->s_health;
    size_t i;

    for (i = 0; i < h->sh_nresync; i++) {
        if (h->sh_resync[i].sr_cb == cb && h->sh_resync[i].sr_arg == arg) {
            h->sh_resync[i] = h->sh_resync[--h->sh_nresync];
            return;
        }
    }
}

void
store_health_free(struct store *s)
{
    free(s->s_health.sh_resync);
    s->s_health.sh_resync = NULL;
    s->s_health.sh_nresync = 0;
}

/* Every subsystem writes all its rows again, all or nothing. */
static int
store_resync(struct store *s)
{
    struct store_health *h = &s->s_health;
    size_t i;

    if (store_begin(s) != 0)
        return -1;
    for (i = 0; i < h->sh_nresync; i++)
        h->sh_resync[i].sr_cb(h->sh_resync[i].sr_arg, s);
    return store_commit(s);
}

static void
store_summary(struct store *s, time_t now)
{
    struct store_health *h = &s->s_health;

    log_warn("store write-failed-summary path=%s failed=%lu total=%lu"
        " for=%lds error=\"%s\" serving=from-memory",
        s->s_path ? s->s_path : "-", h->sh_window, h->sh_failed,
        (long)(now - h->sh_since), h->sh_error);
    h->sh_window = 0;
    h->sh_logged = now;
}

/* A new file at the path, written full from memory at once. */
static void
store_recreate(struct store *s, time_t now)
{
    struct store_health *h = &s->s_health;
    char *err = NULL;

    if (s->s_ops->so_recreate(s, &err) != 0) {
        if (now - h->sh_logged >= STORE_LOG_EVERY) {
            log_error("store recreate-failed path=%s error=\"%s\""
                " serving=from-memory", s->s_path, err);
            h->sh_logged = now;
        }
        free(err);
        return;
    }
    h->sh_file = STORE_FILE_OK;
    h->sh_recreated++;
    h->sh_owed = 1;
    if (store_resync(s) != 0)
        return;
    h->sh_owed = 0;
    h->sh_resyncs++;
    log_warn("store recreated path=%s resynced=%zu", s->s_path,
        h->sh_nresync);
}

/*
 * Whether the path still leads to the open file: 0 if so, else -1 after
 * dealing with it.  A removed store is made again; a file put in its
 * place is the admin's and is not touched.
 */
static int
store_file_check(struct store *s, time_t now)
{
    struct store_health *h = &s->s_health;
    int st = s->s_ops->so_file(s);

    if (st != h->sh_file && st == STORE_FILE_MISSING) {
        log_error("store file-missing path=%s action=recreate", s->s_path);
        h->sh_logged = 0;
    } else if (st != h->sh_file && st == STORE_FILE_REPLACED) {
        log_error("store file-replaced path=%s action=none"
            " serving=from-memory writes=lost-at-stop", s->s_path);
    }
    h->sh_file = st;
    if (st == STORE_FILE_MISSING)
        store_recreate(s, now);
    return h->sh_file == STORE_FILE_OK ? 0 : -1;
}

void
store_tick(struct store *s)
{
    struct store_health *h = &s->s_health;
    time_t now = clock_now();

    if (s->s_path != NULL && store_file_check(s, now) != 0)
        return;
    if (h->sh_failing && now - h->sh_logged >= STORE_LOG_EVERY)
        store_summary(s, now);
    if (!h->sh_owed)
        return;
    if (h->sh_failing) {
        if (now - h->sh_probed < STORE_PROBE_EVERY)
            return;
        h->sh_probed = now;
        if (s->s_ops->so_probe(s) != 0)
            return;
    }
    /* A resync that fails again is counted, not logged again. */
    if (store_resync(s) != 0)
        return;
    h->sh_owed = 0;
    h->sh_resyncs++;
    log_info("store write-resumed path=%s failed=%lu for=%lds resynced=%zu",
        s->s_path ? s->s_path : "-", h->sh_failed,
        (long)(now - h->sh_since), h->sh_nresync);
}
