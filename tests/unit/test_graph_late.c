/*
 * test_graph_late.c: writes that got no answer and may still land at
 * Graph after a newer one.  The queue remembers them; when they can no
 * longer land, the state Graph should show is queued once more, only
 * where one of them could have undone it.  No network.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#define SU_WAKEUP_ARG_T void
#define SU_TIMER_ARG_T  void
#include "graph/graph_int.h"

#include "testlib.h"

#define BIT(v)  (1u << (v))

/* What the caller of graph_queue_settle() sees: Graph's confirmed
 * session value for every user, and the users settled. */
struct seen {
    int     written;
    size_t  settled;
    size_t  queued;
    int     value;          /* of the last one queued */
    char    last[32];
};

static int
written(void *arg, const char *id, enum graph_mech m)
{
    struct seen *s = arg;

    (void)id;
    (void)m;
    return s->written;
}

static void
settled(void *arg, const char *id, enum graph_mech m,
    const struct graph_intent *it)
{
    struct seen *s = arg;

    (void)m;
    s->settled++;
    snprintf(s->last, sizeof(s->last), "%s", id);
    if (it != NULL) {
        s->queued++;
        s->value = it->gi_value;
        CHECK(it->gi_flags & GRAPH_INTENT_REASSERT);
    }
}

static const struct graph_settle_ops ops = { written, settled };

static struct graph_intent
session(enum pres_session st)
{
    struct graph_intent it;

    memset(&it, 0, sizeof(it));
    it.gi_mech = GRAPH_MECH_SESSION;
    it.gi_value = (int)st;
    return it;
}

static void
put(struct graph_queue *q, const char *id, enum pres_session st)
{
    struct graph_intent it = session(st);

    graph_queue_put(q, id, &it);
}

/*
 * The tester's case: a call goes out and times out at 10 s; the phone
 * went idle meanwhile; the idle write is confirmed.  Once the late call
 * could have landed (late_by), idle is queued once more, flagged, and it
 * goes as a write of its own.
 */
static void
late_call_is_followed_by_the_idle_state_again(void)
{
    struct graph_queue *q = graph_queue_create(0);
    struct seen s = { .written = PRES_SESS_AVAILABLE };
    struct graph_intent out;

    put(q, "carol", PRES_SESS_IN_CALL);
    CHECK_STR(graph_queue_next(q, 0, &out), "carol");
    put(q, "carol", PRES_SESS_AVAILABLE);
    graph_queue_uncertain(q, "carol", GRAPH_MECH_SESSION,
        BIT(PRES_SESS_IN_CALL), 30000);
    out.gi_failures++;
    graph_queue_retry(q, "carol", &out, 11000);

    /* The newer state goes, and is confirmed. */
    CHECK_STR(graph_queue_next(q, 11000, &out), "carol");
    CHECK(out.gi_value == PRES_SESS_AVAILABLE);
    CHECK(!(out.gi_flags & GRAPH_INTENT_REASSERT));
    graph_queue_done(q, "carol", -1);
    CHECK(graph_queue_users(q) == 0);
    CHECK(graph_queue_late(q, "carol", GRAPH_MECH_SESSION, NULL) ==
        BIT(PRES_SESS_IN_CALL));
    CHECK(graph_queue_next_due(q) == 30000);

    /* Not before late_by. */
    CHECK(graph_queue_settle(q, 29999, 0, &ops, &s) == 0);
    CHECK(s.settled == 0);
    CHECK(graph_queue_settle(q, 30000, 0, &ops, &s) == 1);
    CHECK(s.settled == 1 && s.queued == 1);
    CHECK(s.value == PRES_SESS_AVAILABLE);
    CHECK(graph_queue_late(q, "carol", GRAPH_MECH_SESSION, NULL) == 0);

    CHECK_STR(graph_queue_next(q, 30000, &out), "carol");
    CHECK(out.gi_value == PRES_SESS_AVAILABLE);
    CHECK(out.gi_flags & GRAPH_INTENT_REASSERT);
    graph_queue_done(q, "carol", -1);

    /* Once only. */
    CHECK(graph_queue_settle(q, 90000, 0, &ops, &s) == 0);
    CHECK(graph_queue_next_due(q) == -1);
    CHECK(graph_queue_pending(q) == 0);
    graph_queue_free(q);
}

/* A write that timed out and then went through with the same state: the
 * late copy says what Graph shows anyway, so nothing more is sent. */
static void
late_copy_of_the_shown_state_needs_nothing(void)
{
    struct graph_queue *q = graph_queue_create(0);
    struct seen s = { .written = PRES_SESS_IN_CALL };
    struct graph_intent out;

    put(q, "u1", PRES_SESS_IN_CALL);
    graph_queue_next(q, 0, &out);
    graph_queue_uncertain(q, "u1", GRAPH_MECH_SESSION,
        BIT(PRES_SESS_IN_CALL), 25000);
    graph_queue_retry(q, "u1", &out, 1000);
    graph_queue_next(q, 1000, &out);
    graph_queue_done(q, "u1", -1);

    CHECK(graph_queue_settle(q, 25000, 0, &ops, &s) == 0);
    CHECK(s.settled == 1 && s.queued == 0);
    CHECK(graph_queue_late(q, "u1", GRAPH_MECH_SESSION, NULL) == 0);
    CHECK(graph_queue_next(q, 25000, &out) == NULL);
    graph_queue_free(q);
}

/* Two writes went unanswered, a call and then idle; idle was confirmed.
 * The late idle cannot hurt, the late call can: idle goes again. */
static void
any_late_value_other_than_the_shown_one_counts(void)
{
    struct graph_queue *q = graph_queue_create(0);
    struct seen s = { .written = PRES_SESS_AVAILABLE };

    graph_queue_uncertain(q, "u1", GRAPH_MECH_SESSION,
        BIT(PRES_SESS_IN_CALL), 20000);
    graph_queue_uncertain(q, "u1", GRAPH_MECH_SESSION,
        BIT(PRES_SESS_AVAILABLE), 15000);

    /* The later time of the two wins. */
    CHECK(graph_queue_next_due(q) == 20000);
    CHECK(graph_queue_late(q, "u1", GRAPH_MECH_SESSION, NULL) ==
        (BIT(PRES_SESS_IN_CALL) | BIT(PRES_SESS_AVAILABLE)));
    CHECK(graph_queue_settle(q, 20000, 0, &ops, &s) == 1);
    CHECK(s.value == PRES_SESS_AVAILABLE);
    graph_queue_free(q);
}

/* A write of the mechanism still waits to go when the late ones can no
 * longer land: it is sent after them anyway, so nothing is added. */
static void
write_still_to_go_makes_a_reassertion_needless(void)
{
    struct graph_queue *q = graph_queue_create(0);
    struct seen s = { .written = PRES_SESS_AVAILABLE };
    struct graph_intent out;

    graph_queue_uncertain(q, "u1", GRAPH_MECH_SESSION,
        BIT(PRES_SESS_IN_CALL), 20000);
    put(q, "u1", PRES_SESS_AWAY);
    CHECK(graph_queue_settle(q, 20000, 0, &ops, &s) == 0);
    CHECK(s.settled == 1 && s.queued == 0);
    CHECK(graph_queue_pending(q) == 1);
    CHECK_STR(graph_queue_next(q, 20000, &out), "u1");
    CHECK(out.gi_value == PRES_SESS_AWAY);
    CHECK(!(out.gi_flags & GRAPH_INTENT_REASSERT));
    graph_queue_free(q);
}

/* A write in flight when the late ones can no longer land was sent
 * before: the same state is queued behind it, not merged into it, and a
 * phone repeating that state does not cancel it. */
static void
reassertion_follows_the_same_state_in_flight(void)
{
    struct graph_queue *q = graph_queue_create(0);
    struct seen s = { .written = PRES_SESS_IN_CALL };
    struct graph_intent out;

    graph_queue_uncertain(q, "u1", GRAPH_MECH_SESSION,
        BIT(PRES_SESS_IN_CALL), 20000);
    put(q, "u1", PRES_SESS_AVAILABLE);
    CHECK_STR(graph_queue_next(q, 19000, &out), "u1");
    CHECK(graph_queue_settle(q, 20000, 0, &ops, &s) == 1);
    CHECK(s.value == PRES_SESS_AVAILABLE);
    CHECK(graph_queue_pending(q) == 2);
    CHECK(graph_queue_put(q, "u1", &(struct graph_intent){
        GRAPH_MECH_SESSION, PRES_SESS_AVAILABLE, 0, 0, 0 }) ==
        GRAPH_QUEUE_IN_FLIGHT);
    CHECK(graph_queue_pending(q) == 2);

    graph_queue_done(q, "u1", -1);
    CHECK_STR(graph_queue_next(q, 20000, &out), "u1");
    CHECK(out.gi_value == PRES_SESS_AVAILABLE);
    CHECK(out.gi_flags & GRAPH_INTENT_REASSERT);
    graph_queue_free(q);
}

/* A full queue refuses the re-assertion: it comes back at retry_at, and
 * the call being kept shown keeps its refresh. */
static void
reassertion_refused_by_full_queue_comes_back(void)
{
    struct graph_queue *q = graph_queue_create(1);
    struct seen s = { .written = PRES_SESS_IN_CALL };
    struct graph_intent out;

    graph_queue_keep(q, "u1", PRES_SESS_IN_CALL, 60000);
    graph_queue_uncertain(q, "u1", GRAPH_MECH_SESSION,
        BIT(PRES_SESS_AVAILABLE), 20000);
    put(q, "u2", PRES_SESS_AWAY);
    CHECK(graph_queue_settle(q, 20000, 25000, &ops, &s) == 0);
    CHECK(s.settled == 0);
    CHECK(graph_queue_next_due(q) == 25000);

    CHECK_STR(graph_queue_next(q, 21000, &out), "u2");
    graph_queue_done(q, "u2", -1);
    CHECK(graph_queue_settle(q, 25000, 30000, &ops, &s) == 1);
    CHECK(s.value == PRES_SESS_IN_CALL);
    CHECK_STR(graph_queue_next(q, 25000, &out), "u1");
    CHECK(out.gi_flags & GRAPH_INTENT_REASSERT);
    CHECK(out.gi_value == PRES_SESS_IN_CALL);
    graph_queue_done(q, "u1", -1);
    graph_queue_free(q);
}

/* The refusal does not end the refresh of the call it would repeat. */
static void
refused_reassertion_keeps_the_call_refresh(void)
{
    struct graph_queue *q = graph_queue_create(1);
    struct seen s = { .written = PRES_SESS_IN_CALL };
    struct graph_intent out;

    graph_queue_keep(q, "u1", PRES_SESS_IN_CALL, 20000);
    graph_queue_uncertain(q, "u1", GRAPH_MECH_SESSION,
        BIT(PRES_SESS_AVAILABLE), 20000);
    put(q, "u2", PRES_SESS_AWAY);
    CHECK(graph_queue_settle(q, 20000, 25000, &ops, &s) == 0);
    CHECK_STR(graph_queue_next(q, 20000, &out), "u2");
    graph_queue_done(q, "u2", -1);
    CHECK(graph_queue_refresh(q, 20000, 25000) == 1);

    /* The refresh now waits to go, and comes after the late write. */
    CHECK(graph_queue_settle(q, 25000, 30000, &ops, &s) == 0);
    CHECK(s.settled == 1 && s.queued == 0);
    CHECK_STR(graph_queue_next(q, 25000, &out), "u1");
    CHECK(out.gi_flags & GRAPH_INTENT_REFRESH);
    graph_queue_free(q);
}

/*
 * An outage ends with many users' late writes due at once: each user is
 * written once more, no more, and they leave the queue in batches of
 * one write per user, as any writes do.
 */
static void
many_reassertions_go_once_each_in_batches(void)
{
    struct graph_queue *q = graph_queue_create(0);
    struct seen s = { .written = PRES_SESS_AVAILABLE };
    struct graph_intent its[GRAPH_BATCH_MAX];
    const char *ids[GRAPH_BATCH_MAX];
    char id[32];
    size_t i, n, total = 0, batches = 0;

    for (i = 0; i < 500; i++) {
        snprintf(id, sizeof(id), "user-%zu", i);
        graph_queue_uncertain(q, id, GRAPH_MECH_SESSION,
            BIT(PRES_SESS_IN_CALL), 20000 + (int64_t)(i % 7));
    }
    CHECK(graph_queue_settle(q, 30000, 0, &ops, &s) == 500);
    CHECK(graph_queue_settle(q, 30000, 0, &ops, &s) == 0);
    CHECK(graph_queue_pending(q) == 500);
    while ((n = graph_queue_take(q, 30000, GRAPH_BATCH_MAX, ids, its)) >
        0) {
        CHECK(n <= GRAPH_BATCH_MAX);
        for (i = 0; i < n; i++)
            graph_queue_done(q, ids[i], -1);
        total += n;
        batches++;
    }
    CHECK(total == 500 && batches == 25);
    CHECK(graph_queue_users(q) == 0 && graph_queue_next_due(q) == -1);
    graph_queue_free(q);
}

int
main(void)
{
    TEST_RUN(late_call_is_followed_by_the_idle_state_again);
    TEST_RUN(late_copy_of_the_shown_state_needs_nothing);
    TEST_RUN(any_late_value_other_than_the_shown_one_counts);
    TEST_RUN(write_still_to_go_makes_a_reassertion_needless);
    TEST_RUN(reassertion_follows_the_same_state_in_flight);
    TEST_RUN(reassertion_refused_by_full_queue_comes_back);
    TEST_RUN(refused_reassertion_keeps_the_call_refresh);
    TEST_RUN(many_reassertions_go_once_each_in_batches);
    return test_done();
}
