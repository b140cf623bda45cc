/*
 * graph_persist.c: the write queue as the store keeps it, so that a write
 * Graph has not confirmed survives a crash, a stop and a Graph outage.
 *
 * One record per user and mechanism (GRAPH_PERSIST_NS, key "ID/session"
 * or "ID/pref"), mirroring the newest intent the queue holds for it,
 * pending or in flight: coalescing in the queue is coalescing in the
 * store.  When Graph confirms a write, graph_written takes it and the
 * record goes, in one transaction, so a crash leaves either the write
 * pending or the write confirmed, never neither.  A write in flight at a
 * crash is sent again after the restart; Graph's presence writes are
 * idempotent, so that repeats a state, it never reorders one.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#define SU_WAKEUP_ARG_T void
#define SU_TIMER_ARG_T  void
#include "graph/graph_int.h"
#include "store/store.h"

/* An Entra object id is a GUID; anything much longer is not one of ours. */
#define GRAPH_PERSIST_ID_MAX    128

static const char *const graph_persist_mechs[GRAPH_MECH_COUNT] = {
    [GRAPH_MECH_SESSION] = "session",
    [GRAPH_MECH_PREF]    = "pref",
};

static void
graph_persist_key(char *out, size_t len, const char *id, enum graph_mech m)
{
    snprintf(out, len, "%s/%s", id, graph_persist_mechs[m]);
}

char *
graph_persist_encode(const char *id, const struct graph_intent *it,
    int64_t next_at)
{
    cJSON *o = cJSON_CreateObject();
    const char *state = graph_write_state(it->gi_mech, it->gi_value);
    char *text = NULL;
    int ok = o != NULL && state != NULL;

    /* Numbers are doubles in JSON: exact up to 2^53, plenty for these. */
    ok = ok && cJSON_AddStringToObject(o, "user", id) != NULL &&
        cJSON_AddStringToObject(o, "mech",
            graph_persist_mechs[it->gi_mech]) != NULL &&
        cJSON_AddStringToObject(o, "state", state) != NULL &&
        cJSON_AddNumberToObject(o, "value", it->gi_value) != NULL &&
        cJSON_AddNumberToObject(o, "stamp", (double)it->gi_stamp) != NULL &&
        cJSON_AddNumberToObject(o, "attempts", it->gi_failures) != NULL &&
        cJSON_AddNumberToObject(o, "next_at", (double)next_at) != NULL &&
        cJSON_AddBoolToObject(o, "refresh",
            (it->gi_flags & GRAPH_INTENT_REFRESH) != 0) != NULL;
    if (ok)
        text = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return text;
}

/* A whole number in [0, max] from member name of o, or -1. */
static double
graph_persist_num(const cJSON *o, const char *name, double max)
{
    const cJSON *n = cJSON_GetObjectItemCaseSensitive(o, name);
    double v;

    if (!cJSON_IsNumber(n))
        return -1;
    v = n->valuedouble;
    return v >= 0 && v <= max && v == (double)(int64_t)v ? v : -1;
}

static int
graph_persist_mech(const cJSON *o, enum graph_mech *m)
{
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(o, "mech");
    int i;

    for (i = 0; i < GRAPH_MECH_COUNT && cJSON_IsString(s); i++) {
        if (strcmp(s->valuestring, graph_persist_mechs[i]) == 0) {
            *m = (enum graph_mech)i;
            return 0;
        }
    }
    return -1;
}

int
graph_persist_decode(const char *text, char *id, size_t idlen,
    struct graph_intent *it, int64_t *next_at)
{
    cJSON *o = cJSON_Parse(text);
    const cJSON *user = cJSON_GetObjectItemCaseSensitive(o, "user");
    double value, stamp, tries, at;
    int rc = -1;

    memset(it, 0, sizeof(*it));
    value = graph_persist_num(o, "value", 100);
    stamp = graph_persist_num(o, "stamp", 9007199254740992.0);
    tries = graph_persist_num(o, "attempts", 1e9);
    at = graph_persist_num(o, "next_at", 9007199254740992.0);
    if (cJSON_IsString(user) && user->valuestring[0] != '\0' &&
        strlen(user->valuestring) < idlen &&
        graph_persist_mech(o, &it->gi_mech) == 0 && value >= 0 &&
        stamp >= 1 && tries >= 0 && at >= 0 &&
        graph_write_state(it->gi_mech, (int)value) != NULL) {
        xstrlcpy(id, user->valuestring, idlen);
        it->gi_value = (int)value;
        it->gi_stamp = (uint64_t)stamp;
        it->gi_failures = (unsigned)tries;
        if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "refresh")))
            it->gi_flags = GRAPH_INTENT_REFRESH;
        *next_at = (int64_t)at;
        rc = 0;
    }
    cJSON_Delete(o);
    return rc;
}

/*
 * graph_written, in memory: the store's row holds both mechanisms, so a
 * confirmation of one needs the other's last confirmed value.
 */
static struct graph_written *
graph_persist_row(struct graph *g, const char *id)
{
    struct graph_written *w = htab_get(&g->g_written, id);

    if (w == NULL) {
        w = xcalloc(1, sizeof(*w));
        w->gw_id = xstrdup(id);
        htab_put(&g->g_written, w->gw_id, w);
    }
    return w;
}

int
graph_persist_written(const struct graph *g, const char *id,
    enum graph_mech m)
{
    const struct graph_written *w = htab_get(&g->g_written, id);

    return w != NULL ? w->gw_value[m] : 0;
}

static void
graph_persist_free_one(void *arg, void *val)
{
    struct graph_written *w = val;

    (void)arg;
    free(w->gw_id);
    free(w);
}

void
graph_persist_free(struct graph *g)
{
    htab_each(&g->g_written, graph_persist_free_one, NULL);
    htab_free(&g->g_written);
}

void
graph_persist_sync(struct graph *g, const char *id, enum graph_mech m,
    int64_t next_at)
{
    const struct graph_intent *it;
    char key[GRAPH_PERSIST_ID_MAX + 16];
    char *text;

    if (g->g_store == NULL || strlen(id) > GRAPH_PERSIST_ID_MAX)
        return;
    graph_persist_key(key, sizeof(key), id, m);
    it = graph_queue_newest(graph_write_q(g), id, m);
    if (it == NULL) {
        store_rec_del(g->g_store, GRAPH_PERSIST_NS, key);
        return;
    }
    text = graph_persist_encode(id, it, next_at);
    if (text == NULL) {
        log_error("graph persist-failed user=%s reason=encode", id);
        return;
    }
    store_rec_put(g->g_store, GRAPH_PERSIST_NS, key, text);
    cJSON_free(text);
}

void
graph_persist_confirm(struct graph *g, const char *id,
    const struct graph_intent *it)
{
    struct graph_written *w = graph_persist_row(g, id);
    struct store_graph sg;

    w->gw_value[it->gi_mech] = it->gi_value;
    if (g->g_store == NULL)
        return;
    sg.sg_id = w->gw_id;
    sg.sg_session = w->gw_value[GRAPH_MECH_SESSION];
    sg.sg_pref = w->gw_value[GRAPH_MECH_PREF];
    if (store_begin(g->g_store) != 0)
        return;
    store_graph_put(g->g_store, &sg);
    graph_persist_sync(g, id, it->gi_mech, 0);
    store_commit(g->g_store);
}

static void
graph_persist_resync_row(void *arg, void *val)
{
    struct graph *g = arg;
    const struct graph_written *w = val;
    struct store_graph sg = {
        w->gw_id, w->gw_value[GRAPH_MECH_SESSION],
        w->gw_value[GRAPH_MECH_PREF]
    };

    store_graph_put(g->g_store, &sg);
}

static void
graph_persist_resync_user(void *arg, const char *id)
{
    struct graph *g = arg;
    int m;

    for (m = 0; m < GRAPH_MECH_COUNT; m++)
        graph_persist_sync(g, id, (enum graph_mech)m, 0);
}

/*
 * After the store failed for a while: what Graph confirmed, what is
 * still pending, the service accounts and the change-notification
 * subscriptions, written anew from memory (store_resync_cb).
 */
void
graph_persist_resync(void *arg, struct store *st)
{
    struct graph *g = arg;

    (void)st;
    store_clear(g->g_store, STORE_GRAPH);
    store_rec_clear(g->g_store, GRAPH_PERSIST_NS);
    htab_each(&g->g_written, graph_persist_resync_row, g);
    graph_queue_each(graph_write_q(g), graph_persist_resync_user, g);
    graph_accts_resync(g);
    graph_subs_resync(g);
}

/* The records read at start, before they are sorted into the queue. */
struct graph_persist_load {
    struct graph_persist_item {
        char                id[GRAPH_PERSIST_ID_MAX + 1];
        struct graph_intent it;
        int64_t             next_at;
    }                  *pl_items;
    size_t              pl_n;
    char              **pl_bad;     /* keys of records not ours */
    size_t              pl_nbad;
};

static void
graph_persist_load_row(void *arg, const struct store_graph *sg)
{
    struct graph_written *w = graph_persist_row(arg, sg->sg_id);

    w->gw_value[GRAPH_MECH_SESSION] = sg->sg_session;
    w->gw_value[GRAPH_MECH_PREF] = sg->sg_pref;
}

static void
graph_persist_load_rec(void *arg, const char *key, const char *value)
{
    struct graph_persist_load *pl = arg;
    struct graph_persist_item *pi;
    char want[GRAPH_PERSIST_ID_MAX + 16];

    pl->pl_items = xrealloc(pl->pl_items,
        (pl->pl_n + 1) * sizeof(*pl->pl_items));
    pi = &pl->pl_items[pl->pl_n];
    if (graph_persist_decode(value, pi->id, sizeof(pi->id), &pi->it,
        &pi->next_at) == 0) {
        graph_persist_key(want, sizeof(want), pi->id, pi->it.gi_mech);
        if (strcmp(want, key) == 0) {
            pl->pl_n++;
            return;
        }
    }
    log_warn("graph restore-skipped key=%s reason=not-a-write", key);
    pl->pl_bad = xrealloc(pl->pl_bad, (pl->pl_nbad + 1) * sizeof(char *));
    pl->pl_bad[pl->pl_nbad++] = xstrdup(key);
}

static int
graph_persist_cmp(const void *a, const void *b)
{
    const struct graph_persist_item *x = a, *y = b;

    return x->it.gi_stamp < y->it.gi_stamp ? -1 :
        x->it.gi_stamp > y->it.gi_stamp;
}

/* A call confirmed before the stop still needs its session refreshed. */
static void
graph_persist_keep_call(void *arg, void *val)
{
    struct graph *g = arg;
    struct graph_written *w = val;
    int v = w->gw_value[GRAPH_MECH_SESSION];

    if ((v == PRES_SESS_IN_CALL || v == PRES_SESS_CONFERENCE) &&
        graph_queue_newest(graph_write_q(g), w->gw_id,
            GRAPH_MECH_SESSION) == NULL)
        graph_queue_keep(graph_write_q(g), w->gw_id, v, clock_now_ms());
}

/* Queues the items in stamp order; returns the number queued. */
static size_t
graph_persist_queue(struct graph *g, struct graph_persist_load *pl,
    unsigned *probes, int64_t *probe_at)
{
    struct graph_queue *q = graph_write_q(g);
    struct graph_persist_item *pi;
    size_t i;

    if (pl->pl_n > 0)
        qsort(pl->pl_items, pl->pl_n, sizeof(*pl->pl_items),
            graph_persist_cmp);

    /* Accepted writes are never dropped: the bound waits for them. */
    graph_queue_set_max(q, 0);
    for (i = 0; i < pl->pl_n; i++) {
        pi = &pl->pl_items[i];
        graph_queue_put(q, pi->id, &pi->it);
        if (pi->it.gi_failures > *probes)
            *probes = pi->it.gi_failures;
        if (pi->it.gi_failures > 0 &&
            (*probe_at == 0 || pi->next_at < *probe_at))
            *probe_at = pi->next_at;
    }
    graph_queue_set_max(q, g->g_conf.gc_queue_max > 0 ?
        (size_t)g->g_conf.gc_queue_max : 0);
    return pl->pl_n;
}

int
graph_persist_load(struct graph *g)
{
    struct graph_persist_load pl;
    unsigned probes = 0;
    int64_t probe_at = 0;
    size_t i, n;
    int rc;

    memset(&pl, 0, sizeof(pl));
    rc = store_graph_each(g->g_store, graph_persist_load_row, g);
    if (rc == 0)
        rc = store_rec_each(g->g_store, GRAPH_PERSIST_NS,
            graph_persist_load_rec, &pl);
    for (i = 0; i < pl.pl_nbad; i++) {
        store_rec_del(g->g_store, GRAPH_PERSIST_NS, pl.pl_bad[i]);
        free(pl.pl_bad[i]);
    }
    free(pl.pl_bad);
    if (rc != 0) {
        free(pl.pl_items);
        log_error("graph restore-failed reason=store");
        return -1;
    }
    n = graph_persist_queue(g, &pl, &probes, &probe_at);
    free(pl.pl_items);
    htab_each(&g->g_written, graph_persist_keep_call, g);
    graph_write_restored(g, probes, probe_at);
    log_info("graph restored pending=%zu users=%zu", n,
        graph_queue_users(graph_write_q(g)));
    return (int)n;
}
