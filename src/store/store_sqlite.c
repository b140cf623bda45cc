/*
 * store_sqlite.c: the embedded store backend.
 *
 * WAL with synchronous=NORMAL: a commit is not flushed to disk on its
 * own, only at checkpoints, so a burst of SIP traffic does not turn into
 * a burst of fsync calls.  A crash of the machine (not of presgwd) may
 * lose the last moments; docs/known-issues.md says so.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core.h"
#include "store/store.h"

#define STORE_SCHEMA_VERSION 1

enum sq_stmt {
    SQ_USER_DEL_ALL,
    SQ_USER_ADD,
    SQ_USER_EACH,
    SQ_PUB_PUT,
    SQ_PUB_DEL,
    SQ_PUB_EACH,
    SQ_TEAMS_PUT,
    SQ_TEAMS_EACH,
    SQ_GRAPH_PUT,
    SQ_GRAPH_EACH,
    SQ_REC_PUT,
    SQ_REC_DEL,
    SQ_REC_EACH,
    SQ_COUNT
};

/* One statement per operation, prepared once at open. */
static const char *const sq_sql[SQ_COUNT] = {
    [SQ_USER_DEL_ALL] = "DELETE FROM users",
    [SQ_USER_ADD]     = "INSERT INTO users (aor, entra_id, upn)"
                        " VALUES (?1, ?2, ?3)",
    [SQ_USER_EACH]    = "SELECT aor, entra_id, upn FROM users ORDER BY aor",
    [SQ_PUB_PUT]      = "INSERT OR REPLACE INTO publications"
                        " (etag, aor, expires, status, note)"
                        " VALUES (?1, ?2, ?3, ?4, ?5)",
    [SQ_PUB_DEL]      = "DELETE FROM publications WHERE etag = ?1",
    [SQ_PUB_EACH]     = "SELECT etag, aor, expires, status, note"
                        " FROM publications",
    [SQ_TEAMS_PUT]    = "INSERT OR REPLACE INTO teams"
                        " (entra_id, availability, activity, sequence)"
                        " VALUES (?1, ?2, ?3, ?4)",
    [SQ_TEAMS_EACH]   = "SELECT entra_id, availability, activity, sequence"
                        " FROM teams",
    [SQ_GRAPH_PUT]    = "INSERT OR REPLACE INTO graph_written"
                        " (entra_id, session, pref) VALUES (?1, ?2, ?3)",
    [SQ_GRAPH_EACH]   = "SELECT entra_id, session, pref FROM graph_written",
    [SQ_REC_PUT]      = "INSERT INTO records (ns, key, value)"
                        " VALUES (?1, ?2, ?3) ON CONFLICT (ns, key)"
                        " DO UPDATE SET value = excluded.value",
    [SQ_REC_DEL]      = "DELETE FROM records WHERE ns = ?1 AND key = ?2",
    [SQ_REC_EACH]     = "SELECT key, value FROM records WHERE ns = ?1"
                        " ORDER BY rowid",
};

static const char sq_schema[] =
    "CREATE TABLE IF NOT EXISTS users ("
    " aor TEXT PRIMARY KEY, entra_id TEXT NOT NULL, upn TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS publications ("
    " etag TEXT PRIMARY KEY, aor TEXT NOT NULL, expires INTEGER NOT NULL,"
    " status INTEGER NOT NULL, note TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS teams ("
    " entra_id TEXT PRIMARY KEY, availability TEXT NOT NULL,"
    " activity TEXT NOT NULL, sequence TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS graph_written ("
    " entra_id TEXT PRIMARY KEY, session INTEGER NOT NULL,"
    " pref INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS records ("
    " ns TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL,"
    " PRIMARY KEY (ns, key));";

struct store_sqlite {
    const struct store_ops  *sq_ops;   /* first: see store.c */
    sqlite3                 *sq_db;
    int                      sq_lock;  /* "<path>.lock", held with flock */
    sqlite3_stmt            *sq_stmts[SQ_COUNT];
    int                      sq_txn;   /* nesting of store_begin */
};

static void sq_close(struct store *s);

static const char *
sq_text(sqlite3_stmt *st, int col)
{
    const unsigned char *t = sqlite3_column_text(st, col);

    return t ? (const char *)t : "";
}

/* Runs a statement that returns no rows; resets it whatever happens. */
static int
sq_exec(struct store_sqlite *sq, sqlite3_stmt *st, const char *what)
{
    int rc = sqlite3_step(st);

    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (rc != SQLITE_DONE) {
        log_error("store write-failed op=%s error=\"%s\"", what,
            sqlite3_errmsg(sq->sq_db));
        return -1;
    }
    return 0;
}

static int
sq_run(struct store_sqlite *sq, const char *sql)
{
    char *msg = NULL;

    if (sqlite3_exec(sq->sq_db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        log_error("store sql-failed error=\"%s\"", msg ? msg : "?");
        sqlite3_free(msg);
        return -1;
    }
    return 0;
}

/* Sets up the file and checks it is a sound store of our schema. */
static int
sq_prepare_db(struct store_sqlite *sq, char **err)
{
    sqlite3_stmt *st = NULL;
    const char *res;
    int i, rc;

    sqlite3_busy_timeout(sq->sq_db, 2000);
    rc = sqlite3_prepare_v2(sq->sq_db, "PRAGMA quick_check", -1, &st, NULL);
    if (rc != SQLITE_OK || sqlite3_step(st) != SQLITE_ROW) {
        *err = xasprintf("not a usable database: %s",
            sqlite3_errmsg(sq->sq_db));
        sqlite3_finalize(st);
        return -1;
    }
    res = sq_text(st, 0);
    if (strcmp(res, "ok") != 0) {
        *err = xasprintf("integrity check failed: %s", res);
        sqlite3_finalize(st);
        return -1;
    }
    sqlite3_finalize(st);
    if (sq_run(sq, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;")
        != 0 || sq_run(sq, sq_schema) != 0) {
        *err = xasprintf("cannot set up schema: %s",
            sqlite3_errmsg(sq->sq_db));
        return -1;
    }
    sq_run(sq, "PRAGMA user_version=1");
    for (i = 0; i < SQ_COUNT; i++) {
        if (sqlite3_prepare_v2(sq->sq_db, sq_sql[i], -1, &sq->sq_stmts[i],
            NULL) != SQLITE_OK) {
            *err = xasprintf("cannot prepare statement: %s",
                sqlite3_errmsg(sq->sq_db));
            return -1;
        }
    }
    return 0;
}

/*
 * One presgwd per store: a second one would resume the first one's
 * subscriptions and publications as its own.
 */
static int
sq_lock(const char *path, char **why)
{
    char *lpath = xasprintf("%s.lock", path);
    int fd = open(lpath, O_RDWR | O_CREAT | O_CLOEXEC, 0600);

    if (fd < 0) {
        *why = xasprintf("cannot open %s: %s", lpath, strerror(errno));
    } else if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        *why = xasprintf("in use by another presgwd (%s is locked)", lpath);
        close(fd);
        fd = -1;
    }
    free(lpath);
    return fd;
}

/*
 * The store holds refresh tokens: it is created readable by its owner
 * only, and SQLite gives its -wal and -shm files the same mode.
 */
static int
sq_create_private(const char *path, char **why)
{
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);

    if (fd < 0) {
        *why = xasprintf("cannot open: %s", strerror(errno));
        return -1;
    }
    if (fchmod(fd, 0600) != 0)
        log_warn("store chmod-failed path=%s error=\"%s\"", path,
            strerror(errno));
    close(fd);
    return 0;
}

static struct store *
sq_open(const char *path, char **err)
{
    struct store_sqlite *sq = xcalloc(1, sizeof(*sq));
    char *why = NULL;

    sq->sq_ops = &store_sqlite_ops;
    sq->sq_lock = sq_lock(path, &why);
    if (sq->sq_lock < 0) {
        /* why is set */
    } else if (sq_create_private(path, &why) != 0) {
        /* why is set */
    } else if (sqlite3_open_v2(path, &sq->sq_db,
        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK) {
        why = xasprintf("%s", sq->sq_db ? sqlite3_errmsg(sq->sq_db)
            : "out of memory");
    } else {
        sq_prepare_db(sq, &why);
    }
    if (why != NULL) {
        *err = xasprintf("store %s: %s", path, why);
        free(why);
        sq_close((struct store *)sq);
        return NULL;
    }
    log_info("store opened backend=sqlite path=%s schema=%d", path,
        STORE_SCHEMA_VERSION);
    return (struct store *)sq;
}

static void
sq_close(struct store *s)
{
    struct store_sqlite *sq = (struct store_sqlite *)s;
    int i;

    for (i = 0; i < SQ_COUNT; i++)
        sqlite3_finalize(sq->sq_stmts[i]);
    sqlite3_close(sq->sq_db);
    if (sq->sq_lock >= 0)
        close(sq->sq_lock);
    free(sq);
}

#define SQ(s) ((struct store_sqlite *)(void *)(s))

static int
sq_users_replace(struct store *s, const struct store_user *u, size_t n)
{
    struct store_sqlite *sq = SQ(s);
    sqlite3_stmt *add = sq->sq_stmts[SQ_USER_ADD];
    size_t i;

    if (sq_run(sq, "BEGIN IMMEDIATE") != 0)
        return -1;
    if (sq_exec(sq, sq->sq_stmts[SQ_USER_DEL_ALL], "users-clear") != 0)
        goto fail;
    for (i = 0; i < n; i++) {
        sqlite3_bind_text(add, 1, u[i].su_aor, -1, SQLITE_STATIC);
        sqlite3_bind_text(add, 2, u[i].su_id, -1, SQLITE_STATIC);
        sqlite3_bind_text(add, 3, u[i].su_upn, -1, SQLITE_STATIC);
        if (sq_exec(sq, add, "users-add") != 0)
            goto fail;
    }
    if (sq_run(sq, "COMMIT") != 0)
        goto fail;
    return 0;

fail:
    sq_run(sq, "ROLLBACK");
    return -1;
}

/* Steps a query to its end; row() turns each row into a callback. */
static int
sq_each(struct store_sqlite *sq, enum sq_stmt which,
    void (*row)(sqlite3_stmt *st, void *cb, void *arg), void *cb, void *arg)
{
    sqlite3_stmt *st = sq->sq_stmts[which];
    int rc;

    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        row(st, cb, arg);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        log_error("store read-failed error=\"%s\"",
            sqlite3_errmsg(sq->sq_db));
        return -1;
    }
    return 0;
}

static void
sq_user_row(sqlite3_stmt *st, void *cb, void *arg)
{
    struct store_user u = {
        sq_text(st, 0), sq_text(st, 1), sq_text(st, 2)
    };

    ((store_user_cb *)cb)(arg, &u);
}

static int
sq_users_each(struct store *s, store_user_cb *cb, void *arg)
{
    return sq_each(SQ(s), SQ_USER_EACH, sq_user_row, (void *)cb, arg);
}

static int
sq_pub_put(struct store *s, const struct store_pub *p)
{
    sqlite3_stmt *st = SQ(s)->sq_stmts[SQ_PUB_PUT];

    sqlite3_bind_text(st, 1, p->sp_etag, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, p->sp_aor, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)p->sp_expires);
    sqlite3_bind_int(st, 4, p->sp_status);
    sqlite3_bind_text(st, 5, p->sp_note ? p->sp_note : "", -1,
        SQLITE_STATIC);
    return sq_exec(SQ(s), st, "pub-put");
}

static int
sq_pub_del(struct store *s, const char *etag)
{
    sqlite3_stmt *st = SQ(s)->sq_stmts[SQ_PUB_DEL];

    sqlite3_bind_text(st, 1, etag, -1, SQLITE_STATIC);
    return sq_exec(SQ(s), st, "pub-del");
}

static void
sq_pub_row(sqlite3_stmt *st, void *cb, void *arg)
{
    struct store_pub p = {
        sq_text(st, 0), sq_text(st, 1),
        (time_t)sqlite3_column_int64(st, 2), sqlite3_column_int(st, 3),
        sq_text(st, 4)
    };

    ((store_pub_cb *)cb)(arg, &p);
}

static int
sq_pub_each(struct store *s, store_pub_cb *cb, void *arg)
{
    return sq_each(SQ(s), SQ_PUB_EACH, sq_pub_row, (void *)cb, arg);
}

static int
sq_teams_put(struct store *s, const struct store_teams *t)
{
    sqlite3_stmt *st = SQ(s)->sq_stmts[SQ_TEAMS_PUT];

    sqlite3_bind_text(st, 1, t->st_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, t->st_availability, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, t->st_activity, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, t->st_sequence ? t->st_sequence : "", -1,
        SQLITE_STATIC);
    return sq_exec(SQ(s), st, "teams-put");
}

static void
sq_teams_row(sqlite3_stmt *st, void *cb, void *arg)
{
    struct store_teams t = {
        sq_text(st, 0), sq_text(st, 1), sq_text(st, 2), sq_text(st, 3)
    };

    ((store_teams_cb *)cb)(arg, &t);
}

static int
sq_teams_each(struct store *s, store_teams_cb *cb, void *arg)
{
    return sq_each(SQ(s), SQ_TEAMS_EACH, sq_teams_row, (void *)cb, arg);
}

static int
sq_graph_put(struct store *s, const struct store_graph *g)
{
    sqlite3_stmt *st = SQ(s)->sq_stmts[SQ_GRAPH_PUT];

    sqlite3_bind_text(st, 1, g->sg_id, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, g->sg_session);
    sqlite3_bind_int(st, 3, g->sg_pref);
    return sq_exec(SQ(s), st, "graph-put");
}

static void
sq_graph_row(sqlite3_stmt *st, void *cb, void *arg)
{
    struct store_graph g = {
        sq_text(st, 0), sqlite3_column_int(st, 1), sqlite3_column_int(st, 2)
    };

    ((store_graph_cb *)cb)(arg, &g);
}

static int
sq_graph_each(struct store *s, store_graph_cb *cb, void *arg)
{
    return sq_each(SQ(s), SQ_GRAPH_EACH, sq_graph_row, (void *)cb, arg);
}

static int
sq_rec_put(struct store *s, const char *ns, const char *key,
    const char *value)
{
    sqlite3_stmt *st = SQ(s)->sq_stmts[SQ_REC_PUT];

    sqlite3_bind_text(st, 1, ns, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, value, -1, SQLITE_STATIC);
    return sq_exec(SQ(s), st, "rec-put");
}

static int
sq_rec_del(struct store *s, const char *ns, const char *key)
{
    sqlite3_stmt *st = SQ(s)->sq_stmts[SQ_REC_DEL];

    sqlite3_bind_text(st, 1, ns, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
    return sq_exec(SQ(s), st, "rec-del");
}

static void
sq_rec_row(sqlite3_stmt *st, void *cb, void *arg)
{
    ((store_rec_cb *)cb)(arg, sq_text(st, 0), sq_text(st, 1));
}

static int
sq_rec_each(struct store *s, const char *ns, store_rec_cb *cb, void *arg)
{
    sqlite3_stmt *st = SQ(s)->sq_stmts[SQ_REC_EACH];
    int rc;

    sqlite3_bind_text(st, 1, ns, -1, SQLITE_TRANSIENT);
    rc = sq_each(SQ(s), SQ_REC_EACH, sq_rec_row, (void *)cb, arg);
    sqlite3_clear_bindings(st);
    return rc;
}

/*
 * Transactions nest by count: only the outermost begin and commit reach
 * SQLite, so a caller may group writes that call other writers.
 */
static int
sq_begin(struct store *s)
{
    struct store_sqlite *sq = SQ(s);

    if (sq->sq_txn++ > 0)
        return 0;
    if (sq_run(sq, "BEGIN IMMEDIATE") != 0) {
        sq->sq_txn = 0;
        return -1;
    }
    return 0;
}

static int
sq_commit(struct store *s)
{
    struct store_sqlite *sq = SQ(s);

    if (sq->sq_txn == 0 || --sq->sq_txn > 0)
        return 0;
    if (sq_run(sq, "COMMIT") != 0) {
        sq_run(sq, "ROLLBACK");
        return -1;
    }
    return 0;
}

const struct store_ops store_sqlite_ops = {
    .so_name          = "sqlite",
    .so_open          = sq_open,
    .so_close         = sq_close,
    .so_users_replace = sq_users_replace,
    .so_users_each    = sq_users_each,
    .so_pub_put       = sq_pub_put,
    .so_pub_del       = sq_pub_del,
    .so_pub_each      = sq_pub_each,
    .so_teams_put     = sq_teams_put,
    .so_teams_each    = sq_teams_each,
    .so_graph_put     = sq_graph_put,
    .so_graph_each    = sq_graph_each,
    .so_rec_put       = sq_rec_put,
    .so_rec_del       = sq_rec_del,
    .so_rec_each      = sq_rec_each,
    .so_begin         = sq_begin,
    .so_commit        = sq_commit,
};
