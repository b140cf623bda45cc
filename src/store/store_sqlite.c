/*
 * store_sqlite.c: the embedded store backend.
 *
 * WAL with synchronous=NORMAL: a commit is not flushed to disk on its
 * own, only at checkpoints, so a burst of SIP traffic does not turn into
 * a burst of fsync calls.  A crash of the machine (not of presgwd) may
 * lose the last moments; docs/store.md says so.
 *
 * A failed write is reported to store_health.c, which decides what is
 * logged; the callers go on from memory.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "core.h"
#include "store/store_sqlite.h"

#define STORE_SCHEMA_VERSION 1

/* One statement per operation, prepared once at open. */
const char *const sq_sql[SQ_COUNT] = {
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
    [SQ_PUB_CLEAR]    = "DELETE FROM publications",
    [SQ_TEAMS_CLEAR]  = "DELETE FROM teams",
    [SQ_GRAPH_CLEAR]  = "DELETE FROM graph_written",
    [SQ_REC_CLEAR]    = "DELETE FROM records WHERE ns = ?1",
};

static const char *
sq_text(sqlite3_stmt *st, int col)
{
    const unsigned char *t = sqlite3_column_text(st, col);

    return t ? (const char *)t : "";
}

static void
sq_failed(struct store_sqlite *sq, const char *what)
{
    store_health_failed(&sq->sq_base, what, sqlite3_errmsg(sq->sq_db));
}

/*
 * Runs a statement that writes; resets it whatever happens.  Inside a
 * group, a failure dooms the group (SQLite may already have rolled it
 * back), and nothing more is written in it: the store never keeps part
 * of a group.
 */
static int
sq_exec(struct store_sqlite *sq, sqlite3_stmt *st, const char *what)
{
    int rc;

    if (sq->sq_txn > 0 && sq->sq_doomed) {
        sqlite3_clear_bindings(st);
        return -1;
    }
    rc = sqlite3_step(st);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (rc != SQLITE_DONE) {
        sq_failed(sq, what);
        if (sq->sq_txn > 0)
            sq->sq_doomed = 1;
        return -1;
    }
    if (sq->sq_txn == 0)
        store_health_ok(&sq->sq_base);
    return 0;
}

/* A statement of the transaction machinery; failures are the caller's. */
static int
sq_run(struct store_sqlite *sq, const char *sql)
{
    return sqlite3_exec(sq->sq_db, sql, NULL, NULL, NULL) == SQLITE_OK ?
        0 : -1;
}

/* Ends the open group without keeping any of it. */
static void
sq_abort(struct store_sqlite *sq)
{
    if (!sqlite3_get_autocommit(sq->sq_db))
        sq_run(sq, "ROLLBACK");
    sq->sq_doomed = 0;
}

#define SQ(s) ((struct store_sqlite *)(void *)(s))

static int
sq_users_replace(struct store *s, const struct store_user *u, size_t n)
{
    struct store_sqlite *sq = SQ(s);
    sqlite3_stmt *add = sq->sq_stmts[SQ_USER_ADD];
    size_t i;

    if (store_begin(s) != 0)
        return -1;
    sq_exec(sq, sq->sq_stmts[SQ_USER_DEL_ALL], "users-clear");
    for (i = 0; i < n && !sq->sq_doomed; i++) {
        sqlite3_bind_text(add, 1, u[i].su_aor, -1, SQLITE_STATIC);
        sqlite3_bind_text(add, 2, u[i].su_id, -1, SQLITE_STATIC);
        sqlite3_bind_text(add, 3, u[i].su_upn, -1, SQLITE_STATIC);
        sq_exec(sq, add, "users-add");
    }
    return store_commit(s);
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

static int
sq_clear(struct store *s, enum store_table t)
{
    static const struct {
        enum sq_stmt    stmt;
        const char     *what;
    } tab[] = {
        [STORE_PUBS]  = { SQ_PUB_CLEAR, "pub-clear" },
        [STORE_TEAMS] = { SQ_TEAMS_CLEAR, "teams-clear" },
        [STORE_GRAPH] = { SQ_GRAPH_CLEAR, "graph-clear" },
    };

    return sq_exec(SQ(s), SQ(s)->sq_stmts[tab[t].stmt], tab[t].what);
}

static int
sq_rec_clear(struct store *s, const char *ns)
{
    sqlite3_stmt *st = SQ(s)->sq_stmts[SQ_REC_CLEAR];

    sqlite3_bind_text(st, 1, ns, -1, SQLITE_STATIC);
    return sq_exec(SQ(s), st, "rec-clear");
}

/*
 * Transactions nest by count: only the outermost begin and commit reach
 * SQLite, so a caller may group writes that call other writers.  Every
 * level opened is closed by one commit or rollback, whatever failed in
 * between, so the count stays right.
 */
static int
sq_begin(struct store *s)
{
    struct store_sqlite *sq = SQ(s);

    if (sq->sq_txn > 0) {
        sq->sq_txn++;
        return 0;
    }
    if (sq_run(sq, "BEGIN IMMEDIATE") != 0) {
        sq_failed(sq, "begin");
        return -1;
    }
    sq->sq_txn = 1;
    sq->sq_doomed = 0;
    return 0;
}

static int
sq_commit(struct store *s)
{
    struct store_sqlite *sq = SQ(s);

    if (sq->sq_txn == 0) {
        log_warn("store commit-without-begin");
        return -1;
    }
    if (--sq->sq_txn > 0)
        return sq->sq_doomed ? -1 : 0;
    if (sq->sq_doomed) {
        sq_abort(sq);
        return -1;
    }
    if (sq_run(sq, "COMMIT") != 0) {
        sq_failed(sq, "commit");
        sq_abort(sq);
        return -1;
    }
    store_health_ok(s);
    return 0;
}

static int
sq_rollback(struct store *s)
{
    struct store_sqlite *sq = SQ(s);

    if (sq->sq_txn == 0) {
        log_warn("store rollback-without-begin");
        return -1;
    }
    sq->sq_doomed = 1;
    if (--sq->sq_txn == 0)
        sq_abort(sq);
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
    .so_rollback      = sq_rollback,
    .so_clear         = sq_clear,
    .so_rec_clear     = sq_rec_clear,
    .so_probe         = sq_probe,
    .so_check         = sq_check,
    .so_file          = sq_file,
    .so_recreate      = sq_recreate,
};
