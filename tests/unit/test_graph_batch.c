/*
 * test_graph_batch.c: which writes share a $batch, what the batch says to
 * Graph, how its answer is read back, and a throttled write of a batch
 * coming back alone.  No network.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <cJSON.h>

#define SU_WAKEUP_ARG_T void
#define SU_TIMER_ARG_T  void
#include "graph/graph_int.h"

#include "testlib.h"

static void
put(struct graph_queue *q, const char *id, enum graph_mech m, int value)
{
    struct graph_intent it;

    memset(&it, 0, sizeof(it));
    it.gi_mech = m;
    it.gi_value = value;
    graph_queue_put(q, id, &it);
}

static void
put_users(struct graph_queue *q, int n)
{
    char id[16];
    int i;

    for (i = 0; i < n; i++) {
        snprintf(id, sizeof(id), "u%02d", i);
        put(q, id, GRAPH_MECH_SESSION, PRES_SESS_IN_CALL);
    }
}

static void
batch_takes_one_write_per_user(void)
{
    struct graph_queue *q = graph_queue_create(0);
    struct graph_intent its[GRAPH_BATCH_MAX];
    const char *ids[GRAPH_BATCH_MAX];

    put(q, "a", GRAPH_MECH_SESSION, PRES_SESS_IN_CALL);
    put(q, "a", GRAPH_MECH_PREF, PRES_PREF_DND);
    put(q, "b", GRAPH_MECH_PREF, PRES_PREF_DND);
    put(q, "c", GRAPH_MECH_SESSION, PRES_SESS_AVAILABLE);
    CHECK(graph_queue_take(q, 0, GRAPH_BATCH_MAX, ids, its) == 3);
    CHECK_STR(ids[0], "a");
    CHECK(its[0].gi_mech == GRAPH_MECH_SESSION);
    CHECK_STR(ids[1], "b");
    CHECK_STR(ids[2], "c");

    /* a's DND waits for the answer to its call: no second batch for it
     * yet, so the two can never be reordered. */
    CHECK(graph_queue_take(q, 0, GRAPH_BATCH_MAX, ids, its) == 0);
    graph_queue_done(q, "b", -1);
    graph_queue_done(q, "c", -1);
    CHECK(graph_queue_take(q, 0, GRAPH_BATCH_MAX, ids, its) == 0);
    graph_queue_done(q, "a", -1);
    CHECK(graph_queue_take(q, 0, GRAPH_BATCH_MAX, ids, its) == 1);
    CHECK_STR(ids[0], "a");
    CHECK(its[0].gi_mech == GRAPH_MECH_PREF);
    CHECK(its[0].gi_value == PRES_PREF_DND);
    graph_queue_free(q);
}

static void
batch_splits_at_twenty_in_arrival_order(void)
{
    struct graph_queue *q = graph_queue_create(0);
    struct graph_intent its[GRAPH_BATCH_MAX];
    const char *ids[GRAPH_BATCH_MAX];

    put_users(q, 45);
    CHECK(graph_queue_take(q, 0, GRAPH_BATCH_MAX, ids, its) == 20);
    CHECK_STR(ids[0], "u00");
    CHECK_STR(ids[19], "u19");
    CHECK(graph_queue_take(q, 0, GRAPH_BATCH_MAX, ids, its) == 20);
    CHECK_STR(ids[0], "u20");
    CHECK_STR(ids[19], "u39");
    CHECK(graph_queue_take(q, 0, GRAPH_BATCH_MAX, ids, its) == 5);
    CHECK_STR(ids[4], "u44");
    CHECK(graph_queue_take(q, 0, GRAPH_BATCH_MAX, ids, its) == 0);
    CHECK(graph_queue_pending(q) == 45);
    graph_queue_free(q);
}

static void
batch_off_takes_one(void)
{
    struct graph_queue *q = graph_queue_create(0);
    struct graph_intent its[GRAPH_BATCH_MAX];
    const char *ids[GRAPH_BATCH_MAX];

    put_users(q, 3);
    CHECK(graph_queue_take(q, 0, 1, ids, its) == 1);
    CHECK_STR(ids[0], "u00");
    CHECK(graph_queue_take(q, 0, 1, ids, its) == 1);
    CHECK_STR(ids[0], "u01");
    graph_queue_free(q);
}

static void
write_a_batch_lost_goes_alone(void)
{
    struct graph_queue *q = graph_queue_create(0);
    struct graph_intent its[GRAPH_BATCH_MAX], it;
    const char *ids[GRAPH_BATCH_MAX];

    put_users(q, 3);
    CHECK(graph_queue_take(q, 0, GRAPH_BATCH_MAX, ids, its) == 3);
    it = its[1];
    it.gi_flags |= GRAPH_INTENT_ALONE;
    graph_queue_retry(q, "u01", &it, 0);
    graph_queue_done(q, "u00", -1);
    graph_queue_done(q, "u02", -1);
    put(q, "u00", GRAPH_MECH_SESSION, PRES_SESS_AVAILABLE);
    put(q, "u02", GRAPH_MECH_SESSION, PRES_SESS_AVAILABLE);

    /* The lost one goes first, by itself; the others after it. */
    CHECK(graph_queue_take(q, 1, GRAPH_BATCH_MAX, ids, its) == 1);
    CHECK_STR(ids[0], "u01");
    CHECK(graph_queue_take(q, 1, GRAPH_BATCH_MAX, ids, its) == 2);
    CHECK_STR(ids[0], "u00");
    CHECK_STR(ids[1], "u02");
    graph_queue_free(q);
}

static void
lost_writes_go_alone_one_by_one(void)
{
    struct graph_queue *q = graph_queue_create(0);
    struct graph_intent its[GRAPH_BATCH_MAX], lost[2];
    const char *ids[GRAPH_BATCH_MAX];

    put_users(q, 4);
    CHECK(graph_queue_take(q, 0, GRAPH_BATCH_MAX, ids, its) == 4);
    lost[0] = its[1];
    lost[1] = its[2];
    lost[0].gi_flags |= GRAPH_INTENT_ALONE;
    lost[1].gi_flags |= GRAPH_INTENT_ALONE;
    graph_queue_done(q, "u00", -1);
    graph_queue_done(q, "u03", -1);
    graph_queue_retry(q, "u01", &lost[0], 0);
    graph_queue_retry(q, "u02", &lost[1], 0);
    put(q, "u00", GRAPH_MECH_SESSION, PRES_SESS_AVAILABLE);
    put(q, "u03", GRAPH_MECH_SESSION, PRES_SESS_AVAILABLE);

    CHECK(graph_queue_take(q, 0, GRAPH_BATCH_MAX, ids, its) == 1);
    CHECK_STR(ids[0], "u01");
    CHECK(graph_queue_take(q, 0, GRAPH_BATCH_MAX, ids, its) == 1);
    CHECK_STR(ids[0], "u02");
    CHECK(graph_queue_take(q, 0, GRAPH_BATCH_MAX, ids, its) == 2);
    CHECK_STR(ids[0], "u00");
    CHECK_STR(ids[1], "u03");
    graph_queue_free(q);
}

static void
encode_posts_each_write_with_its_type(void)
{
    static const struct graph_batch_item items[] = {
        { "/users/u1/presence/setPresence",
          "{\"sessionId\":\"app\",\"availability\":\"Busy\"}", NULL, NULL },
        { "/users/u2/presence/clearUserPreferredPresence", "{}", NULL,
          NULL },
    };
    char *text = graph_batch_encode(items, 2);
    cJSON *o = cJSON_Parse(text);
    const cJSON *reqs = cJSON_GetObjectItem(o, "requests");
    const cJSON *r0 = cJSON_GetArrayItem(reqs, 0);
    const cJSON *r1 = cJSON_GetArrayItem(reqs, 1);

    CHECK(cJSON_GetArraySize(reqs) == 2);
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(r0, "id")), "1");
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(r1, "id")), "2");
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(r0, "method")),
        "POST");
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(r0, "url")),
        "/users/u1/presence/setPresence");
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(
        cJSON_GetObjectItem(r0, "headers"), "Content-Type")),
        "application/json");
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(
        cJSON_GetObjectItem(r0, "body"), "availability")), "Busy");
    CHECK(cJSON_IsObject(cJSON_GetObjectItem(r1, "body")));
    CHECK(cJSON_GetObjectItem(r0, "dependsOn") == NULL);
    cJSON_Delete(o);
    cJSON_free(text);
}

static void
encode_refuses_empty_and_oversized_batches(void)
{
    struct graph_batch_item items[GRAPH_BATCH_MAX + 1];
    size_t i;
    char *text;

    for (i = 0; i <= GRAPH_BATCH_MAX; i++) {
        items[i].bi_path = "/users/u/presence/clearPresence";
        items[i].bi_body = "{}";
    }
    CHECK(graph_batch_encode(items, 0) == NULL);
    CHECK(graph_batch_encode(items, GRAPH_BATCH_MAX + 1) == NULL);
    text = graph_batch_encode(items, GRAPH_BATCH_MAX);
    CHECK(text != NULL);
    cJSON_free(text);
}

/* Graph answers in any order; a throttled request has its own
 * Retry-After, its header named in any case. */
static const char batch_answer[] =
    "{\"responses\":["
    "{\"id\":\"3\",\"status\":429,\"headers\":{\"retry-after\":\"7\"},"
    "\"body\":{\"error\":{\"code\":\"TooManyRequests\",\"message\":\"x\"}}},"
    "{\"id\":\"1\",\"status\":200,\"headers\":{}},"
    "{\"id\":\"2\",\"status\":404,\"body\":{\"error\":{\"code\":"
    "\"NotFound\"}}},"
    "{\"id\":\"4\",\"status\":503,\"headers\":{\"Retry-After\":2}},"
    "{\"id\":\"1\",\"status\":500},"
    "{\"id\":\"9\",\"status\":200}]}";

static void
decode_matches_answers_by_id(void)
{
    struct graph_batch_answer a[5];
    char code[64];

    CHECK(graph_batch_decode(batch_answer, strlen(batch_answer), a, 5) ==
        0);
    CHECK(a[0].ba_status == 200);       /* the repeated id is ignored */
    CHECK(a[0].ba_body == NULL);
    CHECK(a[0].ba_retry_after[0] == '\0');
    CHECK(a[1].ba_status == 404);
    graph_http_error_code(a[1].ba_body, strlen(a[1].ba_body), code,
        sizeof(code));
    CHECK_STR(code, "NotFound");
    CHECK(a[2].ba_status == 429);
    CHECK_STR(a[2].ba_retry_after, "7");
    CHECK(a[3].ba_status == 503);
    CHECK_STR(a[3].ba_retry_after, "2");
    CHECK(a[4].ba_status == 0);         /* no answer for it */
    graph_batch_answers_free(a, 5);
}

static void
decode_refuses_what_is_no_batch_answer(void)
{
    static const char *const bad[] = {
        "", "not json", "{}", "{\"responses\":{}}", "[]",
        "{\"error\":{\"code\":\"BadRequest\"}}",
    };
    struct graph_batch_answer a[2];
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        CHECK(graph_batch_decode(bad[i], strlen(bad[i]), a, 2) == -1);
        CHECK(a[0].ba_status == 0 && a[1].ba_status == 0);
    }
}

/* What the writer does with each answer of a batch of three where the
 * second was throttled: the others are done, it alone comes back after
 * its Retry-After. */
static void
throttled_write_of_a_batch_comes_back_alone(void)
{
    static const char answer[] = "{\"responses\":["
        "{\"id\":\"1\",\"status\":200},"
        "{\"id\":\"2\",\"status\":429,\"headers\":{\"Retry-After\":\"2\"}},"
        "{\"id\":\"3\",\"status\":200}]}";
    struct graph_queue *q = graph_queue_create(0);
    struct graph_intent its[GRAPH_BATCH_MAX];
    const char *ids[GRAPH_BATCH_MAX];
    struct graph_batch_answer a[3];
    char user[3][16];
    int64_t delay;
    size_t i, n;

    put_users(q, 3);
    n = graph_queue_take(q, 1000, GRAPH_BATCH_MAX, ids, its);
    CHECK(n == 3);
    CHECK(graph_batch_decode(answer, strlen(answer), a, n) == 0);
    for (i = 0; i < n; i++) {
        xstrlcpy(user[i], ids[i], sizeof(user[i]));
        if (graph_rate_classify(a[i].ba_status) == GRAPH_OK) {
            graph_queue_done(q, user[i], -1);
            continue;
        }
        CHECK(graph_rate_classify(a[i].ba_status) == GRAPH_RETRY);
        delay = graph_rate_delay_ms(a[i].ba_retry_after, 1, 0, 0);
        CHECK(delay == 2000);
        its[i].gi_failures++;
        graph_queue_retry(q, user[i], &its[i], 1000 + delay);
    }
    graph_batch_answers_free(a, n);

    CHECK(graph_queue_pending(q) == 1);
    CHECK(graph_queue_take(q, 2999, GRAPH_BATCH_MAX, ids, its) == 0);
    CHECK(graph_queue_take(q, 3000, GRAPH_BATCH_MAX, ids, its) == 1);
    CHECK_STR(ids[0], "u01");
    CHECK(its[0].gi_failures == 1);
    graph_queue_free(q);
}

int
main(void)
{
    TEST_RUN(batch_takes_one_write_per_user);
    TEST_RUN(batch_splits_at_twenty_in_arrival_order);
    TEST_RUN(batch_off_takes_one);
    TEST_RUN(write_a_batch_lost_goes_alone);
    TEST_RUN(lost_writes_go_alone_one_by_one);
    TEST_RUN(encode_posts_each_write_with_its_type);
    TEST_RUN(encode_refuses_empty_and_oversized_batches);
    TEST_RUN(decode_matches_answers_by_id);
    TEST_RUN(decode_refuses_what_is_no_batch_answer);
    TEST_RUN(throttled_write_of_a_batch_comes_back_alone);
    return test_done();
}
