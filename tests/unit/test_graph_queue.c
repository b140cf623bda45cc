/*
 * test_graph_queue.c: the Graph write queue: coalescing, order, the bound,
 * retries and call refreshes, without any network.
 */
#include "config.h"

#include <string.h>

#define SU_WAKEUP_ARG_T void
#define SU_TIMER_ARG_T  void
#include "graph/graph_int.h"

#include "testlib.h"

static struct graph_intent
session(enum pres_session st)
{
    struct graph_intent it;

    memset(&it, 0, sizeof(it));
    it.gi_mech = GRAPH_MECH_SESSION;
    it.gi_value = (int)st;
    return it;
}

static struct graph_intent
pref(enum pres_pref st)
{
    struct graph_intent it;

    memset(&it, 0, sizeof(it));
    it.gi_mech = GRAPH_MECH_PREF;
    it.gi_value = (int)st;
    return it;
}

static enum graph_queue_put
put(struct graph_queue *q, const char *id, struct graph_intent it)
{
    return graph_queue_put(q, id, &it);
}

static void
newer_intent_replaces_pending(void)
{
    struct graph_queue *q = graph_queue_create(0);
    struct graph_intent out;

    CHECK(put(q, "u1", session(PRES_SESS_IN_CALL)) == GRAPH_QUEUE_ADDED);
    CHECK(put(q, "u1", session(PRES_SESS_AVAILABLE)) ==
        GRAPH_QUEUE_REPLACED);
    CHECK(graph_queue_pending(q) == 1);
    CHECK_STR(graph_queue_next(q, 0, &out), "u1");
    CHECK(out.gi_mech == GRAPH_MECH_SESSION);
    CHECK(out.gi_value == PRES_SESS_AVAILABLE);
    CHECK(graph_queue_next(q, 0, &out) == NULL);
    graph_queue_done(q, "u1", -1);
    CHECK(graph_queue_pending(q) == 0);
    CHECK(graph_queue_users(q) == 0);
    graph_queue_free(q);
}

static void
in_flight_write_is_not_replaced(void)
{
    struct graph_queue *q = graph_queue_create(0);
    struct graph_intent out;

    put(q, "u1", session(PRES_SESS_IN_CALL));
    CHECK_STR(graph_queue_next(q, 0, &out), "u1");
    CHECK(put(q, "u1", session(PRES_SESS_AVAILABLE)) == GRAPH_QUEUE_ADDED);
    CHECK(graph_queue_pending(q) == 2);

    /* One write at a time per user. */
    CHECK(graph_queue_next(q, 0, &out) == NULL);
    graph_queue_done(q, "u1", -1);
    CHECK_STR(graph_queue_next(q, 0, &out), "u1");
    CHECK(out.gi_value == PRES_SESS_AVAILABLE);
    graph_queue_done(q, "u1", -1);
    CHECK(graph_queue_pending(q) == 0);
    graph_queue_free(q);
}

static void
intent_equal_to_in_flight_cancels_pending(void)
{
    struct graph_queue *q = graph_queue_create(0);
    struct graph_intent out;

    /* in-call on the wire, then available, then in-call again. */
    put(q, "u1", session(PRES_SESS_IN_CALL));
    graph_queue_next(q, 0, &out);
    put(q, "u1", session(PRES_SESS_AVAILABLE));
    CHECK(put(q, "u1", session(PRES_SESS_IN_CALL)) ==
        GRAPH_QUEUE_IN_FLIGHT);
    CHECK(graph_queue_pending(q) == 1);
    graph_queue_done(q, "u1", -1);
    CHECK(graph_queue_next(q, 0, &out) == NULL);
    CHECK(graph_queue_users(q) == 0);
    graph_queue_free(q);
}

static void
user_order_follows_first_queued_mechanism(void)
{
    struct graph_queue *q = graph_queue_create(0);
    struct graph_intent out;

    put(q, "u1", pref(PRES_PREF_DND));
    put(q, "u1", session(PRES_SESS_IN_CALL));
    put(q, "u1", pref(PRES_PREF_CLEAR));
    CHECK(graph_queue_pending(q) == 2);

    CHECK_STR(graph_queue_next(q, 0, &out), "u1");
    CHECK(out.gi_mech == GRAPH_MECH_PREF);
    CHECK(out.gi_value == PRES_PREF_CLEAR);
    graph_queue_done(q, "u1", -1);
    CHECK_STR(graph_queue_next(q, 0, &out), "u1");
    CHECK(out.gi_mech == GRAPH_MECH_SESSION);
    graph_queue_done(q, "u1", -1);
    graph_queue_free(q);
}

static void
users_take_turns_in_arrival_order(void)
{
    struct graph_queue *q = graph_queue_create(0);
    struct graph_intent out;

    put(q, "u1", session(PRES_SESS_IN_CALL));
    put(q, "u2", session(PRES_SESS_IN_CALL));
    put(q, "u1", pref(PRES_PREF_DND));
    CHECK_STR(graph_queue_next(q, 0, &out), "u1");
    CHECK_STR(graph_queue_next(q, 0, &out), "u2");
    CHECK(graph_queue_next(q, 0, &out) == NULL);

    /* u1's second write goes behind anyone who became ready before. */
    put(q, "u3", session(PRES_SESS_AWAY));
    graph_queue_done(q, "u1", -1);
    CHECK_STR(graph_queue_next(q, 0, &out), "u3");
    CHECK_STR(graph_queue_next(q, 0, &out), "u1");
    CHECK(out.gi_mech == GRAPH_MECH_PREF);
    graph_queue_free(q);
}

static void
full_queue_refuses_new_users_only(void)
{
    struct graph_queue *q = graph_queue_create(2);
    struct graph_intent out;

    CHECK(put(q, "u1", session(PRES_SESS_IN_CALL)) == GRAPH_QUEUE_ADDED);
    CHECK(put(q, "u2", session(PRES_SESS_IN_CALL)) == GRAPH_QUEUE_ADDED);
    CHECK(put(q, "u3", session(PRES_SESS_IN_CALL)) == GRAPH_QUEUE_FULL);
    CHECK(put(q, "u1", pref(PRES_PREF_DND)) == GRAPH_QUEUE_ADDED);
    CHECK(put(q, "u2", session(PRES_SESS_AVAILABLE)) ==
        GRAPH_QUEUE_REPLACED);
    CHECK(graph_queue_users(q) == 2);

    /* A user in flight still counts; once done, room comes back. */
    CHECK_STR(graph_queue_next(q, 0, &out), "u1");
    CHECK(put(q, "u3", session(PRES_SESS_IN_CALL)) == GRAPH_QUEUE_FULL);
    CHECK_STR(graph_queue_next(q, 0, &out), "u2");
    graph_queue_done(q, "u2", -1);
    CHECK(put(q, "u3", session(PRES_SESS_IN_CALL)) == GRAPH_QUEUE_ADDED);
    graph_queue_free(q);
}

static void
retry_waits_and_goes_first(void)
{
    struct graph_queue *q = graph_queue_create(0);
    struct graph_intent out, failed;

    put(q, "u1", session(PRES_SESS_IN_CALL));
    put(q, "u1", pref(PRES_PREF_DND));
    graph_queue_next(q, 1000, &out);
    failed = out;
    failed.gi_failures = 1;
    graph_queue_retry(q, "u1", &failed, 3000);
    CHECK(graph_queue_pending(q) == 2);
    CHECK(graph_queue_next_due(q) == 3000);
    CHECK(!graph_queue_ready(q, 2999));
    CHECK(graph_queue_next(q, 2999, &out) == NULL);

    CHECK_STR(graph_queue_next(q, 3000, &out), "u1");
    CHECK(out.gi_mech == GRAPH_MECH_SESSION);
    CHECK(out.gi_failures == 1);
    graph_queue_done(q, "u1", -1);
    CHECK_STR(graph_queue_next(q, 3000, &out), "u1");
    CHECK(out.gi_mech == GRAPH_MECH_PREF);
    graph_queue_free(q);
}

static void
retry_yields_to_newer_intent(void)
{
    struct graph_queue *q = graph_queue_create(0);
    struct graph_intent out, failed;

    put(q, "u1", session(PRES_SESS_IN_CALL));
    graph_queue_next(q, 0, &out);
    put(q, "u1", session(PRES_SESS_AVAILABLE));
    failed = out;
    graph_queue_retry(q, "u1", &failed, 10);
    CHECK(graph_queue_pending(q) == 1);
    CHECK_STR(graph_queue_next(q, 10, &out), "u1");
    CHECK(out.gi_value == PRES_SESS_AVAILABLE);
    graph_queue_done(q, "u1", -1);
    CHECK(graph_queue_pending(q) == 0);
    graph_queue_free(q);
}

static void
delayed_users_keep_their_order(void)
{
    struct graph_queue *q = graph_queue_create(0);
    struct graph_intent out;

    put(q, "u1", session(PRES_SESS_IN_CALL));
    put(q, "u2", session(PRES_SESS_IN_CALL));
    graph_queue_next(q, 0, &out);
    graph_queue_next(q, 0, &out);
    graph_queue_retry(q, "u2", &out, 500);
    out.gi_value = PRES_SESS_IN_CALL;
    graph_queue_retry(q, "u1", &out, 900);
    put(q, "u3", session(PRES_SESS_AWAY));

    /* Delayed users go before those who never waited. */
    CHECK_STR(graph_queue_next(q, 1000, &out), "u2");
    CHECK_STR(graph_queue_next(q, 1000, &out), "u1");
    CHECK_STR(graph_queue_next(q, 1000, &out), "u3");
    graph_queue_free(q);
}

static void
call_session_is_refreshed_until_it_changes(void)
{
    struct graph_queue *q = graph_queue_create(0);
    struct graph_intent out;

    put(q, "u1", session(PRES_SESS_IN_CALL));
    graph_queue_next(q, 0, &out);
    graph_queue_done(q, "u1", 60000);
    CHECK(graph_queue_users(q) == 0);
    CHECK(graph_queue_next_due(q) == 60000);
    CHECK(graph_queue_refresh(q, 59999, 65000) == 0);
    CHECK(graph_queue_refresh(q, 60000, 65000) == 1);

    CHECK_STR(graph_queue_next(q, 60000, &out), "u1");
    CHECK(out.gi_value == PRES_SESS_IN_CALL);
    CHECK(out.gi_flags & GRAPH_INTENT_REFRESH);
    graph_queue_done(q, "u1", 120000);
    CHECK(graph_queue_next_due(q) == 120000);

    /* The call ends: the next session write stops the refresh. */
    put(q, "u1", session(PRES_SESS_AVAILABLE));
    graph_queue_next(q, 70000, &out);
    graph_queue_done(q, "u1", -1);
    CHECK(graph_queue_next_due(q) == -1);
    CHECK(graph_queue_refresh(q, 200000, 205000) == 0);
    graph_queue_free(q);
}

static void
refresh_waits_for_a_coming_session_write(void)
{
    struct graph_queue *q = graph_queue_create(0);
    struct graph_intent out;

    put(q, "u1", session(PRES_SESS_CONFERENCE));
    graph_queue_next(q, 0, &out);
    graph_queue_done(q, "u1", 1000);
    put(q, "u1", session(PRES_SESS_IN_CALL));
    CHECK(graph_queue_refresh(q, 1000, 2000) == 0);
    CHECK(graph_queue_pending(q) == 1);
    graph_queue_free(q);
}

static void
refresh_refused_by_full_queue_comes_back(void)
{
    struct graph_queue *q = graph_queue_create(1);
    struct graph_intent out;

    put(q, "u1", session(PRES_SESS_IN_CALL));
    graph_queue_next(q, 0, &out);
    graph_queue_done(q, "u1", 1000);
    put(q, "u2", pref(PRES_PREF_DND));
    CHECK(graph_queue_refresh(q, 1000, 6000) == 0);
    CHECK(graph_queue_next_due(q) == 6000);
    graph_queue_next(q, 1000, &out);
    graph_queue_done(q, "u2", -1);
    CHECK(graph_queue_refresh(q, 6000, 11000) == 1);
    CHECK_STR(graph_queue_next(q, 6000, &out), "u1");
    graph_queue_free(q);
}

static void
call_end_refused_by_full_queue_stops_the_refresh(void)
{
    struct graph_queue *q = graph_queue_create(1);
    struct graph_intent out;

    put(q, "u1", session(PRES_SESS_IN_CALL));
    graph_queue_next(q, 0, &out);
    graph_queue_done(q, "u1", 1000);
    put(q, "u2", pref(PRES_PREF_DND));
    CHECK(put(q, "u1", session(PRES_SESS_AVAILABLE)) == GRAPH_QUEUE_FULL);
    graph_queue_next(q, 0, &out);
    graph_queue_done(q, "u2", -1);
    CHECK(graph_queue_refresh(q, 1000, 6000) == 0);
    CHECK(graph_queue_next_due(q) == -1);
    graph_queue_free(q);
}

static void
pref_write_leaves_session_refresh_alone(void)
{
    struct graph_queue *q = graph_queue_create(0);
    struct graph_intent out;

    put(q, "u1", session(PRES_SESS_IN_CALL));
    graph_queue_next(q, 0, &out);
    graph_queue_done(q, "u1", 5000);
    put(q, "u1", pref(PRES_PREF_DND));
    graph_queue_next(q, 10, &out);
    graph_queue_done(q, "u1", -1);
    CHECK(graph_queue_next_due(q) == 5000);
    graph_queue_free(q);
}

static void
many_users_survive_table_growth(void)
{
    struct graph_queue *q = graph_queue_create(0);
    struct graph_intent out;
    char id[32];
    int i, n = 0;

    for (i = 0; i < 1000; i++) {
        snprintf(id, sizeof(id), "user-%d", i);
        put(q, id, session(PRES_SESS_IN_CALL));
    }
    CHECK(graph_queue_users(q) == 1000);
    for (i = 0; i < 1000; i++) {
        snprintf(id, sizeof(id), "user-%d", i);
        if (strcmp(graph_queue_next(q, 0, &out), id) == 0)
            n++;
        graph_queue_done(q, id, -1);
    }
    CHECK(n == 1000);
    CHECK(graph_queue_pending(q) == 0);
    graph_queue_free(q);
}

static void
replacing_intent_keeps_its_order_stamp(void)
{
    struct graph_queue *q = graph_queue_create(0);
    const struct graph_intent *n;

    put(q, "u1", pref(PRES_PREF_DND));
    put(q, "u1", session(PRES_SESS_IN_CALL));
    put(q, "u1", pref(PRES_PREF_CLEAR));
    n = graph_queue_newest(q, "u1", GRAPH_MECH_PREF);
    CHECK(n != NULL && n->gi_value == PRES_PREF_CLEAR && n->gi_stamp == 1);
    n = graph_queue_newest(q, "u1", GRAPH_MECH_SESSION);
    CHECK(n != NULL && n->gi_stamp == 2);
    CHECK(graph_queue_newest(q, "u2", GRAPH_MECH_SESSION) == NULL);
    graph_queue_free(q);
}

static void
restored_stamps_are_kept_and_new_ones_follow(void)
{
    struct graph_queue *q = graph_queue_create(0);
    struct graph_intent it = session(PRES_SESS_AWAY);
    const struct graph_intent *n;

    it.gi_stamp = 41;
    put(q, "u1", it);
    put(q, "u2", session(PRES_SESS_IN_CALL));
    n = graph_queue_newest(q, "u1", GRAPH_MECH_SESSION);
    CHECK(n != NULL && n->gi_stamp == 41);
    n = graph_queue_newest(q, "u2", GRAPH_MECH_SESSION);
    CHECK(n != NULL && n->gi_stamp == 42);
    graph_queue_free(q);
}

static void
newest_is_the_write_in_flight_when_nothing_waits(void)
{
    struct graph_queue *q = graph_queue_create(0);
    const struct graph_intent *n;
    struct graph_intent out;

    put(q, "u1", session(PRES_SESS_IN_CALL));
    graph_queue_next(q, 0, &out);
    n = graph_queue_newest(q, "u1", GRAPH_MECH_SESSION);
    CHECK(n != NULL && n->gi_value == PRES_SESS_IN_CALL);
    graph_queue_done(q, "u1", -1);
    CHECK(graph_queue_newest(q, "u1", GRAPH_MECH_SESSION) == NULL);
    graph_queue_free(q);
}

/* Graph down: the write in flight fails and waits; the phone changes
 * its mind three times meanwhile; when Graph is back only the newest
 * state of each mechanism goes, in the user's order. */
static void
changes_while_down_coalesce_into_the_newest(void)
{
    struct graph_queue *q = graph_queue_create(0);
    struct graph_intent out, failed;

    put(q, "u1", session(PRES_SESS_IN_CALL));
    CHECK_STR(graph_queue_next(q, 0, &out), "u1");
    failed = out;
    failed.gi_failures = 1;
    put(q, "u1", session(PRES_SESS_AVAILABLE));
    put(q, "u1", pref(PRES_PREF_DND));
    put(q, "u1", session(PRES_SESS_CONFERENCE));
    graph_queue_retry(q, "u1", &failed, 5000);
    CHECK(graph_queue_pending(q) == 2);
    CHECK(graph_queue_next(q, 4999, &out) == NULL);

    CHECK_STR(graph_queue_next(q, 5000, &out), "u1");
    CHECK(out.gi_mech == GRAPH_MECH_SESSION);
    CHECK(out.gi_value == PRES_SESS_CONFERENCE);
    graph_queue_done(q, "u1", -1);
    CHECK_STR(graph_queue_next(q, 5000, &out), "u1");
    CHECK(out.gi_mech == GRAPH_MECH_PREF && out.gi_value == PRES_PREF_DND);
    graph_queue_done(q, "u1", -1);
    CHECK(graph_queue_pending(q) == 0);
    graph_queue_free(q);
}

/* A failed write with nothing newer is tried again, for ever, and keeps
 * its failure count for the backoff. */
static void
failed_write_comes_back_with_its_tries(void)
{
    struct graph_queue *q = graph_queue_create(0);
    struct graph_intent out;
    unsigned i;

    put(q, "u1", pref(PRES_PREF_DND));
    for (i = 1; i <= 20; i++) {
        CHECK_STR(graph_queue_next(q, (int64_t)i * 1000, &out), "u1");
        CHECK(out.gi_failures == i - 1);
        out.gi_failures++;
        graph_queue_retry(q, "u1", &out, (int64_t)i * 1000 + 1000);
    }
    CHECK(graph_queue_pending(q) == 1);
    graph_queue_free(q);
}

int
main(void)
{
    TEST_RUN(newer_intent_replaces_pending);
    TEST_RUN(call_end_refused_by_full_queue_stops_the_refresh);
    TEST_RUN(in_flight_write_is_not_replaced);
    TEST_RUN(intent_equal_to_in_flight_cancels_pending);
    TEST_RUN(user_order_follows_first_queued_mechanism);
    TEST_RUN(users_take_turns_in_arrival_order);
    TEST_RUN(full_queue_refuses_new_users_only);
    TEST_RUN(retry_waits_and_goes_first);
    TEST_RUN(retry_yields_to_newer_intent);
    TEST_RUN(delayed_users_keep_their_order);
    TEST_RUN(call_session_is_refreshed_until_it_changes);
    TEST_RUN(refresh_waits_for_a_coming_session_write);
    TEST_RUN(refresh_refused_by_full_queue_comes_back);
    TEST_RUN(pref_write_leaves_session_refresh_alone);
    TEST_RUN(many_users_survive_table_growth);
    TEST_RUN(replacing_intent_keeps_its_order_stamp);
    TEST_RUN(restored_stamps_are_kept_and_new_ones_follow);
    TEST_RUN(newest_is_the_write_in_flight_when_nothing_waits);
    TEST_RUN(changes_while_down_coalesce_into_the_newest);
    TEST_RUN(failed_write_comes_back_with_its_tries);
    return test_done();
}
