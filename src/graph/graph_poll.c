/*
 * graph_poll.c: reads the presence of the watched users with
 * getPresencesByUserId (graph-api.md 1.2: at most 650 ids a request,
 * presence calls share 1,500 requests per 30 s per tenant).
 *
 * A poll takes a snapshot of the watched ids and walks it in chunks, a
 * few requests at a time.  Only one poll runs at once: a tick that finds
 * one running is skipped, so slow answers cannot pile polls up.  A chunk
 * that fails is tried again after Retry-After or a backoff, a few times,
 * then left for the next poll.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

struct graph_poller;
#define SU_WAKEUP_ARG_T void
#define SU_TIMER_ARG_T  struct graph_poller
#include "graph/graph_int.h"

/* A set of ids, shared by the poller and a poll running over it. */
struct graph_watch {
    unsigned        w_refs;
    size_t          w_n;
    char          **w_ids;
};

enum graph_pchunk_state {
    GRAPH_PCHUNK_FREE = 0,      /* no ids */
    GRAPH_PCHUNK_WAITING,       /* to be sent at pc_not_before */
    GRAPH_PCHUNK_SENDING        /* on the wire */
};

struct graph_pchunk {
    struct graph_poller        *pc_p;
    enum graph_pchunk_state     pc_state;
    size_t                      pc_first;   /* into p_run */
    size_t                      pc_n;
    unsigned                    pc_failures;
    int                         pc_reauthed;
    unsigned                    pc_gen;     /* token it was sent with */
    int64_t                     pc_not_before;
    struct graph_req           *pc_req;
};

struct graph_poller {
    struct graph               *p_g;
    struct graph_watch         *p_watch;    /* the users to poll */
    su_timer_t                 *p_tick;     /* every poll_interval */
    su_timer_t                 *p_retry;    /* a chunk waits */

    /* The poll running; p_run is NULL when none is. */
    struct graph_watch         *p_run;
    size_t                      p_next;     /* first id not in a chunk */
    size_t                      p_done;     /* chunks answered */
    size_t                      p_failed;   /* chunks given up */
    size_t                      p_seen;     /* presences handed on */
    int64_t                     p_start;
    struct graph_pchunk         p_chunks[GRAPH_POLLS_MAX];
};

static void
graph_poll_unref(struct graph_watch *w)
{
    size_t i;

    if (w == NULL)
        return;
    w->w_refs--;
    if (w->w_refs > 0)
        return;
    for (i = 0; i < w->w_n; i++)
        free(w->w_ids[i]);
    free(w->w_ids);
    free(w);
}

static void
graph_poll_tick(su_root_magic_t *magic, su_timer_t *t,
    struct graph_poller *p)
{
    (void)magic;
    (void)t;
    graph_poll_reconfigure(p->p_g);
    graph_poll_start(p->p_g);
}

/* Sets the tick to the configured interval from now. */
void
graph_poll_reconfigure(struct graph *g)
{
    struct graph_poller *p = g->g_poller;
    long secs = g->g_conf.gc_poll_interval;

    /* Notifications bring changes; a slow poll catches what they miss. */
    if (graph_subs_active(g))
        secs = g->g_conf.gc_reconcile_interval;
    su_timer_reset(p->p_tick);
    if (secs <= 0)
        return;
    if (secs > 86400)
        secs = 86400;
    if (su_timer_set_interval(p->p_tick, graph_poll_tick, p,
        (su_duration_t)(secs * 1000)) < 0)
        log_error("graph timer-failed what=poll");
}

struct graph_poller *
graph_poll_create(struct graph *g)
{
    struct graph_poller *p = xcalloc(1, sizeof(*p));
    size_t i;

    p->p_g = g;
    for (i = 0; i < GRAPH_POLLS_MAX; i++)
        p->p_chunks[i].pc_p = p;
    p->p_tick = su_timer_create(su_root_task(g->g_root), 0);
    p->p_retry = su_timer_create(su_root_task(g->g_root), 0);
    if (p->p_tick == NULL || p->p_retry == NULL) {
        graph_poll_free(p);
        return NULL;
    }
    return p;
}

void
graph_poll_free(struct graph_poller *p)
{
    size_t i;

    if (p == NULL)
        return;
    for (i = 0; i < GRAPH_POLLS_MAX; i++)
        graph_http_cancel(p->p_chunks[i].pc_req);
    graph_poll_unref(p->p_run);
    graph_poll_unref(p->p_watch);
    su_timer_destroy(p->p_tick);
    su_timer_destroy(p->p_retry);
    free(p);
}

void
graph_poll_watch(struct graph *g, const char *const *ids, size_t n)
{
    struct graph_poller *p = g->g_poller;
    struct graph_watch *w = xcalloc(1, sizeof(*w));
    size_t i;

    w->w_refs = 1;
    w->w_ids = xcalloc(n, sizeof(*w->w_ids));
    for (i = 0; i < n; i++) {
        if (ids[i] != NULL && ids[i][0] != '\0')
            w->w_ids[w->w_n++] = xstrdup(ids[i]);
    }
    graph_poll_unref(p->p_watch);
    p->p_watch = w;
    log_info("graph watch users=%zu", w->w_n);
}

void
graph_poll_start(struct graph *g)
{
    struct graph_poller *p = g->g_poller;
    size_t n;

    if (p->p_run != NULL) {
        log_info("graph poll-skipped reason=running");
        return;
    }
    if (p->p_watch == NULL || p->p_watch->w_n == 0) {
        log_debug("graph poll-skipped reason=no-users");
        return;
    }
    p->p_run = p->p_watch;
    p->p_run->w_refs++;
    p->p_next = 0;
    p->p_done = 0;
    p->p_failed = 0;
    p->p_seen = 0;
    p->p_start = clock_now_ms();
    n = p->p_run->w_n;
    log_info("graph poll users=%zu chunks=%zu", n,
        (n + GRAPH_CHUNK_IDS - 1) / GRAPH_CHUNK_IDS);
    graph_poll_kick(g);
}

/* {"ids":[...]} for chunk c; the caller frees it with cJSON_free(). */
static char *
graph_poll_body(const struct graph_poller *p, const struct graph_pchunk *c)
{
    cJSON *o = cJSON_CreateObject();
    cJSON *ids;
    char *text = NULL;

    ids = cJSON_CreateStringArray(
        (const char *const *)(p->p_run->w_ids + c->pc_first),
        (int)c->pc_n);
    if (o != NULL && ids != NULL && cJSON_AddItemToObject(o, "ids", ids)) {
        ids = NULL;
        text = cJSON_PrintUnformatted(o);
    }
    cJSON_Delete(ids);
    cJSON_Delete(o);
    return text;
}

static void graph_poll_done(void *arg, const struct graph_resp *rs);
static void graph_poll_retry(struct graph_pchunk *c,
    const struct graph_resp *rs);

static void
graph_poll_send(struct graph_pchunk *c, const char *tok)
{
    struct graph_poller *p = c->pc_p;
    struct graph *g = p->p_g;
    char *url, *body;

    url = xasprintf("%s/communications/getPresencesByUserId",
        g->g_conf.gc_graph_url);
    body = graph_poll_body(p, c);
    c->pc_gen = graph_token_gen(g);
    c->pc_req = NULL;
    if (body != NULL)
        c->pc_req = graph_http_request(g->g_http, "POST", url,
            "application/json", body, tok, g->g_conf.gc_timeout,
            graph_poll_done, c);
    free(url);
    cJSON_free(body);
    if (c->pc_req == NULL) {
        graph_poll_retry(c, NULL);
        return;
    }
    c->pc_state = GRAPH_PCHUNK_SENDING;
    log_debug("graph poll-chunk first=%zu ids=%zu", c->pc_first, c->pc_n);
}

static const char *
graph_poll_string(const cJSON *o, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* Hands each presence of an answer to the callback; returns how many. */
static size_t
graph_poll_parse(struct graph_poller *p, const struct graph_resp *rs)
{
    struct graph *g = p->p_g;
    cJSON *root, *value, *item;
    const char *id, *av, *act;
    size_t n = 0, bad = 0;

    root = cJSON_ParseWithLength(rs->rs_body, rs->rs_len);
    value = cJSON_GetObjectItemCaseSensitive(root, "value");
    if (!cJSON_IsArray(value)) {
        log_warn("graph poll-bad-answer status=%ld bytes=%zu",
            rs->rs_status, rs->rs_len);
        cJSON_Delete(root);
        return 0;
    }
    cJSON_ArrayForEach(item, value) {
        id = graph_poll_string(item, "id");
        av = graph_poll_string(item, "availability");
        act = graph_poll_string(item, "activity");
        if (id == NULL || av == NULL || act == NULL) {
            bad++;
            continue;
        }
        graph_presence(g, id, av, act,
            graph_poll_string(item, "sequenceNumber"), 0);
        n++;
    }
    if (bad > 0)
        log_warn("graph poll-bad-presence count=%zu", bad);
    cJSON_Delete(root);
    return n;
}

/* Gives chunk c up; the next poll reads its users. */
static void
graph_poll_give_up(struct graph_pchunk *c, const struct graph_resp *rs)
{
    char code[64] = "-";

    if (rs != NULL)
        graph_http_error_code(rs->rs_body, rs->rs_len, code, sizeof(code));
    log_warn("graph poll-failed first=%zu ids=%zu status=%ld code=%s "
        "tries=%u", c->pc_first, c->pc_n, rs != NULL ? rs->rs_status : 0,
        code, c->pc_failures);
    c->pc_p->p_failed++;
    c->pc_state = GRAPH_PCHUNK_FREE;
}

static void
graph_poll_retry(struct graph_pchunk *c, const struct graph_resp *rs)
{
    struct graph *g = c->pc_p->p_g;
    int64_t delay;
    char after[32];
    long status = rs != NULL ? rs->rs_status : 0;

    c->pc_failures++;
    if (c->pc_failures >= GRAPH_POLL_TRIES) {
        graph_poll_give_up(c, rs);
        return;
    }
    delay = graph_rate_delay_ms(rs != NULL ? rs->rs_retry_after : NULL,
        c->pc_failures, clock_now(), graph_random(g));
    graph_fmt_delay(after, sizeof(after), delay);
    c->pc_state = GRAPH_PCHUNK_WAITING;
    c->pc_not_before = clock_now_ms() + delay;
    if (status == 429) {
        graph_hold(g, c->pc_not_before);
        log_info("graph retry op=getPresencesByUserId status=429 after=%s "
            "tries=%u", after, c->pc_failures);
    } else {
        log_warn("graph retry op=getPresencesByUserId status=%ld "
            "reason=\"%s\" after=%s tries=%u", status,
            rs != NULL ? rs->rs_error : "not started", after,
            c->pc_failures);
    }
}

static void
graph_poll_done(void *arg, const struct graph_resp *rs)
{
    struct graph_pchunk *c = arg;
    struct graph_poller *p = c->pc_p;

    c->pc_req = NULL;
    c->pc_state = GRAPH_PCHUNK_FREE;
    graph_subs_clock(p->p_g, rs->rs_date);
    switch (graph_rate_classify(rs->rs_status)) {
    case GRAPH_OK:
        p->p_done++;
        p->p_seen += graph_poll_parse(p, rs);
        break;
    case GRAPH_RETRY:
        graph_poll_retry(c, rs);
        break;
    case GRAPH_REAUTH:
        if (c->pc_reauthed) {
            graph_poll_give_up(c, rs);
            break;
        }
        log_info("graph retry op=getPresencesByUserId status=401 "
            "after=token");
        c->pc_reauthed = 1;
        graph_token_drop(p->p_g, c->pc_gen);
        c->pc_state = GRAPH_PCHUNK_WAITING;
        c->pc_not_before = 0;
        break;
    default:
        graph_poll_give_up(c, rs);
        break;
    }
    graph_poll_kick(p->p_g);
}

static void
graph_poll_retry_timer(su_root_magic_t *magic, su_timer_t *t,
    struct graph_poller *p)
{
    (void)magic;
    (void)t;
    graph_poll_kick(p->p_g);
}

/* Wakes us when the next waiting chunk falls due.  A hold or a missing
 * token wakes us by its own end. */
static void
graph_poll_arm(struct graph_poller *p, int64_t now)
{
    int64_t due = -1;
    size_t i;
    const struct graph_pchunk *c;

    su_timer_reset(p->p_retry);
    for (i = 0; i < GRAPH_POLLS_MAX; i++) {
        c = &p->p_chunks[i];
        if (c->pc_state == GRAPH_PCHUNK_WAITING && c->pc_not_before > now &&
            (due < 0 || c->pc_not_before < due))
            due = c->pc_not_before;
    }
    if (due < 0)
        return;
    if (su_timer_set_interval(p->p_retry, graph_poll_retry_timer, p,
        (su_duration_t)(due - now)) < 0)
        log_error("graph timer-failed what=poll-retry");
}

/* Gives a free chunk the next ids of the poll, if any are left. */
static void
graph_poll_fill(struct graph_poller *p, struct graph_pchunk *c)
{
    size_t left = p->p_run->w_n - p->p_next;

    if (left == 0)
        return;
    c->pc_first = p->p_next;
    c->pc_n = left < GRAPH_CHUNK_IDS ? left : GRAPH_CHUNK_IDS;
    c->pc_failures = 0;
    c->pc_reauthed = 0;
    c->pc_not_before = 0;
    c->pc_state = GRAPH_PCHUNK_WAITING;
    p->p_next += c->pc_n;
}

static void
graph_poll_finish(struct graph_poller *p)
{
    log_info("graph poll-done users=%zu chunks=%zu failed=%zu presences=%zu "
        "ms=%lld", p->p_run->w_n, p->p_done, p->p_failed, p->p_seen,
        (long long)(clock_now_ms() - p->p_start));
    graph_poll_unref(p->p_run);
    p->p_run = NULL;
    su_timer_reset(p->p_retry);
}

void
graph_poll_kick(struct graph *g)
{
    struct graph_poller *p = g->g_poller;
    struct graph_pchunk *c;
    int64_t now = clock_now_ms();
    const char *tok;
    size_t i, busy = 0;

    if (p->p_run == NULL)
        return;
    for (i = 0; i < GRAPH_POLLS_MAX; i++) {
        c = &p->p_chunks[i];
        if (c->pc_state == GRAPH_PCHUNK_FREE)
            graph_poll_fill(p, c);
        if (c->pc_state == GRAPH_PCHUNK_WAITING &&
            c->pc_not_before <= now && !graph_held(g, now)) {
            tok = graph_token_get(g);
            if (tok != NULL)
                graph_poll_send(c, tok);
        }
        if (c->pc_state != GRAPH_PCHUNK_FREE)
            busy++;
    }
    if (busy == 0 && p->p_next >= p->p_run->w_n)
        graph_poll_finish(p);
    else
        graph_poll_arm(p, now);
}
