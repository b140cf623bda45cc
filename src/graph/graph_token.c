/*
 * graph_token.c: the application's access token, from the OAuth 2.0
 * client credentials grant (graph-api.md 4.1), with the secret or a
 * certificate (graph_cred.c).
 *
 * The token is fetched when first needed and renewed ahead of its expiry,
 * taken from expires_in (Entra issues 60 to 90 minute tokens, so no
 * lifetime is assumed).  While no token is at hand, requests wait; the
 * arrival of one calls graph_kick().  A refused fetch backs off, and a
 * 401 from Graph makes us forget the token it was sent with.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

struct graph_token;
#define SU_WAKEUP_ARG_T void
#define SU_TIMER_ARG_T  struct graph_token
#include "graph/graph_int.h"
#include "graph/graph_cred.h"

/* Renew when this much of the lifetime is left, or a tenth of it if
 * that is less. */
#define GRAPH_TOKEN_MARGIN_MS   (5 * 60 * 1000)

/* Stop using a token this long before it expires, or half the margin if
 * that is less: requests take time, and clocks differ. */
#define GRAPH_TOKEN_SKEW_MS     (30 * 1000)

/* expires_in above this is taken as this. */
#define GRAPH_TOKEN_LIFE_MAX    86400

struct graph_token {
    struct graph       *gt_g;
    char               *gt_access;      /* NULL when none */
    int64_t             gt_usable_until;
    unsigned            gt_gen;
    struct graph_req   *gt_req;         /* a fetch in flight */
    su_timer_t         *gt_timer;       /* renewal or end of backoff */
    int                 gt_backoff;     /* a failed fetch waits */
    unsigned            gt_failures;
};

static void graph_token_fetch(struct graph_token *t);

struct graph_token *
graph_token_create(struct graph *g)
{
    struct graph_token *t = xcalloc(1, sizeof(*t));

    t->gt_g = g;
    t->gt_timer = su_timer_create(su_root_task(g->g_root), 0);
    if (t->gt_timer == NULL) {
        free(t);
        return NULL;
    }
    return t;
}

static void
graph_token_forget(struct graph_token *t)
{
    if (t->gt_access == NULL)
        return;
    explicit_bzero(t->gt_access, strlen(t->gt_access));
    free(t->gt_access);
    t->gt_access = NULL;
}

void
graph_token_free(struct graph_token *t)
{
    if (t == NULL)
        return;
    graph_http_cancel(t->gt_req);
    graph_token_forget(t);
    su_timer_destroy(t->gt_timer);
    free(t);
}

const char *
graph_token_get(struct graph *g)
{
    struct graph_token *t = g->g_token;

    if (t->gt_access != NULL && clock_now_ms() < t->gt_usable_until)
        return t->gt_access;
    graph_token_forget(t);
    if (t->gt_req == NULL && !t->gt_backoff)
        graph_token_fetch(t);
    return NULL;
}

unsigned
graph_token_gen(const struct graph *g)
{
    return g->g_token->gt_gen;
}

void
graph_token_drop(struct graph *g, unsigned gen)
{
    struct graph_token *t = g->g_token;

    if (gen != t->gt_gen || t->gt_access == NULL)
        return;
    log_info("graph token dropped reason=refused");
    graph_token_forget(t);
}

void
graph_token_reset(struct graph *g)
{
    struct graph_token *t = g->g_token;

    graph_http_cancel(t->gt_req);
    t->gt_req = NULL;
    graph_token_forget(t);
    su_timer_reset(t->gt_timer);
    t->gt_backoff = 0;
    t->gt_failures = 0;
}

void
graph_token_reconfigure(struct graph *g, int creds_changed)
{
    struct graph_token *t = g->g_token;

    if (creds_changed)
        graph_token_reset(g);
    else if (t->gt_access != NULL)
        log_add_secret(t->gt_access);
}

/* The timer: time to renew, or a backoff is over. */
static void
graph_token_timer(su_root_magic_t *magic, su_timer_t *timer,
    struct graph_token *t)
{
    (void)magic;
    (void)timer;
    t->gt_backoff = 0;

    /* A renewal goes ahead at once; a first fetch waits for demand. */
    if (t->gt_access != NULL) {
        if (t->gt_req == NULL)
            graph_token_fetch(t);
    } else {
        graph_kick(t->gt_g);
    }
}

static void
graph_token_arm(struct graph_token *t, int64_t delay_ms)
{
    if (delay_ms < 0)
        delay_ms = 0;
    if (delay_ms > 86400000)
        delay_ms = 86400000;
    su_timer_reset(t->gt_timer);
    if (su_timer_set_interval(t->gt_timer, graph_token_timer, t,
        (su_duration_t)delay_ms) < 0)
        log_error("graph timer-failed what=token");
}

/* Takes a token answer; 0 when it held a usable token. */
static int
graph_token_parse(struct graph_token *t, const struct graph_resp *rs,
    long *life)
{
    cJSON *root, *tok;
    int rc = -1;

    root = cJSON_ParseWithLength(rs->rs_body, rs->rs_len);
    if (root == NULL)
        return -1;
    tok = cJSON_GetObjectItemCaseSensitive(root, "access_token");
    *life = graph_oauth_lifetime(root);
    if (cJSON_IsString(tok) && tok->valuestring[0] != '\0' && *life > 0) {
        graph_token_forget(t);
        t->gt_access = xstrdup(tok->valuestring);
        log_add_secret(t->gt_access);
        rc = 0;
    }
    cJSON_Delete(root);
    return rc;
}

/* A token answer's expires_in (number or text), in seconds; 0 if none. */
long
graph_oauth_lifetime(const cJSON *answer)
{
    const cJSON *exp = cJSON_GetObjectItemCaseSensitive(answer,
        "expires_in");
    long life = 0;

    if (cJSON_IsNumber(exp))
        life = exp->valuedouble >= 1 && exp->valuedouble < 1e9 ?
            (long)exp->valuedouble : 0;
    else if (cJSON_IsString(exp) &&
        parse_long(exp->valuestring, 1, 999999999L, &life) < 0)
        life = 0;
    return life;
}

/* Reads the AADSTS error of a refused fetch: the OAuth "error" word and
 * the first of "error_codes". */
void
graph_oauth_error(const struct graph_resp *rs, char *err, size_t errlen,
    char *code, size_t codelen)
{
    cJSON *root, *e, *codes, *first;

    xstrlcpy(err, "-", errlen);
    xstrlcpy(code, "-", codelen);
    root = cJSON_ParseWithLength(rs->rs_body, rs->rs_len);
    if (root == NULL)
        return;
    e = cJSON_GetObjectItemCaseSensitive(root, "error");
    if (cJSON_IsString(e) && e->valuestring[0] != '\0')
        graph_http_log_copy(err, e->valuestring, errlen);
    codes = cJSON_GetObjectItemCaseSensitive(root, "error_codes");
    first = cJSON_GetArrayItem(codes, 0);
    if (cJSON_IsNumber(first) && first->valuedouble >= 0 &&
        first->valuedouble < 1e9)
        snprintf(code, codelen, "AADSTS%ld", (long)first->valuedouble);
    cJSON_Delete(root);
}

static void
graph_token_failed(struct graph_token *t, const struct graph_resp *rs)
{
    const char *cert = t->gt_g->g_conf.gc_client_cert_file;
    char err[64], code[32], after[32];
    enum log_level lvl;
    int64_t delay;

    t->gt_failures++;
    delay = graph_rate_delay_ms(rs->rs_retry_after, t->gt_failures,
        clock_now(), graph_random(t->gt_g));
    graph_fmt_delay(after, sizeof(after), delay);
    t->gt_backoff = 1;
    graph_token_arm(t, delay);

    if (rs->rs_status == 0) {
        log_warn("graph token failed status=0 reason=\"%s\" after=%s",
            rs->rs_error, after);
        return;
    }

    /* 400 and 401 say our credentials or settings are wrong. */
    lvl = rs->rs_status == 400 || rs->rs_status == 401 ? LOG_LVL_ERROR :
        LOG_LVL_WARN;
    graph_oauth_error(rs, err, sizeof(err), code, sizeof(code));
    if (rs->rs_status == 200)
        xstrlcpy(err, "bad-answer", sizeof(err));
    log_msg(lvl, "graph token failed status=%ld error=%s code=%s after=%s "
        "credential=%s%s%s", rs->rs_status, err, code, after,
        cert[0] != '\0' ? "certificate" : "secret",
        cert[0] != '\0' ? " cert_file=" : "", cert);
}

static void
graph_token_done(void *arg, const struct graph_resp *rs)
{
    struct graph_token *t = arg;
    int64_t life_ms, margin, skew;
    long life;

    t->gt_req = NULL;
    if (rs->rs_status != 200 || graph_token_parse(t, rs, &life) < 0) {
        graph_token_failed(t, rs);
        return;
    }
    if (life > GRAPH_TOKEN_LIFE_MAX)
        life = GRAPH_TOKEN_LIFE_MAX;
    life_ms = (int64_t)life * 1000;
    margin = life_ms / 10 < GRAPH_TOKEN_MARGIN_MS ? life_ms / 10 :
        GRAPH_TOKEN_MARGIN_MS;
    skew = margin / 2 < GRAPH_TOKEN_SKEW_MS ? margin / 2 :
        GRAPH_TOKEN_SKEW_MS;
    t->gt_usable_until = clock_now_ms() + life_ms - skew;
    t->gt_gen++;
    t->gt_failures = 0;
    t->gt_backoff = 0;
    graph_token_arm(t, life_ms - margin);
    log_info("graph token renewed expires_in=%ld renew_in=%llds ms=%lld",
        life, (long long)((life_ms - margin) / 1000), (long long)rs->rs_ms);
    graph_kick(t->gt_g);
}

static void
graph_token_fetch(struct graph_token *t)
{
    const struct graph_conf *c = &t->gt_g->g_conf;
    struct buf url, body;
    char *err = NULL;

    buf_init(&url, 4096);
    buf_printf(&url, "%s/", c->gc_login_url);
    graph_http_escape(&url, c->gc_tenant_id);
    buf_puts(&url, "/oauth2/v2.0/token");

    buf_init(&body, 8192);
    buf_puts(&body, "grant_type=client_credentials&client_id=");
    graph_http_escape(&body, c->gc_client_id);
    if (graph_cred_append(c, url.b_data, clock_now(), &body, &err) < 0)
        log_error("graph token failed error=credential reason=\"%s\"", err);
    buf_puts(&body, "&scope=");
    graph_http_escape(&body, c->gc_scope);

    if (err != NULL) {
        free(err);
    } else if (url.b_overflow || body.b_overflow) {
        log_error("graph token failed error=settings-too-long");
    } else {
        log_debug("graph token-request tenant=%s", c->gc_tenant_id);
        t->gt_req = graph_http_request(t->gt_g->g_http, "POST", url.b_data,
            "application/x-www-form-urlencoded", body.b_data, NULL,
            c->gc_timeout, graph_token_done, t);
    }
    if (body.b_data != NULL)
        explicit_bzero(body.b_data, body.b_len);
    buf_free(&body);
    buf_free(&url);

    if (t->gt_req == NULL) {
        t->gt_backoff = 1;
        t->gt_failures++;
        graph_token_arm(t, graph_rate_backoff_ms(t->gt_failures,
            graph_random(t->gt_g)));
    }
}
