/*
 * store.h: where presgwd keeps what it needs to resume: the user map,
 * publications, the last Teams presence seen and the last Graph state
 * written.  A backend (SQLite now) sits behind struct store_ops.
 *
 * All calls run on the event loop.  Strings handed to callbacks are valid
 * during the callback only.  Functions return 0, or -1 after logging why.
 */
#ifndef PRESGW_STORE_H
#define PRESGW_STORE_H

#include <stddef.h>
#include <time.h>

struct store_user {
    const char *su_aor;      /* "alice@example.com" (no scheme) */
    const char *su_id;       /* Entra object id */
    const char *su_upn;      /* may be "" */
};

struct store_pub {
    const char *sp_etag;
    const char *sp_aor;
    time_t      sp_expires;  /* absolute, clock_now() seconds */
    int         sp_status;   /* enum pres_status */
    const char *sp_note;
};

struct store_teams {
    const char *st_id;
    const char *st_availability;
    const char *st_activity;
    const char *st_sequence;
};

struct store_graph {
    const char *sg_id;
    int         sg_session;  /* enum pres_session last written */
    int         sg_pref;     /* enum pres_pref last written */
};

typedef void store_user_cb(void *arg, const struct store_user *u);
typedef void store_pub_cb(void *arg, const struct store_pub *p);
typedef void store_teams_cb(void *arg, const struct store_teams *t);
typedef void store_graph_cb(void *arg, const struct store_graph *g);
typedef void store_rec_cb(void *arg, const char *key, const char *value);

struct store;

/*
 * A resync: writes every row its subsystem owns (after clearing them)
 * from what it holds in memory.  Called by store_tick() inside one
 * transaction once the store takes writes again after losing some.
 */
typedef void store_resync_cb(void *arg, struct store *s);

/* The tables store_clear() empties. */
enum store_table {
    STORE_PUBS,
    STORE_TEAMS,
    STORE_GRAPH
};

/* Whether the path still leads to the file the store has open. */
enum store_file {
    STORE_FILE_OK,
    STORE_FILE_MISSING,     /* removed: nothing at the path */
    STORE_FILE_REPLACED     /* another file at the path */
};

/* One backend.  Each slot mirrors the store_* function of its name. */
struct store_ops {
    const char *so_name;
    struct store *(*so_open)(const char *path, char **err);
    void (*so_close)(struct store *s);
    int (*so_users_replace)(struct store *s, const struct store_user *u,
        size_t n);
    int (*so_users_each)(struct store *s, store_user_cb *cb, void *arg);
    int (*so_pub_put)(struct store *s, const struct store_pub *p);
    int (*so_pub_del)(struct store *s, const char *etag);
    int (*so_pub_each)(struct store *s, store_pub_cb *cb, void *arg);
    int (*so_teams_put)(struct store *s, const struct store_teams *t);
    int (*so_teams_each)(struct store *s, store_teams_cb *cb, void *arg);
    int (*so_graph_put)(struct store *s, const struct store_graph *g);
    int (*so_graph_each)(struct store *s, store_graph_cb *cb, void *arg);
    int (*so_rec_put)(struct store *s, const char *ns, const char *key,
        const char *value);
    int (*so_rec_del)(struct store *s, const char *ns, const char *key);
    int (*so_rec_each)(struct store *s, const char *ns, store_rec_cb *cb,
        void *arg);
    int (*so_begin)(struct store *s);
    int (*so_commit)(struct store *s);
    int (*so_rollback)(struct store *s);
    int (*so_clear)(struct store *s, enum store_table t);
    int (*so_rec_clear)(struct store *s, const char *ns);
    /* Tries one small write, quietly: 0 if the store takes writes. */
    int (*so_probe)(struct store *s);
    int (*so_check)(const char *path, char **err);
    /* An enum store_file, from a stat of the path. */
    int (*so_file)(struct store *s);
    /* Opens a new, empty store at the path in place of the open one,
     * which is kept if that fails (-1, *err set, the caller frees). */
    int (*so_recreate)(struct store *s, char **err);
};

extern const struct store_ops store_sqlite_ops;

/*
 * Opens the store at path (created if absent), checking its integrity,
 * that it is a presgwd store of a schema version this presgwd knows
 * (older ones are brought up to date) and that it can be written.  NULL
 * on failure with one line in *err (the caller frees it) that names the
 * file, what is wrong and what to do.  A file that is refused is left as
 * it was.
 */
struct store *store_open(const char *path, char **err);

/*
 * What store_open() would say about path, without changing or locking
 * anything (presgwd -n).  0 when it would open (an absent store counts if
 * it can be created), else -1 with the same line in *err.
 */
int store_check(const char *path, char **err);

/* Closes s; accepts NULL. */
void store_close(struct store *s);

/* Replaces the whole user map in one transaction: all rows or none. */
int store_users_replace(struct store *s, const struct store_user *u,
    size_t n);
int store_users_each(struct store *s, store_user_cb *cb, void *arg);

int store_pub_put(struct store *s, const struct store_pub *p);
int store_pub_del(struct store *s, const char *etag);
int store_pub_each(struct store *s, store_pub_cb *cb, void *arg);

int store_teams_put(struct store *s, const struct store_teams *t);
int store_teams_each(struct store *s, store_teams_cb *cb, void *arg);

int store_graph_put(struct store *s, const struct store_graph *g);
int store_graph_each(struct store *s, store_graph_cb *cb, void *arg);

/*
 * Records: what a subsystem keeps of its own, as text (JSON by custom)
 * under a key in its namespace ("sub" for SIP subscriptions, and so on;
 * docs/store.md lists them).  Put replaces; each walks one namespace in
 * the order the keys were first put.
 */
int store_rec_put(struct store *s, const char *ns, const char *key,
    const char *value);
int store_rec_del(struct store *s, const char *ns, const char *key);
int store_rec_each(struct store *s, const char *ns, store_rec_cb *cb,
    void *arg);

/*
 * Groups the writes between them into one transaction, so that a crash
 * keeps all of them or none.  Nests: only the outermost pair counts.
 */
int store_begin(struct store *s);
int store_commit(struct store *s);

/*
 * The rules of a group.  store_begin() returns -1 when it could not open
 * one; then nothing is open and no store_commit() follows.  After a write
 * inside the group fails, later writes in it are refused (-1) and the
 * outermost store_commit() rolls the whole group back and returns -1, so
 * the store never holds part of a group.  store_rollback() closes one
 * level like store_commit() but abandons the group: the outermost level
 * rolls back at once, an inner one when the outermost closes.
 */
int store_rollback(struct store *s);

/* Empties one table, or one namespace of records (for a resync). */
int store_clear(struct store *s, enum store_table t);
int store_rec_clear(struct store *s, const char *ns);

/*
 * Health.  When a write fails (disk full, file system read-only, I/O
 * error) presgwd keeps serving from memory: the store logs "store
 * write-failed" once, then a summary every STORE_LOG_EVERY seconds while
 * it lasts, and owes a resync.  store_tick() (once a second from the
 * event loop) tests the disk every few seconds; once it takes writes
 * again, every subsystem registered with store_resync_add() rewrites its
 * rows in one transaction and "store write-resumed" is logged.
 *
 * store_tick() also notices the store's file being removed (or another
 * file put at its path) while presgwd runs, and logs "store file-missing"
 * once.  A removed store is created anew at its path at once and every
 * subsystem writes its rows into it ("store recreated"); a replaced one
 * is left alone and the store reports failing until the next start.
 *
 * store_healthy() is 1 when the last write went through, nothing is owed
 * and the file is in place, else 0.  store_stats() fills in the
 * counters; ss_error stays valid until the next store call.
 */
#define STORE_LOG_EVERY     60
#define STORE_PROBE_EVERY   2

struct store_stats {
    int             ss_healthy;
    int             ss_failing;         /* the last write failed */
    int             ss_owed;            /* a resync is owed */
    unsigned long   ss_failed;          /* failed writes since start */
    unsigned long   ss_resyncs;         /* resyncs done since start */
    int             ss_file;            /* enum store_file */
    unsigned long   ss_recreated;       /* files created anew */
    time_t          ss_since;           /* failing since (0: not) */
    const char     *ss_error;           /* the last failure, or "" */
};

int store_healthy(struct store *s);
void store_stats(struct store *s, struct store_stats *out);
void store_tick(struct store *s);

/*
 * Registers cb to rewrite its subsystem's rows in a resync (see
 * store_resync_cb); store_resync_del() undoes it, before arg is freed.
 */
void store_resync_add(struct store *s, store_resync_cb *cb, void *arg);
void store_resync_del(struct store *s, store_resync_cb *cb, void *arg);

/*
 * The user map file: one user per line, "AOR,ENTRA_ID[,UPN]", where AOR is
 * "sip:alice@example.com", "alice@example.com" or "alice" (then in
 * domain).  '#' starts a comment.  Reads the whole file; on any error
 * returns -1 with every problem in *err (caller frees) and no rows.  On
 * success *out holds *n rows the caller frees with usermap_free().
 */
int usermap_read(const char *path, const char *domain,
    struct store_user **out, size_t *n, char **err);
void usermap_free(struct store_user *u, size_t n);

/*
 * Calls fn for each line of path (at most maxline bytes, newline kept);
 * fn appends problems, with where ("FILE:LINE"), to errs.  0 when there
 * were none; else -1 with all of them in *err (the caller frees it).
 */
struct buf;
typedef void store_line_cb(void *arg, char *line, const char *where,
    struct buf *errs);
int store_lines_read(const char *path, size_t maxline, store_line_cb *fn,
    void *arg, char **err);

/*
 * The resource list file (RFC 4662 lists for BLF list keys): one list per
 * line, "LIST-AOR, MEMBER, MEMBER, ...", addresses in any form the user
 * map takes.  Same error rules as usermap_read().
 */
struct store_list {
    char       *sl_uri;          /* canonical "sales@example.com" */
    char      **sl_members;      /* canonical AORs */
    size_t      sl_n;
};

int listmap_read(const char *path, const char *domain,
    struct store_list **out, size_t *n, char **err);
void listmap_free(struct store_list *l, size_t n);

/*
 * Writes the canonical form of a SIP address of record ("user@host",
 * host in lower case, no scheme, parameters or port) into dst.  Returns
 * 0, or -1 if aor has no user part.
 */
int usermap_canon(const char *aor, const char *domain, char *dst,
    size_t dstlen);
#endif
