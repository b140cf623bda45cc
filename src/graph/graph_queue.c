/*
 * graph_queue.c: the writes waiting for Graph, per user.
 *
 * A user has at most one write in flight, and at most one pending intent
 * per mechanism (session, preferred).  A newer intent replaces the pending
 * one of its mechanism: only the latest state matters, so Graph sees one
 * write where the phone changed its mind several times.  The user's writes
 * go out in the order each mechanism was first queued, which order stamps
 * record, so that the order survives a restart through the store.
 *
 * Users wait on one of two lists: ready (first come, first served) or
 * delayed (sorted by the time they may go again, after a failure).  A
 * third list, sorted by time, holds the users whose call is being kept
 * shown by resending setPresence, and a fourth, sorted by time too, the
 * users with writes that got no answer and may still land at Graph.
 *
 * The bound: at most q_max users may have writes queued or in flight.
 * When full, a write for a user not yet in the queue is refused (and the
 * caller logs it); users already queued still take newer intents.  So a
 * burst of new users cannot push out state already accepted, and a
 * refused user is caught up by its next change.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#define SU_WAKEUP_ARG_T void
#define SU_TIMER_ARG_T  void
#include "graph/graph_int.h"

enum graph_qlist {
    GRAPH_QLIST_NONE = 0,
    GRAPH_QLIST_READY,
    GRAPH_QLIST_DELAYED
};

struct graph_quser {
    char                       *qu_id;
    struct graph_quser         *qu_hnext;       /* hash chain */
    TAILQ_ENTRY(graph_quser)    qu_run;         /* ready or delayed */
    TAILQ_ENTRY(graph_quser)    qu_ref;         /* refresh list */
    TAILQ_ENTRY(graph_quser)    qu_lat;         /* late list */
    enum graph_qlist            qu_list;
    int                         qu_refreshing;  /* on the refresh list */
    int64_t                     qu_not_before;  /* when delayed */
    int64_t                     qu_refresh_at;
    int                         qu_refresh_value;
    int64_t                     qu_late_by;     /* when on the late list */
    unsigned                    qu_late[GRAPH_MECH_COUNT]; /* value bits */
    struct graph_intent         qu_slot[GRAPH_MECH_COUNT];
    int                         qu_has[GRAPH_MECH_COUNT];
    enum graph_mech             qu_order[GRAPH_MECH_COUNT];
    unsigned                    qu_norder;
    int                         qu_busy;        /* a write in flight */
    struct graph_intent         qu_sent;        /* ... and which */
};

TAILQ_HEAD(graph_qlist_head, graph_quser);

struct graph_queue {
    struct graph_quser        **q_hash;
    size_t                      q_nbuckets;     /* a power of two */
    size_t                      q_nentries;
    struct graph_qlist_head     q_ready;
    struct graph_qlist_head     q_delayed;
    struct graph_qlist_head     q_refresh;
    struct graph_qlist_head     q_late;
    size_t                      q_max;
    size_t                      q_nusers;       /* users with writes */
    size_t                      q_npending;     /* writes, in flight too */
    uint64_t                    q_stamp;        /* the last order stamp */
};

#define GRAPH_QUEUE_BUCKETS0 64

/* FNV-1a. */
static size_t
graph_queue_hash(const char *s)
{
    uint32_t h = 2166136261u;

    while (*s != '\0') {
        h ^= (unsigned char)*s++;
        h *= 16777619u;
    }
    return h;
}

static struct graph_quser *
graph_queue_find(const struct graph_queue *q, const char *id)
{
    struct graph_quser *u;

    u = q->q_hash[graph_queue_hash(id) & (q->q_nbuckets - 1)];
    while (u != NULL && strcmp(u->qu_id, id) != 0)
        u = u->qu_hnext;
    return u;
}

static void
graph_queue_grow(struct graph_queue *q)
{
    struct graph_quser **old = q->q_hash, *u, *next;
    size_t n = q->q_nbuckets, i, b;

    q->q_nbuckets = n * 2;
    q->q_hash = xcalloc(q->q_nbuckets, sizeof(*q->q_hash));
    for (i = 0; i < n; i++) {
        for (u = old[i]; u != NULL; u = next) {
            next = u->qu_hnext;
            b = graph_queue_hash(u->qu_id) & (q->q_nbuckets - 1);
            u->qu_hnext = q->q_hash[b];
            q->q_hash[b] = u;
        }
    }
    free(old);
}

static struct graph_quser *
graph_queue_add_user(struct graph_queue *q, const char *id)
{
    struct graph_quser *u;
    size_t b;

    if (q->q_nentries >= q->q_nbuckets)
        graph_queue_grow(q);
    u = xcalloc(1, sizeof(*u));
    u->qu_id = xstrdup(id);
    b = graph_queue_hash(id) & (q->q_nbuckets - 1);
    u->qu_hnext = q->q_hash[b];
    q->q_hash[b] = u;
    q->q_nentries++;
    return u;
}

/* Has writes queued or in flight. */
static int
graph_queue_active(const struct graph_quser *u)
{
    return u->qu_busy || u->qu_norder > 0;
}

/* Has late values on the late list. */
static int
graph_queue_is_late(const struct graph_quser *u)
{
    int m;

    for (m = 0; m < GRAPH_MECH_COUNT; m++)
        if (u->qu_late[m] != 0)
            return 1;
    return 0;
}

/* Frees u once nothing is left to do for it. */
static void
graph_queue_release(struct graph_queue *q, struct graph_quser *u)
{
    struct graph_quser **pp;

    if (graph_queue_active(u) || u->qu_refreshing || graph_queue_is_late(u))
        return;
    pp = &q->q_hash[graph_queue_hash(u->qu_id) & (q->q_nbuckets - 1)];
    while (*pp != u)
        pp = &(*pp)->qu_hnext;
    *pp = u->qu_hnext;
    q->q_nentries--;
    free(u->qu_id);
    free(u);
}

struct graph_queue *
graph_queue_create(size_t max)
{
    struct graph_queue *q = xcalloc(1, sizeof(*q));

    q->q_nbuckets = GRAPH_QUEUE_BUCKETS0;
    q->q_hash = xcalloc(q->q_nbuckets, sizeof(*q->q_hash));
    TAILQ_INIT(&q->q_ready);
    TAILQ_INIT(&q->q_delayed);
    TAILQ_INIT(&q->q_refresh);
    TAILQ_INIT(&q->q_late);
    q->q_max = max;
    return q;
}

void
graph_queue_free(struct graph_queue *q)
{
    struct graph_quser *u, *next;
    size_t i;

    if (q == NULL)
        return;
    for (i = 0; i < q->q_nbuckets; i++) {
        for (u = q->q_hash[i]; u != NULL; u = next) {
            next = u->qu_hnext;
            free(u->qu_id);
            free(u);
        }
    }
    free(q->q_hash);
    free(q);
}

void
graph_queue_set_max(struct graph_queue *q, size_t max)
{
    q->q_max = max;
}

/* Puts u on the delayed list, which stays sorted by qu_not_before. */
static void
graph_queue_delay(struct graph_queue *q, struct graph_quser *u)
{
    struct graph_quser *at = TAILQ_LAST(&q->q_delayed, graph_qlist_head);

    while (at != NULL && at->qu_not_before > u->qu_not_before)
        at = TAILQ_PREV(at, graph_qlist_head, qu_run);
    if (at == NULL)
        TAILQ_INSERT_HEAD(&q->q_delayed, u, qu_run);
    else
        TAILQ_INSERT_AFTER(&q->q_delayed, at, u, qu_run);
    u->qu_list = GRAPH_QLIST_DELAYED;
}

/* Puts u on the refresh list, which stays sorted by qu_refresh_at. */
static void
graph_queue_schedule(struct graph_queue *q, struct graph_quser *u,
    int64_t at_ms)
{
    struct graph_quser *at;

    if (u->qu_refreshing)
        TAILQ_REMOVE(&q->q_refresh, u, qu_ref);
    u->qu_refresh_at = at_ms;
    u->qu_refreshing = 1;
    at = TAILQ_LAST(&q->q_refresh, graph_qlist_head);
    while (at != NULL && at->qu_refresh_at > at_ms)
        at = TAILQ_PREV(at, graph_qlist_head, qu_ref);
    if (at == NULL)
        TAILQ_INSERT_HEAD(&q->q_refresh, u, qu_ref);
    else
        TAILQ_INSERT_AFTER(&q->q_refresh, at, u, qu_ref);
}

static void
graph_queue_unschedule(struct graph_queue *q, struct graph_quser *u)
{
    if (!u->qu_refreshing)
        return;
    TAILQ_REMOVE(&q->q_refresh, u, qu_ref);
    u->qu_refreshing = 0;
}

/* Forgets the pending intent of mechanism m. */
static void
graph_queue_remove_slot(struct graph_queue *q, struct graph_quser *u,
    enum graph_mech m)
{
    unsigned i, j = 0;

    for (i = 0; i < u->qu_norder; i++) {
        if (u->qu_order[i] != m)
            u->qu_order[j++] = u->qu_order[i];
    }
    u->qu_norder = j;
    u->qu_has[m] = 0;
    q->q_npending--;
}

enum graph_queue_put
graph_queue_put(struct graph_queue *q, const char *id,
    const struct graph_intent *it)
{
    struct graph_quser *u = graph_queue_find(q, id);
    enum graph_mech m = it->gi_mech;
    uint64_t stamp;
    int was;

    if ((u == NULL || !graph_queue_active(u)) && q->q_max > 0 &&
        q->q_nusers >= q->q_max) {
        /* A new session state that cannot be queued ends the refresh of
         * the old one: a call must not be kept alive after its end. */
        if (u != NULL && m == GRAPH_MECH_SESSION &&
            !(it->gi_flags & GRAPH_INTENT_REASSERT))
            graph_queue_unschedule(q, u);
        return GRAPH_QUEUE_FULL;
    }
    if (u == NULL)
        u = graph_queue_add_user(q, id);
    was = graph_queue_active(u);

    /* The write in flight already says this: drop what was pending,
     * unless that is a re-assertion, which must follow the write in
     * flight, as must a re-assertion itself. */
    if (u->qu_busy && u->qu_sent.gi_mech == m &&
        u->qu_sent.gi_value == it->gi_value &&
        !(it->gi_flags & GRAPH_INTENT_REASSERT)) {
        if (u->qu_has[m] &&
            !(u->qu_slot[m].gi_flags & GRAPH_INTENT_REASSERT))
            graph_queue_remove_slot(q, u, m);
        return GRAPH_QUEUE_IN_FLIGHT;
    }

    if (u->qu_has[m]) {
        /* The newer intent takes the older one's place in the order. */
        stamp = u->qu_slot[m].gi_stamp;
        u->qu_slot[m] = *it;
        u->qu_slot[m].gi_stamp = stamp;
        return GRAPH_QUEUE_REPLACED;
    }
    u->qu_slot[m] = *it;
    if (it->gi_stamp == 0)
        u->qu_slot[m].gi_stamp = ++q->q_stamp;
    else if (it->gi_stamp > q->q_stamp)
        q->q_stamp = it->gi_stamp;
    u->qu_has[m] = 1;
    u->qu_order[u->qu_norder++] = m;
    q->q_npending++;
    if (!was)
        q->q_nusers++;
    if (!u->qu_busy && u->qu_list == GRAPH_QLIST_NONE) {
        TAILQ_INSERT_TAIL(&q->q_ready, u, qu_run);
        u->qu_list = GRAPH_QLIST_READY;
    }
    return GRAPH_QUEUE_ADDED;
}

/* Moves the users whose delay is over to the head of the ready list, in
 * the order they were delayed: they have waited longest. */
static void
graph_queue_promote(struct graph_queue *q, int64_t now)
{
    struct graph_quser *u, *after = NULL;

    for (;;) {
        u = TAILQ_FIRST(&q->q_delayed);
        if (u == NULL || u->qu_not_before > now)
            break;
        TAILQ_REMOVE(&q->q_delayed, u, qu_run);
        if (after == NULL)
            TAILQ_INSERT_HEAD(&q->q_ready, u, qu_run);
        else
            TAILQ_INSERT_AFTER(&q->q_ready, after, u, qu_run);
        u->qu_list = GRAPH_QLIST_READY;
        after = u;
    }
}

int
graph_queue_ready(struct graph_queue *q, int64_t now)
{
    graph_queue_promote(q, now);
    return !TAILQ_EMPTY(&q->q_ready);
}

const char *
graph_queue_next(struct graph_queue *q, int64_t now,
    struct graph_intent *out)
{
    struct graph_quser *u;
    enum graph_mech m;

    if (!graph_queue_ready(q, now))
        return NULL;
    u = TAILQ_FIRST(&q->q_ready);
    TAILQ_REMOVE(&q->q_ready, u, qu_run);
    u->qu_list = GRAPH_QLIST_NONE;

    /* The pending count keeps it: it is in flight now. */
    m = u->qu_order[0];
    memmove(&u->qu_order[0], &u->qu_order[1],
        (u->qu_norder - 1) * sizeof(u->qu_order[0]));
    u->qu_norder--;
    u->qu_has[m] = 0;
    u->qu_sent = u->qu_slot[m];
    u->qu_busy = 1;
    *out = u->qu_sent;
    return u->qu_id;
}

/* The write graph_queue_next() would hand out now, or NULL. */
static const struct graph_intent *
graph_queue_peek(struct graph_queue *q, int64_t now)
{
    const struct graph_quser *u;

    if (!graph_queue_ready(q, now))
        return NULL;
    u = TAILQ_FIRST(&q->q_ready);
    return &u->qu_slot[u->qu_order[0]];
}

size_t
graph_queue_take(struct graph_queue *q, int64_t now, size_t max,
    const char **ids, struct graph_intent *its)
{
    const struct graph_intent *it;
    size_t n = 0;

    while (n < max && (it = graph_queue_peek(q, now)) != NULL) {
        if ((it->gi_flags & GRAPH_INTENT_ALONE) && n > 0)
            break;
        ids[n] = graph_queue_next(q, now, &its[n]);
        if (its[n++].gi_flags & GRAPH_INTENT_ALONE)
            break;
    }
    return n;
}

void
graph_queue_done(struct graph_queue *q, const char *id, int64_t refresh_at)
{
    struct graph_quser *u = graph_queue_find(q, id);

    if (u == NULL || !u->qu_busy)
        return;
    u->qu_busy = 0;
    q->q_npending--;
    if (u->qu_sent.gi_mech == GRAPH_MECH_SESSION) {
        if (refresh_at >= 0) {
            u->qu_refresh_value = u->qu_sent.gi_value;
            graph_queue_schedule(q, u, refresh_at);
        } else {
            graph_queue_unschedule(q, u);
        }
    }
    if (u->qu_norder > 0) {
        TAILQ_INSERT_TAIL(&q->q_ready, u, qu_run);
        u->qu_list = GRAPH_QLIST_READY;
        return;
    }
    q->q_nusers--;
    graph_queue_release(q, u);
}

void
graph_queue_retry(struct graph_queue *q, const char *id,
    const struct graph_intent *it, int64_t not_before)
{
    struct graph_quser *u = graph_queue_find(q, id);
    enum graph_mech m = it->gi_mech;

    if (u == NULL || !u->qu_busy)
        return;
    u->qu_busy = 0;
    if (u->qu_has[m]) {
        /* A newer intent came meanwhile; it goes in this one's place. */
        q->q_npending--;
    } else {
        memmove(&u->qu_order[1], &u->qu_order[0],
            u->qu_norder * sizeof(u->qu_order[0]));
        u->qu_order[0] = m;
        u->qu_norder++;
        u->qu_slot[m] = *it;
        u->qu_has[m] = 1;
    }
    u->qu_not_before = not_before;
    graph_queue_delay(q, u);
}

size_t
graph_queue_refresh(struct graph_queue *q, int64_t now, int64_t retry_at)
{
    struct graph_quser *u;
    struct graph_intent it;
    size_t n = 0;

    for (;;) {
        u = TAILQ_FIRST(&q->q_refresh);
        if (u == NULL || u->qu_refresh_at > now)
            break;
        graph_queue_unschedule(q, u);

        /* A session write is coming anyway; its end schedules again. */
        if (u->qu_has[GRAPH_MECH_SESSION] ||
            (u->qu_busy && u->qu_sent.gi_mech == GRAPH_MECH_SESSION))
            continue;

        memset(&it, 0, sizeof(it));
        it.gi_mech = GRAPH_MECH_SESSION;
        it.gi_value = u->qu_refresh_value;
        it.gi_flags = GRAPH_INTENT_REFRESH;
        if (graph_queue_put(q, u->qu_id, &it) == GRAPH_QUEUE_FULL) {
            graph_queue_schedule(q, u, retry_at > now ? retry_at : now + 1);
            continue;
        }
        n++;
    }
    return n;
}

void
graph_queue_keep(struct graph_queue *q, const char *id, int value,
    int64_t at_ms)
{
    struct graph_quser *u = graph_queue_find(q, id);

    if (u == NULL)
        u = graph_queue_add_user(q, id);
    u->qu_refresh_value = value;
    graph_queue_schedule(q, u, at_ms);
}

/* The earlier of due (-1: none) and at. */
static int64_t
graph_queue_earlier(int64_t due, int64_t at)
{
    return due < 0 || at < due ? at : due;
}

const char *
graph_queue_mech_name(enum graph_mech m)
{
    static const char *const names[GRAPH_MECH_COUNT] = {
        [GRAPH_MECH_SESSION] = "session",
        [GRAPH_MECH_PREF]    = "pref",
    };

    return (unsigned)m < GRAPH_MECH_COUNT ? names[m] : "-";
}

/* Puts u on the late list, which stays sorted by qu_late_by. */
static void
graph_queue_late_insert(struct graph_queue *q, struct graph_quser *u)
{
    struct graph_quser *at = TAILQ_LAST(&q->q_late, graph_qlist_head);

    while (at != NULL && at->qu_late_by > u->qu_late_by)
        at = TAILQ_PREV(at, graph_qlist_head, qu_lat);
    if (at == NULL)
        TAILQ_INSERT_HEAD(&q->q_late, u, qu_lat);
    else
        TAILQ_INSERT_AFTER(&q->q_late, at, u, qu_lat);
}

void
graph_queue_uncertain(struct graph_queue *q, const char *id,
    enum graph_mech m, unsigned values, int64_t late_by)
{
    struct graph_quser *u = graph_queue_find(q, id);

    if (values == 0)
        return;
    if (u == NULL)
        u = graph_queue_add_user(q, id);
    if (graph_queue_is_late(u)) {
        TAILQ_REMOVE(&q->q_late, u, qu_lat);
        if (u->qu_late_by > late_by)
            late_by = u->qu_late_by;
    }
    u->qu_late[m] |= values;
    u->qu_late_by = late_by;
    graph_queue_late_insert(q, u);
}

unsigned
graph_queue_late(const struct graph_queue *q, const char *id,
    enum graph_mech m, int64_t *late_by)
{
    const struct graph_quser *u = graph_queue_find(q, id);

    if (u == NULL || u->qu_late[m] == 0)
        return 0;
    if (late_by != NULL)
        *late_by = u->qu_late_by;
    return u->qu_late[m];
}

/* Ends the late values of (u, m), unless a full queue refuses the write
 * they need.  Returns 1 when a write was queued. */
static int
graph_queue_settle_one(struct graph_queue *q, struct graph_quser *u,
    enum graph_mech m, const struct graph_settle_ops *ops, void *arg)
{
    struct graph_intent it;
    unsigned late = u->qu_late[m];

    memset(&it, 0, sizeof(it));
    it.gi_mech = m;
    it.gi_flags = GRAPH_INTENT_REASSERT;
    if (u->qu_busy && u->qu_sent.gi_mech == m)
        it.gi_value = u->qu_sent.gi_value;
    else
        it.gi_value = ops->so_written(arg, u->qu_id, m);

    /* A write still to go is sent after them; and late writes that all
     * say the state to show cannot undo it. */
    if (u->qu_has[m] || (it.gi_value >= 0 && it.gi_value < 32 &&
        (late & ~(1u << it.gi_value)) == 0)) {
        u->qu_late[m] = 0;
        ops->so_settled(arg, u->qu_id, m, NULL);
        return 0;
    }
    if (graph_queue_put(q, u->qu_id, &it) == GRAPH_QUEUE_FULL)
        return 0;
    u->qu_late[m] = 0;
    ops->so_settled(arg, u->qu_id, m, &u->qu_slot[m]);
    return 1;
}

size_t
graph_queue_settle(struct graph_queue *q, int64_t now, int64_t retry_at,
    const struct graph_settle_ops *ops, void *arg)
{
    struct graph_quser *u;
    size_t n = 0;
    int m;

    for (;;) {
        u = TAILQ_FIRST(&q->q_late);
        if (u == NULL || u->qu_late_by > now)
            break;
        TAILQ_REMOVE(&q->q_late, u, qu_lat);
        for (m = 0; m < GRAPH_MECH_COUNT; m++) {
            if (u->qu_late[m] != 0)
                n += graph_queue_settle_one(q, u, (enum graph_mech)m, ops,
                    arg);
        }
        if (graph_queue_is_late(u)) {
            /* Refused for a full queue: again later. */
            u->qu_late_by = retry_at > now ? retry_at : now + 1;
            graph_queue_late_insert(q, u);
        } else {
            graph_queue_release(q, u);
        }
    }
    return n;
}

int64_t
graph_queue_next_due(const struct graph_queue *q)
{
    const struct graph_quser *d = TAILQ_FIRST(&q->q_delayed);
    const struct graph_quser *r = TAILQ_FIRST(&q->q_refresh);
    const struct graph_quser *l = TAILQ_FIRST(&q->q_late);
    int64_t due = -1;

    if (d != NULL)
        due = d->qu_not_before;
    if (r != NULL)
        due = graph_queue_earlier(due, r->qu_refresh_at);
    if (l != NULL)
        due = graph_queue_earlier(due, l->qu_late_by);
    return due;
}

const struct graph_intent *
graph_queue_newest(const struct graph_queue *q, const char *id,
    enum graph_mech m)
{
    const struct graph_quser *u = graph_queue_find(q, id);

    if (u == NULL)
        return NULL;
    if (u->qu_has[m])
        return &u->qu_slot[m];
    if (u->qu_busy && u->qu_sent.gi_mech == m)
        return &u->qu_sent;
    return NULL;
}

size_t
graph_queue_pending(const struct graph_queue *q)
{
    return q->q_npending;
}

void
graph_queue_each(const struct graph_queue *q,
    void (*fn)(void *arg, const char *id), void *arg)
{
    const struct graph_quser *u;
    size_t i;

    for (i = 0; i < q->q_nbuckets; i++)
        for (u = q->q_hash[i]; u != NULL; u = u->qu_hnext)
            fn(arg, u->qu_id);
}

size_t
graph_queue_users(const struct graph_queue *q)
{
    return q->q_nusers;
}
