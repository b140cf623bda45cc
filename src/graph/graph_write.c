/*
 * graph_write.c: sends the presence writes the queue hands out, and acts
 * on Graph's answers.
 *
 * The write endpoints and the pairs they accept are in graph-api.md 1.3
 * to 1.5.  An answer is classified by graph_rate_classify(): a success
 * ends the write (graph_written takes it, the stored record goes); a 429
 * puts it back in the queue for after Retry-After and holds the whole
 * tenant; a 5xx, a timeout or a network error puts it back too and starts
 * an outage (graph_outage.c) in which one write at a time probes Graph; a
 * 401 renews the token and tries once more; a refusal (400, 403, 404) is
 * logged and dropped, as trying again would not change Graph's mind.
 * Failed writes are tried again for as long as they are their user's
 * newest: a newer intent replaces them in the queue and in the store.
 *
 * When several users' writes are ready at once (after an outage, a hold,
 * a restart, or more than the pipe takes), they go together in $batch
 * requests (graph_batch.c), one write per user each, so a user's writes
 * keep their order.  Each inner answer is taken exactly as the answer to
 * that write alone would be; a batch Graph did not take as such sends
 * its writes again alone.  A lone write goes alone, and so does the probe
 * of an outage.
 *
 * While the last session written for a user is a call, the queue brings
 * the same setPresence back every call_refresh seconds, so the session
 * does not expire under a long call.
 *
 * A write that went out and got no answer (a timeout, a connection lost)
 * may still be applied by Graph later, after a newer write of the same
 * user and mechanism was confirmed, and its older state would then stay.
 * The queue remembers such writes (graph_queue_uncertain); once they can
 * no longer land, the state Graph should show is written once more if
 * one of them could have undone it ("graph write-reassert"), through the
 * queue and its batches like any write.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include <cJSON.h>

struct graph_writer;
#define SU_WAKEUP_ARG_T void
#define SU_TIMER_ARG_T  struct graph_writer
#include "graph/graph_int.h"

/* A refresh refused by a full queue is tried again this much later. */
#define GRAPH_REFRESH_RETRY_MS  5000

/* See graph_write_late_by(). */
#define GRAPH_LATE_MARGIN_MS    10000

/* One write as Graph takes it. */
struct graph_op {
    const char *op_action;          /* URL action; op= in logs */
    const char *op_state;           /* state= in logs */
    const char *op_availability;    /* NULL for the clear calls */
    const char *op_activity;
};

/* setPresence and clearPresence, per session state: the pairs
 * setPresence accepts (graph-api.md 1.3). */
static const struct graph_op graph_session_ops[] = {
    [PRES_SESS_CLEAR] =      /* remove our app session */
        { "clearPresence", "clear", NULL, NULL },
    [PRES_SESS_AVAILABLE] =  /* idle phone */
        { "setPresence", "available", "Available", "Available" },
    [PRES_SESS_IN_CALL] =    /* a call */
        { "setPresence", "in-call", "Busy", "InACall" },
    [PRES_SESS_CONFERENCE] = /* a conference call */
        { "setPresence", "conference", "Busy", "InAConferenceCall" },
    [PRES_SESS_AWAY] =       /* the phone says away */
        { "setPresence", "away", "Away", "Away" },
};

/* setUserPreferredPresence and its clear call, per preferred state: the
 * pairs it accepts (graph-api.md 1.5). */
static const struct graph_op graph_pref_ops[] = {
    [PRES_PREF_CLEAR] =      /* DND key off, back from away */
        { "clearUserPreferredPresence", "clear", NULL, NULL },
    [PRES_PREF_DND] =        /* DND key on */
        { "setUserPreferredPresence", "dnd", "DoNotDisturb",
          "DoNotDisturb" },
    [PRES_PREF_AWAY] =       /* away, when preferred presence says it */
        { "setUserPreferredPresence", "away", "Away", "Away" },
};

/* A write on the wire. */
struct graph_wreq {
    struct graph               *wr_g;
    char                       *wr_user;
    struct graph_intent         wr_it;
    unsigned                    wr_gen;     /* token it was sent with */
    int                         wr_probe;   /* sent while Graph was down */
    struct graph_req           *wr_req;     /* sent alone */
    struct graph_batch         *wr_batch;   /* sent in this batch */
    LIST_ENTRY(graph_wreq)      wr_link;
};

struct graph_writer {
    struct graph               *w_g;
    struct graph_queue         *w_queue;
    su_timer_t                 *w_timer;    /* delayed users, refreshes */
    LIST_HEAD(, graph_wreq)     w_reqs;
    unsigned                    w_inflight; /* writes on the wire */
    unsigned                    w_nreqs;    /* requests: a batch is one */
    size_t                      w_queue_max;
    size_t                      w_refused;  /* since the queue filled */
    struct graph_outage         w_outage;
};

static const struct graph_op *
graph_write_op(enum graph_mech mech, int value)
{
    if (mech == GRAPH_MECH_SESSION && value >= 0 &&
        (size_t)value < sizeof(graph_session_ops) /
        sizeof(graph_session_ops[0]))
        return &graph_session_ops[value];
    if (mech == GRAPH_MECH_PREF && value >= 0 &&
        (size_t)value < sizeof(graph_pref_ops) / sizeof(graph_pref_ops[0]))
        return &graph_pref_ops[value];
    return NULL;
}

const char *
graph_write_state(enum graph_mech mech, int value)
{
    const struct graph_op *op = graph_write_op(mech, value);

    return op != NULL ? op->op_state : NULL;
}

struct graph_queue *
graph_write_q(struct graph *g)
{
    return g->g_writer->w_queue;
}

const struct graph_queue *
graph_write_cq(const struct graph *g)
{
    return g->g_writer->w_queue;
}

/* The backoff's cap, graph.retry_max_delay; 0: the default. */
static int64_t
graph_write_max_delay(const struct graph *g)
{
    return g->g_conf.gc_retry_max_delay > 0 ?
        (int64_t)g->g_conf.gc_retry_max_delay * 1000 : 0;
}

/*
 * A write we gave up on after graph.timeout without an answer had been
 * held that long somewhere between us and Graph's presence service: in
 * its front end, or behind a slow backend.  Nothing bounds that for sure,
 * but a request held that long is as a rule done with, or given up by
 * Graph's side, within about as long again; the margin covers the
 * backend's own work and clocks.  A write held longer still wins
 * (docs/known-issues.md); a longer wait would only keep a wrong state
 * shown longer in the common case of a write that did land late.
 */
int64_t
graph_write_late_by(const struct graph *g, int64_t now)
{
    return now + (int64_t)g->g_conf.gc_timeout * 1000 +
        GRAPH_LATE_MARGIN_MS;
}

void
graph_write_restored(struct graph *g, unsigned probes, int64_t probe_at)
{
    struct graph_writer *w = g->g_writer;
    int64_t now = clock_now_ms(), max = graph_write_max_delay(g);

    if (probes == 0)
        return;
    if (max == 0)
        max = GRAPH_BACKOFF_MAX_MS;
    if (probe_at < now)
        probe_at = now;
    if (probe_at > now + max)
        probe_at = now + max;
    graph_outage_restore(&w->w_outage, now, probes, probe_at,
        graph_queue_pending(w->w_queue));
}

struct graph_writer *
graph_write_create(struct graph *g)
{
    struct graph_writer *w = xcalloc(1, sizeof(*w));

    w->w_g = g;
    LIST_INIT(&w->w_reqs);
    w->w_timer = su_timer_create(su_root_task(g->g_root), 0);
    if (w->w_timer == NULL) {
        free(w);
        return NULL;
    }
    w->w_queue_max = g->g_conf.gc_queue_max > 0 ?
        (size_t)g->g_conf.gc_queue_max : 0;
    w->w_queue = graph_queue_create(w->w_queue_max);
    return w;
}

static void
graph_write_wreq_free(struct graph_wreq *wr)
{
    free(wr->wr_user);
    free(wr);
}

/* Cancels the batch b once, though several writes are in it. */
static void
graph_write_cancel_batch(struct graph_writer *w, struct graph_batch *b)
{
    struct graph_wreq *wr;

    LIST_FOREACH(wr, &w->w_reqs, wr_link) {
        if (wr->wr_batch == b)
            wr->wr_batch = NULL;
    }
    graph_batch_cancel(b);
}

void
graph_write_free(struct graph_writer *w)
{
    struct graph_wreq *wr;

    if (w == NULL)
        return;
    while (!LIST_EMPTY(&w->w_reqs)) {
        wr = LIST_FIRST(&w->w_reqs);
        if (wr->wr_batch != NULL)
            graph_write_cancel_batch(w, wr->wr_batch);
        LIST_REMOVE(wr, wr_link);
        graph_http_cancel(wr->wr_req);
        graph_write_wreq_free(wr);
    }
    graph_queue_free(w->w_queue);
    su_timer_destroy(w->w_timer);
    free(w);
}

void
graph_write_reconfigure(struct graph *g)
{
    struct graph_writer *w = g->g_writer;

    w->w_queue_max = g->g_conf.gc_queue_max > 0 ?
        (size_t)g->g_conf.gc_queue_max : 0;
    graph_queue_set_max(w->w_queue, w->w_queue_max);
}

size_t
graph_write_pending(const struct graph *g)
{
    return graph_queue_pending(g->g_writer->w_queue);
}

const struct graph_outage *
graph_write_outage(const struct graph *g)
{
    return &g->g_writer->w_outage;
}

void
graph_write_duration(char *out, size_t len, long secs)
{
    char d[24] = "", h[8] = "", m[8] = "", s[8] = "";

    if (secs <= 0) {
        snprintf(out, len, "PT0S");
        return;
    }
    if (secs >= 86400)
        snprintf(d, sizeof(d), "%ldD", secs / 86400);
    if (secs / 3600 % 24 != 0)
        snprintf(h, sizeof(h), "%ldH", secs / 3600 % 24);
    if (secs / 60 % 60 != 0)
        snprintf(m, sizeof(m), "%ldM", secs / 60 % 60);
    if (secs % 60 != 0)
        snprintf(s, sizeof(s), "%ldS", secs % 60);
    snprintf(out, len, "P%s%s%s%s%s", d, secs % 86400 != 0 ? "T" : "", h, m,
        s);
}

/* The expirationDuration to send, in seconds; 0: none. */
static long
graph_write_expiry(const struct graph *g, enum graph_mech mech)
{
    long secs;

    if (mech == GRAPH_MECH_PREF)
        return g->g_conf.gc_dnd_expiry > 0 ? g->g_conf.gc_dnd_expiry : 0;
    secs = g->g_conf.gc_session_expiry;
    if (secs < GRAPH_SESSION_MIN)
        secs = GRAPH_SESSION_MIN;
    if (secs > GRAPH_SESSION_MAX)
        secs = GRAPH_SESSION_MAX;
    return secs;
}

/* The JSON body of a write; the caller frees it with cJSON_free(). */
static char *
graph_write_body(const struct graph *g, const struct graph_intent *it,
    const struct graph_op *op)
{
    cJSON *o = cJSON_CreateObject();
    char dur[48];
    char *text = NULL;
    long secs;
    int ok = o != NULL;

    /* Graph's docs: "Provide the ID of the application as sessionId". */
    if (ok && it->gi_mech == GRAPH_MECH_SESSION)
        ok = cJSON_AddStringToObject(o, "sessionId",
            g->g_conf.gc_client_id) != NULL;
    if (ok && op->op_availability != NULL) {
        ok = cJSON_AddStringToObject(o, "availability",
            op->op_availability) != NULL &&
            cJSON_AddStringToObject(o, "activity", op->op_activity) != NULL;
        secs = graph_write_expiry(g, it->gi_mech);
        if (ok && secs > 0) {
            graph_write_duration(dur, sizeof(dur), secs);
            ok = cJSON_AddStringToObject(o, "expirationDuration", dur) !=
                NULL;
        }
    }
    if (ok)
        text = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return text;
}

/* {graph_url}/users/{id}/presence/{action}, or without the graph_url
 * (base NULL) for a $batch. */
static char *
graph_write_url(const char *base, const char *id, const char *action)
{
    struct buf b;

    buf_init(&b, 4096);
    buf_printf(&b, "%s/users/", base != NULL ? base : "");
    graph_http_escape(&b, id);
    buf_printf(&b, "/presence/%s", action);
    if (b.b_overflow) {
        buf_free(&b);
        return NULL;
    }
    return buf_steal(&b);
}

static void graph_write_done(void *arg, const struct graph_resp *rs);
static void graph_write_answer(struct graph_writer *w, struct graph_wreq *wr,
    const struct graph_resp *rs);
static void graph_write_retry(struct graph_writer *w, struct graph_wreq *wr,
    const struct graph_resp *rs);

/* A write about to go out, alone or in a batch: logged, not yet on the
 * wire nor counted. */
static struct graph_wreq *
graph_write_wreq(struct graph_writer *w, const char *id,
    const struct graph_intent *it, int batched)
{
    const struct graph_op *op = graph_write_op(it->gi_mech, it->gi_value);
    struct graph_wreq *wr = xcalloc(1, sizeof(*wr));

    wr->wr_g = w->w_g;
    wr->wr_user = xstrdup(id);
    wr->wr_it = *it;
    wr->wr_gen = graph_token_gen(w->w_g);
    wr->wr_probe = w->w_outage.go_down;
    log_info("graph write user=%s op=%s state=%s%s%s%s%s", id,
        op->op_action, op->op_state, it->gi_flags & GRAPH_INTENT_REFRESH ?
        " refresh=yes" : "", it->gi_flags & GRAPH_INTENT_REASSERT ?
        " reassert=yes" : "", wr->wr_probe ? " probe=yes" : "",
        batched ? " batch=yes" : "");
    return wr;
}

/* A write that could not even start goes back to the queue. */
static void
graph_write_unsent(struct graph_writer *w, struct graph_wreq *wr)
{
    graph_write_retry(w, wr, NULL);
    graph_write_wreq_free(wr);
}

static void
graph_write_send(struct graph_writer *w, const char *id,
    const struct graph_intent *it, const char *tok)
{
    struct graph *g = w->w_g;
    const struct graph_op *op = graph_write_op(it->gi_mech, it->gi_value);
    struct graph_wreq *wr = graph_write_wreq(w, id, it, 0);
    char *url, *body;

    url = graph_write_url(g->g_conf.gc_graph_url, id, op->op_action);
    body = graph_write_body(g, it, op);
    if (url != NULL && body != NULL)
        wr->wr_req = graph_http_request(g->g_http, "POST", url,
            "application/json", body, tok, g->g_conf.gc_timeout,
            graph_write_done, wr);
    free(url);
    cJSON_free(body);

    if (wr->wr_req == NULL) {
        graph_write_unsent(w, wr);
        return;
    }
    LIST_INSERT_HEAD(&w->w_reqs, wr, wr_link);
    w->w_inflight++;
    w->w_nreqs++;
}

/* One write of a batch answered: as if it had gone alone. */
static void
graph_write_inner_done(void *arg, const struct graph_resp *rs)
{
    struct graph_wreq *wr = arg;

    graph_write_answer(wr->wr_g->g_writer, wr, rs);
}

/* Every write of a batch is answered: the pipe has room again. */
static void
graph_write_batch_done(void *arg)
{
    struct graph_writer *w = arg;

    w->w_nreqs--;
    graph_write_kick(w->w_g);
}

/* The url and body of each write, then one $batch with them all. */
static void
graph_write_send_batch(struct graph_writer *w, const char **ids,
    const struct graph_intent *its, size_t n, const char *tok)
{
    struct graph_batch_item items[GRAPH_BATCH_MAX];
    struct graph_wreq *wrs[GRAPH_BATCH_MAX];
    char *paths[GRAPH_BATCH_MAX], *bodies[GRAPH_BATCH_MAX];
    const struct graph_op *op;
    struct graph_batch *b = NULL;
    size_t i, ok = 0;

    for (i = 0; i < n; i++) {
        op = graph_write_op(its[i].gi_mech, its[i].gi_value);
        wrs[i] = graph_write_wreq(w, ids[i], &its[i], 1);
        paths[i] = graph_write_url(NULL, ids[i], op->op_action);
        bodies[i] = graph_write_body(w->w_g, &its[i], op);
        items[i].bi_path = paths[i];
        items[i].bi_body = bodies[i];
        items[i].bi_cb = graph_write_inner_done;
        items[i].bi_arg = wrs[i];
        ok += paths[i] != NULL && bodies[i] != NULL;
    }
    if (ok == n)
        b = graph_batch_send(w->w_g, items, n, tok, graph_write_batch_done,
            w);
    for (i = 0; i < n; i++) {
        free(paths[i]);
        cJSON_free(bodies[i]);
        if (b == NULL) {
            graph_write_unsent(w, wrs[i]);
            continue;
        }
        wrs[i]->wr_batch = b;
        LIST_INSERT_HEAD(&w->w_reqs, wrs[i], wr_link);
        w->w_inflight++;
    }
    if (b != NULL)
        w->w_nreqs++;
}

static void
graph_write_ok(struct graph_writer *w, struct graph_wreq *wr,
    const struct graph_resp *rs)
{
    const struct graph_conf *c = &w->w_g->g_conf;
    const struct graph_op *op;
    int64_t refresh_at = -1;

    op = graph_write_op(wr->wr_it.gi_mech, wr->wr_it.gi_value);
    log_info("graph write-done user=%s op=%s status=%ld ms=%lld%s",
        wr->wr_user, op->op_action, rs->rs_status, (long long)rs->rs_ms,
        rs->rs_status == 404 ? " note=no-session" : "");
    if (wr->wr_it.gi_mech == GRAPH_MECH_SESSION && c->gc_call_refresh > 0 &&
        (wr->wr_it.gi_value == PRES_SESS_IN_CALL ||
        wr->wr_it.gi_value == PRES_SESS_CONFERENCE))
        refresh_at = clock_now_ms() + (int64_t)c->gc_call_refresh * 1000;
    graph_queue_done(w->w_queue, wr->wr_user, refresh_at);
    graph_persist_confirm(w->w_g, wr->wr_user, &wr->wr_it);
}

static void graph_write_retry(struct graph_writer *w, struct graph_wreq *wr,
    const struct graph_resp *rs);

/*
 * Graph refused the write (400, 403, 404, 501, ...).  Sending it again
 * would get the same answer, so it is dropped; what it should have set
 * stays undone until the user's next change (docs/known-issues.md).
 */
static void
graph_write_drop(struct graph_writer *w, struct graph_wreq *wr,
    const struct graph_resp *rs)
{
    const struct graph_op *op;
    char code[64];

    op = graph_write_op(wr->wr_it.gi_mech, wr->wr_it.gi_value);
    graph_http_error_code(rs->rs_body, rs->rs_len, code, sizeof(code));
    log_warn("graph write-dropped user=%s op=%s state=%s status=%ld code=%s"
        " reason=refused tries=%u", wr->wr_user, op->op_action,
        op->op_state, rs->rs_status, code, wr->wr_it.gi_failures + 1);
    graph_queue_done(w->w_queue, wr->wr_user, -1);
    graph_persist_sync(w->w_g, wr->wr_user, wr->wr_it.gi_mech, 0);
}

/* Why a write got no useful answer, for the outage's first line. */
static const char *
graph_write_why(const struct graph_resp *rs, char *out, size_t len)
{
    if (rs == NULL)
        return "not-started";
    if (rs->rs_status == 0)
        return "no-answer";
    snprintf(out, len, "status-%ld", rs->rs_status);
    return out;
}

/* The write went out and got no answer: Graph may yet apply it. */
static void
graph_write_uncertain(struct graph_writer *w, struct graph_wreq *wr,
    const struct graph_resp *rs, int64_t now)
{
    const struct graph_intent *it = &wr->wr_it;

    if (rs == NULL || rs->rs_status != 0 || !rs->rs_sent)
        return;
    log_debug("graph write-uncertain user=%s mech=%s state=%s",
        wr->wr_user, graph_queue_mech_name(it->gi_mech),
        graph_write_state(it->gi_mech, it->gi_value));
    graph_queue_uncertain(w->w_queue, wr->wr_user, it->gi_mech,
        1u << it->gi_value, graph_write_late_by(w->w_g, now));
}

/* Puts the write back in the queue to go again after Retry-After or the
 * backoff; rs is NULL when the request could not even start.  A 429
 * holds the tenant; anything else means Graph is down (graph_outage.c),
 * and the log says so once, not for every write. */
static void
graph_write_retry(struct graph_writer *w, struct graph_wreq *wr,
    const struct graph_resp *rs)
{
    struct graph *g = w->w_g;
    const struct graph_op *op;
    struct graph_intent it = wr->wr_it;
    int64_t now = clock_now_ms(), until;
    int was_down = w->w_outage.go_down;
    char after[32], why[32];

    op = graph_write_op(it.gi_mech, it.gi_value);
    it.gi_failures++;
    if (rs != NULL && rs->rs_status == 429) {
        graph_outage_over(&w->w_outage, now,
            graph_queue_pending(w->w_queue));
        until = now + graph_rate_delay_cap_ms(rs->rs_retry_after,
            it.gi_failures, graph_write_max_delay(g), clock_now(),
            graph_random(g));
        graph_hold(g, until);
        graph_fmt_delay(after, sizeof(after), until - now);
        log_info("graph retry user=%s op=%s status=429 after=%s tries=%u",
            wr->wr_user, op->op_action, after, it.gi_failures);
    } else {
        until = graph_outage_fail(&w->w_outage, now,
            rs != NULL ? rs->rs_retry_after : NULL,
            graph_write_max_delay(g), graph_random(g), wr->wr_probe,
            graph_write_why(rs, why, sizeof(why)));
        graph_fmt_delay(after, sizeof(after), until - now);
        if (!was_down)
            log_warn("graph retry user=%s op=%s status=%ld reason=\"%s\" "
                "after=%s tries=%u", wr->wr_user, op->op_action,
                rs != NULL ? rs->rs_status : 0L,
                rs != NULL && rs->rs_error[0] != '\0' ? rs->rs_error :
                graph_write_why(rs, why, sizeof(why)), after,
                it.gi_failures);
        else
            log_debug("graph retry user=%s op=%s status=%ld after=%s "
                "tries=%u", wr->wr_user, op->op_action,
                rs != NULL ? rs->rs_status : 0L, after, it.gi_failures);
    }
    graph_write_uncertain(w, wr, rs, now);
    graph_queue_retry(w->w_queue, wr->wr_user, &it, until);
    graph_persist_sync(g, wr->wr_user, it.gi_mech, until);
}

/* A 401: the token expired or was revoked.  Renew it and try once more. */
static void
graph_write_reauth(struct graph_writer *w, struct graph_wreq *wr,
    const struct graph_resp *rs)
{
    const struct graph_op *op;
    struct graph_intent it = wr->wr_it;

    if (it.gi_flags & GRAPH_INTENT_REAUTHED) {
        /* A new token refused too: the credentials or the tenant are at
         * fault, not this write; it waits as in an outage. */
        graph_write_retry(w, wr, rs);
        return;
    }
    op = graph_write_op(it.gi_mech, it.gi_value);
    log_info("graph retry user=%s op=%s status=401 after=token",
        wr->wr_user, op->op_action);
    it.gi_flags |= GRAPH_INTENT_REAUTHED;
    graph_token_drop(w->w_g, wr->wr_gen);
    graph_queue_retry(w->w_queue, wr->wr_user, &it, 0);
}

/* The batch it went in was answered, but not this write: it goes again
 * at once, alone, with its tries as they were. */
static void
graph_write_alone(struct graph_writer *w, struct graph_wreq *wr,
    const struct graph_resp *rs)
{
    const struct graph_op *op;
    struct graph_intent it = wr->wr_it;

    op = graph_write_op(it.gi_mech, it.gi_value);
    log_info("graph retry user=%s op=%s status=%ld reason=\"%s\" "
        "after=0s action=alone", wr->wr_user, op->op_action, rs->rs_status,
        rs->rs_error);
    it.gi_flags |= GRAPH_INTENT_ALONE;
    graph_queue_retry(w->w_queue, wr->wr_user, &it, 0);
}

/* Acts on the answer to one write, sent alone or in a batch, and frees
 * it. */
static void
graph_write_answer(struct graph_writer *w, struct graph_wreq *wr,
    const struct graph_resp *rs)
{
    enum graph_result res = graph_rate_classify(rs->rs_status);

    LIST_REMOVE(wr, wr_link);
    w->w_inflight--;
    if (res != GRAPH_RETRY && res != GRAPH_REAUTH)
        graph_outage_over(&w->w_outage, clock_now_ms(),
            graph_queue_pending(w->w_queue));

    /* graph-api.md 1.4: clearPresence says 404 when no session is left,
     * which is what it was asked for. */
    if (res == GRAPH_GONE)
        res = wr->wr_it.gi_mech == GRAPH_MECH_SESSION &&
            wr->wr_it.gi_value == PRES_SESS_CLEAR ? GRAPH_OK : GRAPH_FAILED;

    if (rs->rs_batch == GRAPH_BATCH_LOST)
        graph_write_alone(w, wr, rs);
    else if (res == GRAPH_OK)
        graph_write_ok(w, wr, rs);
    else if (res == GRAPH_RETRY)
        graph_write_retry(w, wr, rs);
    else if (res == GRAPH_REAUTH)
        graph_write_reauth(w, wr, rs);
    else
        graph_write_drop(w, wr, rs);
    graph_write_wreq_free(wr);
}

/* A write sent alone was answered. */
static void
graph_write_done(void *arg, const struct graph_resp *rs)
{
    struct graph_wreq *wr = arg;
    struct graph *g = wr->wr_g;
    struct graph_writer *w = g->g_writer;

    w->w_nreqs--;
    graph_write_answer(w, wr, rs);
    graph_write_kick(g);
}

static void
graph_write_timer(su_root_magic_t *magic, su_timer_t *t,
    struct graph_writer *w)
{
    (void)magic;
    (void)t;
    graph_write_kick(w->w_g);
}

/* Wakes us when the next delayed user or refresh falls due.  A hold, a
 * missing token and a full pipe each wake us by their own end. */
static void
graph_write_arm(struct graph_writer *w, int64_t now)
{
    int64_t due = graph_queue_next_due(w->w_queue);

    /* Users ready but held back for the next probe. */
    if (w->w_outage.go_down && graph_queue_pending(w->w_queue) > 0 &&
        w->w_inflight == 0 && (due < 0 || w->w_outage.go_probe_at < due))
        due = w->w_outage.go_probe_at;
    su_timer_reset(w->w_timer);
    if (due < 0)
        return;
    due -= now;
    if (due < 1)
        due = 1;
    if (due > 86400000)
        due = 86400000;
    if (su_timer_set_interval(w->w_timer, graph_write_timer, w,
        (su_duration_t)due) < 0)
        log_error("graph timer-failed what=write");
}

/* How many writes the next request may carry: one while Graph is down
 * (the probe) or batching is off, else a batch's worth. */
static size_t
graph_write_room(const struct graph_writer *w)
{
    if (!w->w_g->g_conf.gc_batch || w->w_outage.go_down)
        return 1;
    return GRAPH_BATCH_MAX;
}

static int
graph_write_written(void *arg, const char *id, enum graph_mech m)
{
    return graph_persist_written(arg, id, m);
}

/* The late writes of (id, m) can no longer land: it, when not NULL, is
 * the state they could have undone, queued to be written once more. */
static void
graph_write_settled(void *arg, const char *id, enum graph_mech m,
    const struct graph_intent *it)
{
    if (it != NULL)
        log_info("graph write-reassert user=%s mech=%s reason=uncertain "
            "state=%s", id, graph_queue_mech_name(m),
            graph_write_state(m, it->gi_value));
    graph_persist_sync(arg, id, m, 0);
}

static const struct graph_settle_ops graph_write_settle_ops = {
    graph_write_written, graph_write_settled
};

void
graph_write_kick(struct graph *g)
{
    struct graph_writer *w = g->g_writer;
    int64_t now = clock_now_ms();
    struct graph_intent its[GRAPH_BATCH_MAX];
    const char *ids[GRAPH_BATCH_MAX], *tok;
    size_t n;

    graph_queue_settle(w->w_queue, now, now + GRAPH_REFRESH_RETRY_MS,
        &graph_write_settle_ops, g);
    graph_queue_refresh(w->w_queue, now, now + GRAPH_REFRESH_RETRY_MS);
    while (graph_queue_ready(w->w_queue, now)) {
        if (w->w_nreqs >= GRAPH_WRITES_MAX || graph_held(g, now) ||
            !graph_outage_gate(&w->w_outage, now, w->w_inflight))
            break;
        tok = graph_token_get(g);
        if (tok == NULL)
            break;
        n = graph_queue_take(w->w_queue, now, graph_write_room(w), ids,
            its);
        if (n == 0)
            break;
        if (n == 1)
            graph_write_send(w, ids[0], &its[0], tok);
        else
            graph_write_send_batch(w, ids, its, n, tok);
    }
    graph_write_arm(w, now);
}

/* The queue is full: the first refusal is a warning, the rest are
 * counted and summed up when the queue takes writes again. */
static void
graph_write_refused(struct graph_writer *w, const char *id,
    const struct graph_op *op)
{
    w->w_refused++;
    if (w->w_refused == 1)
        log_warn("graph queue-full user=%s op=%s state=%s max=%zu "
            "action=refused", id, op->op_action, op->op_state,
            w->w_queue_max);
    else
        log_debug("graph queue-full user=%s op=%s state=%s action=refused",
            id, op->op_action, op->op_state);
}

int
graph_write_queue(struct graph *g, const char *id, enum graph_mech mech,
    int value)
{
    struct graph_writer *w = g->g_writer;
    const struct graph_op *op = graph_write_op(mech, value);
    struct graph_intent it;

    if (op == NULL || id == NULL || id[0] == '\0') {
        log_warn("graph write-refused user=%s reason=bad-state value=%d",
            id != NULL ? id : "-", value);
        return -1;
    }
    memset(&it, 0, sizeof(it));
    it.gi_mech = mech;
    it.gi_value = value;
    switch (graph_queue_put(w->w_queue, id, &it)) {
    case GRAPH_QUEUE_FULL:
        graph_write_refused(w, id, op);
        return -1;
    case GRAPH_QUEUE_REPLACED:
        log_debug("graph coalesced user=%s op=%s state=%s", id,
            op->op_action, op->op_state);
        break;
    case GRAPH_QUEUE_IN_FLIGHT:
        log_debug("graph coalesced user=%s op=%s state=%s reason=in-flight",
            id, op->op_action, op->op_state);
        break;
    case GRAPH_QUEUE_ADDED:
        break;
    }
    if (w->w_refused > 0 && (w->w_queue_max == 0 ||
        graph_queue_users(w->w_queue) < w->w_queue_max)) {
        log_info("graph queue-open refused=%zu", w->w_refused);
        w->w_refused = 0;
    }
    graph_persist_sync(g, id, mech, 0);
    graph_write_kick(g);
    return 0;
}
