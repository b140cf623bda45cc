/*
 * graph_acct.h: service accounts, as kept on disk.  A service account is
 * a Teams user whose delegated token (graph-api.md 3.1: presence
 * subscriptions take delegated Presence.Read.All only) owns our change
 * notification subscriptions.  presgwctl signs it in; presgwd keeps its
 * refresh token fresh.
 *
 * Each account is one store record, namespace "account", key its name,
 * value JSON.  While presgwd runs it holds the store's lock, so presgwctl
 * leaves what it has to say in the spool directory "<store path>.accounts"
 * (mode 0700, one 0600 file per account) and presgwd takes it into the
 * store at start and on SIGHUP.
 *
 * Used by presgwd and presgwctl alike; nothing here touches the network.
 */
#ifndef PRESGW_GRAPH_ACCT_H
#define PRESGW_GRAPH_ACCT_H

#include <time.h>

struct store;

#define GRAPH_ACCT_NS       "account"
#define GRAPH_ACCT_NAME_MAX 128

/* What the daemon last knew of an account. */
#define GRAPH_ACCT_STATE_OK     "ok"
#define GRAPH_ACCT_STATE_SIGNIN "signin-required"

/* One account; every string is malloc'd and owned by the record. */
struct graph_acct_rec {
    char   *ar_name;
    char   *ar_upn;         /* "" when unknown */
    char   *ar_oid;         /* Entra object id; "" when unknown */
    char   *ar_refresh;     /* the refresh token: a secret */
    char   *ar_state;       /* GRAPH_ACCT_STATE_* */
    char   *ar_reason;      /* why sign-in is needed; "" */
    time_t  ar_updated;     /* last change, clock_now() seconds */
    int     ar_logout;      /* spool only: remove the account */
};

/* 1 when name is 1 to GRAPH_ACCT_NAME_MAX of [A-Za-z0-9._@-]. */
int graph_acct_name_ok(const char *name);

/* Reads the JSON of a record named name into r (which the caller then
 * clears).  -1 when it is not a record. */
int graph_acct_decode(const char *name, const char *json,
    struct graph_acct_rec *r);

/* The JSON of r, malloc'd (it holds the refresh token). */
char *graph_acct_encode(const struct graph_acct_rec *r);

/* Frees and wipes what r holds; r may be reused. */
void graph_acct_clear(struct graph_acct_rec *r);

/* The spool directory of a store path, malloc'd. */
char *graph_acct_spool_dir(const char *store_path);

/*
 * Leaves r in the spool for presgwd (r->ar_logout set: a removal),
 * written whole or not at all.  -1 with a message in *err.
 */
int graph_acct_spool_put(const char *store_path,
    const struct graph_acct_rec *r, char **err);

/*
 * Moves every spooled account into the store, one transaction per file,
 * a file removed only once its record is committed.  Returns how many
 * were taken; bad files are logged and left.
 */
int graph_acct_spool_import(const char *store_path, struct store *s);

/* Calls fn for each spooled record (presgwctl accounts). */
typedef void graph_acct_cb(void *arg, const struct graph_acct_rec *r);
void graph_acct_spool_each(const char *store_path, graph_acct_cb *fn,
    void *arg);

/*
 * The delegated scope of a service account, from the application's
 * scope ("https://graph.microsoft.com/.default"): the same resource's
 * Presence.Read.All, and offline_access for a refresh token.  Malloc'd.
 */
char *graph_acct_scope(const char *app_scope);

#endif
