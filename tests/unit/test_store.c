/*
 * test_store.c: the SQLite store keeps what it is given across a close
 * and an open, and refuses a file that is not a sound store.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core.h"
#include "store/store.h"
#include "testlib.h"

static char tmpdir[] = "/tmp/presgw-test-store-XXXXXX";
static char dbpath[256];

struct seen {
    int     n;
    char    text[512];
};

static void
on_user(void *arg, const struct store_user *u)
{
    struct seen *s = arg;
    size_t len = strlen(s->text);

    snprintf(s->text + len, sizeof(s->text) - len, "%s=%s/%s;", u->su_aor,
        u->su_id, u->su_upn);
    s->n++;
}

static void
on_pub(void *arg, const struct store_pub *p)
{
    struct seen *s = arg;
    size_t len = strlen(s->text);

    snprintf(s->text + len, sizeof(s->text) - len, "%s:%s:%ld:%d:%s;",
        p->sp_etag, p->sp_aor, (long)p->sp_expires, p->sp_status,
        p->sp_note);
    s->n++;
}

static void
on_teams(void *arg, const struct store_teams *t)
{
    struct seen *s = arg;

    snprintf(s->text, sizeof(s->text), "%s:%s:%s:%s", t->st_id,
        t->st_availability, t->st_activity, t->st_sequence);
    s->n++;
}

static void
on_graph(void *arg, const struct store_graph *g)
{
    struct seen *s = arg;

    snprintf(s->text, sizeof(s->text), "%s:%d:%d", g->sg_id, g->sg_session,
        g->sg_pref);
    s->n++;
}

static void
store_keeps_rows_across_reopen(void)
{
    struct store_user users[] = {
        { "alice@example.com", "id-a", "alice@x" },
        { "bob@example.com", "id-b", "" },
    };
    struct store_pub pub = { "etag1", "alice@example.com", 1234, 8, "busy" };
    struct store_teams teams = { "id-a", "Busy", "InACall", "A0001" };
    struct store_graph gr = { "id-a", 2, 1 };
    struct seen s;
    struct store *st;
    char *err = NULL;

    st = store_open(dbpath, &err);
    CHECK(st != NULL);
    if (st == NULL)
        return;
    CHECK(store_users_replace(st, users, 2) == 0);
    CHECK(store_pub_put(st, &pub) == 0);
    CHECK(store_teams_put(st, &teams) == 0);
    CHECK(store_graph_put(st, &gr) == 0);
    store_close(st);

    st = store_open(dbpath, &err);
    CHECK(st != NULL);
    if (st == NULL)
        return;
    memset(&s, 0, sizeof(s));
    store_users_each(st, on_user, &s);
    CHECK(s.n == 2);
    CHECK_STR(s.text, "alice@example.com=id-a/alice@x;bob@example.com=id-b/;");
    memset(&s, 0, sizeof(s));
    store_pub_each(st, on_pub, &s);
    CHECK_STR(s.text, "etag1:alice@example.com:1234:8:busy;");
    memset(&s, 0, sizeof(s));
    store_teams_each(st, on_teams, &s);
    CHECK_STR(s.text, "id-a:Busy:InACall:A0001");
    memset(&s, 0, sizeof(s));
    store_graph_each(st, on_graph, &s);
    CHECK_STR(s.text, "id-a:2:1");
    store_close(st);
}

static void
store_user_replace_drops_rows_not_given(void)
{
    struct store_user one[] = { { "carol@example.com", "id-c", "" } };
    struct seen s;
    struct store *st;
    char *err = NULL;

    st = store_open(dbpath, &err);
    CHECK(st != NULL);
    if (st == NULL)
        return;
    CHECK(store_users_replace(st, one, 1) == 0);
    memset(&s, 0, sizeof(s));
    store_users_each(st, on_user, &s);
    CHECK(s.n == 1);
    CHECK_STR(s.text, "carol@example.com=id-c/;");
    store_close(st);
}

static void
store_pub_delete_removes_only_that_tag(void)
{
    struct store_pub a = { "ea", "alice@example.com", 10, 4, "" };
    struct store_pub b = { "eb", "alice@example.com", 20, 8, "" };
    struct seen s;
    struct store *st;
    char *err = NULL;

    st = store_open(dbpath, &err);
    if (st == NULL) {
        CHECK(st != NULL);
        return;
    }
    store_pub_del(st, "etag1");
    store_pub_put(st, &a);
    store_pub_put(st, &b);
    CHECK(store_pub_del(st, "ea") == 0);
    memset(&s, 0, sizeof(s));
    store_pub_each(st, on_pub, &s);
    CHECK(s.n == 1);
    CHECK_STR(s.text, "eb:alice@example.com:20:8:;");
    store_close(st);
}

static void
store_refuses_a_file_that_is_not_a_database(void)
{
    char *path = xasprintf("%s/garbage.db", tmpdir), *err = NULL;
    FILE *fp = fopen(path, "w");
    struct store *st;
    int i;

    for (i = 0; i < 512; i++)
        fputs("this is not sqlite ", fp);
    fclose(fp);
    st = store_open(path, &err);
    CHECK(st == NULL);
    CHECK(err != NULL && strstr(err, path) != NULL);
    store_close(st);
    free(err);
    free(path);
}

static void
store_is_held_by_one_process_at_a_time(void)
{
    char *err = NULL;
    struct store *a = store_open(dbpath, &err), *b;

    CHECK(a != NULL);
    b = store_open(dbpath, &err);
    CHECK(b == NULL);
    CHECK(err != NULL && strstr(err, "in use by another presgwd"));
    free(err);
    store_close(a);
    err = NULL;
    b = store_open(dbpath, &err);
    CHECK(b != NULL);
    store_close(b);
}

static void
on_rec(void *arg, const char *key, const char *value)
{
    struct seen *s = arg;
    size_t len = strlen(s->text);

    snprintf(s->text + len, sizeof(s->text) - len, "%s=%s;", key, value);
    s->n++;
}

static void
store_records_keep_first_put_order_and_namespaces(void)
{
    char *err = NULL;
    struct store *st = store_open(dbpath, &err);
    struct seen s = { 0, "" };
    struct stat sb;

    CHECK(st != NULL);
    CHECK(store_rec_put(st, "t", "b", "1") == 0);
    CHECK(store_rec_put(st, "t", "a", "2") == 0);
    CHECK(store_rec_put(st, "u", "a", "other") == 0);
    CHECK(store_rec_put(st, "t", "b", "3") == 0);
    store_close(st);
    st = store_open(dbpath, &err);
    CHECK(st != NULL);
    CHECK(store_rec_each(st, "t", on_rec, &s) == 0);
    CHECK_STR(s.text, "b=3;a=2;");
    CHECK(store_rec_del(st, "t", "b") == 0);
    s.n = 0, s.text[0] = '\0';
    CHECK(store_rec_each(st, "t", on_rec, &s) == 0);
    CHECK_STR(s.text, "a=2;");
    CHECK(stat(dbpath, &sb) == 0 && (sb.st_mode & 077) == 0);
    store_close(st);
}

/* A transaction that is never committed leaves nothing behind. */
static void
store_uncommitted_writes_are_lost_whole(void)
{
    char *err = NULL;
    struct store *st;
    struct seen s = { 0, "" };
    pid_t pid = fork();

    if (pid == 0) {
        st = store_open(dbpath, &err);
        if (st == NULL)
            _exit(1);
        store_begin(st);
        store_begin(st);
        store_rec_put(st, "x", "k1", "v1");
        store_commit(st);       /* inner: nothing reaches the disk yet */
        store_rec_put(st, "x", "k2", "v2");
        _exit(0);               /* dies in the middle, as kill -9 would */
    }
    CHECK(pid > 0 && waitpid(pid, NULL, 0) == pid);
    st = store_open(dbpath, &err);
    CHECK(st != NULL);
    CHECK(store_rec_each(st, "x", on_rec, &s) == 0);
    CHECK(s.n == 0);
    CHECK(store_begin(st) == 0);
    CHECK(store_rec_put(st, "x", "k1", "v1") == 0);
    CHECK(store_rec_put(st, "x", "k2", "v2") == 0);
    CHECK(store_commit(st) == 0);
    CHECK(store_rec_each(st, "x", on_rec, &s) == 0);
    CHECK_STR(s.text, "k1=v1;k2=v2;");
    store_close(st);
}

int
main(void)
{
    char cmd[128];

    if (mkdtemp(tmpdir) == NULL)
        return 99;
    snprintf(dbpath, sizeof(dbpath), "%s/store.db", tmpdir);
    log_init("test", 0, LOG_LVL_ERROR);
    TEST_RUN(store_keeps_rows_across_reopen);
    TEST_RUN(store_user_replace_drops_rows_not_given);
    TEST_RUN(store_pub_delete_removes_only_that_tag);
    TEST_RUN(store_refuses_a_file_that_is_not_a_database);
    TEST_RUN(store_is_held_by_one_process_at_a_time);
    TEST_RUN(store_records_keep_first_put_order_and_namespaces);
    TEST_RUN(store_uncommitted_writes_are_lost_whole);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0)
        return 99;
    return test_done();
}
