/*
 * graph_accts.c: the service accounts in presgwd, and their delegated
 * access tokens (graph_acct.h says what a service account is).
 *
 * Each account renews its access token from its refresh token (RFC 6749
 * section 6) ahead of the token's expiry, and stores the refresh token
 * the answer brings in its place: Entra rotates them, and an unused one
 * lapses.  A refusal that a new sign-in alone can cure (invalid_grant,
 * interaction_required) marks the account "signin-required", says so in
 * the log and the health report, and stops its renewals until presgwctl
 * signs it in again.  Other failures back off and try again.
 *
 * The device code flow signs in as a public client, so the refresh grant
 * carries no client secret (Entra refuses one: AADSTS700025).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

struct graph_acct;
#define SU_WAKEUP_ARG_T void
#define SU_TIMER_ARG_T  struct graph_acct
#include "graph/graph_int.h"
#include "graph/graph_acct.h"
#include "store/store.h"

/* Renew when this much of the token's life is left. */
#define GRAPH_ACCTS_MARGIN_MS   (5 * 60 * 1000)

enum graph_acct_state {
    GRAPH_ACCT_IDLE = 0,    /* no token yet */
    GRAPH_ACCT_FETCHING,    /* a refresh grant on the wire */
    GRAPH_ACCT_READY,       /* a token in hand */
    GRAPH_ACCT_BACKOFF,     /* a fetch failed; waits to try again */
    GRAPH_ACCT_SIGNIN       /* refused for good: presgwctl login */
};

struct graph_acct {
    struct graph           *a_g;
    struct graph_acct_rec   a_rec;      /* as stored */
    enum graph_acct_state   a_state;
    char                   *a_access;   /* NULL when none */
    int64_t                 a_usable_until;
    unsigned                a_gen;
    unsigned                a_failures;
    struct graph_req       *a_req;
    su_timer_t             *a_timer;
    int                     a_seen;     /* mark for a reload */
};

struct graph_accts {
    struct graph_acct     **as_v;       /* sorted by name */
    size_t                  as_n;
};

static void graph_accts_fetch(struct graph_acct *a);

static const char *
graph_accts_state_name(enum graph_acct_state st)
{
    static const char *const names[] = {
        "idle", "fetching", "ready", "backoff", "signin-required"
    };

    return names[st];
}

static void
graph_accts_set_state(struct graph_acct *a, enum graph_acct_state st)
{
    if (a->a_state == st)
        return;
    log_debug("graph account-state account=%s old=%s new=%s",
        a->a_rec.ar_name, graph_accts_state_name(a->a_state),
        graph_accts_state_name(st));
    a->a_state = st;
}

struct graph_accts *
graph_accts_create(struct graph *g)
{
    (void)g;
    return xcalloc(1, sizeof(struct graph_accts));
}

static void
graph_accts_forget_token(struct graph_acct *a)
{
    if (a->a_access == NULL)
        return;
    explicit_bzero(a->a_access, strlen(a->a_access));
    free(a->a_access);
    a->a_access = NULL;
}

static void
graph_accts_free_one(struct graph_acct *a)
{
    graph_http_cancel(a->a_req);
    su_timer_destroy(a->a_timer);
    graph_accts_forget_token(a);
    graph_acct_clear(&a->a_rec);
    free(a);
}

void
graph_accts_free(struct graph_accts *as)
{
    size_t i;

    if (as == NULL)
        return;
    for (i = 0; i < as->as_n; i++)
        graph_accts_free_one(as->as_v[i]);
    free(as->as_v);
    free(as);
}

static struct graph_acct *
graph_accts_find(const struct graph *g, const char *name)
{
    const struct graph_accts *as = g->g_accts;
    size_t i;

    for (i = 0; i < as->as_n; i++)
        if (strcmp(as->as_v[i]->a_rec.ar_name, name) == 0)
            return as->as_v[i];
    return NULL;
}

/* Writes the account's record back (new refresh token, new state). */
static void
graph_accts_save(struct graph_acct *a)
{
    char *text;

    if (a->a_g->g_store == NULL)
        return;
    a->a_rec.ar_updated = clock_now();
    text = graph_acct_encode(&a->a_rec);
    if (store_rec_put(a->a_g->g_store, GRAPH_ACCT_NS, a->a_rec.ar_name,
        text) != 0)
        log_error("graph account-save-failed account=%s",
            a->a_rec.ar_name);
    explicit_bzero(text, strlen(text));
    free(text);
}

/* After the store failed for a while: every account written anew. */
void
graph_accts_resync(struct graph *g)
{
    struct graph_accts *as = g->g_accts;
    size_t i;

    if (as == NULL || g->g_store == NULL)
        return;
    store_rec_clear(g->g_store, GRAPH_ACCT_NS);
    for (i = 0; i < as->as_n; i++)
        graph_accts_save(as->as_v[i]);
}

static void
graph_accts_timer(su_root_magic_t *magic, su_timer_t *t,
    struct graph_acct *a)
{
    (void)magic;
    (void)t;
    if (a->a_state == GRAPH_ACCT_READY || a->a_state == GRAPH_ACCT_BACKOFF)
        graph_accts_fetch(a);
}

static void
graph_accts_arm(struct graph_acct *a, int64_t ms)
{
    su_timer_reset(a->a_timer);
    if (ms < 0)
        ms = 0;
    if (ms > 86400000)
        ms = 86400000;
    if (su_timer_set_interval(a->a_timer, graph_accts_timer, a,
        (su_duration_t)ms) < 0)
        log_error("graph timer-failed what=account");
}

/* Needs a new sign-in: say so once, keep it in the store. */
static void
graph_accts_signin(struct graph_acct *a, const char *reason)
{
    graph_accts_forget_token(a);
    graph_accts_set_state(a, GRAPH_ACCT_SIGNIN);
    su_timer_reset(a->a_timer);
    log_warn("graph account-signin-required account=%s reason=%s "
        "fix=\"presgwctl login %s\"", a->a_rec.ar_name, reason,
        a->a_rec.ar_name);
    free(a->a_rec.ar_state);
    a->a_rec.ar_state = xstrdup(GRAPH_ACCT_STATE_SIGNIN);
    free(a->a_rec.ar_reason);
    a->a_rec.ar_reason = xstrdup(reason);
    graph_accts_save(a);
    graph_subs_kick(a->a_g);
}

/* Takes a token answer; 0 when it held an access token. */
static int
graph_accts_parse(struct graph_acct *a, const struct graph_resp *rs,
    long *life)
{
    cJSON *root = cJSON_ParseWithLength(rs->rs_body, rs->rs_len);
    const cJSON *tok, *ref;
    int rc = -1;

    tok = cJSON_GetObjectItemCaseSensitive(root, "access_token");
    ref = cJSON_GetObjectItemCaseSensitive(root, "refresh_token");
    *life = graph_oauth_lifetime(root);
    if (cJSON_IsString(tok) && tok->valuestring[0] != '\0' && *life > 0) {
        graph_accts_forget_token(a);
        a->a_access = xstrdup(tok->valuestring);
        log_add_secret(a->a_access);
        if (cJSON_IsString(ref) && ref->valuestring[0] != '\0' &&
            strcmp(ref->valuestring, a->a_rec.ar_refresh) != 0) {
            explicit_bzero(a->a_rec.ar_refresh,
                strlen(a->a_rec.ar_refresh));
            free(a->a_rec.ar_refresh);
            a->a_rec.ar_refresh = xstrdup(ref->valuestring);
            log_add_secret(a->a_rec.ar_refresh);
        }
        rc = 0;
    }
    cJSON_Delete(root);
    return rc;
}

/* RFC 6749 section 5.2 and Entra: errors only a new sign-in cures. */
static int
graph_accts_fatal(const char *err)
{
    static const char *const fatal[] = {
        "invalid_grant", "interaction_required", "consent_required",
        "login_required", "unauthorized_client"
    };
    size_t i;

    for (i = 0; i < sizeof(fatal) / sizeof(fatal[0]); i++)
        if (strcmp(err, fatal[i]) == 0)
            return 1;
    return 0;
}

static void
graph_accts_failed(struct graph_acct *a, const struct graph_resp *rs)
{
    char err[64], code[32], after[32], reason[100];
    int64_t delay;

    graph_oauth_error(rs, err, sizeof(err), code, sizeof(code));
    if (rs->rs_status >= 400 && rs->rs_status < 500 &&
        graph_accts_fatal(err)) {
        snprintf(reason, sizeof(reason), "%s/%s", err, code);
        graph_accts_signin(a, reason);
        return;
    }
    a->a_failures++;
    delay = graph_rate_delay_ms(rs->rs_retry_after, a->a_failures,
        clock_now(), graph_random(a->a_g));
    graph_fmt_delay(after, sizeof(after), delay);
    graph_accts_forget_token(a);
    graph_accts_set_state(a, GRAPH_ACCT_BACKOFF);
    graph_accts_arm(a, delay);
    log_warn("graph account-token-failed account=%s status=%ld error=%s "
        "code=%s reason=\"%s\" after=%s", a->a_rec.ar_name, rs->rs_status,
        err, code, rs->rs_error, after);
}

static void
graph_accts_done(void *arg, const struct graph_resp *rs)
{
    struct graph_acct *a = arg;
    int64_t life_ms, margin;
    long life;

    a->a_req = NULL;
    if (rs->rs_status != 200 || graph_accts_parse(a, rs, &life) < 0) {
        graph_accts_failed(a, rs);
        return;
    }
    life_ms = (int64_t)life * 1000;
    margin = life_ms / 5 < GRAPH_ACCTS_MARGIN_MS ? life_ms / 5 :
        GRAPH_ACCTS_MARGIN_MS;
    a->a_usable_until = clock_now_ms() + life_ms - margin / 2;
    a->a_gen++;
    a->a_failures = 0;
    if (strcmp(a->a_rec.ar_state, GRAPH_ACCT_STATE_OK) != 0) {
        free(a->a_rec.ar_state);
        a->a_rec.ar_state = xstrdup(GRAPH_ACCT_STATE_OK);
        a->a_rec.ar_reason[0] = '\0';
    }
    /* The refresh token may have turned: keep the one that works. */
    graph_accts_save(a);
    graph_accts_set_state(a, GRAPH_ACCT_READY);
    graph_accts_arm(a, life_ms - margin);
    log_info("graph account-token account=%s expires_in=%ld ms=%lld",
        a->a_rec.ar_name, life, (long long)rs->rs_ms);
    graph_subs_kick(a->a_g);
}

static void
graph_accts_fetch(struct graph_acct *a)
{
    const struct graph_conf *c = &a->a_g->g_conf;
    struct buf url, body;
    char *scope = graph_acct_scope(c->gc_scope);

    buf_init(&url, 4096);
    buf_printf(&url, "%s/", c->gc_login_url);
    graph_http_escape(&url, c->gc_tenant_id);
    buf_puts(&url, "/oauth2/v2.0/token");
    buf_init(&body, 65536);
    buf_puts(&body, "grant_type=refresh_token&client_id=");
    graph_http_escape(&body, c->gc_client_id);
    buf_puts(&body, "&refresh_token=");
    graph_http_escape(&body, a->a_rec.ar_refresh);
    buf_puts(&body, "&scope=");
    graph_http_escape(&body, scope);
    free(scope);

    a->a_req = NULL;
    if (!url.b_overflow && !body.b_overflow)
        a->a_req = graph_http_request(a->a_g->g_http, "POST", url.b_data,
            "application/x-www-form-urlencoded", body.b_data, NULL,
            c->gc_timeout, graph_accts_done, a);
    explicit_bzero(body.b_data, body.b_len);
    buf_free(&body);
    buf_free(&url);
    if (a->a_req == NULL) {
        a->a_failures++;
        graph_accts_set_state(a, GRAPH_ACCT_BACKOFF);
        graph_accts_arm(a, graph_rate_backoff_ms(a->a_failures,
            graph_random(a->a_g)));
        return;
    }
    graph_accts_set_state(a, GRAPH_ACCT_FETCHING);
}

const char *
graph_accts_token(struct graph *g, const char *name, unsigned *gen)
{
    struct graph_acct *a = graph_accts_find(g, name);

    if (a == NULL || a->a_state == GRAPH_ACCT_SIGNIN)
        return NULL;
    if (a->a_access != NULL && clock_now_ms() < a->a_usable_until) {
        if (gen != NULL)
            *gen = a->a_gen;
        return a->a_access;
    }
    graph_accts_forget_token(a);
    if (a->a_state == GRAPH_ACCT_IDLE || a->a_state == GRAPH_ACCT_READY)
        graph_accts_fetch(a);
    return NULL;
}

void
graph_accts_drop(struct graph *g, const char *name, unsigned gen)
{
    struct graph_acct *a = graph_accts_find(g, name);

    if (a == NULL || gen != a->a_gen || a->a_access == NULL)
        return;
    log_info("graph account-token-dropped account=%s reason=refused", name);
    graph_accts_forget_token(a);
}

int
graph_accts_usable(const struct graph *g, const char *name)
{
    const struct graph_acct *a = graph_accts_find(g, name);

    return a != NULL && a->a_state != GRAPH_ACCT_SIGNIN;
}

size_t
graph_accts_names(const struct graph *g, const char **names, size_t max)
{
    const struct graph_accts *as = g->g_accts;
    size_t i, n = 0;

    for (i = 0; i < as->as_n && n < max; i++)
        if (as->as_v[i]->a_state != GRAPH_ACCT_SIGNIN)
            names[n++] = as->as_v[i]->a_rec.ar_name;
    return n;
}

static int
graph_accts_cmp(const void *x, const void *y)
{
    const struct graph_acct *const *a = x, *const *b = y;

    return strcmp((*a)->a_rec.ar_name, (*b)->a_rec.ar_name);
}

/* A record read from the store: a new account, or news of a known one
 * (a new sign-in brings a new refresh token). */
static void
graph_accts_take(void *arg, const char *key, const char *value)
{
    struct graph *g = arg;
    struct graph_accts *as = g->g_accts;
    struct graph_acct_rec r;
    struct graph_acct *a;

    if (graph_acct_decode(key, value, &r) != 0) {
        log_warn("graph account-bad-record account=%s", key);
        return;
    }
    log_add_secret(r.ar_refresh);
    a = graph_accts_find(g, key);
    if (a != NULL && strcmp(a->a_rec.ar_refresh, r.ar_refresh) == 0) {
        a->a_seen = 1;
        graph_acct_clear(&r);
        return;
    }
    if (a == NULL) {
        a = xcalloc(1, sizeof(*a));
        a->a_g = g;
        a->a_timer = su_timer_create(su_root_task(g->g_root), 0);
        as->as_v = xrealloc(as->as_v, (as->as_n + 1) * sizeof(*as->as_v));
        as->as_v[as->as_n++] = a;
    } else {
        graph_http_cancel(a->a_req);
        a->a_req = NULL;
        graph_accts_forget_token(a);
        graph_acct_clear(&a->a_rec);
    }
    a->a_rec = r;
    a->a_seen = 1;
    a->a_failures = 0;
    a->a_state = GRAPH_ACCT_IDLE;
    /* What the store says stands until Entra says otherwise: an account
     * that needed sign-in before a restart still does. */
    if (strcmp(r.ar_state, GRAPH_ACCT_STATE_SIGNIN) == 0)
        a->a_state = GRAPH_ACCT_SIGNIN;
    log_info("graph account-loaded account=%s upn=%s state=%s", key,
        r.ar_upn[0] != '\0' ? r.ar_upn : "-", r.ar_state);
}

/* Drops the accounts the store no longer has (presgwctl logout). */
static void
graph_accts_sweep(struct graph *g)
{
    struct graph_accts *as = g->g_accts;
    size_t i, n = 0;

    for (i = 0; i < as->as_n; i++) {
        if (as->as_v[i]->a_seen) {
            as->as_v[n++] = as->as_v[i];
            continue;
        }
        log_info("graph account-removed account=%s",
            as->as_v[i]->a_rec.ar_name);
        graph_accts_free_one(as->as_v[i]);
    }
    as->as_n = n;
}

void
graph_accts_load(struct graph *g)
{
    struct graph_accts *as = g->g_accts;
    size_t i;

    if (g->g_store == NULL)
        return;
    graph_acct_spool_import(g->g_store_path, g->g_store);
    for (i = 0; i < as->as_n; i++)
        as->as_v[i]->a_seen = 0;
    store_rec_each(g->g_store, GRAPH_ACCT_NS, graph_accts_take, g);
    graph_accts_sweep(g);
    if (as->as_n > 1)
        qsort(as->as_v, as->as_n, sizeof(*as->as_v), graph_accts_cmp);

    /* A token for each usable account now: it proves the account works
     * and turns its refresh token over. */
    for (i = 0; i < as->as_n; i++)
        if (as->as_v[i]->a_state == GRAPH_ACCT_IDLE)
            graph_accts_fetch(as->as_v[i]);
    log_info("graph accounts count=%zu", as->as_n);
    graph_subs_kick(g);
}

size_t
graph_accts_count(const struct graph *g)
{
    return g->g_accts->as_n;
}

int
graph_accounts_health(struct graph *g, cJSON *obj)
{
    const struct graph_accts *as = g->g_accts;
    const struct graph_acct *a;
    cJSON *arr = cJSON_AddArrayToObject(obj, "accounts"), *o;
    size_t i, bad = 0;

    for (i = 0; i < as->as_n; i++) {
        a = as->as_v[i];
        o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "name", a->a_rec.ar_name);
        cJSON_AddStringToObject(o, "upn", a->a_rec.ar_upn);
        cJSON_AddStringToObject(o, "state",
            graph_accts_state_name(a->a_state));
        if (a->a_state == GRAPH_ACCT_SIGNIN) {
            cJSON_AddStringToObject(o, "reason", a->a_rec.ar_reason);
            bad++;
        }
        cJSON_AddItemToArray(arr, o);
    }
    if (bad == 0)
        return 0;
    return bad == as->as_n ? 2 : 1;
}
