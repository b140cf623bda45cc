/*
 * test_graph_persist.c: the Graph write queue kept in a real store file
 * (queued, "crashed", restored), its records, and the outage state that
 * lets one probe at a time reach a Graph that is down.  No network: the
 * client points at a closed port and the event loop never runs, so
 * nothing is sent.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define SU_WAKEUP_ARG_T void
#define SU_TIMER_ARG_T  void
#include "graph/graph_int.h"
#include "store/store.h"

#include "testlib.h"

static char tmpdir[] = "/tmp/presgw-gwq.XXXXXX";
static char dbpath[256];
static su_root_t *root;

static struct graph *
new_client(void)
{
    struct graph_conf gc = {
        .gc_login_url = "http://127.0.0.1:1",
        .gc_graph_url = "http://127.0.0.1:1/v1.0",
        .gc_scope = "https://graph.microsoft.com/.default",
        .gc_tenant_id = "tenant", .gc_client_id = "client",
        .gc_client_secret = "secret-for-tests",
        .gc_session_expiry = 3600, .gc_call_refresh = 240,
        .gc_timeout = 5, .gc_queue_max = 1000
    };

    return graph_create(root, &gc, NULL, NULL);
}

struct recs {
    char    keys[16][64];
    size_t  n;
};

static void
on_rec(void *arg, const char *key, const char *value)
{
    struct recs *r = arg;

    (void)value;
    if (r->n < 16)
        snprintf(r->keys[r->n++], sizeof(r->keys[0]), "%s", key);
}

static size_t
count_recs(struct store *st)
{
    struct recs r = { .n = 0 };

    store_rec_each(st, GRAPH_PERSIST_NS, on_rec, &r);
    return r.n;
}

struct written {
    int     sess;
    int     pref;
    int     seen;
};

static void
on_written(void *arg, const struct store_graph *sg)
{
    struct written *w = arg;

    if (strcmp(sg->sg_id, "u1") == 0) {
        w->sess = sg->sg_session;
        w->pref = sg->sg_pref;
        w->seen = 1;
    }
}

/* The next write the restored queue hands out. */
static void
expect_next(struct graph *g, const char *id, enum graph_mech m, int value)
{
    struct graph_intent out;

    CHECK_STR(graph_queue_next(graph_write_q(g), clock_now_ms(), &out), id);
    CHECK(out.gi_mech == m);
    CHECK(out.gi_value == value);
}

static void
record_round_trips_through_json(void)
{
    struct graph_persist_rec r = {
        1, { GRAPH_MECH_PREF, PRES_PREF_DND, 3, 0, 77 }, 1700000000123LL,
        0, 0
    };
    struct graph_persist_rec back;
    char id[64];
    char *text = graph_persist_encode("4a5d-1", &r);

    CHECK(text != NULL);
    CHECK(graph_persist_decode(text, id, sizeof(id), &back) == 0);
    CHECK_STR(id, "4a5d-1");
    CHECK(back.pr_pending && back.pr_late == 0);
    CHECK(back.pr_it.gi_mech == GRAPH_MECH_PREF &&
        back.pr_it.gi_value == PRES_PREF_DND);
    CHECK(back.pr_it.gi_failures == 3 && back.pr_it.gi_stamp == 77);
    CHECK(back.pr_next_at == 1700000000123LL);
    free(text);

    /* Kept for late values alone: no write pending, no stamp. */
    r.pr_pending = 0;
    r.pr_it.gi_stamp = 0;
    r.pr_late = 1u << PRES_PREF_CLEAR;
    r.pr_late_by = 1700000020000LL;
    text = graph_persist_encode("4a5d-1", &r);
    CHECK(graph_persist_decode(text, id, sizeof(id), &back) == 0);
    CHECK(!back.pr_pending && back.pr_late == 1u << PRES_PREF_CLEAR);
    CHECK(back.pr_late_by == 1700000020000LL);
    free(text);
}

static void
foreign_records_are_refused(void)
{
    static const char *const bad[] = {
        "", "[]", "{\"user\":\"u\"}",
        "{\"user\":\"u\",\"mech\":\"session\",\"value\":9,\"stamp\":1,"
        "\"attempts\":0,\"next_at\":0}",
        "{\"user\":\"u\",\"mech\":\"other\",\"value\":1,\"stamp\":1,"
        "\"attempts\":0,\"next_at\":0}",
        "{\"user\":\"u\",\"mech\":\"pref\",\"value\":1,\"stamp\":0,"
        "\"attempts\":0,\"next_at\":0}",
        "{\"user\":\"\",\"mech\":\"pref\",\"value\":1,\"stamp\":1,"
        "\"attempts\":0,\"next_at\":0}",
        "{\"user\":\"u\",\"mech\":\"pref\",\"value\":1.5,\"stamp\":1,"
        "\"attempts\":0,\"next_at\":0}",
        /* Neither a write pending nor late values. */
        "{\"user\":\"u\",\"mech\":\"pref\",\"value\":1,\"stamp\":0,"
        "\"attempts\":0,\"next_at\":0,\"pending\":false}",
        "{\"user\":\"u\",\"mech\":\"pref\",\"value\":1,\"stamp\":1,"
        "\"attempts\":0,\"next_at\":0,\"late\":-2,\"late_by\":0}",
    };
    struct graph_persist_rec r;
    char id[64];
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        CHECK(graph_persist_decode(bad[i], id, sizeof(id), &r) == -1);
}

/*
 * Intents queued, coalesced and one confirmed; the process "crashes"
 * (the client is freed without anything written at the end, the store
 * closed); a new client on the same file gets back exactly the intents
 * still pending, newest per user and mechanism, in their order.
 */
static void
pending_writes_survive_a_crash_in_order(void)
{
    struct store *st;
    struct graph *g;
    struct graph_intent out, a1, a2, a3;
    struct written w = { 0, 0, 0 };
    char *err = NULL;

    st = store_open(dbpath, &err);
    g = new_client();
    CHECK(st != NULL && g != NULL);
    CHECK(graph_set_store(g, st, NULL) == 0);
    CHECK(graph_set_session(g, "u1", PRES_SESS_IN_CALL) == 0);
    CHECK(graph_set_pref(g, "u2", PRES_PREF_DND) == 0);
    CHECK(graph_set_pref(g, "u1", PRES_PREF_DND) == 0);
    CHECK(graph_set_session(g, "u3", PRES_SESS_AWAY) == 0);
    CHECK(graph_set_session(g, "u4", PRES_SESS_AWAY) == 0);
    CHECK(graph_set_session(g, "u1", PRES_SESS_AVAILABLE) == 0);
    CHECK(count_recs(st) == 5);

    /* All four go out; u4's is confirmed (its record goes, graph_written
     * has it), the others fail and wait. */
    CHECK_STR(graph_queue_next(graph_write_q(g), 0, &a1), "u1");
    CHECK_STR(graph_queue_next(graph_write_q(g), 0, &a2), "u2");
    CHECK_STR(graph_queue_next(graph_write_q(g), 0, &a3), "u3");
    CHECK_STR(graph_queue_next(graph_write_q(g), 0, &out), "u4");
    graph_queue_retry(graph_write_q(g), "u1", &a1, 0);
    graph_queue_retry(graph_write_q(g), "u2", &a2, 0);
    graph_queue_retry(graph_write_q(g), "u3", &a3, 0);
    graph_queue_done(graph_write_q(g), "u4", -1);
    graph_persist_confirm(g, "u4", &out);
    CHECK(count_recs(st) == 4);

    /* The crash. */
    graph_destroy(g);
    store_close(st);

    st = store_open(dbpath, &err);
    g = new_client();
    CHECK(graph_set_store(g, st, NULL) == 4);
    CHECK(graph_pending(g) == 4);
    expect_next(g, "u1", GRAPH_MECH_SESSION, PRES_SESS_AVAILABLE);
    expect_next(g, "u2", GRAPH_MECH_PREF, PRES_PREF_DND);
    expect_next(g, "u3", GRAPH_MECH_SESSION, PRES_SESS_AWAY);
    CHECK(graph_queue_next(graph_write_q(g), clock_now_ms(), &out) == NULL);

    /* u1's session is confirmed: graph_written and the record move
     * together, and u1's preferred write comes next. */
    out.gi_mech = GRAPH_MECH_SESSION;
    out.gi_value = PRES_SESS_AVAILABLE;
    graph_queue_done(graph_write_q(g), "u1", -1);
    graph_persist_confirm(g, "u1", &out);
    expect_next(g, "u1", GRAPH_MECH_PREF, PRES_PREF_DND);
    CHECK(count_recs(st) == 3);
    store_graph_each(st, on_written, &w);
    CHECK(w.seen && w.sess == PRES_SESS_AVAILABLE && w.pref == 0);
    graph_destroy(g);
    store_close(st);
}

/* A newer intent that arrives while the old one is in flight replaces the
 * record; the old one's confirmation then leaves the newer record. */
static void
confirmation_of_an_older_write_keeps_the_newer_record(void)
{
    struct store *st;
    struct graph *g;
    struct graph_intent out;
    char *err = NULL;

    unlink(dbpath);
    st = store_open(dbpath, &err);
    g = new_client();
    graph_set_store(g, st, NULL);
    graph_set_session(g, "u9", PRES_SESS_IN_CALL);
    graph_queue_next(graph_write_q(g), clock_now_ms(), &out);
    graph_set_session(g, "u9", PRES_SESS_AVAILABLE);
    graph_queue_done(graph_write_q(g), "u9", -1);
    graph_persist_confirm(g, "u9", &out);
    CHECK(count_recs(st) == 1);
    graph_destroy(g);
    store_close(st);

    st = store_open(dbpath, &err);
    g = new_client();
    CHECK(graph_set_store(g, st, NULL) == 1);
    expect_next(g, "u9", GRAPH_MECH_SESSION, PRES_SESS_AVAILABLE);
    graph_destroy(g);
    store_close(st);
}

static int
persisted_written(void *arg, const char *id, enum graph_mech m)
{
    return graph_persist_written(arg, id, m);
}

static void
persisted_settled(void *arg, const char *id, enum graph_mech m,
    const struct graph_intent *it)
{
    (void)it;
    graph_persist_sync(arg, id, m, 0);
}

static const struct graph_settle_ops persisted_ops = {
    persisted_written, persisted_settled
};

/*
 * A call write gets no answer, idle is confirmed after it; the process
 * crashes before the late call could have landed.  The record stays for
 * the late value alone, and after the restart idle is written once more
 * when its time comes; then the record goes.
 */
static void
late_values_survive_a_crash(void)
{
    struct store *st;
    struct graph *g;
    struct graph_intent out;
    char *err = NULL;
    int64_t now = clock_now_ms(), by = 0;

    unlink(dbpath);
    st = store_open(dbpath, &err);
    g = new_client();
    graph_set_store(g, st, NULL);
    graph_set_session(g, "u7", PRES_SESS_IN_CALL);
    graph_queue_next(graph_write_q(g), now, &out);
    graph_set_session(g, "u7", PRES_SESS_AVAILABLE);
    graph_queue_uncertain(graph_write_q(g), "u7", GRAPH_MECH_SESSION,
        1u << PRES_SESS_IN_CALL, graph_write_late_by(g, now));
    graph_queue_retry(graph_write_q(g), "u7", &out, now);
    graph_persist_sync(g, "u7", GRAPH_MECH_SESSION, now);
    graph_queue_next(graph_write_q(g), now, &out);
    CHECK(out.gi_value == PRES_SESS_AVAILABLE);
    graph_queue_done(graph_write_q(g), "u7", -1);
    graph_persist_confirm(g, "u7", &out);
    CHECK(count_recs(st) == 1);
    graph_destroy(g);
    store_close(st);

    st = store_open(dbpath, &err);
    g = new_client();
    CHECK(graph_set_store(g, st, NULL) == 0);
    CHECK(graph_queue_late(graph_write_q(g), "u7", GRAPH_MECH_SESSION,
        &by) == 1u << PRES_SESS_IN_CALL);
    CHECK(by > now && by <= graph_write_late_by(g, clock_now_ms()));
    CHECK(graph_queue_settle(graph_write_q(g), by - 1, by, &persisted_ops,
        g) == 0);
    CHECK(graph_queue_settle(graph_write_q(g), by, by, &persisted_ops,
        g) == 1);
    CHECK(count_recs(st) == 1);
    CHECK_STR(graph_queue_next(graph_write_q(g), by, &out), "u7");
    CHECK(out.gi_value == PRES_SESS_AVAILABLE);
    CHECK(out.gi_flags & GRAPH_INTENT_REASSERT);
    graph_queue_done(graph_write_q(g), "u7", -1);
    graph_persist_confirm(g, "u7", &out);
    CHECK(count_recs(st) == 0);
    graph_destroy(g);
    store_close(st);
}

static void
outage_lets_one_probe_through_with_growing_backoff(void)
{
    struct graph_outage o = { 0, 0, 0, 0 };
    int64_t at;

    CHECK(graph_outage_gate(&o, 0, 15));
    at = graph_outage_fail(&o, 10000, NULL, 0, 0, 0, "no-answer");
    CHECK(o.go_down && at == 11000);
    CHECK(!graph_outage_gate(&o, 10500, 0));
    CHECK(graph_outage_gate(&o, 11000, 0));
    CHECK(!graph_outage_gate(&o, 11000, 1));

    /* Writes sent before the outage fail too: they wait for the probe
     * and do not push it back. */
    CHECK(graph_outage_fail(&o, 10100, NULL, 0, 0, 0, "x") == 11000);
    CHECK(graph_outage_fail(&o, 11100, NULL, 0, 0, 1, "x") == 13100);
    CHECK(graph_outage_fail(&o, 13200, NULL, 0, 0, 1, "x") == 17200);
    CHECK(graph_outage_fail(&o, 17300, NULL, 5000, 0, 1, "x") == 22300);
    CHECK(graph_outage_fail(&o, 22400, "30", 5000, 0, 1, "x") == 52400);

    graph_outage_over(&o, 60000, 3);
    CHECK(!o.go_down && graph_outage_gate(&o, 60000, 15));
    at = graph_outage_fail(&o, 70000, NULL, 0, 0, 1, "x");
    CHECK(at == 71000);
}

int
main(void)
{
    char cmd[128];

    log_init("test", 0, LOG_LVL_ERROR);
    if (mkdtemp(tmpdir) == NULL)
        return 99;
    snprintf(dbpath, sizeof(dbpath), "%s/gwq.db", tmpdir);
    su_init();
    root = su_root_create(NULL);
    if (root == NULL)
        return 99;
    TEST_RUN(record_round_trips_through_json);
    TEST_RUN(foreign_records_are_refused);
    TEST_RUN(pending_writes_survive_a_crash_in_order);
    TEST_RUN(confirmation_of_an_older_write_keeps_the_newer_record);
    TEST_RUN(late_values_survive_a_crash);
    TEST_RUN(outage_lets_one_probe_through_with_growing_backoff);
    su_root_destroy(root);
    su_deinit();
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0)
        return 99;
    return test_done();
}
