/*
 * graph_subs_int.h: subscriptions as graph_subs.c (the plan),
 * graph_subs_ops.c (the Graph requests) and graph_notify.c (the webhook)
 * see them.  Event loop thread only.
 */
#ifndef PRESGW_GRAPH_SUBS_INT_H
#define PRESGW_GRAPH_SUBS_INT_H

#include "graph/graph_int.h"

/* graph-api.md 3.2: clientState is at most 128 characters. */
#define GRAPH_SUB_SECRET_LEN    65
#define GRAPH_SUB_ID_LEN        128

enum graph_sub_state {
    GRAPH_SUB_NEW = 0,      /* to be created */
    GRAPH_SUB_CREATING,     /* POST /subscriptions */
    GRAPH_SUB_LIVE,         /* Graph has it */
    GRAPH_SUB_RENEWING,     /* PATCH */
    GRAPH_SUB_LISTING,      /* GET /subscriptions after a 409 */
    GRAPH_SUB_DELETING,     /* DELETE */
    GRAPH_SUB_IDLE          /* waits: backoff, or no token yet */
};

/* One subscription, owned by one service account. */
struct graph_sub {
    struct graph_subs      *sb_subs;
    char                   *sb_account;
    char                    sb_id[GRAPH_SUB_ID_LEN];  /* "" before */
    char                    sb_secret[GRAPH_SUB_SECRET_LEN];
    time_t                  sb_expires;     /* Graph's clock, granted */
    time_t                  sb_renew_at;    /* Graph's clock */
    int64_t                 sb_not_before;  /* ms, after a failure */
    char                  **sb_users;       /* sorted */
    size_t                  sb_n;
    enum graph_sub_state    sb_state;
    int                     sb_wanted;      /* in the plan */
    int                     sb_renew_now;   /* a lifecycle event asked */
    int                     sb_recreate;    /* delete what 409 named */
    unsigned                sb_failures;
    unsigned                sb_gen;         /* the token sent */
    struct graph_req       *sb_req;
};

struct crypto_key;
struct graph_jwks;

struct graph_subs {
    struct graph           *s_g;
    struct graph_sub      **s_v;
    size_t                  s_n;
    char                  **s_watch;        /* sorted ids */
    size_t                  s_nwatch;
    su_timer_t             *s_timer;
    int                     s_active;       /* every user covered */
    int                     s_restored;
    int                     s_cloud_said;
    size_t                  s_short;        /* users uncovered, said */
    time_t                  s_skew;         /* Graph's clock less ours */
    struct crypto_key      *s_key;          /* rich: NULL when off */
    struct graph_jwks      *s_jwks;         /* validation token keys */
    struct graph_replay    *s_replay;       /* rich items taken */
};

const char *graph_sub_state_name(enum graph_sub_state st);

/* graph_subs.c */
void graph_sub_set_state(struct graph_sub *sb, enum graph_sub_state st);
int graph_sub_new_secret(struct graph_sub *sb);
void graph_subs_step(struct graph_subs *s);
void graph_subs_arm(struct graph_subs *s, int64_t due_ms);
void graph_subs_save(struct graph_sub *sb);
void graph_subs_forget(struct graph_sub *sb);
void graph_subs_set_active(struct graph_subs *s, int active);
struct graph_sub *graph_subs_find_id(const struct graph *g, const char *id);

/* graph_subs_ops.c: starts what sb needs at now; returns when it next
 * needs a look (ms), or -1 while a request is out. */
int64_t graph_sub_act(struct graph_sub *sb, int64_t now);

/* Sets sb_renew_at from sb_expires and the life granted (seconds): with
 * a third of it left. */
void graph_subs_renew_plan(struct graph_sub *sb, time_t life);

/* Graph's clock now, as its Date headers tell. */
time_t graph_subs_graph_now(const struct graph_subs *s);

/* graph_notify.c: reads these users' presence now (a missed event, a
 * basic notification). */
void graph_notify_fetch(struct graph *g, char *const *ids, size_t n);

/* graph_notify.c: the work queue goes on after a wait for keys. */
void graph_notify_resume(struct graph *g);

/* Refusals logged one by one in a batch; the rest are summed up. */
#define GRAPH_NOTIFY_DETAIL     5
/* Reasons a batch sums up; more kinds than this count under "other". */
#define GRAPH_NOTIFY_REASONS    8

struct graph_notify_reason {
    const char     *nr_name;
    size_t          nr_n;
};

/* One body of notifications as it is worked on. */
struct graph_notify_batch {
    time_t          nt_iat;     /* the tokens' newest iat; 0: unchecked */
    size_t          nt_items;
    size_t          nt_refused;
    size_t          nt_nreasons;
    struct graph_notify_reason nt_reasons[GRAPH_NOTIFY_REASONS];
};

/*
 * graph_notify.c: an item of nt refused for reason: logged in detail
 * ("graph notify-refused reason=R " and fmt) while the batch has had
 * fewer than GRAPH_NOTIFY_DETAIL refusals, counted for its summary
 * after.  reason must be a string literal.
 */
void graph_notify_refused(struct graph_notify_batch *nt, const char *reason,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/*
 * graph_notify_rich.c: rich notifications (graph-api.md 3.6).
 *
 * Opens the encryptedContent of an item of sb and hands its presence on:
 * 0.  1 when the item cannot be read this way (not our certificate,
 * content incomplete): the caller reads the user as for a basic one.  -1
 * when it is refused (logged): a wrong signature, content that does not
 * open, a user sb does not watch.
 */
struct cJSON;
int graph_notify_rich(struct graph *g, struct graph_sub *sb,
    const struct cJSON *item, struct graph_notify_batch *nt);

enum graph_tokens {
    GRAPH_TOKENS_OK,        /* every token verified */
    GRAPH_TOKENS_UNCHECKED, /* none, or no keys: content not trusted */
    GRAPH_TOKENS_WAIT,      /* keys on the way: try the batch again */
    GRAPH_TOKENS_REFUSED    /* a token failed: the batch is dropped */
};

/* Checks the batch's validationTokens, logging a refusal; with
 * GRAPH_TOKENS_OK, nt->nt_iat is the newest issue time among them. */
enum graph_tokens graph_notify_tokens(struct graph *g,
    const struct cJSON *root, struct graph_notify_batch *nt);

/* Loads (or drops) the key rich notifications are encrypted to, as the
 * settings say; a key that fails to load leaves the one before. */
void graph_notify_rich_key(struct graph_subs *s);

/*
 * graph_jwks.c: the platform's signing keys, fetched from jwks_url and
 * kept.  graph_jwks_verify() checks a validation token at now (Graph's
 * clock): WAIT while the keys are fetched (graph_notify_resume()
 * follows), NOKEYS when none could be had; *err (malloc'd) says why.
 */
struct graph_jwks;

enum graph_jwks_res {
    GRAPH_JWKS_OK,
    GRAPH_JWKS_BAD,
    GRAPH_JWKS_WAIT,
    GRAPH_JWKS_NOKEYS
};

struct graph_jwks *graph_jwks_create(struct graph *g);
void graph_jwks_free(struct graph_jwks *j);
enum graph_jwks_res graph_jwks_verify(struct graph_jwks *j, const char *jwt,
    time_t now, char **err);

/*
 * graph_replay.c: the rich items taken, to refuse their copies.
 * graph_replay_seen() is nonzero for a digest (crypto_rich_digest)
 * noted before and not yet forgotten; graph_replay_note() remembers
 * one, forgetting the oldest past a bound.  graph_replay_last() is the
 * newest token issue time (Graph's clock) of an item taken for user, 0
 * for none; graph_replay_taken() raises it to iat.
 */
struct graph_replay;

struct graph_replay *graph_replay_create(void);
void graph_replay_free(struct graph_replay *r);
int graph_replay_seen(const struct graph_replay *r, const char *digest);
void graph_replay_note(struct graph_replay *r, const char *digest);
time_t graph_replay_last(const struct graph_replay *r, const char *user);
void graph_replay_taken(struct graph_replay *r, const char *user,
    time_t iat);

#endif
