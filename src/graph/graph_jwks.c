/*
 * graph_jwks.c: the identity platform's signing keys, for the validation
 * tokens of rich notifications (graph-api.md 3.6: keys rotate, so they
 * are fetched, not configured).
 *
 * The set is fetched from graph.jwks_url when a token first needs it and
 * kept.  A token naming a key the set lacks has it fetched once more (a
 * rotation), but not more than once a minute, so tokens with made-up key
 * ids cannot make us hammer the platform; a set older than a day is
 * fetched again at its next use.  While a fetch is on the wire the
 * caller waits and is resumed by graph_notify_resume().
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "graph/graph_subs_int.h"
#include "crypto/crypto.h"

#define GRAPH_JWKS_REFETCH_MS   (60 * 1000)
#define GRAPH_JWKS_MAX_AGE_MS   (24 * 3600 * 1000LL)

struct graph_jwks {
    struct graph       *j_g;
    struct crypto_jwks *j_set;          /* NULL before the first fetch */
    int64_t             j_fetched;      /* ms, when j_set came */
    int64_t             j_tried;        /* ms, the last fetch started */
    int                 j_failed;       /* the last fetch failed */
    struct graph_req   *j_req;
};

struct graph_jwks *
graph_jwks_create(struct graph *g)
{
    struct graph_jwks *j = xcalloc(1, sizeof(*j));

    j->j_g = g;
    j->j_tried = -GRAPH_JWKS_REFETCH_MS;
    return j;
}

void
graph_jwks_free(struct graph_jwks *j)
{
    if (j == NULL)
        return;
    graph_http_cancel(j->j_req);
    crypto_jwks_free(j->j_set);
    free(j);
}

static void
graph_jwks_done(void *arg, const struct graph_resp *rs)
{
    struct graph_jwks *j = arg;
    struct crypto_jwks *ks = NULL;
    char *err = NULL;

    j->j_req = NULL;
    if (rs->rs_status == 200)
        ks = crypto_jwks_parse(rs->rs_body, &err);
    if (ks == NULL) {
        j->j_failed = 1;
        log_warn("graph jwks-failed status=%ld reason=\"%s\" url=%s",
            rs->rs_status, err != NULL ? err : rs->rs_error,
            j->j_g->g_conf.gc_jwks_url);
        free(err);
    } else {
        crypto_jwks_free(j->j_set);
        j->j_set = ks;
        j->j_fetched = clock_now_ms();
        j->j_failed = 0;
        log_info("graph jwks-fetched bytes=%zu ms=%lld", rs->rs_len,
            (long long)rs->rs_ms);
    }
    graph_notify_resume(j->j_g);
}

/* Starts a fetch; 0 when it went out. */
static int
graph_jwks_fetch(struct graph_jwks *j)
{
    struct graph *g = j->j_g;

    j->j_tried = clock_now_ms();
    j->j_req = graph_http_request(g->g_http, "GET", g->g_conf.gc_jwks_url,
        NULL, NULL, NULL, g->g_conf.gc_timeout, graph_jwks_done, j);
    if (j->j_req == NULL) {
        j->j_failed = 1;
        log_warn("graph jwks-failed status=0 reason=\"request not started\""
            " url=%s", g->g_conf.gc_jwks_url);
        return -1;
    }
    log_debug("graph jwks-fetch url=%s", g->g_conf.gc_jwks_url);
    return 0;
}

/* Nonzero when the set should be fetched before kid is looked up. */
static int
graph_jwks_want(const struct graph_jwks *j, const char *kid, int64_t now)
{
    if (now - j->j_tried < GRAPH_JWKS_REFETCH_MS)
        return 0;
    return j->j_set == NULL || now - j->j_fetched > GRAPH_JWKS_MAX_AGE_MS ||
        !crypto_jwks_has(j->j_set, kid);
}

/* The token's tenant check: only a tenant id (not a domain name) can be
 * compared with tid. */
static const char *
graph_jwks_tenant(const struct graph_conf *c)
{
    const char *t = c->gc_tenant_id;
    size_t i, dashes = 0;

    for (i = 0; t[i] != '\0'; i++)
        dashes += t[i] == '-';
    return i == 36 && dashes == 4 ? t : NULL;
}

enum graph_jwks_res
graph_jwks_verify(struct graph_jwks *j, const char *jwt, time_t now,
    char **err)
{
    const struct graph_conf *c = &j->j_g->g_conf;
    char *kid;
    int want;

    *err = NULL;
    if (j->j_req != NULL)
        return GRAPH_JWKS_WAIT;
    kid = crypto_jwt_kid(jwt);
    want = graph_jwks_want(j, kid, clock_now_ms());
    if (want && graph_jwks_fetch(j) == 0) {
        free(kid);
        return GRAPH_JWKS_WAIT;
    }

    /* A key we could not fetch proves nothing either way. */
    if (j->j_set == NULL || (j->j_failed && !crypto_jwks_has(j->j_set,
        kid))) {
        free(kid);
        *err = xstrdup("signing keys unavailable");
        return GRAPH_JWKS_NOKEYS;
    }
    free(kid);
    if (crypto_jwt_verify(j->j_set, jwt, c->gc_client_id,
        graph_jwks_tenant(c), now, err) < 0)
        return GRAPH_JWKS_BAD;
    return GRAPH_JWKS_OK;
}
