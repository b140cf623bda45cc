/*
 * test_graph_acct.c: service account records, the spool presgwctl
 * leaves for presgwd, and the delegated scope.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core.h"
#include "graph/graph_acct.h"
#include "store/store.h"
#include "testlib.h"

static char tmpdir[] = "/tmp/presgw-test-acct-XXXXXX";

static void
fill(struct graph_acct_rec *r, const char *name, const char *refresh)
{
    memset(r, 0, sizeof(*r));
    r->ar_name = xstrdup(name);
    r->ar_upn = xstrdup("svc@contoso.example");
    r->ar_oid = xstrdup("0000-oid");
    r->ar_refresh = xstrdup(refresh);
    r->ar_state = xstrdup(GRAPH_ACCT_STATE_OK);
    r->ar_reason = xstrdup("");
    r->ar_updated = 1700000000;
}

static void
acct_record_round_trips(void)
{
    struct graph_acct_rec r, back;
    char *text;

    fill(&r, "svc1", "rt-1");
    text = graph_acct_encode(&r);
    CHECK(graph_acct_decode("svc1", text, &back) == 0);
    CHECK_STR(back.ar_upn, "svc@contoso.example");
    CHECK_STR(back.ar_refresh, "rt-1");
    CHECK_STR(back.ar_state, GRAPH_ACCT_STATE_OK);
    CHECK(back.ar_updated == 1700000000);
    CHECK(!back.ar_logout);
    free(text);
    graph_acct_clear(&back);
    graph_acct_clear(&r);
}

static void
acct_record_without_refresh_token_is_refused(void)
{
    struct graph_acct_rec r;

    CHECK(graph_acct_decode("svc1", "{\"upn\":\"x\"}", &r) != 0);
    CHECK(graph_acct_decode("svc1", "not json", &r) != 0);
    CHECK(graph_acct_decode("../x", "{\"refresh_token\":\"a\"}", &r) != 0);
}

static void
acct_names_keep_to_a_safe_set(void)
{
    CHECK(graph_acct_name_ok("svc-1.presgw@contoso.example"));
    CHECK(!graph_acct_name_ok(""));
    CHECK(!graph_acct_name_ok(".hidden"));
    CHECK(!graph_acct_name_ok("a/b"));
    CHECK(!graph_acct_name_ok("a b"));
}

static void
acct_scope_is_delegated_presence_of_the_same_resource(void)
{
    char *s = graph_acct_scope("https://graph.microsoft.us/.default");

    CHECK_STR(s, "https://graph.microsoft.us/Presence.Read.All "
        "offline_access");
    free(s);
}

static void
count_rec(void *arg, const char *key, const char *value)
{
    (void)key;
    (void)value;
    (*(int *)arg)++;
}

static void
acct_spool_moves_into_the_store_and_logout_removes(void)
{
    char *db = xasprintf("%s/presgw.db", tmpdir), *err = NULL;
    char *file = xasprintf("%s/presgw.db.accounts/svc1.json", tmpdir);
    struct graph_acct_rec r;
    struct store *s;
    struct stat st;
    int n = 0;

    fill(&r, "svc1", "rt-spooled");
    CHECK(graph_acct_spool_put(db, &r, &err) == 0);
    CHECK(stat(file, &st) == 0 && (st.st_mode & 077) == 0);
    s = store_open(db, &err);
    CHECK(s != NULL);
    CHECK(graph_acct_spool_import(db, s) == 1);
    CHECK(access(file, F_OK) != 0);
    store_rec_each(s, GRAPH_ACCT_NS, count_rec, &n);
    CHECK(n == 1);

    r.ar_logout = 1;
    CHECK(graph_acct_spool_put(db, &r, &err) == 0);
    CHECK(graph_acct_spool_import(db, s) == 1);
    n = 0;
    store_rec_each(s, GRAPH_ACCT_NS, count_rec, &n);
    CHECK(n == 0);
    store_close(s);
    graph_acct_clear(&r);
    free(file);
    free(db);
}

int
main(void)
{
    char *cmd;

    log_init("test", 0, LOG_LVL_ERROR);
    if (mkdtemp(tmpdir) == NULL)
        return 99;
    TEST_RUN(acct_record_round_trips);
    TEST_RUN(acct_record_without_refresh_token_is_refused);
    TEST_RUN(acct_names_keep_to_a_safe_set);
    TEST_RUN(acct_scope_is_delegated_presence_of_the_same_resource);
    TEST_RUN(acct_spool_moves_into_the_store_and_logout_removes);
    cmd = xasprintf("rm -rf %s", tmpdir);
    if (system(cmd) != 0)
        fprintf(stderr, "cannot remove %s\n", tmpdir);
    free(cmd);
    return test_done();
}
