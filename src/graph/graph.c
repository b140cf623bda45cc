/*
 * graph.c: the Graph client object and its public API (graph.h), and the
 * one thing its parts share: the tenant's rate budget.  Graph throttles
 * presence calls per application and tenant (graph-api.md 1.2 and 5), so
 * a 429 to any request holds them all until its Retry-After is over.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>

#define SU_WAKEUP_ARG_T void
#define SU_TIMER_ARG_T  struct graph
#include "graph/graph_int.h"
#include "store/store.h"

/* Frees a string of ours held in a const field of struct graph_conf. */
static void
graph_conf_str_free(const char *s)
{
    char *p = (char *)(uintptr_t)s;

    if (p == NULL)
        return;
    explicit_bzero(p, strlen(p));
    free(p);
}

static void
graph_conf_free(struct graph_conf *c)
{
    graph_conf_str_free(c->gc_login_url);
    graph_conf_str_free(c->gc_graph_url);
    graph_conf_str_free(c->gc_scope);
    graph_conf_str_free(c->gc_tenant_id);
    graph_conf_str_free(c->gc_client_id);
    graph_conf_str_free(c->gc_client_secret);
    graph_conf_str_free(c->gc_client_cert_file);
    graph_conf_str_free(c->gc_client_key_file);
    graph_conf_str_free(c->gc_notify_url);
    graph_conf_str_free(c->gc_lifecycle_url);
    graph_conf_str_free(c->gc_notify_cert_file);
    graph_conf_str_free(c->gc_notify_key_file);
    graph_conf_str_free(c->gc_jwks_url);
    graph_conf_str_free(c->gc_cloud);
    memset(c, 0, sizeof(*c));
}

/* A copy of a base URL without its trailing '/'. */
static const char *
graph_conf_url(const char *url)
{
    size_t len = strlen(url);

    while (len > 1 && url[len - 1] == '/')
        len--;
    return xstrndup(url, len);
}

static int
graph_conf_set(const char *s)
{
    return s != NULL && s[0] != '\0';
}

static int
graph_conf_valid(const struct graph_conf *c)
{
    const char *const s[] = {
        c->gc_login_url, c->gc_graph_url, c->gc_scope, c->gc_tenant_id,
        c->gc_client_id
    };
    size_t i;

    for (i = 0; i < sizeof(s) / sizeof(s[0]); i++) {
        if (!graph_conf_set(s[i]))
            return 0;
    }

    /* A secret, or a certificate with its key. */
    return graph_conf_set(c->gc_client_secret) ||
        (graph_conf_set(c->gc_client_cert_file) &&
        graph_conf_set(c->gc_client_key_file));
}

/* An optional setting: NULL reads as "". */
static const char *
graph_conf_opt(const char *s)
{
    return s != NULL ? s : "";
}

/* Copies src into dst; the strings become ours. */
static void
graph_conf_copy(struct graph_conf *dst, const struct graph_conf *src)
{
    *dst = *src;
    dst->gc_login_url = graph_conf_url(src->gc_login_url);
    dst->gc_graph_url = graph_conf_url(src->gc_graph_url);
    dst->gc_scope = xstrdup(src->gc_scope);
    dst->gc_tenant_id = xstrdup(src->gc_tenant_id);
    dst->gc_client_id = xstrdup(src->gc_client_id);
    dst->gc_client_secret = xstrdup(graph_conf_opt(src->gc_client_secret));
    dst->gc_client_cert_file =
        xstrdup(graph_conf_opt(src->gc_client_cert_file));
    dst->gc_client_key_file = xstrdup(graph_conf_opt(src->gc_client_key_file));
    dst->gc_notify_url = xstrdup(src->gc_notify_url ? src->gc_notify_url :
        "");
    dst->gc_lifecycle_url = xstrdup(src->gc_lifecycle_url ?
        src->gc_lifecycle_url : "");
    dst->gc_notify_cert_file = xstrdup(src->gc_notify_cert_file ?
        src->gc_notify_cert_file : "");
    dst->gc_notify_key_file = xstrdup(src->gc_notify_key_file ?
        src->gc_notify_key_file : "");
    dst->gc_jwks_url = xstrdup(src->gc_jwks_url ? src->gc_jwks_url : "");
    dst->gc_cloud = xstrdup(src->gc_cloud ? src->gc_cloud : "global");
}

/* Says what in conf will not do what the operator may expect. */
static void
graph_conf_check(const struct graph_conf *c)
{
    long expiry = c->gc_session_expiry;

    if (expiry < GRAPH_SESSION_MIN || expiry > GRAPH_SESSION_MAX) {
        expiry = expiry < GRAPH_SESSION_MIN ? GRAPH_SESSION_MIN :
            GRAPH_SESSION_MAX;
        log_warn("graph conf session_expiry=%ld clamped=%ld",
            c->gc_session_expiry, expiry);
    }
    if (c->gc_call_refresh > 0 && c->gc_call_refresh >= expiry)
        log_warn("graph conf call_refresh=%ld session_expiry=%ld "
            "note=session-may-lapse", c->gc_call_refresh, expiry);
}

static void
graph_hold_over(su_root_magic_t *magic, su_timer_t *t, struct graph *g)
{
    int64_t left = g->g_hold_until - clock_now_ms();

    (void)magic;
    if (left > 0) {
        /* The loop's clock ran ahead of ours; wait out the rest. */
        if (su_timer_set_interval(t, graph_hold_over, g,
            (su_duration_t)left) < 0)
            log_error("graph timer-failed what=hold");
        return;
    }
    log_info("graph hold-over");
    graph_kick(g);
}

void
graph_hold(struct graph *g, int64_t until_ms)
{
    int64_t now = clock_now_ms();
    char after[32];

    if (until_ms <= g->g_hold_until || until_ms <= now)
        return;
    g->g_hold_until = until_ms;
    su_timer_reset(g->g_hold_timer);
    if (su_timer_set_interval(g->g_hold_timer, graph_hold_over, g,
        (su_duration_t)(until_ms - now)) < 0)
        log_error("graph timer-failed what=hold");
    graph_fmt_delay(after, sizeof(after), until_ms - now);
    log_info("graph hold reason=throttled after=%s", after);
}

int
graph_held(const struct graph *g, int64_t now_ms)
{
    return now_ms < g->g_hold_until;
}

void
graph_kick(struct graph *g)
{
    graph_write_kick(g);
    graph_poll_kick(g);
    graph_notify_kick(g);
}

/* xorshift32: enough to spread retries, not for secrets. */
uint32_t
graph_random(struct graph *g)
{
    uint32_t x = g->g_rnd;

    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    g->g_rnd = x;
    return x;
}

const char *
graph_fmt_delay(char *out, size_t len, int64_t ms)
{
    if (ms % 1000 == 0)
        snprintf(out, len, "%llds", (long long)(ms / 1000));
    else
        snprintf(out, len, "%lld.%03llds", (long long)(ms / 1000),
            (long long)(ms % 1000));
    return out;
}

/* The last sequenceNumber handed on for a user. */
struct graph_seq {
    char   *sq_id;
    char    sq_seq[64];
};

static void
graph_seq_free(void *arg, void *val)
{
    struct graph_seq *q = val;

    (void)arg;
    free(q->sq_id);
    free(q);
}

/* sequenceNumber sorts as a string (graph-api.md 1.7); a longer one is
 * a later one, as the agent reads them. */
static int
graph_seq_newer(const char *seq, const char *last)
{
    size_t a = strlen(seq), b = strlen(last);

    if (a != b)
        return a > b;
    return strcmp(seq, last) > 0;
}

void
graph_presence(struct graph *g, const char *id, const char *av,
    const char *act, const char *seq, int from_notify)
{
    struct graph_seq *q;

    if (seq != NULL && seq[0] != '\0') {
        q = htab_get(&g->g_seq, id);
        if (q == NULL) {
            q = xcalloc(1, sizeof(*q));
            q->sq_id = xstrdup(id);
            htab_put(&g->g_seq, q->sq_id, q);
        } else if (from_notify && !graph_seq_newer(seq, q->sq_seq)) {
            log_debug("graph notify-stale user=%s seq=%s last=%s", id, seq,
                q->sq_seq);
            return;
        }
        xstrlcpy(q->sq_seq, seq, sizeof(q->sq_seq));
    }
    if (g->g_cb != NULL)
        g->g_cb(g->g_cb_arg, id, av, act, seq);
}

void
graph_accounts_reload(struct graph *g)
{
    graph_accts_load(g);
}

struct graph *
graph_create(su_root_t *root, const struct graph_conf *conf,
    graph_presence_cb *cb, void *arg)
{
    struct graph *g;

    if (root == NULL || conf == NULL || !graph_conf_valid(conf)) {
        log_error("graph create-failed reason=settings-missing");
        return NULL;
    }
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        log_error("graph create-failed reason=libcurl");
        return NULL;
    }
    g = xcalloc(1, sizeof(*g));
    g->g_root = root;
    graph_conf_copy(&g->g_conf, conf);
    g->g_cb = cb;
    g->g_cb_arg = arg;
    g->g_rnd = ((uint32_t)clock_now_ms() ^ ((uint32_t)getpid() << 16)) | 1u;
    htab_init(&g->g_written);
    log_add_secret(g->g_conf.gc_client_secret);

    g->g_hold_timer = su_timer_create(su_root_task(root), 0);
    g->g_http = graph_http_create(root);
    if (g->g_hold_timer == NULL || g->g_http == NULL)
        goto fail;
    g->g_token = graph_token_create(g);
    g->g_writer = graph_write_create(g);
    g->g_poller = graph_poll_create(g);
    g->g_accts = graph_accts_create(g);
    g->g_subs = graph_subs_create(g);
    g->g_notify = graph_notify_create(g);
    htab_init(&g->g_seq);
    if (g->g_token == NULL || g->g_writer == NULL || g->g_poller == NULL ||
        g->g_subs == NULL || g->g_notify == NULL)
        goto fail;

    graph_conf_check(&g->g_conf);
    graph_poll_reconfigure(g);
    log_info("graph started graph_url=%s tenant=%s poll_interval=%ld "
        "queue_max=%ld retry_max_delay=%ld batch=%s",
        g->g_conf.gc_graph_url, g->g_conf.gc_tenant_id,
        g->g_conf.gc_poll_interval, g->g_conf.gc_queue_max,
        g->g_conf.gc_retry_max_delay, g->g_conf.gc_batch ? "yes" : "no");
    return g;

fail:
    log_error("graph create-failed reason=event-loop");
    graph_destroy(g);
    return NULL;
}

void
graph_destroy(struct graph *g)
{
    if (g == NULL)
        return;
    log_info("graph stopped pending=%zu",
        g->g_writer != NULL ? graph_write_pending(g) : 0);

    /* Each part cancels its own requests before the HTTP layer goes. */
    graph_notify_free(g->g_notify);
    graph_subs_free(g->g_subs);
    graph_accts_free(g->g_accts);
    htab_each(&g->g_seq, graph_seq_free, NULL);
    htab_free(&g->g_seq);
    free(g->g_store_path);
    graph_poll_free(g->g_poller);
    graph_write_free(g->g_writer);
    graph_token_free(g->g_token);
    graph_http_destroy(g->g_http);
    su_timer_destroy(g->g_hold_timer);
    if (g->g_store != NULL)
        store_resync_del(g->g_store, graph_persist_resync, g);
    graph_persist_free(g);
    graph_conf_free(&g->g_conf);
    free(g);
    curl_global_cleanup();
}

int
graph_reconfigure(struct graph *g, const struct graph_conf *conf)
{
    struct graph_conf old;
    int creds;

    if (conf == NULL || !graph_conf_valid(conf)) {
        log_error("graph reconfigure-failed reason=settings-missing");
        return -1;
    }
    old = g->g_conf;
    graph_conf_copy(&g->g_conf, conf);
    creds = strcmp(old.gc_login_url, g->g_conf.gc_login_url) != 0 ||
        strcmp(old.gc_tenant_id, g->g_conf.gc_tenant_id) != 0 ||
        strcmp(old.gc_client_id, g->g_conf.gc_client_id) != 0 ||
        strcmp(old.gc_client_secret, g->g_conf.gc_client_secret) != 0 ||
        strcmp(old.gc_client_cert_file, g->g_conf.gc_client_cert_file) != 0 ||
        strcmp(old.gc_client_key_file, g->g_conf.gc_client_key_file) != 0 ||
        strcmp(old.gc_scope, g->g_conf.gc_scope) != 0;
    graph_conf_free(&old);

    /* A reload may have cleared the log's secrets: name ours again. */
    log_add_secret(g->g_conf.gc_client_secret);
    graph_token_reconfigure(g, creds);
    graph_conf_check(&g->g_conf);
    graph_write_reconfigure(g);
    graph_subs_reconfigure(g);
    graph_poll_reconfigure(g);
    log_info("graph reconfigured credentials=%s poll_interval=%ld "
        "queue_max=%ld", creds ? "changed" : "same",
        g->g_conf.gc_poll_interval, g->g_conf.gc_queue_max);
    graph_kick(g);
    return 0;
}

int
graph_set_store(struct graph *g, struct store *st, const char *store_path)
{
    int n;

    if (g->g_store != NULL || st == NULL)
        return -1;
    g->g_store = st;
    store_resync_add(st, graph_persist_resync, g);
    n = graph_persist_load(g);
    if (n >= 0 && store_path != NULL) {
        g->g_store_path = xstrdup(store_path);
        graph_accts_load(g);
        graph_subs_reconfigure(g);
    }
    return n;
}

int
graph_set_session(struct graph *g, const char *user_id, enum pres_session st)
{
    return graph_write_queue(g, user_id, GRAPH_MECH_SESSION, (int)st);
}

int
graph_set_pref(struct graph *g, const char *user_id, enum pres_pref st)
{
    return graph_write_queue(g, user_id, GRAPH_MECH_PREF, (int)st);
}

static int
graph_queued(const struct graph *g, const char *id, enum graph_mech m)
{
    const struct graph_intent *it;

    it = graph_queue_newest(graph_write_cq(g), id, m);
    return it != NULL ? it->gi_value : -1;
}

int
graph_queued_session(const struct graph *g, const char *user_id,
    enum pres_session *out)
{
    int v = graph_queued(g, user_id, GRAPH_MECH_SESSION);

    if (v < 0)
        return -1;
    *out = (enum pres_session)v;
    return 0;
}

int
graph_queued_pref(const struct graph *g, const char *user_id,
    enum pres_pref *out)
{
    int v = graph_queued(g, user_id, GRAPH_MECH_PREF);

    if (v < 0)
        return -1;
    *out = (enum pres_pref)v;
    return 0;
}

void
graph_set_watch(struct graph *g, const char *const *ids, size_t n)
{
    graph_poll_watch(g, ids, n);
    graph_subs_watch(g, ids, n);
}

void
graph_poll_now(struct graph *g)
{
    graph_poll_start(g);
}

size_t
graph_pending(const struct graph *g)
{
    return graph_write_pending(g);
}

void
graph_status(const struct graph *g, struct graph_status *out)
{
    int64_t now = clock_now_ms(), since = 0;

    memset(out, 0, sizeof(*out));
    out->gs_pending = graph_write_pending(g);
    if (graph_outage_down(graph_write_outage(g), &since, &out->gs_probes)) {
        out->gs_outage = 1;
        out->gs_outage_ms = now - since;
    }
    if (graph_held(g, now)) {
        out->gs_held = 1;
        out->gs_held_ms = g->g_hold_until - now;
    }
}
