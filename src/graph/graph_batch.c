/*
 * graph_batch.c: several Graph requests in one JSON batch.
 *
 * graph-api.md 5: POST {graph_url}/$batch takes {"requests":[...]} of at
 * most 20, each with an id, a method, a URL relative to the version, and
 * a Content-Type header when it has a body.  The answer is 200 with
 * {"responses":[...]} in any order, each with its id, status, headers and
 * body; Graph throttles each inner request on its own, so a 429 comes
 * back inside the 200, with its own Retry-After header.
 *
 * Callers see none of this: each request's callback gets a struct
 * graph_resp as if the request had gone alone, and rs_batch tells an
 * inner answer from the batch's own (no answer, 401, 429, 5xx: true of
 * every request in it) and from a request the answer said nothing about.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cJSON.h>

#define SU_WAKEUP_ARG_T void
#define SU_TIMER_ARG_T  void
#include "graph/graph_int.h"

struct graph_batch {
    struct graph       *b_g;
    struct graph_req   *b_req;
    size_t              b_n;
    graph_http_cb      *b_cb[GRAPH_BATCH_MAX];
    void               *b_arg[GRAPH_BATCH_MAX];
    void              (*b_done)(void *arg);
    void               *b_done_arg;
};

/* One inner request: {"id","method","url","headers","body"}. */
static cJSON *
graph_batch_request(const struct graph_batch_item *it, size_t i)
{
    cJSON *r = cJSON_CreateObject(), *hdr, *body = NULL;
    char id[24];
    int ok = r != NULL;

    snprintf(id, sizeof(id), "%zu", i + 1);
    ok = ok && cJSON_AddStringToObject(r, "id", id) != NULL &&
        cJSON_AddStringToObject(r, "method", "POST") != NULL &&
        cJSON_AddStringToObject(r, "url", it->bi_path) != NULL;
    if (ok && it->bi_body != NULL) {
        /* A body needs its Content-Type, or Graph refuses the request. */
        body = cJSON_Parse(it->bi_body);
        hdr = cJSON_AddObjectToObject(r, "headers");
        ok = body != NULL && hdr != NULL &&
            cJSON_AddStringToObject(hdr, "Content-Type",
                "application/json") != NULL &&
            cJSON_AddItemToObject(r, "body", body);
        if (ok)
            body = NULL;
    }
    cJSON_Delete(body);
    if (!ok) {
        cJSON_Delete(r);
        return NULL;
    }
    return r;
}

char *
graph_batch_encode(const struct graph_batch_item *items, size_t n)
{
    cJSON *o = cJSON_CreateObject(), *reqs, *r;
    char *text = NULL;
    size_t i;
    int ok;

    if (n == 0 || n > GRAPH_BATCH_MAX) {
        cJSON_Delete(o);
        return NULL;
    }
    reqs = cJSON_AddArrayToObject(o, "requests");
    ok = reqs != NULL;
    for (i = 0; ok && i < n; i++) {
        r = graph_batch_request(&items[i], i);
        ok = r != NULL && cJSON_AddItemToArray(reqs, r);
    }
    if (ok)
        text = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return text;
}

/* The index an inner answer's id names, or -1. */
static long
graph_batch_index(const cJSON *resp, size_t n)
{
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(resp, "id");
    long v;

    if (!cJSON_IsString(id) || parse_long(id->valuestring, 1, (long)n,
        &v) < 0)
        return -1;
    return v - 1;
}

/* Retry-After from an inner answer's headers: names are case-blind, and
 * the value may come as a string or a number. */
static void
graph_batch_retry_after(const cJSON *resp, char *out, size_t len)
{
    const cJSON *hdrs = cJSON_GetObjectItemCaseSensitive(resp, "headers");
    const cJSON *h;

    out[0] = '\0';
    cJSON_ArrayForEach(h, hdrs) {
        if (h->string == NULL || strcasecmp(h->string, "Retry-After") != 0)
            continue;
        if (cJSON_IsString(h) && strlen(h->valuestring) < len)
            xstrlcpy(out, h->valuestring, len);
        else if (cJSON_IsNumber(h) && h->valuedouble >= 0 &&
            h->valuedouble < 1e9)
            snprintf(out, len, "%ld", (long)h->valuedouble);
    }
}

/* Takes one inner answer; a repeated or unknown id is ignored. */
static void
graph_batch_take_answer(const cJSON *resp, struct graph_batch_answer *out,
    size_t n)
{
    const cJSON *st = cJSON_GetObjectItemCaseSensitive(resp, "status");
    const cJSON *body = cJSON_GetObjectItemCaseSensitive(resp, "body");
    struct graph_batch_answer *a;
    long i = graph_batch_index(resp, n);

    if (i < 0 || !cJSON_IsNumber(st) || st->valuedouble < 100 ||
        st->valuedouble > 599)
        return;
    a = &out[i];
    if (a->ba_status != 0)
        return;
    a->ba_status = (long)st->valuedouble;
    if (body != NULL && !cJSON_IsNull(body))
        a->ba_body = cJSON_PrintUnformatted(body);
    graph_batch_retry_after(resp, a->ba_retry_after,
        sizeof(a->ba_retry_after));
}

int
graph_batch_decode(const char *text, size_t len,
    struct graph_batch_answer *out, size_t n)
{
    cJSON *root, *resps, *r;

    memset(out, 0, n * sizeof(*out));
    root = cJSON_ParseWithLength(text, len);
    resps = cJSON_GetObjectItemCaseSensitive(root, "responses");
    if (!cJSON_IsArray(resps)) {
        cJSON_Delete(root);
        return -1;
    }
    cJSON_ArrayForEach(r, resps)
        graph_batch_take_answer(r, out, n);
    cJSON_Delete(root);
    return 0;
}

void
graph_batch_answers_free(struct graph_batch_answer *a, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        cJSON_free(a[i].ba_body);
        a[i].ba_body = NULL;
    }
}

/* The batch's own answer for every request in it; kind as rs_batch. */
static void
graph_batch_all(struct graph_batch *b, const struct graph_resp *rs,
    int kind, const char *why)
{
    struct graph_resp one = *rs;
    size_t i;

    one.rs_batch = kind;
    if (why != NULL)
        one.rs_error = why;
    for (i = 0; i < b->b_n; i++)
        b->b_cb[i](b->b_arg[i], &one);
}

/* Each request gets its inner answer. */
static void
graph_batch_each(struct graph_batch *b, const struct graph_resp *rs,
    const struct graph_batch_answer *a)
{
    struct graph_resp one;
    size_t i;

    for (i = 0; i < b->b_n; i++) {
        one = *rs;
        one.rs_batch = GRAPH_BATCH_INNER;
        one.rs_status = a[i].ba_status;
        one.rs_body = a[i].ba_body != NULL ? a[i].ba_body : "";
        one.rs_len = strlen(one.rs_body);
        one.rs_retry_after = a[i].ba_retry_after[0] != '\0' ?
            a[i].ba_retry_after : NULL;
        if (a[i].ba_status == 0) {
            one.rs_batch = GRAPH_BATCH_LOST;
            one.rs_status = rs->rs_status;
            one.rs_error = "no answer in the batch";
        }
        b->b_cb[i](b->b_arg[i], &one);
    }
}

static void
graph_batch_done(void *arg, const struct graph_resp *rs)
{
    struct graph_batch *b = arg;
    struct graph_batch_answer a[GRAPH_BATCH_MAX];
    enum graph_result res = graph_rate_classify(rs->rs_status);
    char code[64];

    b->b_req = NULL;
    log_info("graph batch-done requests=%zu status=%ld ms=%lld", b->b_n,
        rs->rs_status, (long long)rs->rs_ms);
    if (res == GRAPH_RETRY || res == GRAPH_REAUTH) {
        graph_batch_all(b, rs, GRAPH_BATCH_OUTER, NULL);
    } else if (res != GRAPH_OK ||
        graph_batch_decode(rs->rs_body, rs->rs_len, a, b->b_n) < 0) {
        graph_http_error_code(rs->rs_body, rs->rs_len, code, sizeof(code));
        log_warn("graph batch-refused requests=%zu status=%ld code=%s "
            "action=send-alone", b->b_n, rs->rs_status, code);
        graph_batch_all(b, rs, GRAPH_BATCH_LOST, "batch refused");
    } else {
        graph_batch_each(b, rs, a);
        graph_batch_answers_free(a, b->b_n);
    }
    b->b_done(b->b_done_arg);
    free(b);
}

struct graph_batch *
graph_batch_send(struct graph *g, const struct graph_batch_item *items,
    size_t n, const char *bearer, void (*done)(void *arg), void *arg)
{
    struct graph_batch *b;
    char *url, *body = graph_batch_encode(items, n);
    size_t i;

    if (body == NULL)
        return NULL;
    b = xcalloc(1, sizeof(*b));
    b->b_g = g;
    b->b_n = n;
    for (i = 0; i < n; i++) {
        b->b_cb[i] = items[i].bi_cb;
        b->b_arg[i] = items[i].bi_arg;
    }
    b->b_done = done;
    b->b_done_arg = arg;
    url = xasprintf("%s/$batch", g->g_conf.gc_graph_url);
    b->b_req = graph_http_request(g->g_http, "POST", url,
        "application/json", body, bearer, g->g_conf.gc_timeout,
        graph_batch_done, b);
    free(url);
    cJSON_free(body);
    if (b->b_req == NULL) {
        free(b);
        return NULL;
    }
    log_info("graph batch requests=%zu", n);
    return b;
}

void
graph_batch_cancel(struct graph_batch *b)
{
    if (b == NULL)
        return;
    graph_http_cancel(b->b_req);
    free(b);
}
