/*
 * test_pa.c: the presence agent: publications and their entity tags,
 * combining devices, what it asks of Graph, expiry, Teams reads, the
 * user map reload and the restore from the store.
 *
 * The Graph client is the real one, pointed at a closed loopback port:
 * it queues what the agent asks and sends nothing.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "pa/pa_int.h"
#include "graph/graph.h"
#include "store/store.h"
#include "testlib.h"

#define ALICE_ID "4a5d2c1e-0b7f-4c1a-9e3d-a11ce0000001"
#define BOB_ID   "4a5d2c1e-0b7f-4c1a-9e3d-b0b000000002"

static char tmpdir[] = "/tmp/presgw-test-pa-XXXXXX";
static char dbpath[256], mappath[256];
static su_root_t *root;
static struct graph *graph;
static struct store *store;

struct record {
    int                 notifies;
    int                 terminates;
    enum pres_status    last_view;
    int                 last_dnd;
    unsigned            last_changed;
    void               *last_handle;
};

static struct record rec;

static void
rec_notify(void *arg, void *handle, const struct pa_state *st,
    unsigned changed)
{
    (void)arg;
    rec.notifies++;
    rec.last_handle = handle;
    rec.last_view = st->ps_view;
    rec.last_dnd = st->ps_dnd;
    rec.last_changed = changed;
}

static void
rec_terminate(void *arg, void *handle, const char *aor, const char *reason)
{
    (void)arg;
    (void)aor;
    (void)reason;
    rec.terminates++;
    rec.last_handle = handle;
}

static void
write_map(const char *text)
{
    FILE *fp = fopen(mappath, "w");

    fputs(text, fp);
    fclose(fp);
}

static struct pa *
new_agent(int call_end_clear)
{
    struct map_opts mo = { call_end_clear, 0 };
    struct pa_notifier pn = { rec_notify, rec_terminate, NULL };
    struct pa *pa = pa_create(store, graph, &mo);
    char *err = NULL;

    pa_set_notifier(pa, &pn);
    if (pa_load_users(pa, mappath, "example.com", &err) != 0) {
        fprintf(stderr, "%s\n", err);
        free(err);
    }
    memset(&rec, 0, sizeof(rec));
    return pa;
}

static void
publish_in_call_asks_for_a_call_session(void)
{
    struct pa *pa = new_agent(0);
    struct pa_user *u = pa_user_find(pa, "alice@example.com");
    enum pres_status call = PRES_IN_CALL;
    char etag[PA_ETAG_MAX], etag2[PA_ETAG_MAX];

    CHECK(u != NULL);
    pa_pub_new(pa, u, 'p', call, NULL, 60, etag);
    CHECK(u->pu_local == PRES_IN_CALL);
    CHECK(u->pu_sess == PRES_SESS_IN_CALL);
    CHECK(u->pu_pref == PRES_PREF_CLEAR);
    CHECK(graph_pending(graph) >= 1);

    /* The call ends with the publication: Available, as configured. */
    CHECK(pa_pub_update(pa, u, 'p', etag, -1, NULL, 60, etag2) == PA_PUB_OK);
    CHECK(pa_pub_remove(pa, u, 'p', etag2) == PA_PUB_OK);
    CHECK(u->pu_local == PRES_UNKNOWN);
    CHECK(u->pu_sess == PRES_SESS_AVAILABLE);
    pa_destroy(pa);
}

static void
call_end_clear_clears_the_session(void)
{
    struct pa *pa = new_agent(1);
    struct pa_user *u = pa_user_find(pa, "alice@example.com");
    enum pres_status call = PRES_IN_CALL;
    enum pres_status idle = PRES_AVAILABLE;
    char etag[PA_ETAG_MAX], etag2[PA_ETAG_MAX];

    pa_pub_new(pa, u, 'p', call, NULL, 60, etag);
    CHECK(u->pu_sess == PRES_SESS_IN_CALL);
    CHECK(pa_pub_update(pa, u, 'p', etag, (int)idle, NULL, 60, etag2) ==
        PA_PUB_OK);
    CHECK(u->pu_sess == PRES_SESS_CLEAR);
    pa_pub_remove(pa, u, 'p', etag2);
    pa_destroy(pa);
}

static void
devices_combine_and_the_call_outranks(void)
{
    struct pa *pa = new_agent(0);
    struct pa_user *u = pa_user_find(pa, "alice@example.com");
    enum pres_status call = PRES_IN_CALL;
    enum pres_status idle = PRES_AVAILABLE;
    char e1[PA_ETAG_MAX], e2[PA_ETAG_MAX];

    pa_pub_new(pa, u, 'p', idle, NULL, 60, e1);
    CHECK(u->pu_local == PRES_AVAILABLE);
    CHECK(u->pu_sess == PRES_SESS_CLEAR);   /* idle to idle: no write */
    pa_pub_new(pa, u, 'p', call, NULL, 60, e2);
    CHECK(strcmp(e1, e2) != 0);
    CHECK(u->pu_local == PRES_IN_CALL);
    pa_pub_remove(pa, u, 'p', e2);
    CHECK(u->pu_local == PRES_AVAILABLE);
    CHECK(u->pu_sess == PRES_SESS_AVAILABLE);
    pa_pub_remove(pa, u, 'p', e1);
    pa_destroy(pa);
}

static void
dnd_publication_asks_for_preferred_dnd(void)
{
    struct pa *pa = new_agent(0);
    struct pa_user *u = pa_user_find(pa, "alice@example.com");
    enum pres_status dnd = PRES_DND;
    char etag[PA_ETAG_MAX];

    pa_pub_new(pa, u, 'p', dnd, NULL, 60, etag);
    CHECK(u->pu_pref == PRES_PREF_DND);
    pa_pub_remove(pa, u, 'p', etag);
    CHECK(u->pu_pref == PRES_PREF_CLEAR);
    pa_destroy(pa);
}

static void
entity_tags_are_new_each_time_and_old_ones_fail(void)
{
    struct pa *pa = new_agent(0);
    struct pa_user *a = pa_user_find(pa, "alice@example.com");
    struct pa_user *b = pa_user_find(pa, "bob@example.com");
    enum pres_status idle = PRES_AVAILABLE;
    char e1[PA_ETAG_MAX], e2[PA_ETAG_MAX], e3[PA_ETAG_MAX];

    pa_pub_new(pa, a, 'p', idle, NULL, 60, e1);
    CHECK(pa_pub_update(pa, a, 'p', e1, -1, NULL, 60, e2) == PA_PUB_OK);
    CHECK(strcmp(e1, e2) != 0);
    CHECK(pa_pub_update(pa, a, 'p', e1, -1, NULL, 60, e3) == PA_PUB_NO_ETAG);
    CHECK(pa_pub_update(pa, a, 'p', "no-such-tag", -1, NULL, 60, e3) ==
        PA_PUB_NO_ETAG);
    /* A tag belongs to its user: bob cannot touch alice's publication. */
    CHECK(pa_pub_remove(pa, b, 'p', e2) == PA_PUB_NO_ETAG);
    /* A tag belongs to its event package too (RFC 3903 section 4.1). */
    CHECK(pa_pub_update(pa, a, 'd', e2, -1, NULL, 60, e3) ==
        PA_PUB_NO_ETAG);
    CHECK(pa_pub_remove(pa, a, 'p', e2) == PA_PUB_OK);
    CHECK(pa_pub_remove(pa, a, 'p', e2) == PA_PUB_NO_ETAG);
    pa_destroy(pa);
}

static void
expired_publication_ends_and_watchers_hear(void)
{
    struct pa *pa = new_agent(0);
    struct pa_user *u = pa_user_find(pa, "alice@example.com");
    enum pres_status call = PRES_IN_CALL;
    struct pa_watcher *w;
    struct pa_state st;
    char etag[PA_ETAG_MAX];
    int handle;

    pa_pub_new(pa, u, 'p', call, NULL, 30, etag);
    w = pa_watch_add(pa, u, &handle);
    pa_watch_state(w, &st);
    CHECK(st.ps_view == PRES_IN_CALL);
    clock_advance(29);
    pa_expire(pa);
    CHECK(rec.notifies == 0);
    clock_advance(2);
    pa_expire(pa);
    CHECK(u->pu_pubs == NULL);
    CHECK(rec.notifies == 1);
    CHECK(rec.last_handle == &handle);
    CHECK(rec.last_view != PRES_IN_CALL);
    CHECK(rec.last_changed & PA_CHG_VIEW);
    CHECK(u->pu_sess == PRES_SESS_AVAILABLE);
    pa_watch_del(pa, w);
    pa_destroy(pa);
}

static void
teams_change_notifies_in_sequence_order(void)
{
    struct pa *pa = new_agent(0);
    struct pa_user *u = pa_user_find(pa, "bob@example.com");
    struct pa_watcher *w;
    int handle;

    w = pa_watch_add(pa, u, &handle);
    pa_teams_presence(pa, BOB_ID, "DoNotDisturb", "DoNotDisturb", "A0005");
    CHECK(rec.notifies == 1);
    CHECK(rec.last_view == PRES_DND && rec.last_dnd == 1);
    CHECK(rec.last_changed == (PA_CHG_VIEW | PA_CHG_DND));
    /* The same version again, and an older one, change nothing. */
    pa_teams_presence(pa, BOB_ID, "DoNotDisturb", "DoNotDisturb", "A0005");
    pa_teams_presence(pa, BOB_ID, "Available", "Available", "A0004");
    CHECK(rec.notifies == 1);
    CHECK(u->pu_teams == PRES_DND);
    pa_teams_presence(pa, BOB_ID, "Busy", "InACall", "A0006");
    CHECK(rec.notifies == 2);
    CHECK(rec.last_view == PRES_IN_CALL && rec.last_dnd == 0);
    /* Teams reads never become Graph writes. */
    CHECK(u->pu_sess == PRES_SESS_CLEAR && u->pu_pref == PRES_PREF_CLEAR);
    pa_teams_presence(pa, "no-such-user", "Busy", "InACall", "A0007");
    pa_watch_del(pa, w);
    pa_destroy(pa);
}

static void
reload_keeps_staying_users_and_ends_leavers(void)
{
    struct pa *pa = new_agent(0);
    struct pa_user *a = pa_user_find(pa, "alice@example.com");
    struct pa_user *b = pa_user_find(pa, "bob@example.com");
    enum pres_status call = PRES_IN_CALL;
    char etag[PA_ETAG_MAX], *err = NULL;
    int handle;

    pa_pub_new(pa, a, 'p', call, NULL, 60, etag);
    pa_watch_add(pa, b, &handle);
    write_map("sip:alice@example.com, " ALICE_ID "\n");
    CHECK(pa_load_users(pa, mappath, "example.com", &err) == 0);
    CHECK(pa_user_find(pa, "bob@example.com") == NULL);
    CHECK(rec.terminates == 1 && rec.last_handle == &handle);
    CHECK(pa_user_find(pa, "alice@example.com") == a);
    CHECK(a->pu_local == PRES_IN_CALL);

    /* A broken map is refused and the running one stays. */
    write_map("sip:alice@example.com, bad id\n");
    CHECK(pa_load_users(pa, mappath, "example.com", &err) == -1);
    CHECK(err != NULL);
    free(err);
    CHECK(pa_user_find(pa, "alice@example.com") == a);
    pa_pub_remove(pa, a, 'p', etag);
    pa_destroy(pa);
    write_map("sip:alice@example.com, " ALICE_ID "\n"
        "sip:bob@example.com, " BOB_ID "\n");
}

static void
restart_restores_publications_and_teams_state(void)
{
    struct pa *pa = new_agent(0);
    struct pa_user *u = pa_user_find(pa, "alice@example.com");
    enum pres_status call = PRES_IN_CALL;
    char etag[PA_ETAG_MAX], etag2[PA_ETAG_MAX];

    pa_pub_new(pa, u, 'p', call, NULL, 600, etag);
    pa_teams_presence(pa, BOB_ID, "Away", "Away", "A0100");
    pa_destroy(pa);

    pa = new_agent(0);
    pa_restore(pa);
    u = pa_user_find(pa, "alice@example.com");
    CHECK(u->pu_local == PRES_IN_CALL);
    CHECK(u->pu_sess == PRES_SESS_IN_CALL);
    CHECK(pa_user_find(pa, "bob@example.com")->pu_teams == PRES_AWAY);
    /* The publication keeps its entity tag across the restart. */
    CHECK(pa_pub_update(pa, u, 'p', etag, -1, NULL, 600, etag2) == PA_PUB_OK);
    pa_pub_remove(pa, u, 'p', etag2);
    pa_destroy(pa);
}

static void
call_end_shows_at_once_despite_teams_echo(void)
{
    struct pa *pa = new_agent(0);
    struct pa_user *u = pa_user_find(pa, "alice@example.com");
    struct pa_watcher *w;
    char etag[PA_ETAG_MAX];
    int handle;

    pa_teams_presence(pa, ALICE_ID, "Available", "Available", "A0010");
    w = pa_watch_add(pa, u, &handle);
    pa_pub_new(pa, u, 'p', PRES_IN_CALL, NULL, 60, etag);
    /* Teams reports back the call presgw wrote: nothing new to show. */
    pa_teams_presence(pa, ALICE_ID, "Busy", "InACall", "A0011");
    CHECK(rec.notifies == 1 && rec.last_view == PRES_IN_CALL);
    /* The call ends: watchers see it now, not at the next read. */
    pa_pub_remove(pa, u, 'p', etag);
    CHECK(rec.notifies == 2 && rec.last_view == PRES_AVAILABLE);
    CHECK(u->pu_sess == PRES_SESS_AVAILABLE);
    /* ... and the read that follows sends nothing more. */
    pa_teams_presence(pa, ALICE_ID, "Available", "Available", "A0012");
    CHECK(rec.notifies == 2);
    pa_watch_del(pa, w);
    pa_destroy(pa);
}

static void
teams_sequence_reset_is_taken_after_three_reads(void)
{
    struct pa *pa = new_agent(0);
    struct pa_user *u = pa_user_find(pa, "bob@example.com");

    pa_teams_presence(pa, BOB_ID, "Away", "Away", "A0900");
    CHECK(u->pu_teams == PRES_AWAY);
    /* One older read is a late answer: dropped. */
    pa_teams_presence(pa, BOB_ID, "DoNotDisturb", "DoNotDisturb", "A0002");
    pa_teams_presence(pa, BOB_ID, "DoNotDisturb", "DoNotDisturb", "A0003");
    CHECK(u->pu_teams == PRES_AWAY);
    /* Older again and again: Graph started counting anew. */
    pa_teams_presence(pa, BOB_ID, "DoNotDisturb", "DoNotDisturb", "A0004");
    CHECK(u->pu_teams == PRES_DND);
    pa_teams_presence(pa, BOB_ID, "Available", "Available", "A0005");
    CHECK(u->pu_teams == PRES_AVAILABLE);
    pa_destroy(pa);
}

static void
swapped_ids_follow_their_users(void)
{
    struct pa *pa = new_agent(0);
    char *err = NULL;

    write_map("sip:alice@example.com, " BOB_ID "\n"
        "sip:bob@example.com, " ALICE_ID "\n");
    CHECK(pa_load_users(pa, mappath, "example.com", &err) == 0);
    pa_teams_presence(pa, ALICE_ID, "Away", "Away", "A0001");
    pa_teams_presence(pa, BOB_ID, "DoNotDisturb", "DoNotDisturb", "A0001");
    CHECK(pa_user_find(pa, "bob@example.com")->pu_teams == PRES_AWAY);
    CHECK(pa_user_find(pa, "alice@example.com")->pu_teams == PRES_DND);
    pa_destroy(pa);
    write_map("sip:alice@example.com, " ALICE_ID "\n"
        "sip:bob@example.com, " BOB_ID "\n");
}

static void
dnd_key_writes_once_and_teams_echo_is_silent(void)
{
    struct pa *pa = new_agent(0);
    struct pa_user *u = pa_user_find(pa, "alice@example.com");
    struct pa_watcher *w;
    int handle;

    pa_teams_presence(pa, ALICE_ID, "Available", "Available", "A0019");
    w = pa_watch_add(pa, u, &handle);
    pa_dnd_key(pa, u, 1);
    CHECK(u->pu_pref == PRES_PREF_DND);
    CHECK(rec.notifies == 1 && rec.last_dnd == 1);
    pa_teams_presence(pa, ALICE_ID, "DoNotDisturb", "DoNotDisturb", "A0020");
    CHECK(rec.notifies == 1);
    pa_dnd_key(pa, u, 0);
    CHECK(u->pu_pref == PRES_PREF_CLEAR);
    CHECK(rec.notifies == 2 && rec.last_dnd == 0);
    pa_teams_presence(pa, ALICE_ID, "Available", "Available", "A0021");
    CHECK(rec.notifies == 2);
    /* DND set by hand in Teams shows on the key; the key clears it. */
    pa_teams_presence(pa, ALICE_ID, "DoNotDisturb", "DoNotDisturb", "A0022");
    CHECK(rec.notifies == 3 && rec.last_dnd == 1);
    CHECK(u->pu_pref == PRES_PREF_CLEAR);
    pa_dnd_key(pa, u, 0);
    CHECK(rec.notifies == 4 && rec.last_dnd == 0);
    pa_watch_del(pa, w);
    pa_destroy(pa);
}

static int
setup(void)
{
    struct graph_conf gc;
    char *err = NULL;

    memset(&gc, 0, sizeof(gc));
    gc.gc_login_url = "http://127.0.0.1:1";
    gc.gc_graph_url = "http://127.0.0.1:1/v1.0";
    gc.gc_scope = "https://graph.microsoft.com/.default";
    gc.gc_tenant_id = "tenant";
    gc.gc_client_id = "client";
    gc.gc_client_secret = "secret-for-tests";
    gc.gc_session_expiry = 3600;
    gc.gc_call_refresh = 240;
    gc.gc_timeout = 5;
    gc.gc_queue_max = 1000;

    if (mkdtemp(tmpdir) == NULL)
        return -1;
    snprintf(dbpath, sizeof(dbpath), "%s/pa.db", tmpdir);
    snprintf(mappath, sizeof(mappath), "%s/users.csv", tmpdir);
    write_map("sip:alice@example.com, " ALICE_ID "\n"
        "sip:bob@example.com, " BOB_ID "\n");
    su_init();
    root = su_root_create(NULL);
    graph = graph_create(root, &gc, pa_teams_presence, NULL);
    store = store_open(dbpath, &err);
    return root && graph && store ? 0 : -1;
}

int
main(void)
{
    char cmd[128];

    log_init("test", 0, LOG_LVL_ERROR);
    if (setup() != 0)
        return 99;
    TEST_RUN(publish_in_call_asks_for_a_call_session);
    TEST_RUN(call_end_clear_clears_the_session);
    TEST_RUN(devices_combine_and_the_call_outranks);
    TEST_RUN(dnd_publication_asks_for_preferred_dnd);
    TEST_RUN(entity_tags_are_new_each_time_and_old_ones_fail);
    TEST_RUN(expired_publication_ends_and_watchers_hear);
    TEST_RUN(teams_change_notifies_in_sequence_order);
    TEST_RUN(reload_keeps_staying_users_and_ends_leavers);
    TEST_RUN(restart_restores_publications_and_teams_state);
    TEST_RUN(call_end_shows_at_once_despite_teams_echo);
    TEST_RUN(teams_sequence_reset_is_taken_after_three_reads);
    TEST_RUN(swapped_ids_follow_their_users);
    TEST_RUN(dnd_key_writes_once_and_teams_echo_is_silent);
    graph_destroy(graph);
    store_close(store);
    su_root_destroy(root);
    su_deinit();
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0)
        return 99;
    return test_done();
}
