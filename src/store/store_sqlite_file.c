/*
 * store_sqlite_file.c: noticing that the store's file was removed while
 * presgwd runs, and putting a new one in its place.
 *
 * An open SQLite file that is unlinked goes on taking writes, into an
 * inode nobody can reach: everything would be lost at the next stop.  A
 * new store is opened at the path first and only then the old one
 * closed, so a failure leaves presgwd as it was; the caller writes the
 * new file full again from memory (a resync).
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core.h"
#include "store/store_sqlite.h"

int
sq_file(struct store *s)
{
    struct store_sqlite *sq = (struct store_sqlite *)s;
    struct stat sb;

    if (stat(s->s_path, &sb) != 0)
        return errno == ENOENT ? STORE_FILE_MISSING : STORE_FILE_OK;
    if (sb.st_dev != sq->sq_dev || sb.st_ino != sq->sq_ino)
        return STORE_FILE_REPLACED;
    return STORE_FILE_OK;
}

/*
 * With the main file gone, a -wal or -shm left at the path belongs to
 * the old file: a new store would replay that WAL into itself.
 */
static void
sq_remove_orphans(const char *path)
{
    static const char *const suffix[] = { "-wal", "-shm" };
    char *name;
    size_t i;

    for (i = 0; i < sizeof(suffix) / sizeof(suffix[0]); i++) {
        name = xasprintf("%s%s", path, suffix[i]);
        if (unlink(name) == 0)
            log_info("store orphan-removed path=%s", name);
        free(name);
    }
}

/* Whether our lock is still on the file at "<path>.lock". */
static int
sq_lock_in_place(struct store_sqlite *sq, const char *path)
{
    char *lpath = xasprintf("%s.lock", path);
    struct stat held, there;
    int same;

    same = sq->sq_lock >= 0 && fstat(sq->sq_lock, &held) == 0 &&
        stat(lpath, &there) == 0 && held.st_dev == there.st_dev &&
        held.st_ino == there.st_ino;
    free(lpath);
    return same;
}

/*
 * The old connection must not checkpoint or delete by name: the -wal
 * and -shm at the path are the new store's now.
 */
static void
sq_release_old(struct store_sqlite *old)
{
    int persist = 1;

    sqlite3_file_control(old->sq_db, "main", SQLITE_FCNTL_PERSIST_WAL,
        &persist);
    sq_release(old);
}

int
sq_recreate(struct store *s, char **err)
{
    struct store_sqlite *sq = (struct store_sqlite *)s, fresh;
    char *why = NULL;

    if (sq->sq_txn > 0) {
        *err = xstrdup("a transaction is open");
        return -1;
    }
    memset(&fresh, 0, sizeof(fresh));
    fresh.sq_lock = -1;
    if (sq_lock_in_place(sq, s->s_path)) {
        fresh.sq_lock = sq->sq_lock;
        sq->sq_lock = -1;
    }
    sq_remove_orphans(s->s_path);
    if (sq_open_into(&fresh, s->s_path, &why) != 0) {
        /* Under our lock, what is at the path is the failed attempt's:
         * left there it would pass for a store put back by hand. */
        if (fresh.sq_lock >= 0) {
            unlink(s->s_path);
            sq_remove_orphans(s->s_path);
        }
        if (sq->sq_lock < 0) {
            /* Ours again, whether it was lent or taken anew. */
            sq->sq_lock = fresh.sq_lock;
            fresh.sq_lock = -1;
        }
        sq_release(&fresh);
        *err = why;
        return -1;
    }
    sq_release_old(sq);
    memcpy(sq->sq_stmts, fresh.sq_stmts, sizeof(sq->sq_stmts));
    sq->sq_db = fresh.sq_db;
    sq->sq_lock = fresh.sq_lock;
    sq->sq_dev = fresh.sq_dev;
    sq->sq_ino = fresh.sq_ino;
    sq->sq_doomed = 0;
    return 0;
}
