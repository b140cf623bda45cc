/*
 * store_sqlite.h: the SQLite backend's own structure, shared by its
 * files: store_sqlite_open.c (open, checks, schema versions) and
 * store_sqlite.c (reads and writes).
 */
#ifndef PRESGW_STORE_SQLITE_H
#define PRESGW_STORE_SQLITE_H

#include <sys/types.h>

#include <sqlite3.h>

#include "store/store_int.h"

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
    SQ_PUB_CLEAR,
    SQ_TEAMS_CLEAR,
    SQ_GRAPH_CLEAR,
    SQ_REC_CLEAR,
    SQ_COUNT
};

extern const char *const sq_sql[SQ_COUNT];

struct store_sqlite {
    struct store        sq_base;    /* first: see store.c */
    sqlite3            *sq_db;
    int                 sq_lock;    /* "<path>.lock", held with flock */
    sqlite3_stmt       *sq_stmts[SQ_COUNT];
    int                 sq_txn;     /* nesting of store_begin */
    int                 sq_doomed;  /* the open group must roll back */
    dev_t               sq_dev;     /* the file opened, to notice when */
    ino_t               sq_ino;     /* the path no longer leads to it */
};

/* The "so_open", "so_close" and "so_check" slots. */
struct store *sq_open(const char *path, char **err);
void sq_close(struct store *s);
int sq_check(const char *path, char **err);

/*
 * Opens the store at path into sq (whose sq_lock is taken unless it is
 * already >= 0): 0, or -1 with *why set.  sq_release() undoes it, also
 * after a failure, without freeing sq.
 */
int sq_open_into(struct store_sqlite *sq, const char *path, char **why);
void sq_release(struct store_sqlite *sq);

/* The "so_file" and "so_recreate" slots (store_sqlite_file.c). */
int sq_file(struct store *s);
int sq_recreate(struct store *s, char **err);

/* Writes one page quietly (a write test); 0 if it reached the file. */
int sq_probe(struct store *s);

#endif
