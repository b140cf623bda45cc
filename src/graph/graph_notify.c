/*
 * graph_notify.c: what Graph posts to our webhook (graph-api.md 3.3 to
 * 3.5).
 *
 * The answer goes out at once: the validation handshake echoes the token
 * (within 10 s), a notification gets 202 (within 3 s) and is worked on
 * afterwards, from a timer.  Only a body that is not a batch (400) or
 * holds more items than Graph ever sends at once (413) is refused before
 * that.  A notification must carry the clientState of a subscription we
 * hold, compared in constant time; others are refused one by one and
 * change nothing, the first few of a body logged each and the rest in
 * one summary line.  A batch that parses gets 202 even when some of its
 * items are refused: Graph mixes subscriptions in one POST, and an error
 * would have it send the good ones again.
 *
 * A basic notification names the user only, so the users named are read
 * with getPresencesByUserId (one request for all that arrived together,
 * with the application token) and each presence goes on with its
 * sequenceNumber; graph_presence() drops versions already seen.  A rich
 * notification carries the presence itself (graph_notify_rich.c); a batch
 * whose validation tokens wait for the signing keys stays at the head of
 * the queue until they come.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include <cJSON.h>

struct graph_notify;
#define SU_WAKEUP_ARG_T void
#define SU_TIMER_ARG_T  struct graph_notify
#include "graph/graph_subs_int.h"

/* Tries of one read before its users are left to the reconcile poll. */
#define GRAPH_NOTIFY_TRIES  4

/* Bodies waiting for work, at most. */
#define GRAPH_NOTIFY_QUEUE  1024

/* Items in one body, at most: Graph sends a few hundred at a time; a
 * body with more is refused whole (413), before any is looked at. */
#define GRAPH_NOTIFY_ITEMS  1000

struct graph_nbody {
    char                       *nb_text;
    size_t                      nb_len;
    STAILQ_ENTRY(graph_nbody)   nb_link;
};

struct graph_notify {
    struct graph               *n_g;
    su_timer_t                 *n_work;     /* at 0: the queue */
    su_timer_t                 *n_retry;
    STAILQ_HEAD(, graph_nbody)  n_queue;
    size_t                      n_queued;
    struct htab                 n_ids;      /* users to read: id -> id */
    char                      **n_sent;     /* the read on the wire */
    size_t                      n_nsent;
    struct graph_req           *n_req;
    unsigned                    n_failures;
    unsigned                    n_gen;
    int64_t                     n_not_before;
};

static void graph_notify_send(struct graph_notify *n);

static void
graph_notify_work(su_root_magic_t *magic, su_timer_t *t,
    struct graph_notify *n);

struct graph_notify *
graph_notify_create(struct graph *g)
{
    struct graph_notify *n = xcalloc(1, sizeof(*n));

    n->n_g = g;
    STAILQ_INIT(&n->n_queue);
    htab_init(&n->n_ids);
    n->n_work = su_timer_create(su_root_task(g->g_root), 0);
    n->n_retry = su_timer_create(su_root_task(g->g_root), 0);
    if (n->n_work == NULL || n->n_retry == NULL) {
        graph_notify_free(n);
        return NULL;
    }
    return n;
}

static void
graph_notify_id_free(void *arg, void *val)
{
    (void)arg;
    free(val);
}

static void
graph_notify_sent_free(struct graph_notify *n)
{
    size_t i;

    for (i = 0; i < n->n_nsent; i++)
        free(n->n_sent[i]);
    free(n->n_sent);
    n->n_sent = NULL;
    n->n_nsent = 0;
}

void
graph_notify_free(struct graph_notify *n)
{
    struct graph_nbody *b;

    if (n == NULL)
        return;
    graph_http_cancel(n->n_req);
    while ((b = STAILQ_FIRST(&n->n_queue)) != NULL) {
        STAILQ_REMOVE_HEAD(&n->n_queue, nb_link);
        free(b->nb_text);
        free(b);
    }
    htab_each(&n->n_ids, graph_notify_id_free, NULL);
    htab_free(&n->n_ids);
    graph_notify_sent_free(n);
    su_timer_destroy(n->n_work);
    su_timer_destroy(n->n_retry);
    free(n);
}

/* Equal strings, in time that depends on the lengths only. */
static int
graph_notify_same(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b), i;
    unsigned char d = la != lb;

    for (i = 0; i < la && i < lb; i++)
        d |= (unsigned char)(a[i] ^ b[i]);
    return d == 0;
}

/*
 * The first look at a body, before it is answered: a JSON object with a
 * "value" array of at most GRAPH_NOTIFY_ITEMS items.  The status to
 * answer a body that is not, or 0.
 */
static int
graph_notify_shape(const char *body, size_t len, const char **reply)
{
    cJSON *root = cJSON_ParseWithLength(body, len);
    const cJSON *value = cJSON_GetObjectItemCaseSensitive(root, "value");
    int items = cJSON_IsArray(value) ? cJSON_GetArraySize(value) : -1;

    cJSON_Delete(root);
    if (items < 0) {
        log_info("graph notify-refused reason=format bytes=%zu", len);
        *reply = "not a batch of notifications\n";
        return 400;
    }
    if (items > GRAPH_NOTIFY_ITEMS) {
        log_info("graph notify-refused reason=too-many-items items=%d "
            "max=%d bytes=%zu", items, GRAPH_NOTIFY_ITEMS, len);
        *reply = "too many notifications in one request\n";
        return 413;
    }
    return 0;
}

int
graph_notify_post(struct graph *g, const char *validation,
    const char *body, size_t len, const char **type, const char **reply)
{
    struct graph_notify *n = g->g_notify;
    struct graph_nbody *b;
    int st;

    *type = "text/plain";
    *reply = NULL;

    /* graph-api.md 3.3: the decoded token, verbatim, as text/plain. */
    if (validation != NULL) {
        log_info("graph notify-validation bytes=%zu", strlen(validation));
        *reply = validation;
        return 200;
    }
    if (len == 0 || body == NULL) {
        log_info("graph notify-refused reason=empty");
        *reply = "empty body\n";
        return 400;
    }
    if (n->n_queued >= GRAPH_NOTIFY_QUEUE) {
        /* 503: Graph delivers it again later. */
        log_warn("graph notify-busy queued=%zu", n->n_queued);
        *reply = "busy\n";
        return 503;
    }
    st = graph_notify_shape(body, len, reply);
    if (st != 0)
        return st;
    b = xcalloc(1, sizeof(*b));
    b->nb_text = xstrndup(body, len);
    b->nb_len = len;
    STAILQ_INSERT_TAIL(&n->n_queue, b, nb_link);
    if (n->n_queued++ == 0 && su_timer_set_interval(n->n_work,
        graph_notify_work, n, 0) < 0)
        log_error("graph timer-failed what=notify");
    return 202;
}

/* The tally of reason in nt; the last slot takes what does not fit. */
static struct graph_notify_reason *
graph_notify_reason(struct graph_notify_batch *nt, const char *reason)
{
    size_t i;

    for (i = 0; i < nt->nt_nreasons; i++)
        if (strcmp(nt->nt_reasons[i].nr_name, reason) == 0)
            return &nt->nt_reasons[i];
    if (nt->nt_nreasons == GRAPH_NOTIFY_REASONS) {
        nt->nt_reasons[GRAPH_NOTIFY_REASONS - 1].nr_name = "other";
        return &nt->nt_reasons[GRAPH_NOTIFY_REASONS - 1];
    }
    nt->nt_reasons[nt->nt_nreasons].nr_name = reason;
    return &nt->nt_reasons[nt->nt_nreasons++];
}

void
graph_notify_refused(struct graph_notify_batch *nt, const char *reason,
    const char *fmt, ...)
{
    char detail[256];
    va_list ap;

    graph_notify_reason(nt, reason)->nr_n++;
    if (nt->nt_refused++ >= GRAPH_NOTIFY_DETAIL)
        return;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof(detail), fmt, ap);
    va_end(ap);
    log_warn("graph notify-refused reason=%s %s", reason, detail);
}

/* One line for the refusals of a batch not logged one by one. */
static void
graph_notify_summary(const struct graph_notify_batch *nt)
{
    struct buf b;
    size_t i;

    if (nt->nt_refused <= GRAPH_NOTIFY_DETAIL)
        return;
    buf_init(&b, 512);
    for (i = 0; i < nt->nt_nreasons; i++)
        buf_printf(&b, "%s%s:%zu", i > 0 ? "," : "",
            nt->nt_reasons[i].nr_name, nt->nt_reasons[i].nr_n);
    log_warn("graph notify-refused-summary items=%zu refused=%zu "
        "reasons=%s detailed=%d", nt->nt_items, nt->nt_refused,
        b.b_data != NULL ? b.b_data : "", GRAPH_NOTIFY_DETAIL);
    buf_free(&b);
}

static const char *
graph_notify_str(const cJSON *o, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* The subscription an item speaks for, if its clientState is ours. */
static struct graph_sub *
graph_notify_check(struct graph *g, const cJSON *item,
    struct graph_notify_batch *nt)
{
    const char *id = graph_notify_str(item, "subscriptionId");
    const char *cs = graph_notify_str(item, "clientState");
    struct graph_sub *sb = graph_subs_find_id(g, id);
    char sub[64];

    if (sb != NULL && cs != NULL && graph_notify_same(cs, sb->sb_secret))
        return sb;
    graph_http_log_copy(sub, id != NULL ? id : "-", sizeof(sub));
    graph_notify_refused(nt, "clientstate", "sub=%s known=%s", sub,
        sb != NULL ? "yes" : "no");
    return NULL;
}

void
graph_notify_fetch(struct graph *g, char *const *ids, size_t n)
{
    struct graph_notify *nt = g->g_notify;
    size_t i;
    char *id;

    for (i = 0; i < n; i++) {
        if (htab_get(&nt->n_ids, ids[i]) != NULL)
            continue;
        id = xstrdup(ids[i]);
        htab_put(&nt->n_ids, id, id);
    }
    graph_notify_send(nt);
}

/* graph-api.md 3.5: what a lifecycle event asks of us. */
static void
graph_notify_lifecycle(struct graph *g, struct graph_sub *sb,
    const char *event)
{
    char ev[48];

    graph_http_log_copy(ev, event, sizeof(ev));
    log_info("graph lifecycle event=%s account=%s sub=%s", ev,
        sb->sb_account, sb->sb_id);
    if (strcmp(event, "reauthorizationRequired") == 0) {
        sb->sb_renew_now = 1;
    } else if (strcmp(event, "subscriptionRemoved") == 0) {
        sb->sb_id[0] = '\0';
        sb->sb_secret[0] = '\0';
        graph_subs_forget(sb);
        graph_sub_set_state(sb, GRAPH_SUB_NEW);
    } else if (strcmp(event, "missed") == 0) {
        graph_notify_fetch(g, sb->sb_users, sb->sb_n);
    }
    graph_subs_kick(g);
}

/* The user a basic notification names: resourceData.id. */
static const char *
graph_notify_user(const cJSON *item)
{
    const cJSON *rd = cJSON_GetObjectItemCaseSensitive(item,
        "resourceData");

    return graph_notify_str(rd, "id");
}

/* One item of a batch; trusted: its validation tokens verified. */
static void
graph_notify_item(struct graph *g, const cJSON *item, int trusted,
    struct graph_notify_batch *nt)
{
    struct graph_sub *sb = graph_notify_check(g, item, nt);
    const char *event, *user;
    char *one;

    if (sb == NULL)
        return;
    event = graph_notify_str(item, "lifecycleEvent");
    if (event != NULL) {
        graph_notify_lifecycle(g, sb, event);
        return;
    }
    if (trusted &&
        cJSON_GetObjectItemCaseSensitive(item, "encryptedContent") != NULL) {
        if (graph_notify_rich(g, sb, item, nt) <= 0)
            return;     /* taken, or refused */
    }
    user = graph_notify_user(item);
    if (user == NULL || user[0] == '\0') {
        graph_notify_refused(nt, "no-user", "sub=%s", sb->sb_id);
        return;
    }
    one = xstrdup(user);
    graph_notify_fetch(g, &one, 1);
    free(one);
}

/* One body: 0 when done with, -1 when it waits for the signing keys. */
static int
graph_notify_body(struct graph *g, const struct graph_nbody *b)
{
    cJSON *root = cJSON_ParseWithLength(b->nb_text, b->nb_len);
    const cJSON *value = cJSON_GetObjectItemCaseSensitive(root, "value");
    struct graph_notify_batch nt;
    const cJSON *item;
    enum graph_tokens tk;

    memset(&nt, 0, sizeof(nt));
    tk = graph_notify_tokens(g, root, &nt);
    if (tk != GRAPH_TOKENS_WAIT && tk != GRAPH_TOKENS_REFUSED) {
        cJSON_ArrayForEach(item, value) {
            nt.nt_items++;
            graph_notify_item(g, item, tk == GRAPH_TOKENS_OK, &nt);
        }
        graph_notify_summary(&nt);
    }
    cJSON_Delete(root);
    return tk == GRAPH_TOKENS_WAIT ? -1 : 0;
}

static void
graph_notify_work(su_root_magic_t *magic, su_timer_t *t,
    struct graph_notify *n)
{
    struct graph_nbody *b;

    (void)magic;
    (void)t;
    while ((b = STAILQ_FIRST(&n->n_queue)) != NULL) {
        if (graph_notify_body(n->n_g, b) < 0)
            return;     /* graph_notify_resume() follows the keys */
        STAILQ_REMOVE_HEAD(&n->n_queue, nb_link);
        n->n_queued--;
        free(b->nb_text);
        free(b);
    }
}

void
graph_notify_resume(struct graph *g)
{
    struct graph_notify *n = g->g_notify;

    if (n == NULL || n->n_queued == 0)
        return;
    su_timer_reset(n->n_work);
    if (su_timer_set_interval(n->n_work, graph_notify_work, n, 0) < 0)
        log_error("graph timer-failed what=notify");
}

/* Takes up to one chunk of the waiting ids into n_sent. */
struct graph_notify_take {
    struct graph_notify    *t_n;
    cJSON                  *t_ids;
};

static void
graph_notify_take(void *arg, void *val)
{
    struct graph_notify_take *t = arg;
    struct graph_notify *n = t->t_n;

    if (n->n_nsent >= GRAPH_CHUNK_IDS)
        return;
    n->n_sent[n->n_nsent++] = val;
    cJSON_AddItemToArray(t->t_ids, cJSON_CreateString(val));
}

/* {"ids":[...]} for the next read, moving its ids out of n_ids. */
static char *
graph_notify_body_ids(struct graph_notify *n)
{
    struct graph_notify_take t;
    cJSON *o = cJSON_CreateObject();
    char *text;
    size_t i;

    t.t_n = n;
    t.t_ids = cJSON_AddArrayToObject(o, "ids");
    n->n_sent = xcalloc(GRAPH_CHUNK_IDS, sizeof(char *));
    n->n_nsent = 0;
    htab_each(&n->n_ids, graph_notify_take, &t);
    for (i = 0; i < n->n_nsent; i++)
        htab_del(&n->n_ids, n->n_sent[i]);
    text = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return text;
}

/* The ids of a read that failed go back to wait for the next. */
static void
graph_notify_requeue(struct graph_notify *n)
{
    size_t i;

    for (i = 0; i < n->n_nsent; i++) {
        if (htab_get(&n->n_ids, n->n_sent[i]) == NULL)
            htab_put(&n->n_ids, n->n_sent[i], n->n_sent[i]);
        else
            free(n->n_sent[i]);
    }
    free(n->n_sent);
    n->n_sent = NULL;
    n->n_nsent = 0;
}

static void
graph_notify_parse(struct graph_notify *n, const struct graph_resp *rs)
{
    cJSON *root = cJSON_ParseWithLength(rs->rs_body, rs->rs_len), *it;
    const char *id, *av, *act;
    size_t seen = 0;

    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(root, "value")) {
        id = graph_notify_str(it, "id");
        av = graph_notify_str(it, "availability");
        act = graph_notify_str(it, "activity");
        if (id == NULL || av == NULL || act == NULL)
            continue;
        graph_presence(n->n_g, id, av, act,
            graph_notify_str(it, "sequenceNumber"), 1);
        seen++;
    }
    log_debug("graph notify-read users=%zu presences=%zu ms=%lld",
        n->n_nsent, seen, (long long)rs->rs_ms);
    cJSON_Delete(root);
}

static void
graph_notify_retry_timer(su_root_magic_t *magic, su_timer_t *t,
    struct graph_notify *n)
{
    (void)magic;
    (void)t;
    graph_notify_send(n);
}

static void
graph_notify_failed(struct graph_notify *n, const struct graph_resp *rs)
{
    struct graph *g = n->n_g;
    char after[32];
    int64_t delay;

    if (rs->rs_status == 401)
        graph_token_drop(g, n->n_gen);
    if (++n->n_failures >= GRAPH_NOTIFY_TRIES) {
        log_warn("graph notify-read-failed status=%ld users=%zu "
            "note=\"left to the reconcile poll\"", rs->rs_status,
            n->n_nsent);
        n->n_failures = 0;
        graph_notify_sent_free(n);
        return;
    }
    delay = graph_rate_delay_ms(rs->rs_retry_after, n->n_failures,
        clock_now(), graph_random(g));
    n->n_not_before = clock_now_ms() + delay;
    if (rs->rs_status == 429)
        graph_hold(g, n->n_not_before);
    graph_fmt_delay(after, sizeof(after), delay);
    log_info("graph retry op=notify-read status=%ld after=%s tries=%u",
        rs->rs_status, after, n->n_failures);
    graph_notify_requeue(n);
    su_timer_reset(n->n_retry);
    if (su_timer_set_interval(n->n_retry, graph_notify_retry_timer, n,
        (su_duration_t)delay) < 0)
        log_error("graph timer-failed what=notify-retry");
}

static void
graph_notify_done(void *arg, const struct graph_resp *rs)
{
    struct graph_notify *n = arg;

    n->n_req = NULL;
    graph_subs_clock(n->n_g, rs->rs_date);
    if (rs->rs_status != 200) {
        graph_notify_failed(n, rs);
        return;
    }
    n->n_failures = 0;
    graph_notify_parse(n, rs);
    graph_notify_sent_free(n);
    graph_notify_send(n);
}

/* One read at a time; ids that arrive meanwhile wait for the next. */
static void
graph_notify_send(struct graph_notify *n)
{
    struct graph *g = n->n_g;
    int64_t now = clock_now_ms();
    const char *tok;
    char *url, *body;

    if (n->n_req != NULL || n->n_ids.ht_count == 0 ||
        now < n->n_not_before || graph_held(g, now))
        return;
    tok = graph_token_get(g);
    if (tok == NULL)
        return;     /* graph_kick() follows the token */
    body = graph_notify_body_ids(n);
    url = xasprintf("%s/communications/getPresencesByUserId",
        g->g_conf.gc_graph_url);
    n->n_gen = graph_token_gen(g);
    if (body != NULL)
        n->n_req = graph_http_request(g->g_http, "POST", url,
            "application/json", body, tok, g->g_conf.gc_timeout,
            graph_notify_done, n);
    free(url);
    cJSON_free(body);
    if (n->n_req == NULL)
        graph_notify_requeue(n);
}

void
graph_notify_kick(struct graph *g)
{
    if (g->g_notify != NULL)
        graph_notify_send(g->g_notify);
}
