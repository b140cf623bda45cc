/*
 * store_sqlite_open.c: opening the SQLite store, and refusing one that
 * presgwd must not use.
 *
 * Everything about the file is checked before the first write to it: a
 * damaged store, another program's database or a store of a newer schema
 * is refused as it is, never repaired or overwritten, with one line that
 * says what to do.  Then the schema is brought up to date in one
 * transaction, which also proves that the store can be written.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core.h"
#include "store/store_sqlite.h"

/* "pgwd": PRAGMA application_id of a presgwd store. */
#define SQ_APP_ID 0x70677764

/*
 * Schema versions (PRAGMA user_version).  Entry v brings a store of
 * version v to v + 1; a store of version 0 is a new, empty file.  Stores
 * of version 1 made before the records table existed gain it here too.
 */
static const char *const sq_migrations[] = {
    /* 0 -> 1 */
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
    " pref INTEGER NOT NULL);",
};

#define SQ_SCHEMA_VERSION \
    ((int)(sizeof(sq_migrations) / sizeof(sq_migrations[0])))

/* Run at every open: tables added within the current version. */
static const char sq_current[] =
    "CREATE TABLE IF NOT EXISTS records ("
    " ns TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL,"
    " PRIMARY KEY (ns, key));";

/* The tables a store of version 1 or later always has. */
static const char sq_count_ours[] =
    "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN"
    " ('users', 'publications', 'teams', 'graph_written')";

static const char sq_count_all[] =
    "SELECT count(*) FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'";

#define FIX_RESTORE "restore it from a backup, or move it aside (with its" \
    " -wal and -shm files) and presgwd starts an empty one"
#define FIX_NEWER   "run the presgwd that wrote it, or restore a backup" \
    " made with this version"
#define FIX_WRITE   "presgwd must be able to write the store, its" \
    " directory and its file system"
#define FIX_SPACE   "free space on its file system"
#define FIX_DISK    "check the disk and its file system"

/* What an SQLite error means for the file, and what to do about it. */
static const struct {
    int             code;       /* primary result code */
    const char     *problem;
    const char     *fix;
} sq_causes[] = {
    { SQLITE_NOTADB,   "is not a presgwd store",   FIX_RESTORE },
    { SQLITE_CORRUPT,  "is damaged",               FIX_RESTORE },
    { SQLITE_FULL,     "cannot be written",        FIX_SPACE },
    { SQLITE_READONLY, "cannot be written",        FIX_WRITE },
    { SQLITE_CANTOPEN, "cannot be opened",         FIX_WRITE },
    { SQLITE_PERM,     "cannot be written",        FIX_WRITE },
    { SQLITE_IOERR,    "cannot be read or written", FIX_DISK },
    { SQLITE_ERROR,    "is not a presgwd store",   FIX_RESTORE },
};

/* The line for the last error on db: problem (SQLite's words); fix. */
static char *
sq_why(sqlite3 *db, const char *fallback)
{
    int code = sqlite3_errcode(db) & 0xff;
    size_t i;

    for (i = 0; i < sizeof(sq_causes) / sizeof(sq_causes[0]); i++)
        if (sq_causes[i].code == code)
            return xasprintf("%s (%s); %s", sq_causes[i].problem,
                sqlite3_errmsg(db), sq_causes[i].fix);
    return xasprintf("%s (%s); %s", fallback, sqlite3_errmsg(db),
        FIX_RESTORE);
}

/* The line for a failed system call on file. */
static char *
sq_why_errno(const char *what, const char *file, int err)
{
    if (err == ENOSPC)
        return xasprintf("cannot be used: cannot %s %s (%s); %s", what,
            file, strerror(err), FIX_SPACE);
    return xasprintf("cannot be used: cannot %s %s (%s); %s", what, file,
        strerror(err), FIX_WRITE);
}

/* The one integer a query returns; -1 with *why set on failure. */
static int
sq_int(sqlite3 *db, const char *sql, long *out, char **why)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);

    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        *why = sq_why(db, "cannot be read");
        sqlite3_finalize(st);
        return -1;
    }
    *out = (long)sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return 0;
}

static int
sq_quick_check(sqlite3 *db, char **why)
{
    sqlite3_stmt *st = NULL;
    const unsigned char *res;
    int rc = sqlite3_prepare_v2(db, "PRAGMA quick_check(1)", -1, &st, NULL);

    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        *why = sq_why(db, "cannot be read");
    } else {
        res = sqlite3_column_text(st, 0);
        if (res == NULL || strcmp((const char *)res, "ok") != 0)
            *why = xasprintf("is damaged (integrity check: %s); %s",
                res ? (const char *)res : "?", FIX_RESTORE);
    }
    sqlite3_finalize(st);
    return *why != NULL ? -1 : 0;
}

/*
 * Whose file this is, read without writing: the schema version of a
 * presgwd store (0 for an empty file), or -1 with *why set.
 */
static int
sq_identify(sqlite3 *db, char **why)
{
    long app, version, ours, all;

    if (sq_quick_check(db, why) != 0 ||
        sq_int(db, "PRAGMA application_id", &app, why) != 0 ||
        sq_int(db, "PRAGMA user_version", &version, why) != 0 ||
        sq_int(db, sq_count_ours, &ours, why) != 0 ||
        sq_int(db, sq_count_all, &all, why) != 0)
        return -1;
    if (app != 0 && app != SQ_APP_ID)
        *why = xasprintf("is another program's database (application_id"
            " %#lx); %s", app, FIX_RESTORE);
    else if (version > SQ_SCHEMA_VERSION)
        *why = xasprintf("has schema version %ld, newer than the %d this"
            " presgwd knows; %s", version, SQ_SCHEMA_VERSION, FIX_NEWER);
    else if (version == 0 && all > 0)
        *why = xasprintf("is another program's database (%ld tables, no"
            " presgwd schema version); %s", all, FIX_RESTORE);
    else if (version > 0 && ours < 4)
        *why = xasprintf("is not a presgwd store (schema version %ld"
            " without presgwd's tables); %s", version, FIX_RESTORE);
    return *why != NULL ? -1 : (int)version;
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
        *why = sq_why_errno("open", lpath, errno);
    } else if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        *why = xasprintf("is in use by another presgwd (%s is locked)", lpath);
        close(fd);
        fd = -1;
    }
    free(lpath);
    return fd;
}

/*
 * The store holds refresh tokens: it is created readable by its owner
 * only, and SQLite gives its -wal and -shm files the same mode.  An
 * existing file is not touched here: it may yet be refused.
 */
static int
sq_create_private(const char *path, char **why)
{
    int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);

    if (fd < 0 && errno == EEXIST)
        return 0;
    if (fd < 0) {
        *why = sq_why_errno("create", path, errno);
        return -1;
    }
    close(fd);
    log_info("store created path=%s mode=0600", path);
    return 0;
}

/* A store restored or copied with a wider mode is made private again. */
static void
sq_tighten_mode(const char *path)
{
    struct stat sb;

    if (stat(path, &sb) != 0 || (sb.st_mode & 077) == 0)
        return;
    if (chmod(path, sb.st_mode & 0700) != 0)
        log_warn("store chmod-failed path=%s error=\"%s\"", path,
            strerror(errno));
    else
        log_warn("store mode-tightened path=%s old=%04o new=%04o", path,
            (unsigned)(sb.st_mode & 0777), (unsigned)(sb.st_mode & 0700));
}

static int
sq_exec_quiet(sqlite3 *db, const char *sql)
{
    return sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
}

/* WAL, then the schema brought to the current version in one go. */
static int
sq_migrate(struct store_sqlite *sq, int version, char **why)
{
    sqlite3 *db = sq->sq_db;
    char *stamp;
    int v, rc = -1;

    if (sq_exec_quiet(db, "PRAGMA journal_mode=WAL") != 0 ||
        sq_exec_quiet(db, "PRAGMA synchronous=NORMAL") != 0 ||
        sq_exec_quiet(db, "BEGIN IMMEDIATE") != 0) {
        *why = sq_why(db, "cannot be written");
        return -1;
    }
    for (v = version; v < SQ_SCHEMA_VERSION; v++)
        if (sq_exec_quiet(db, sq_migrations[v]) != 0)
            goto out;
    stamp = xasprintf("%s PRAGMA application_id=%d; PRAGMA user_version=%d;",
        sq_current, SQ_APP_ID, SQ_SCHEMA_VERSION);
    rc = sq_exec_quiet(db, stamp);
    free(stamp);
    if (rc == 0)
        rc = sq_exec_quiet(db, "COMMIT");
out:
    if (rc != 0) {
        *why = sq_why(db, "cannot be written");
        if (!sqlite3_get_autocommit(db))
            sq_exec_quiet(db, "ROLLBACK");
        return -1;
    }
    if (version != 0 && version != SQ_SCHEMA_VERSION)
        log_info("store migrated from=%d to=%d", version, SQ_SCHEMA_VERSION);
    return 0;
}

static int
sq_prepare_all(sqlite3 *db, sqlite3_stmt **stmts, char **why)
{
    int i;

    for (i = 0; i < SQ_COUNT; i++) {
        if (sqlite3_prepare_v2(db, sq_sql[i], -1, &stmts[i], NULL)
            != SQLITE_OK) {
            *why = sq_why(db, "does not match presgwd's schema");
            return -1;
        }
    }
    return 0;
}

/* Opens db at path with flags; a read-only result is refused. */
static int
sq_open_db(const char *path, int flags, sqlite3 **db, char **why)
{
    if (sqlite3_open_v2(path, db, flags, NULL) != SQLITE_OK) {
        *why = *db ? sq_why(*db, "cannot be opened")
            : xstrdup("cannot be opened (out of memory)");
        return -1;
    }
    sqlite3_busy_timeout(*db, 2000);
    sqlite3_extended_result_codes(*db, 1);
    if ((flags & SQLITE_OPEN_READWRITE) &&
        sqlite3_db_readonly(*db, "main") == 1) {
        *why = xasprintf("is read-only; %s", FIX_WRITE);
        return -1;
    }
    return 0;
}

/* The identity of the file opened, to notice it being removed later. */
static int
sq_remember_file(struct store_sqlite *sq, const char *path, char **why)
{
    struct stat sb;

    if (stat(path, &sb) != 0) {
        *why = sq_why_errno("stat", path, errno);
        return -1;
    }
    sq->sq_dev = sb.st_dev;
    sq->sq_ino = sb.st_ino;
    return 0;
}

int
sq_open_into(struct store_sqlite *sq, const char *path, char **why)
{
    int version = -1;

    sq->sq_base.s_ops = &store_sqlite_ops;
    if (sq->sq_lock < 0)
        sq->sq_lock = sq_lock(path, why);
    if (sq->sq_lock >= 0 && sq_create_private(path, why) == 0 &&
        sq_open_db(path, SQLITE_OPEN_READWRITE, &sq->sq_db, why) == 0)
        version = sq_identify(sq->sq_db, why);
    if (version >= 0 && sq_migrate(sq, version, why) == 0 &&
        sq_prepare_all(sq->sq_db, sq->sq_stmts, why) == 0)
        sq_remember_file(sq, path, why);
    return *why != NULL ? -1 : 0;
}

struct store *
sq_open(const char *path, char **err)
{
    struct store_sqlite *sq = xcalloc(1, sizeof(*sq));
    char *why = NULL;

    sq->sq_lock = -1;
    if (sq_open_into(sq, path, &why) != 0) {
        *err = xasprintf("store %s %s", path, why);
        free(why);
        sq_close((struct store *)sq);
        return NULL;
    }
    sq_tighten_mode(path);
    log_info("store opened backend=sqlite path=%s schema=%d", path,
        SQ_SCHEMA_VERSION);
    return (struct store *)sq;
}

void
sq_release(struct store_sqlite *sq)
{
    int i;

    for (i = 0; i < SQ_COUNT; i++) {
        sqlite3_finalize(sq->sq_stmts[i]);
        sq->sq_stmts[i] = NULL;
    }
    sqlite3_close(sq->sq_db);
    sq->sq_db = NULL;
    if (sq->sq_lock >= 0)
        close(sq->sq_lock);
    sq->sq_lock = -1;
}

void
sq_close(struct store *s)
{
    sq_release((struct store_sqlite *)s);
    free(s);
}

/* An absent store is fine if its directory takes a new file. */
static char *
sq_check_absent(const char *path)
{
    char *copy = xstrdup(path), *why = NULL;

    if (access(dirname(copy), W_OK | X_OK) != 0)
        why = sq_why_errno("create", path, errno);
    free(copy);
    return why;
}

/* Like sq_open() up to the first write, with nothing locked. */
int
sq_check(const char *path, char **err)
{
    sqlite3 *db = NULL;
    char *why = NULL;

    if (access(path, F_OK) != 0 && errno == ENOENT) {
        why = sq_check_absent(path);
    } else if (access(path, R_OK | W_OK) != 0) {
        why = sq_why_errno("write", path, errno);
    } else if (sq_open_db(path, SQLITE_OPEN_READONLY, &db, &why) == 0) {
        sq_identify(db, &why);
    }
    sqlite3_close(db);
    if (why == NULL)
        return 0;
    *err = xasprintf("store %s %s", path, why);
    free(why);
    return -1;
}

int
sq_probe(struct store *s)
{
    struct store_sqlite *sq = (struct store_sqlite *)s;
    char *sql;
    int rc;

    if (sq->sq_txn > 0)
        return -1;
    /* Setting the version, even to itself, rewrites the first page. */
    sql = xasprintf("BEGIN IMMEDIATE; PRAGMA user_version=%d; COMMIT;",
        SQ_SCHEMA_VERSION);
    rc = sq_exec_quiet(sq->sq_db, sql);
    free(sql);
    if (rc != 0 && !sqlite3_get_autocommit(sq->sq_db))
        sq_exec_quiet(sq->sq_db, "ROLLBACK");
    return rc;
}
