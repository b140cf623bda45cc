/*
 * graph_int.h: the parts of the Graph client, as they see each other.
 * Only src/graph/ and its unit tests include this file.
 *
 *   graph.c        the client object, the public API, the tenant hold
 *   graph_http.c   libcurl multi on su_root: one request, one callback
 *   graph_token.c  the client credentials token and its renewal
 *   graph_write.c  setPresence and friends, driven by the write queue
 *   graph_batch.c  JSON batches: several requests in one $batch
 *   graph_queue.c  the write queue itself, free of any I/O
 *   graph_poll.c   getPresencesByUserId in chunks
 *   graph_rate.c   what an answer means and how long to wait
 *   graph_outage.c Graph down: one probe at a time, and its log lines
 *   graph_persist.c the queue kept in the store, and graph_written
 *   graph_acct.c   service account records and their spool
 *   graph_accts.c  service accounts' delegated tokens
 *   graph_subs.c   change notification subscriptions
 *   graph_notify.c what Graph posts to our webhook
 *   graph_notify_rich.c  rich notifications: content and tokens
 *   graph_jwks.c   the identity platform's signing keys
 *
 * Everything here runs on the event loop thread.
 */
#ifndef PRESGW_GRAPH_INT_H
#define PRESGW_GRAPH_INT_H

#include <stdint.h>
#include <time.h>

#include "core.h"
#include "graph/graph.h"

/* graph-api.md 1.2: getPresencesByUserId takes at most 650 ids. */
#define GRAPH_CHUNK_IDS         650

/* The largest answer we read; 650 presences take about 400 kB. */
#define GRAPH_RESP_MAX          (4 * 1024 * 1024)

/* Requests in flight at once, for writes and for one poll. */
#define GRAPH_WRITES_MAX        16
#define GRAPH_POLLS_MAX         4

/* A poll chunk is tried this often before the poll goes on without it. */
#define GRAPH_POLL_TRIES        4

/* graph-api.md 1.3: setPresence takes PT5M..PT4H. */
#define GRAPH_SESSION_MIN       300
#define GRAPH_SESSION_MAX       14400

/* Backoff without Retry-After: 1 s, doubling, at most 60 s unless
 * graph.retry_max_delay says otherwise. */
#define GRAPH_BACKOFF_FIRST_MS  1000
#define GRAPH_BACKOFF_MAX_MS    60000

/* The store's namespace for writes not yet confirmed (docs/store.md). */
#define GRAPH_PERSIST_NS        "gwq"

/* A Retry-After longer than this is taken as this. */
#define GRAPH_RETRY_AFTER_MAX   3600

/* The client: one per tenant and application. */
struct graph {
    su_root_t                *g_root;
    struct graph_conf         g_conf;       /* strings owned */
    graph_presence_cb        *g_cb;
    void                     *g_cb_arg;
    struct graph_http        *g_http;
    struct graph_token       *g_token;
    struct graph_writer      *g_writer;
    struct graph_poller      *g_poller;
    int64_t                   g_hold_until; /* ms; a 429 holds the tenant */
    su_timer_t               *g_hold_timer;
    uint32_t                  g_rnd;        /* jitter state */
    struct store             *g_store;      /* NULL: nothing persisted */
    struct htab               g_written;    /* id -> graph_written */
    char                     *g_store_path;
    struct graph_accts       *g_accts;
    struct graph_subs        *g_subs;
    struct graph_notify      *g_notify;
    struct htab               g_seq;        /* id -> last sequenceNumber */
};

/* What Graph last confirmed for a user, per mechanism (graph_written). */
struct graph_written {
    char    *gw_id;
    int      gw_value[2];   /* by enum graph_mech */
};

/*
 * graph.c: shared by the parts.
 */

/* Holds every Graph request of the tenant until until_ms (clock_now_ms
 * time): Graph throttles per application and tenant, so one 429 speaks for
 * all.  A later hold extends an earlier one. */
void graph_hold(struct graph *g, int64_t until_ms);

/* Nonzero while a hold is in force at now_ms. */
int graph_held(const struct graph *g, int64_t now_ms);

/* Lets writes and polls go on: called when a token arrives or a hold
 * ends. */
void graph_kick(struct graph *g);

/* A pseudo-random number for jitter. */
uint32_t graph_random(struct graph *g);

/* Formats a delay for logs: "2s", "1.750s". */
const char *graph_fmt_delay(char *out, size_t len, int64_t ms);

/*
 * graph_http.c: HTTP requests through libcurl's multi socket interface,
 * with its sockets and timer on the su_root.
 */
struct graph_http;
struct graph_req;

/* One answer, valid during the completion callback only. */
struct graph_resp {
    long         rs_status;      /* HTTP status; 0 when no answer came */
    const char  *rs_error;       /* why no answer came, or "" */
    int          rs_sent;        /* some of the request went out: with
                                    no answer, Graph may still act on it */
    const char  *rs_body;        /* never NULL; terminated */
    size_t       rs_len;
    const char  *rs_retry_after; /* the Retry-After header, or NULL */
    int64_t      rs_ms;          /* how long the request took */
    time_t       rs_date;        /* the Date header, or 0 */
    int          rs_batch;       /* enum graph_batch_kind */
};

typedef void graph_http_cb(void *arg, const struct graph_resp *rs);

/* Creates the HTTP layer on root; NULL when libcurl cannot start. */
struct graph_http *graph_http_create(su_root_t *root);

/* Cancels every request without calling its callback, and frees.
 * Accepts NULL.  Not from a completion callback. */
void graph_http_destroy(struct graph_http *h);

/*
 * Starts a request.  method is "GET", "POST", "PATCH" or "DELETE";
 * body (may be NULL) and ctype are copied; bearer, when not NULL,
 * becomes the Authorization header.  timeout is in seconds.  cb is
 * called once, from the event loop, when the request ends; the request
 * is freed after cb returns.
 * Returns NULL (and never calls cb) when the request cannot start.
 */
struct graph_req *graph_http_request(struct graph_http *h,
    const char *method, const char *url, const char *ctype,
    const char *body, const char *bearer, long timeout,
    graph_http_cb *cb, void *arg);

/* Cancels a request before it ends; cb is not called.  Accepts NULL. */
void graph_http_cancel(struct graph_req *r);

/* Appends s to b, percent-encoding all but RFC 3986 unreserved bytes. */
void graph_http_escape(struct buf *b, const char *s);

/* Copies a word a remote peer sent into out for a log line, keeping only
 * letters, digits and "-._" so the peer cannot forge log fields. */
void graph_http_log_copy(char *out, const char *s, size_t outlen);

/* Copies Graph's error code ({"error":{"code":...}}) from an answer body
 * into out, or "-" when there is none. */
void graph_http_error_code(const char *body, size_t len, char *out,
    size_t outlen);

/*
 * graph_token.c: the application token (client credentials grant).
 */
struct graph_token;

struct graph_token *graph_token_create(struct graph *g);
void graph_token_free(struct graph_token *t);

/* The token to send, or NULL while one is being fetched (or while a
 * failed fetch backs off); graph_kick() follows when one arrives. */
const char *graph_token_get(struct graph *g);

/* A number that changes with each new token, for graph_token_drop(). */
unsigned graph_token_gen(const struct graph *g);

/* Graph said 401 to a request sent with token gen: forget that token. */
void graph_token_drop(struct graph *g, unsigned gen);

/* Forgets the token and any backoff (new credentials). */
void graph_token_reset(struct graph *g);

/* After a reload: with new credentials, forgets the token; else names it
 * to the log layer again, in case the reload cleared its secrets. */
void graph_token_reconfigure(struct graph *g, int creds_changed);

/*
 * graph_rate.c: how to take an answer, and how long to wait before the
 * next try.  Pure functions; unit-tested.
 */
enum graph_result {
    GRAPH_OK = 0,       /* done */
    GRAPH_RETRY,        /* try again later: throttled, Graph or network */
    GRAPH_REAUTH,       /* the token was refused: renew it, try again */
    GRAPH_GONE,         /* no such user, or no such session */
    GRAPH_FAILED        /* Graph refused the request; trying again won't
                           help */
};

/* Maps an HTTP status (0: no answer) to what the caller does next. */
enum graph_result graph_rate_classify(long status);

const char *graph_rate_result_name(enum graph_result r);

/* Parses Retry-After (RFC 9110 section 10.2.3: delta-seconds or an
 * HTTP-date) into seconds from now, at least 0; -1 when value is NULL or
 * not valid. */
long graph_rate_retry_after(const char *value, time_t now);

/* The backoff before the next try after failures (>= 1) failed tries:
 * 1 s, 2 s, 4 s ... at most 60 s, less up to a fifth picked by rnd. */
int64_t graph_rate_backoff_ms(unsigned failures, uint32_t rnd);

/* The same, at most max_ms (0: 60 s): graph.retry_max_delay. */
int64_t graph_rate_backoff_cap_ms(unsigned failures, int64_t max_ms,
    uint32_t rnd);

/* The wait after a failed try: Retry-After when valid (at most
 * GRAPH_RETRY_AFTER_MAX), else the backoff. */
int64_t graph_rate_delay_ms(const char *retry_after, unsigned failures,
    time_t now, uint32_t rnd);

/* The same with the backoff at most max_ms (0: 60 s). */
int64_t graph_rate_delay_cap_ms(const char *retry_after, unsigned failures,
    int64_t max_ms, time_t now, uint32_t rnd);

/*
 * graph_queue.c: writes waiting for Graph, per user.  Pure data; no I/O.
 *
 * Each user has at most one write in flight and one pending write per
 * mechanism.  A newer intent replaces the pending one of its mechanism;
 * the order per user is that in which each mechanism was first queued.
 * Users take turns in the order they became ready.
 */
enum graph_mech {
    GRAPH_MECH_SESSION = 0,     /* setPresence / clearPresence */
    GRAPH_MECH_PREF,            /* setUserPreferredPresence / clear... */
    GRAPH_MECH_COUNT
};

#define GRAPH_INTENT_REFRESH    0x01u   /* resent to keep a call shown */
#define GRAPH_INTENT_REAUTHED   0x02u   /* already retried after a 401 */
#define GRAPH_INTENT_ALONE      0x04u   /* a batch lost it: send it alone */
#define GRAPH_INTENT_REASSERT   0x08u   /* sent again after writes that got
                                           no answer (graph_queue_late) */

struct graph_intent {
    enum graph_mech  gi_mech;
    int              gi_value;      /* enum pres_session or pres_pref */
    unsigned         gi_failures;   /* failed tries, for the backoff */
    unsigned         gi_flags;      /* GRAPH_INTENT_* */
    uint64_t         gi_stamp;      /* order; 0: the queue assigns one */
};

enum graph_queue_put {
    GRAPH_QUEUE_ADDED,          /* queued */
    GRAPH_QUEUE_REPLACED,       /* replaced a pending intent */
    GRAPH_QUEUE_IN_FLIGHT,      /* the same intent is being sent */
    GRAPH_QUEUE_FULL            /* refused: max users have writes */
};

struct graph_queue;

/* max: users with writes queued or in flight at most; 0: no bound. */
struct graph_queue *graph_queue_create(size_t max);
void graph_queue_free(struct graph_queue *q);
void graph_queue_set_max(struct graph_queue *q, size_t max);

/* Queues it for user id (copied).  When the write in flight for id
 * already says the same, nothing is queued and an older pending intent of
 * that mechanism is dropped too (GRAPH_QUEUE_IN_FLIGHT).  The order stamp:
 * an intent that replaces a pending one keeps that one's stamp (and so its
 * place); a new one keeps a stamp it brings (restored from the store) or
 * gets the next one.  A user's writes go out in the order of their
 * stamps. */
enum graph_queue_put graph_queue_put(struct graph_queue *q, const char *id,
    const struct graph_intent *it);

/* "session" or "pref", for logs and the store. */
const char *graph_queue_mech_name(enum graph_mech m);

/*
 * Writes that got no answer.  Graph may still apply such a write later,
 * after a newer one of the same user and mechanism was confirmed, and its
 * older state would then win.  So the queue remembers, per user and
 * mechanism, the values of those writes (a bit each) and the time by
 * which they land if ever; when that time comes, the state Graph should
 * show is written once more if one of them could have undone it.
 */

/* Writes of mechanism m for id that carried the values in the bit set
 * values got no answer; they may land until late_by (clock_now_ms()
 * time).  A later time than one already set wins. */
void graph_queue_uncertain(struct graph_queue *q, const char *id,
    enum graph_mech m, unsigned values, int64_t late_by);

/* The values remembered for (id, m), and their time in *late_by when
 * not NULL; 0 when none. */
unsigned graph_queue_late(const struct graph_queue *q, const char *id,
    enum graph_mech m, int64_t *late_by);

/* What graph_queue_settle() asks of its caller. */
struct graph_settle_ops {
    /* The value Graph last confirmed for (id, m). */
    int  (*so_written)(void *arg, const char *id, enum graph_mech m);
    /* The late values of (id, m) are forgotten; it, when not NULL, was
     * queued to be written once more.  id is valid during the call. */
    void (*so_settled)(void *arg, const char *id, enum graph_mech m,
        const struct graph_intent *it);
};

/* For every user whose late_by has come, and each mechanism with late
 * values: when a write of it waits to go, that write comes after them
 * anyway; else the state to show (the write in flight, else the one
 * Graph confirmed last) is queued once more, flagged
 * GRAPH_INTENT_REASSERT, unless every late value is that same state.
 * One refused for a full queue is tried again at retry_at.  Returns how
 * many were queued. */
size_t graph_queue_settle(struct graph_queue *q, int64_t now,
    int64_t retry_at, const struct graph_settle_ops *ops, void *arg);

/* Nonzero when graph_queue_next() would return a write at now. */
int graph_queue_ready(struct graph_queue *q, int64_t now);

/* Takes the next write to send and marks its user busy.  Returns the user
 * id (owned by the queue; valid until graph_queue_done() or
 * graph_queue_retry() for that user) or NULL. */
const char *graph_queue_next(struct graph_queue *q, int64_t now,
    struct graph_intent *out);

/* Takes up to max writes that may share one $batch, as graph_queue_next()
 * would hand them out: one per user (a user's next write waits for the
 * answer to this one, so a batch never reorders a user's writes), and a
 * write flagged GRAPH_INTENT_ALONE only by itself.  Returns how many
 * were put in ids and its. */
size_t graph_queue_take(struct graph_queue *q, int64_t now, size_t max,
    const char **ids, struct graph_intent *its);

/* The write in flight for id has ended, sent or given up.  For a session
 * write, refresh_at >= 0 asks graph_queue_refresh() to queue it again at
 * that time; -1 stops that. */
void graph_queue_done(struct graph_queue *q, const char *id,
    int64_t refresh_at);

/* The write in flight for id is to be tried again, it (with its failure
 * count) not before not_before.  A newer pending intent of the same
 * mechanism wins over it.  The user waits until then. */
void graph_queue_retry(struct graph_queue *q, const char *id,
    const struct graph_intent *it, int64_t not_before);

/* Queues a refresh for every user whose refresh time has come and who has
 * no session write of its own coming.  One refused for a full queue is
 * tried again at retry_at.  Returns how many were queued. */
size_t graph_queue_refresh(struct graph_queue *q, int64_t now,
    int64_t retry_at);

/* Keeps session value (a call) of id shown: a refresh at at_ms, then every
 * call_refresh as after a write (used at start for calls Graph confirmed
 * before the stop). */
void graph_queue_keep(struct graph_queue *q, const char *id, int value,
    int64_t at_ms);

/* The earliest time a delayed user, a refresh or late values fall due;
 * -1: none. */
int64_t graph_queue_next_due(const struct graph_queue *q);

/* The newest intent of mechanism m for id: the pending one, else the
 * one in flight; NULL when there is neither.  Valid until the next call
 * that changes the queue. */
const struct graph_intent *graph_queue_newest(const struct graph_queue *q,
    const char *id, enum graph_mech m);

/* Writes queued or in flight. */
size_t graph_queue_pending(const struct graph_queue *q);

/* Users with writes queued or in flight. */
size_t graph_queue_users(const struct graph_queue *q);

/* Calls fn for every user the queue holds (for a resync). */
void graph_queue_each(const struct graph_queue *q,
    void (*fn)(void *arg, const char *id), void *arg);

/*
 * graph_write.c: sends what the queue hands out.
 */
struct graph_writer;

struct graph_writer *graph_write_create(struct graph *g);
void graph_write_free(struct graph_writer *w);
int graph_write_queue(struct graph *g, const char *id,
    enum graph_mech mech, int value);
void graph_write_kick(struct graph *g);
void graph_write_reconfigure(struct graph *g);
size_t graph_write_pending(const struct graph *g);

/* The writer's outage state. */
const struct graph_outage *graph_write_outage(const struct graph *g);

/* The state's name for logs and the store ("in-call", "dnd"), or NULL
 * when value is no state of mech. */
const char *graph_write_state(enum graph_mech mech, int value);

/* The queue, for graph_persist.c. */
struct graph_queue *graph_write_q(struct graph *g);
const struct graph_queue *graph_write_cq(const struct graph *g);

/* The queue was restored: with writes that had failed (probes: the most
 * tries of one), Graph is taken as down until a probe at probe_at gets
 * through. */
void graph_write_restored(struct graph *g, unsigned probes,
    int64_t probe_at);

/* The time by which a write that got no answer at now lands, if ever. */
int64_t graph_write_late_by(const struct graph *g, int64_t now);

/* Formats an ISO 8601 duration ("PT5M", "P1DT2H") for secs > 0. */
void graph_write_duration(char *out, size_t len, long secs);

/*
 * graph_batch.c: JSON batching (graph-api.md 5): up to GRAPH_BATCH_MAX
 * requests in one POST to {graph_url}/$batch.  Graph answers each inner
 * request on its own (and throttles each on its own: a batch saves round
 * trips, not rate budget), so each request's callback gets an answer as
 * if it had been sent alone, with rs_batch saying where it came from.
 */
#define GRAPH_BATCH_MAX         20

enum graph_batch_kind {
    GRAPH_BATCH_NONE = 0,   /* sent alone */
    GRAPH_BATCH_INNER,      /* Graph's answer to this request */
    GRAPH_BATCH_OUTER,      /* the batch's own answer speaks for all of
                               it: no answer, 401, 408, 429, 5xx */
    GRAPH_BATCH_LOST        /* the batch was answered but not this
                               request (refused or unreadable batch, an
                               answer missing): send it again alone */
};

struct graph_batch_item {
    const char     *bi_path;    /* below graph_url: "/users/ID/..." */
    const char     *bi_body;    /* JSON text, or NULL */
    graph_http_cb  *bi_cb;
    void           *bi_arg;
};

/* One inner answer, as graph_batch_decode() found it. */
struct graph_batch_answer {
    long        ba_status;      /* 0: the answer has none for it */
    char       *ba_body;        /* JSON text (owned), or NULL */
    char        ba_retry_after[64];
};

/* The $batch body for n (1..GRAPH_BATCH_MAX) POSTs: ids "1".."n" in
 * order, no dependsOn.  The caller frees it with cJSON_free(). */
char *graph_batch_encode(const struct graph_batch_item *items, size_t n);

/* Reads a $batch answer into out[0..n-1], by id.  Returns 0, or -1 when
 * the text is no batch answer; out is then all zero. */
int graph_batch_decode(const char *text, size_t len,
    struct graph_batch_answer *out, size_t n);
void graph_batch_answers_free(struct graph_batch_answer *a, size_t n);

/* Sends items as one POST to $batch, with method POST each; each
 * callback is called once, in order, then done(arg) once.  NULL (and no
 * callback) when the request cannot start. */
struct graph_batch;
struct graph_batch *graph_batch_send(struct graph *g,
    const struct graph_batch_item *items, size_t n, const char *bearer,
    void (*done)(void *arg), void *arg);

/* Cancels a batch before it ends; no callback is called.  Accepts NULL. */
void graph_batch_cancel(struct graph_batch *b);

/*
 * graph_outage.c: Graph is down when a write fails for a reason of
 * Graph's or the network's (no answer, 408, 5xx; not a 429, which holds
 * the tenant instead).  While it is, one write at a time probes it, after
 * a backoff that grows with each failed probe; the queue holds.  The
 * first answer that is not such a failure ends the outage, and the queue
 * drains.  Pure state and log lines; the writer does the I/O.
 */
struct graph_outage {
    int         go_down;
    int64_t     go_since;       /* ms */
    unsigned    go_probes;      /* failed probes, the first failure too */
    int64_t     go_probe_at;    /* the next probe, not before */
};

/* A write failed that way at now; was_probe: it was sent while down.
 * Starts the outage (logs "graph outage-start") or, after a probe, pushes
 * the next one back.  Returns the time the failed write may go again. */
int64_t graph_outage_fail(struct graph_outage *o, int64_t now,
    const char *retry_after, int64_t max_ms, uint32_t rnd, int was_probe,
    const char *why);

/* Graph answered: ends an outage (logs "graph outage-end pending=N"). */
void graph_outage_over(struct graph_outage *o, int64_t now, size_t pending);

/* Nonzero when a write may be sent now with inflight writes on the wire:
 * always while Graph is up; while down, one probe once its time came. */
int graph_outage_gate(const struct graph_outage *o, int64_t now,
    unsigned inflight);

/* Nonzero while down; then *since_ms and *probes say since when
 * (clock_now_ms time) and after how many failed probes. */
int graph_outage_down(const struct graph_outage *o, int64_t *since_ms,
    unsigned *probes);

/* Starts the outage state from a restart: writes restored with failed
 * tries (the most of them: probes) may go from probe_at, one at a time. */
void graph_outage_restore(struct graph_outage *o, int64_t now,
    unsigned probes, int64_t probe_at, size_t pending);

/*
 * graph_persist.c: the writes not yet confirmed, kept in the store under
 * GRAPH_PERSIST_NS, one record per user and mechanism (key "ID/session"
 * or "ID/pref"), always the newest intent; and graph_written, what Graph
 * confirmed.  Without a store only the latter is kept, in memory.
 */

/* One record: the newest intent of a user and mechanism, and the values
 * of its writes that got no answer (graph_queue_late). */
struct graph_persist_rec {
    int                 pr_pending;     /* pr_it waits to be written; 0:
                                           the record is kept for the late
                                           values alone */
    struct graph_intent pr_it;          /* without pr_pending, only its
                                           mechanism and the value last
                                           confirmed */
    int64_t             pr_next_at;     /* clock_now_ms() time of the next
                                           try, 0 for at once */
    unsigned            pr_late;        /* late values, a bit each */
    int64_t             pr_late_by;     /* clock_now_ms() time */
};

/* A record's JSON value; the caller frees it. */
char *graph_persist_encode(const char *id, const struct graph_persist_rec *r);

/* Reads a record back; 0, or -1 when it is not one of ours. */
int graph_persist_decode(const char *text, char *id, size_t idlen,
    struct graph_persist_rec *r);

/* Reads graph_written and the records, and queues the records in stamp
 * order.  Returns how many were queued, or -1. */
int graph_persist_load(struct graph *g);

struct store;
void graph_persist_resync(void *arg, struct store *st);
void graph_accts_resync(struct graph *g);

/*
 * The identity platform's token answers, shared by the application
 * token and the service accounts: expires_in in seconds (0 when absent
 * or absurd), and a refusal's OAuth error word and first AADSTS code,
 * copied for a log line ("-" when absent).
 */
struct cJSON;
long graph_oauth_lifetime(const struct cJSON *answer);
void graph_oauth_error(const struct graph_resp *rs, char *err,
    size_t errlen, char *code, size_t codelen);
void graph_subs_resync(struct graph *g);

/* Mirrors the newest intent of (id, m) and its late values to the store:
 * put, or delete when there are neither.  next_at as pr_next_at. */
void graph_persist_sync(struct graph *g, const char *id, enum graph_mech m,
    int64_t next_at);

/* Graph confirmed it for id: graph_written takes it, and the record goes
 * unless a newer intent waits; one transaction. */
void graph_persist_confirm(struct graph *g, const char *id,
    const struct graph_intent *it);

/* The last value Graph confirmed for (id, m), 0 (clear) when none. */
int graph_persist_written(const struct graph *g, const char *id,
    enum graph_mech m);

/* Frees graph_written's copy in memory. */
void graph_persist_free(struct graph *g);

/*
 * graph_poll.c: reads the watched users' presence.
 */
struct graph_poller;

struct graph_poller *graph_poll_create(struct graph *g);
void graph_poll_free(struct graph_poller *p);
void graph_poll_watch(struct graph *g, const char *const *ids, size_t n);
void graph_poll_start(struct graph *g);
void graph_poll_kick(struct graph *g);
void graph_poll_reconfigure(struct graph *g);

/*
 * graph_accts.c: service accounts and their delegated tokens.
 */
struct graph_accts;

struct graph_accts *graph_accts_create(struct graph *g);
void graph_accts_free(struct graph_accts *as);

/* Takes in the spool, then (re)reads the accounts from the store. */
void graph_accts_load(struct graph *g);

size_t graph_accts_count(const struct graph *g);

/* The names of the accounts not waiting for a sign-in, in name order;
 * valid until the next load.  Returns how many (at most max). */
size_t graph_accts_names(const struct graph *g, const char **names,
    size_t max);

/* Nonzero when the account exists and needs no sign-in. */
int graph_accts_usable(const struct graph *g, const char *name);

/* The account's access token, or NULL while one is fetched (then
 * graph_subs_kick() follows) or when it cannot be had.  *gen, when not
 * NULL, identifies the token for graph_accts_drop(). */
const char *graph_accts_token(struct graph *g, const char *name,
    unsigned *gen);

/* Graph said 401 to the token gen of the account: forget it. */
void graph_accts_drop(struct graph *g, const char *name, unsigned gen);

/*
 * graph_subs.c: change notification subscriptions over the watched users.
 */
struct graph_subs;

struct graph_subs *graph_subs_create(struct graph *g);
void graph_subs_free(struct graph_subs *s);

/* Something changed (accounts, tokens, users, settings): look again. */
void graph_subs_kick(struct graph *g);

/* The watched users changed. */
void graph_subs_watch(struct graph *g, const char *const *ids, size_t n);

/* After a reload. */
void graph_subs_reconfigure(struct graph *g);

/* Nonzero when every watched user is covered by a live subscription. */
int graph_subs_active(const struct graph *g);

/* Graph answered with this Date header (0: none): subscription expiries
 * are on Graph's clock, so one that moved has them planned again. */
void graph_subs_clock(struct graph *g, time_t date);

/*
 * graph_notify.c: the webhook's work queue and its presence reads.
 */
struct graph_notify;

struct graph_notify *graph_notify_create(struct graph *g);
void graph_notify_free(struct graph_notify *n);

/* A token arrived or a hold ended: reads that wait go out. */
void graph_notify_kick(struct graph *g);

/*
 * graph.c: a presence read from Graph, by poll or notification, handed
 * to the presence callback.  from_notify drops versions not newer than
 * the last one handed on (webhook retries and duplicates); polls go
 * through as before, so the agent still sees a reset of the numbering.
 */
void graph_presence(struct graph *g, const char *id, const char *av,
    const char *act, const char *seq, int from_notify);

#endif
