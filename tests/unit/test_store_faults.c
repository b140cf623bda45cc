/*
 * test_store_faults.c: the store at the edges, on real files.  A file
 * that is not a sound presgwd store is refused as it is, with one line
 * saying what to do; a read-only store is refused at start; a disk that
 * fills up (a small tmpfs) or fails (a file size limit) while running
 * costs no group its atomicity, is logged once, and once it takes writes
 * again the owners' rows are written again from memory.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core.h"
#include "store/store.h"
#include "testlib.h"

static char tmpdir[] = "/tmp/presgw-test-faults-XXXXXX";

/* The whole content of path (caller frees), its size in *n. */
static char *
slurp(const char *path, size_t *n)
{
    FILE *fp = fopen(path, "rb");
    char *data = xmalloc(1 << 20);

    *n = fp ? fread(data, 1, 1 << 20, fp) : 0;
    if (fp != NULL)
        fclose(fp);
    return data;
}

static void
sql(const char *path, const char *text)
{
    sqlite3 *db = NULL;

    CHECK(sqlite3_open(path, &db) == SQLITE_OK);
    CHECK(sqlite3_exec(db, text, NULL, NULL, NULL) == SQLITE_OK);
    sqlite3_close(db);
}

/* A store with enough rows to span many pages, closed. */
static void
make_store(const char *path)
{
    char *err = NULL, key[32], value[256];
    struct store *st = store_open(path, &err);
    int i;

    CHECK(st != NULL);
    if (st == NULL)
        return;
    memset(value, 'v', sizeof(value) - 1);
    value[sizeof(value) - 1] = '\0';
    store_begin(st);
    for (i = 0; i < 200; i++) {
        snprintf(key, sizeof(key), "k%d", i);
        store_rec_put(st, "t", key, value);
    }
    store_commit(st);
    store_close(st);
}

/*
 * path is refused by store_check() and store_open() with a line naming
 * it and holding want, and is left byte for byte as it was.
 */
static void
expect_refused(const char *path, const char *want)
{
    size_t n0, n1;
    char *before = slurp(path, &n0), *after, *err = NULL;
    struct store *st;

    CHECK(store_check(path, &err) == -1);
    CHECK(err != NULL && strstr(err, path) && strstr(err, want));
    free(err);
    err = NULL;
    st = store_open(path, &err);
    CHECK(st == NULL);
    CHECK(err != NULL && strstr(err, path) && strstr(err, want));
    if (err == NULL || strstr(err, want) == NULL)
        fprintf(stderr, "  wanted '%s' in: %s\n", want, err ? err : "-");
    store_close(st);
    free(err);
    after = slurp(path, &n1);
    CHECK(n0 == n1 && memcmp(before, after, n0) == 0);
    free(before);
    free(after);
}

static void
store_refuses_unsound_files_and_leaves_them_as_they_are(void)
{
    char *path = xasprintf("%s/bad.db", tmpdir), *cmd;
    FILE *fp;
    int i;

    /* Garbage. */
    fp = fopen(path, "w");
    for (i = 0; i < 400; i++)
        fputs("not sqlite at all ", fp);
    fclose(fp);
    expect_refused(path, "is not a presgwd store");
    expect_refused(path, "move it aside");

    /* A store cut short, as by a failed copy. */
    unlink(path);
    make_store(path);
    cmd = xasprintf("truncate -s 12288 '%s'", path);
    CHECK(system(cmd) == 0);
    free(cmd);
    expect_refused(path, "is damaged");
    expect_refused(path, "restore it from a backup");

    /* Another program's database. */
    unlink(path);
    sql(path, "CREATE TABLE invoices (id INTEGER, total REAL);");
    expect_refused(path, "another program's database");
    unlink(path);
    sql(path, "PRAGMA application_id = 1234;");
    expect_refused(path, "another program's database");
    unlink(path);
    sql(path, "CREATE TABLE users (x); PRAGMA user_version = 1;");
    expect_refused(path, "is not a presgwd store");

    /* A newer presgwd's store. */
    unlink(path);
    make_store(path);
    sql(path, "PRAGMA user_version = 9;");
    expect_refused(path, "schema version 9, newer than the 1");
    unlink(path);
    free(path);
}

/* A store of version 1 from before the records table gains it. */
static void
store_brings_an_older_store_up_to_date(void)
{
    char *path = xasprintf("%s/v1.db", tmpdir), *err = NULL;
    struct store *st;

    sql(path, "CREATE TABLE users (aor TEXT PRIMARY KEY, entra_id TEXT"
        " NOT NULL, upn TEXT NOT NULL); CREATE TABLE publications (etag"
        " TEXT PRIMARY KEY, aor TEXT NOT NULL, expires INTEGER NOT NULL,"
        " status INTEGER NOT NULL, note TEXT NOT NULL); CREATE TABLE teams"
        " (entra_id TEXT PRIMARY KEY, availability TEXT NOT NULL, activity"
        " TEXT NOT NULL, sequence TEXT NOT NULL); CREATE TABLE"
        " graph_written (entra_id TEXT PRIMARY KEY, session INTEGER NOT"
        " NULL, pref INTEGER NOT NULL); PRAGMA user_version = 1;");
    CHECK(store_check(path, &err) == 0);
    st = store_open(path, &err);
    CHECK(st != NULL);
    if (st != NULL)
        CHECK(store_rec_put(st, "sub", "a", "{}") == 0);
    store_close(st);
    free(path);
}

static void
on_rec(void *arg, const char *key, const char *value)
{
    char *text = arg;
    size_t len = strlen(text);

    snprintf(text + len, 512 - len, "%s=%.8s;", key, value);
}

/* Nothing to undo: a rollback of a group, unbalanced calls refused. */
static void
store_rollback_keeps_nothing_of_the_group(void)
{
    char *path = xasprintf("%s/rb.db", tmpdir), *err = NULL;
    struct store *st = store_open(path, &err);
    char seen[512] = "";

    CHECK(st != NULL);
    if (st == NULL)
        return;
    CHECK(store_commit(st) == -1);
    CHECK(store_begin(st) == 0);
    CHECK(store_begin(st) == 0);
    CHECK(store_rec_put(st, "t", "a", "1") == 0);
    CHECK(store_rollback(st) == 0);
    CHECK(store_rec_put(st, "t", "b", "2") == -1);
    CHECK(store_commit(st) == -1);
    CHECK(store_rec_put(st, "t", "c", "3") == 0);
    CHECK(store_healthy(st));
    store_close(st);
    st = store_open(path, &err);
    CHECK(st != NULL);
    if (st == NULL)
        return;
    store_rec_each(st, "t", on_rec, seen);
    CHECK_STR(seen, "c=3;");
    store_close(st);
    free(path);
}

/*
 * What a subsystem holds in memory: records "t" k1..kN.  Its resync
 * clears its namespace and puts them all.
 */
#define MEM_MAX 8

struct mem {
    int     n;
    char    value[4096];
};

static void
mem_resync(void *arg, struct store *s)
{
    struct mem *m = arg;
    char key[16];
    int i;

    store_rec_clear(s, "t");
    for (i = 1; i <= m->n; i++) {
        snprintf(key, sizeof(key), "k%d", i);
        store_rec_put(s, "t", key, m->value);
    }
}

/* Adds k(n+1) in memory and in the store. */
static int
mem_add(struct mem *m, struct store *s)
{
    char key[16];

    snprintf(key, sizeof(key), "k%d", ++m->n);
    return store_rec_put(s, "t", key, m->value);
}

/* How a disk is made to fail and made good again. */
struct fault {
    const char *f_name;
    int (*f_setup)(const char *dir);    /* 0, or -1: cannot here */
    void (*f_fail)(const char *dir);
    void (*f_heal)(const char *dir);
};

/* A tmpfs of its own that a file fills up: ENOSPC, SQLITE_FULL. */
static int
tmpfs_setup(const char *dir)
{
    if (unshare(CLONE_NEWNS) != 0 ||
        mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0 ||
        mount("tmpfs", dir, "tmpfs", 0, "size=512k") != 0)
        return -1;
    return 0;
}

static void
tmpfs_fill(const char *dir)
{
    char *path = xasprintf("%s/filler", dir), block[4096];
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

    memset(block, 'f', sizeof(block));
    while (fd >= 0 && write(fd, block, sizeof(block)) > 0)
        ;
    CHECK(fd >= 0 && errno == ENOSPC);
    if (fd >= 0)
        close(fd);
    free(path);
}

static void
tmpfs_free(const char *dir)
{
    char *path = xasprintf("%s/filler", dir);

    CHECK(unlink(path) == 0);
    free(path);
}

/* A file size limit at the size of the WAL now: EFBIG, SQLITE_IOERR. */
static int
fsize_setup(const char *dir)
{
    (void)dir;
    signal(SIGXFSZ, SIG_IGN);
    return 0;
}

static void
fsize_fail(const char *dir)
{
    char *wal = xasprintf("%s/s.db-wal", dir);
    struct stat sb;
    struct rlimit rl;

    CHECK(stat(wal, &sb) == 0);
    rl.rlim_cur = (rlim_t)sb.st_size;
    rl.rlim_max = RLIM_INFINITY;
    CHECK(setrlimit(RLIMIT_FSIZE, &rl) == 0);
    free(wal);
}

static void
fsize_heal(const char *dir)
{
    struct rlimit rl = { RLIM_INFINITY, RLIM_INFINITY };

    (void)dir;
    CHECK(setrlimit(RLIMIT_FSIZE, &rl) == 0);
}

static const struct fault faults[] = {
    { "tmpfs-full", tmpfs_setup, tmpfs_fill, tmpfs_free },
    { "file-size-limit", fsize_setup, fsize_fail, fsize_heal },
};

/* Lines of the log file at path that hold what. */
static int
log_count(const char *path, const char *what)
{
    char line[1024];
    FILE *fp = fopen(path, "r");
    int n = 0;

    while (fp != NULL && fgets(line, sizeof(line), fp) != NULL)
        n += strstr(line, what) != NULL;
    if (fp != NULL)
        fclose(fp);
    return n;
}

/* While the disk fails: writes fail, groups fail whole, one log line. */
static void
fault_while_failing(const struct fault *f, const char *dir,
    struct store *st, struct mem *m)
{
    struct store_stats ss;
    int i;

    f->f_fail(dir);
    CHECK(mem_add(m, st) == -1);
    CHECK(!store_healthy(st));
    for (i = 0; i < 3; i++)
        CHECK(mem_add(m, st) == -1);
    /* A group's writes wait in memory; its commit fails whole. */
    CHECK(store_begin(st) == 0);
    CHECK(store_begin(st) == 0);
    mem_add(m, st);
    store_commit(st);
    mem_add(m, st);
    CHECK(store_commit(st) == -1);
    clock_advance(STORE_PROBE_EVERY);
    store_tick(st);
    CHECK(!store_healthy(st));
    clock_advance(STORE_LOG_EVERY);
    store_tick(st);
    store_stats(st, &ss);
    CHECK(ss.ss_failing && ss.ss_owed && ss.ss_failed >= 5);
    CHECK(ss.ss_error[0] != '\0' && ss.ss_resyncs == 0);
}

/* The body, in a child of its own (a mount namespace, a limit). */
static int
fault_run(const struct fault *f, const char *dir)
{
    char *path = xasprintf("%s/s.db", dir), *err = NULL, seen[512] = "";
    char *logp = xasprintf("%s.log", dir);
    struct mem m = { 0, "" };
    struct store *st;
    int saved = dup(2), fd, before = test_failed_checks;

    memset(m.value, 'x', sizeof(m.value) - 1);
    st = store_open(path, &err);
    CHECK(st != NULL);
    if (st == NULL)
        return 1;
    store_resync_add(st, mem_resync, &m);
    CHECK(mem_add(&m, st) == 0);

    fd = open(logp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    dup2(fd, 2);
    fault_while_failing(f, dir, st, &m);
    f->f_heal(dir);
    clock_advance(STORE_PROBE_EVERY);
    store_tick(st);
    dup2(saved, 2);
    close(fd);

    CHECK(store_healthy(st));
    CHECK(log_count(logp, "store write-failed ") == 1);
    CHECK(log_count(logp, "store write-failed-summary ") == 1);
    CHECK(log_count(logp, "store write-resumed ") == 1);
    CHECK(store_begin(st) == 0);
    CHECK(mem_add(&m, st) == 0);
    CHECK(store_commit(st) == 0);
    store_close(st);

    st = store_open(path, &err);
    CHECK(st != NULL);
    if (st != NULL)
        store_rec_each(st, "t", on_rec, seen);
    CHECK_STR(seen, "k1=xxxxxxxx;k2=xxxxxxxx;k3=xxxxxxxx;k4=xxxxxxxx;"
        "k5=xxxxxxxx;k6=xxxxxxxx;k7=xxxxxxxx;k8=xxxxxxxx;");
    store_close(st);
    free(path);
    free(logp);
    return test_failed_checks != before;
}

static void
store_failing_disk_keeps_groups_whole_and_resyncs(void)
{
    size_t i;
    pid_t pid;
    int status;

    for (i = 0; i < sizeof(faults) / sizeof(faults[0]); i++) {
        char *dir = xasprintf("%s/%s", tmpdir, faults[i].f_name);

        CHECK(mkdir(dir, 0700) == 0);
        pid = fork();
        if (pid == 0) {
            if (faults[i].f_setup(dir) != 0) {
                printf("# skip %s: cannot set it up here (%s)\n",
                    faults[i].f_name, strerror(errno));
                _exit(0);
            }
            _exit(fault_run(&faults[i], dir));
        }
        CHECK(pid > 0 && waitpid(pid, &status, 0) == pid);
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        free(dir);
    }
}

/* Read-only at start: refused, by -n too.  Root needs a read-only mount. */
static int
read_only_run(const char *dir)
{
    char *path = xasprintf("%s/s.db", dir), *err = NULL;
    int before = test_failed_checks;
    struct store *st;

    make_store(path);
    if (geteuid() == 0) {
        if (mount(NULL, dir, NULL, MS_REMOUNT | MS_RDONLY, NULL) != 0)
            return 1;
    } else {
        CHECK(chmod(path, 0400) == 0 && chmod(dir, 0500) == 0);
    }
    CHECK(store_check(path, &err) == -1);
    CHECK(err != NULL && strstr(err, "must be able to write the store"));
    free(err);
    err = NULL;
    st = store_open(path, &err);
    CHECK(st == NULL);
    CHECK(err != NULL && strstr(err, path) &&
        strstr(err, "must be able to write the store"));
    store_close(st);
    free(err);
    chmod(dir, 0700);
    free(path);
    return test_failed_checks != before;
}

static void
store_refuses_a_read_only_store_at_start(void)
{
    char *dir = xasprintf("%s/ro", tmpdir);
    pid_t pid;
    int status;

    CHECK(mkdir(dir, 0700) == 0);
    pid = fork();
    if (pid == 0) {
        if (geteuid() == 0 && tmpfs_setup(dir) != 0) {
            printf("# skip read-only store: no mount namespace (%s)\n",
                strerror(errno));
            _exit(0);
        }
        _exit(read_only_run(dir));
    }
    CHECK(pid > 0 && waitpid(pid, &status, 0) == pid);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    free(dir);
}

int
main(void)
{
    char cmd[128];

    if (mkdtemp(tmpdir) == NULL)
        return 99;
    log_init("test", 0, LOG_LVL_INFO);
    TEST_RUN(store_refuses_unsound_files_and_leaves_them_as_they_are);
    TEST_RUN(store_brings_an_older_store_up_to_date);
    TEST_RUN(store_rollback_keeps_nothing_of_the_group);
    TEST_RUN(store_failing_disk_keeps_groups_whole_and_resyncs);
    TEST_RUN(store_refuses_a_read_only_store_at_start);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0)
        return 99;
    return test_done();
}
