/*
 * graph.h: the Microsoft Graph client.  It runs on the su_root event loop
 * (libcurl multi socket interface) and never blocks.
 *
 * Writes: for each user, writes are sent in order, one at a time; a newer
 * intent for the same mechanism replaces one not yet sent.  With a store
 * (graph_set_store) every write not yet confirmed by Graph is kept there
 * and sent again after a restart.  Network errors, timeouts, 429 and 5xx
 * are retried for as long as the write is its user's newest (after
 * Retry-After, or a backoff up to retry_max_delay); while Graph is down
 * one write at a time probes it.  A 401 renews the token.  Refusals (400,
 * 403, 404) are logged and dropped.  While a user's session is in a call,
 * setPresence is sent again every call_refresh seconds so it does not
 * expire.  With gc_batch, writes of several users ready at once go
 * together in $batch requests of at most 20, one write per user each;
 * every inner answer is taken as that of a request sent alone.
 *
 * Reads: every poll_interval seconds the watched users are read with
 * getPresencesByUserId in chunks of at most 650 ids; each result is handed
 * to the presence callback.
 */
#ifndef PRESGW_GRAPH_H
#define PRESGW_GRAPH_H

#define SU_ROOT_MAGIC_T void
#include <sofia-sip/su_wait.h>

#include <stddef.h>
#include <stdint.h>

#include "presence/presence.h"

struct graph_conf {
    const char *gc_login_url;     /* "https://login.microsoftonline.com" */
    const char *gc_graph_url;     /* "https://graph.microsoft.com/v1.0" */
    const char *gc_scope;         /* "https://graph.microsoft.com/.default" */
    const char *gc_tenant_id;
    const char *gc_client_id;     /* also the setPresence sessionId */
    const char *gc_client_secret; /* NULL or "" with a certificate */
    const char *gc_client_cert_file; /* PEM; "" or NULL: use the secret */
    const char *gc_client_key_file;  /* PEM, the certificate's key */
    long        gc_session_expiry; /* setPresence expirationDuration, s */
    long        gc_call_refresh;  /* resend setPresence while a call lasts */
    long        gc_dnd_expiry;    /* preferred presence expiry, s; 0: none */
    long        gc_poll_interval; /* s; 0 disables polling */
    long        gc_timeout;       /* per HTTP request, s */
    long        gc_queue_max;     /* users with writes pending, at most */
    long        gc_retry_max_delay; /* s; the backoff's cap; 0: 60 */
    int         gc_batch;         /* several users' writes in one $batch */

    /* Change notifications (graph_subs.c). */
    const char *gc_notify_url;    /* public URL for Graph; "": none */
    const char *gc_lifecycle_url; /* lifecycle events; "": notify_url */
    long        gc_sub_lifetime;  /* s, a subscription asks for */
    long        gc_reconcile_interval; /* s, poll while subscribed */
    int         gc_rich;          /* includeResourceData */
    const char *gc_notify_cert_file;
    const char *gc_notify_key_file;
    const char *gc_jwks_url;
    const char *gc_cloud;         /* "global" ... */
    int         gc_cloud_notify;  /* the cloud has presence notifications */
};

/*
 * Called from the event loop for each presence read from Graph.  The
 * strings are valid during the call only; sequence may be NULL.
 */
typedef void graph_presence_cb(void *arg, const char *user_id,
    const char *availability, const char *activity, const char *sequence);

struct graph;
struct store;

/* Creates the client; the conf strings are copied.  NULL on failure. */
struct graph *graph_create(su_root_t *root, const struct graph_conf *conf,
    graph_presence_cb *cb, void *arg);

/* Cancels transfers and frees everything.  Accepts NULL. */
void graph_destroy(struct graph *g);

/* Takes a new configuration (on reload); pending writes are kept. */
int graph_reconfigure(struct graph *g, const struct graph_conf *conf);

/*
 * Gives the client its store, once, before the event loop runs: the
 * writes Graph had not confirmed when presgwd last stopped are queued
 * again in their order (nothing is sent before the loop runs, so intents
 * queued meanwhile coalesce with them), and from now on every queued write
 * is kept in the store's "gwq" records until Graph confirms it; a
 * confirmation also updates graph_written, in the same transaction.
 * With store_path (NULL in tests) it also loads the service accounts,
 * taking in those presgwctl spooled beside the store, and the Graph
 * subscriptions.  Returns the number of writes restored, or -1 (logged)
 * when the store cannot be read.  The store outlives the client.
 */
int graph_set_store(struct graph *g, struct store *st,
    const char *store_path);

/* Queues the app session state for user_id (an Entra object id).
 * 0 when queued; -1 (logged) when refused: a bad state, or a full
 * queue. */
int graph_set_session(struct graph *g, const char *user_id,
    enum pres_session st);

/* Queues the preferred presence for user_id; returns as above. */
int graph_set_pref(struct graph *g, const char *user_id, enum pres_pref st);

/* The newest session (or preferred) state queued or in flight for
 * user_id: 0 and *out set, or -1 when none is. */
int graph_queued_session(const struct graph *g, const char *user_id,
    enum pres_session *out);
int graph_queued_pref(const struct graph *g, const char *user_id,
    enum pres_pref *out);

/* Replaces the set of users polled; the ids are copied. */
void graph_set_watch(struct graph *g, const char *const *ids, size_t n);

/* Starts a poll at once (also done every poll_interval). */
void graph_poll_now(struct graph *g);

/* Writes queued or in flight, for status output and tests. */
size_t graph_pending(const struct graph *g);

/* Why writes may not be reaching Graph now, for /healthz. */
struct graph_status {
    size_t      gs_pending;     /* writes queued or in flight */
    int         gs_outage;      /* Graph down: one probe at a time */
    int64_t     gs_outage_ms;   /* down for this long */
    unsigned    gs_probes;      /* failed tries since it went down */
    int         gs_held;        /* a 429 holds every request */
    int64_t     gs_held_ms;     /* the hold has this long to run */
};
void graph_status(const struct graph *g, struct graph_status *out);


/* SIGHUP: takes in accounts presgwctl left, reads them again. */
void graph_accounts_reload(struct graph *g);

/*
 * Adds "accounts": [{name, upn, state[, reason]}] to obj.  Returns 0 when
 * every account works (or there is none), 1 when some need a sign-in,
 * 2 when all do.
 */
struct cJSON;
int graph_accounts_health(struct graph *g, struct cJSON *obj);

/*
 * Graph posted to our notification or lifecycle URL.  validation is the
 * validationToken query parameter (decoded) or NULL; body and len what
 * was posted.  Returns the HTTP status to answer at once, with *type and
 * *reply (NULL: no body) valid until the handler returns; the work
 * happens later, from the loop.
 */
int graph_notify_post(struct graph *g, const char *validation,
    const char *body, size_t len, const char **type, const char **reply);

#endif
