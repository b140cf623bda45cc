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
 *
 * A record also carries the values of writes that got no answer and may
 * still land at Graph (graph_queue_late), and the time they land by; it
 * stays, without a write pending, until that time has come and the state
 * they could undo is written once more.  So a crash in between loses
 * neither.
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

static void
graph_persist_key(char *out, size_t len, const char *id, enum graph_mech m)
{
    snprintf(out, len, "%s/%s", id, graph_queue_mech_name(m));
}

/* The late values and their time; absent when there are none. */
static int
graph_persist_encode_late(cJSON *o, const struct graph_persist_rec *r)
{
    if (r->pr_late == 0)
        return 1;
    return cJSON_AddNumberToObject(o, "late", r->pr_late) != NULL &&
        cJSON_AddNumberToObject(o, "late_by", (double)r->pr_late_by) !=
        NULL;
}

char *
graph_persist_encode(const char *id, const struct graph_persist_rec *r)
{
    const struct graph_intent *it = &r->pr_it;
    cJSON *o = cJSON_CreateObject();
    const char *state = graph_write_state(it->gi_mech, it->gi_value);
    char *text = NULL;
    int ok = o != NULL && state != NULL;

    /* Numbers are doubles in JSON: exact up to 2^53, plenty for these. */
    ok = ok && cJSON_AddStringToObject(o, "user", id) != NULL &&
        cJSON_AddStringToObject(o, "mech",
            graph_queue_mech_name(it->gi_mech)) != NULL &&
        cJSON_AddStringToObject(o, "state", state) != NULL &&
        cJSON_AddNumberToObject(o, "value", it->gi_value) != NULL &&
        cJSON_AddNumberToObject(o, "stamp", (double)it->gi_stamp) != NULL &&
        cJSON_AddNumberToObject(o, "attempts", it->gi_failures) != NULL &&
        cJSON_AddNumberToObject(o, "next_at", (double)r->pr_next_at) !=
        NULL &&
        cJSON_AddBoolToObject(o, "refresh",
            (it->gi_flags & GRAPH_INTENT_REFRESH) != 0) != NULL &&
        cJSON_AddBoolToObject(o, "pending", r->pr_pending) != NULL &&
        graph_persist_encode_late(o, r);
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
        if (strcmp(s->valuestring,
            graph_queue_mech_name((enum graph_mech)i)) == 0) {
            *m = (enum graph_mech)i;
            return 0;
        }
    }
    return -1;
}

/* The late values and their time, when the record has them: 0, or -1
 * when they are not valid. */
static int
graph_persist_decode_late(const cJSON *o, struct graph_persist_rec *r)
{
    double late, by;

    if (cJSON_GetObjectItemCaseSensitive(o, "late") == NULL)
        return 0;
    late = graph_persist_num(o, "late", 4294967295.0);
    by = graph_persist_num(o, "late_by", 9007199254740992.0);
    if (late < 0 || by < 0)
        return -1;
    r->pr_late = (unsigned)late;
    r->pr_late_by = (int64_t)by;
    return 0;
}

int
graph_persist_decode(const char *text, char *id, size_t idlen,
    struct graph_persist_rec *r)
{
    cJSON *o = cJSON_Parse(text);
    const cJSON *user = cJSON_GetObjectItemCaseSensitive(o, "user");
    struct graph_intent *it = &r->pr_it;
    double value, stamp, tries, at;
    int rc = -1;

    memset(r, 0, sizeof(*r));
    value = graph_persist_num(o, "value", 100);
    stamp = graph_persist_num(o, "stamp", 9007199254740992.0);
    tries = graph_persist_num(o, "attempts", 1e9);
    at = graph_persist_num(o, "next_at", 9007199254740992.0);

    /* Records written before "pending" existed were all pending. */
    r->pr_pending = !cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(o,
        "pending"));
    if (cJSON_IsString(user) && user->valuestring[0] != '\0' &&
        strlen(user->valuestring) < idlen &&
        graph_persist_mech(o, &it->gi_mech) == 0 && value >= 0 &&
        (stamp >= 1 || (!r->pr_pending && stamp == 0)) && tries >= 0 &&
        at >= 0 && graph_write_state(it->gi_mech, (int)value) != NULL &&
        graph_persist_decode_late(o, r) == 0 &&
        (r->pr_pending || r->pr_late != 0)) {
        xstrlcpy(id, user->valuestring, idlen);
        it->gi_value = (int)value;
        it->gi_stamp = (uint64_t)stamp;
        it->gi_failures = (unsigned)tries;
        if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "refresh")))
            it->gi_flags = GRAPH_INTENT_REFRESH;
        r->pr_next_at = (int64_t)at;
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
    const struct graph_queue *q = graph_write_cq(g);
    const struct graph_intent *it;
    struct graph_persist_rec r;
    char key[GRAPH_PERSIST_ID_MAX + 16];
    char *text;

    if (g->g_store == NULL || strlen(id) > GRAPH_PERSIST_ID_MAX)
        return;
    graph_persist_key(key, sizeof(key), id, m);
    memset(&r, 0, sizeof(r));
    it = graph_queue_newest(q, id, m);
    r.pr_late = graph_queue_late(q, id, m, &r.pr_late_by);
    if (it == NULL && r.pr_late == 0) {
        store_rec_del(g->g_store, GRAPH_PERSIST_NS, key);
        return;
    }
    r.pr_pending = it != NULL;
    r.pr_next_at = next_at;
    if (it != NULL) {
        r.pr_it = *it;
    } else {
        r.pr_it.gi_mech = m;
        r.pr_it.gi_value = graph_persist_written(g, id, m);
    }
    text = graph_persist_encode(id, &r);
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
        char                    id[GRAPH_PERSIST_ID_MAX + 1];
        struct graph_persist_rec rec;
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
    if (graph_persist_decode(value, pi->id, sizeof(pi->id), &pi->rec) ==
        0) {
        graph_persist_key(want, sizeof(want), pi->id,
            pi->rec.pr_it.gi_mech);
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

    return x->rec.pr_it.gi_stamp < y->rec.pr_it.gi_stamp ? -1 :
        x->rec.pr_it.gi_stamp > y->rec.pr_it.gi_stamp;
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

/* Late values restored: their time as stored, but no later than a write
 * that got no answer now would have (a clock set back must not hold
 * them for long), and not in the past. */
static void
graph_persist_late(struct graph *g, const char *id,
    const struct graph_persist_rec *r)
{
    int64_t now = clock_now_ms(), by = r->pr_late_by;

    if (r->pr_late == 0)
        return;
    if (by > graph_write_late_by(g, now))
        by = graph_write_late_by(g, now);
    if (by < now)
        by = now;
    graph_queue_uncertain(graph_write_q(g), id, r->pr_it.gi_mech,
        r->pr_late, by);
}

/* Queues the pending items in stamp order, and takes the late values
 * back; returns the number queued. */
static size_t
graph_persist_queue(struct graph *g, struct graph_persist_load *pl,
    unsigned *probes, int64_t *probe_at)
{
    struct graph_queue *q = graph_write_q(g);
    struct graph_persist_rec *r;
    size_t i, n = 0;

    if (pl->pl_n > 0)
        qsort(pl->pl_items, pl->pl_n, sizeof(*pl->pl_items),
            graph_persist_cmp);

    /* Accepted writes are never dropped: the bound waits for them. */
    graph_queue_set_max(q, 0);
    for (i = 0; i < pl->pl_n; i++) {
        r = &pl->pl_items[i].rec;
        graph_persist_late(g, pl->pl_items[i].id, r);
        if (!r->pr_pending)
            continue;
        graph_queue_put(q, pl->pl_items[i].id, &r->pr_it);
        n++;
        if (r->pr_it.gi_failures > *probes)
            *probes = r->pr_it.gi_failures;
        if (r->pr_it.gi_failures > 0 &&
            (*probe_at == 0 || r->pr_next_at < *probe_at))
            *probe_at = r->pr_next_at;
    }
    graph_queue_set_max(q, g->g_conf.gc_queue_max > 0 ?
        (size_t)g->g_conf.gc_queue_max : 0);
    return n;
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
